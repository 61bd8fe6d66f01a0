#!/usr/bin/env python3
"""Training throughput of a 135M decoder: qaf (every method) vs PyTorch + peft.

Generates SmolLM-135M's shapes (tied embeddings) with scripts/gen_llama_onnx.py,
builds one training artifact per method with `qaf-compile --emit=train`
(4-bit, group 64, rank 16 on every linear layer of every block; the compile
is timed: the bar is < 2 min), then runs `qaf-run train` for each method and
the PyTorch + peft peer (peft_peer.py: LoRA r=16 on the same layers, float32
base, AdamW) on the same random token file, same sequence length, batch and
threads. The machine is shared, so the runs are interleaved (each round runs
every method and the peer once) and the figures are medians: per run the
median step time after the first (warm-up) step, then the median over rounds.
Peak memory is the largest max RSS of the training process over the rounds
(/usr/bin/time, bench/common.py). Appends one row per method to bench/results/training.md.
Bars: qaf tokens/s >= 1.0x the peer's (goal 1.5x), peak memory <= the peer's.
With --baseline, artifacts an earlier qaf built run in the same rounds (an
A/B of a change on the same machine state).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen_llama_onnx as gen  # noqa: E402
from common import append_results, commit, machine, run_with_peak  # noqa: E402

METHODS = ["lora", "loftq", "qalora", "qahira", "qbara", "l4q", "lota"]
PEER = "torch+peft"

HEADER = """# Training throughput, 135M-parameter decoder: qaf vs PyTorch + peft

Written by `bench/training/bench.py` (newest last; `bench/training/run.sh`).
Model: SmolLM-135M shapes with tied embeddings (`gen_llama_onnx.py --preset
135m --tie-embeddings --no-attention-mask`), random weights. qaf:
`qaf-compile --method=M --bits=4 --group-size=64 --rank=16 --emit=train`,
run by `qaf-run train`; compile "-" when an artifact was reused. Peer:
`bench/training/peft_peer.py` in the benchmark-only venv (PyTorch + peft,
LoRA r=16 on q/k/v/o/gate/up/down of every block, float32 base, AdamW,
`torch.set_num_threads`). Same random tokens, sequence, batch and threads.
tokens/s: median over interleaved rounds of each run's median step (first
step excluded); peak RSS: max RSS of the training process. Load: the 1-min
load average before and after (the machine is shared). "(N blocks)": a
quick look with fewer blocks than the preset's 30 (`--layers N`).
Bars: qaf tokens/s >= 1.0x the peer's (goal 1.5x); peak memory <= the peer's;
compile < 120 s.

