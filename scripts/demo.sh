#!/usr/bin/env bash
# The main job, end to end as far as qaf goes today: generate a small
# Llama-style decoder as an exporter would write it, import it into the onnx
# dialect, summarise it, export it back and check it in ONNX Runtime, compile
# it to a native CPU artifact and check that against ONNX Runtime; then
# quantize its linear layers to 4 bits, compile the quantized model, export
# it as ONNX Runtime's MatMulNBits and check that ONNX Runtime computes what
# qaf's CPU code does, and attach LoTA-QAF adapters (which start as no-ops).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QAF_BUILD_DIR:-$root/build}
out=${QAF_DEMO_DIR:-$root/out/demo}
python=${PYTHON:-python3}

if [ ! -x "$build/bin/qaf-translate" ]; then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
fi
translate="$build/bin/qaf-translate"
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