| date (UTC) | commit | machine | load | threads | seq x batch | method | compile (s) | tok/s | vs peer | peak RSS (MB) | vs peer |
| --- | --- | --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |
"""


def run_measured(command, **kwargs):
    """Runs a command; returns (stdout and stderr, max RSS in MB) of that process."""
    output, errors, peak = run_with_peak(command, **kwargs)
    return output + errors, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    build = os.path.join(ROOT, "build", "bin")
    parser.add_argument("--qaf-compile", default=os.path.join(build, "qaf-compile"))
    parser.add_argument("--qaf-run", default=os.path.join(build, "qaf-run"))
    parser.add_argument("--peer-python", default="/work/venv-peers/bin/python",
                        help="python of the benchmark-only venv with torch, transformers, peft "
                             "(pip install -r scripts/requirements-exporters.txt)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6, help="steps per run, the first excluded")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", type=int, help="fewer blocks than the preset (a quick look)")
    parser.add_argument("--work-dir", help="keep the model and artifacts here (default: a temp dir)")
    parser.add_argument("--reuse-artifacts", action="store_true",
                        help="run the artifacts already in --work-dir (no compile time then)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run the artifacts an earlier qaf built in DIR (one folder per "
                             "method, as --work-dir keeps them) in the same rounds: an A/B on "
                             "the same machine state; their rows are 'METHOD (LABEL)'")
    parser.add_argument("--baseline-label", default="baseline",
                        help="LABEL of the --baseline rows, e.g. the commit that built them")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "training.md"))
    args = parser.parse_args()

    # Training feeds token ids and labels only (TrainingEntryPoints.h): causal,
    # no attention_mask input, like the peer's unpadded batches.
    preset = {**gen.PRESETS["135m"], "tie_embeddings": True, "attention_mask": False}
    if args.layers:
        preset["layers"] = args.layers
    cfg = gen.LlamaConfig(**preset)
    methods = args.methods.split(",")
    env = {**os.environ, "QAF_NUM_THREADS": str(args.threads), "OMP_NUM_THREADS": str(args.threads)}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="qaf-bench-training-") as tmp:
        work = args.work_dir or tmp
        os.makedirs(work, exist_ok=True)
        model = os.path.join(work, "model.onnx")
        if not os.path.exists(model):
            gen.save(cfg, model, external_data=True)
        data = os.path.join(work, "tokens.npy")
        span = args.batch * (args.seq_len + 1) * (args.steps + 1)
        np.save(data, np.random.default_rng(0).integers(0, cfg.vocab, size=span).astype(np.int32))

        compile_s, artifacts, failures = {}, {}, {}
        for method in methods:
            artifact = os.path.join(work, method)
            if args.reuse_artifacts and os.path.exists(os.path.join(artifact, "manifest.json")):
                artifacts[method] = artifact
                continue
            start = time.perf_counter()
            try:
                run_measured([args.qaf_compile, model, f"--method={method}", "--bits=4",
                              "--group-size=64", "--rank=16", "--emit=train", "--target=cpu",
                              "-o", artifact])
            except RuntimeError as error:
                failures[method] = str(error).splitlines()[-1] if str(error) else "failed"
                print(f"{method}: compile failed: {error}")
                continue
            compile_s[method] = time.perf_counter() - start
            artifacts[method] = artifact
            print(f"{method}: compiled in {compile_s[method]:.1f} s (bar < 120 s)", flush=True)

        baselines = []
        for method in methods if args.baseline else []:
            artifact = os.path.join(args.baseline, method)
            if os.path.exists(os.path.join(artifact, "manifest.json")):
                baselines.append(f"{method} ({args.baseline_label})")
                artifacts[baselines[-1]] = artifact

        peer_command = [args.peer_python, os.path.join(HERE, "peft_peer.py"), "--data", data,
                        "--vocab", str(cfg.vocab), "--hidden", str(cfg.hidden),
                        "--layers", str(cfg.layers), "--heads", str(cfg.heads),
                        "--kv-heads", str(cfg.kv_heads), "--intermediate", str(cfg.intermediate),
                        "--rope-theta", str(cfg.rope_theta), "--eps", str(cfg.eps),
                        "--rank", "16", "--alpha", "16", "--batch", str(args.batch),
                        "--seq-len", str(args.seq_len), "--steps", str(args.steps),
                        "--threads", str(args.threads)]
        tokens_per_step = args.batch * args.seq_len
        rates = {name: [] for name in [*artifacts, PEER]}
        peaks = {name: 0.0 for name in rates}
        for round_index in range(args.rounds):
            for name in rates:
                if name == PEER:
                    output, peak = run_measured(peer_command, env=env)
                    seconds = [float(line.split()[3]) for line in output.splitlines()
                               if line.startswith("step ")]
                    rate = tokens_per_step / statistics.median(seconds[1:])
                else:
                    log = os.path.join(work, f"{name}-{round_index}.jsonl")
                    if os.path.exists(log):
                        os.remove(log)
                    ckpt = os.path.join(work, f"{name}-ckpt-{round_index}")
                    shutil.rmtree(ckpt, ignore_errors=True)
                    output, peak = run_measured(
                        [args.qaf_run, "train", artifacts[name], "--data", data, "--batch",
                         str(args.batch), "--seq-len", str(args.seq_len), "--steps",
                         str(args.steps), "--threads", str(args.threads), "--seed", "1",
                         "--ckpt-dir", ckpt, "--log", log], env=env)
                    with open(log) as f:
                        records = [json.loads(line) for line in f if line.strip()]
                    rate = statistics.median(r["tokens_per_second"] for r in records[1:])
                rates[name].append(rate)
                peaks[name] = max(peaks[name], peak)
                print(f"round {round_index + 1}: {name}: {rate:.1f} tokens/s, "
                      f"peak RSS {peak:.0f} MB, load {os.getloadavg()[0]:.1f}", flush=True)
    load_after = os.getloadavg()[0]

    peer_rate = statistics.median(rates[PEER])
    stamp = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
    prefix = (f"| {stamp} | {commit()} | {machine()} | {load_before:.1f} / {load_after:.1f} "
              f"| {args.threads} | {args.seq_len} x {args.batch}"
              + (f" ({cfg.layers} blocks)" if args.layers else ""))
    rows = []
    for name in [*methods, *baselines, PEER]:
        if name in failures:
            rows.append(f"{prefix} | {name} | failed: {failures[name][:80]} | | | | |")
            continue
        rate = statistics.median(rates[name])
        compile_text = f"{compile_s[name]:.1f}" if name in compile_s else "-"
        rows.append(f"{prefix} | {name} | {compile_text} | {rate:.1f} | {rate / peer_rate:.2f}"
                    f" | {peaks[name]:.0f} | {peaks[name] / peaks[PEER]:.2f} |")
        print(rows[-1])
    append_results(args.results, HEADER, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
