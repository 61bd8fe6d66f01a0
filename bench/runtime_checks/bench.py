#!/usr/bin/env python3
"""Cost of the run-time checks on a 135M decoder: checks on vs off.

Generates SmolLM-135M's shapes (gen_llama_onnx.py --preset 135m
--tie-embeddings, external data), compiles it twice with qaf-compile,
`--runtime-checks=on` (the default) and `--runtime-checks=off` (the checks
erased before bufferization, no allocation checks), checks that both give
the same logits, then times a 128-token prefill and a one-token step (the
matrix-vector shapes of decoding) with `qaf-run --repeat`. The machine is
shared, so the two artifacts run interleaved (on, off, off, on, on, off,
...), each run reporting the median and minimum of its repeats; the table
gives, per variant, the minimum over the runs of the run minima and the
median of the run medians, and the load (`uptime`) before and after.
Appends a section to bench/results/runtime_checks.md. Bar: < 2 % cost.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen_llama_onnx as gen  # noqa: E402
from common import commit, machine  # noqa: E402

HEADER = """# Cost of the run-time checks: 135M decoder, checks on vs off

Written by `bench/runtime_checks/bench.py` (newest last). Model: SmolLM-135M
shapes with tied embeddings (`gen_llama_onnx.py --preset 135m
--tie-embeddings`), fp32, batch 1, compiled with `qaf-compile
--runtime-checks=on` (default) and `--runtime-checks=off`. Prefill: 128
tokens; decode step: 1 token (no KV cache: the matrix-vector shapes of
decoding). The two artifacts run interleaved on a shared machine, each run
`qaf-run --repeat`; min = the lowest time of all runs, median = the median
of the runs' medians. Cost = on / off - 1. Bar: < 2 %.
"""


def load():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    build = os.path.join(ROOT, "build", "bin")
    parser.add_argument("--qaf-compile", default=os.path.join(build, "qaf-compile"))
    parser.add_argument("--qaf-run", default=os.path.join(build, "qaf-run"))
    parser.add_argument("--runs", type=int, default=6,
                        help="runs of each artifact per benchmark (>= 5)")
    parser.add_argument("--repeat", type=int, default=10,
                        help="timed calls per run (after 2 warm-up calls)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results",
                        default=os.path.join(ROOT, "bench", "results", "runtime_checks.md"))
    args = parser.parse_args()

    cfg = gen.LlamaConfig(**{**gen.PRESETS["135m"], "tie_embeddings": True})
    lines = [f"## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"commit {commit()}, {machine()}, {args.threads} thread(s), "
             f"{args.runs} runs x {args.repeat} calls per variant", ""]
    with tempfile.TemporaryDirectory(prefix="qaf-bench-checks-") as tmp:
        model = os.path.join(tmp, "model.onnx")
        gen.save(cfg, model, external_data=True)
        artifacts = {}
        for variant in ("on", "off"):
            artifacts[variant] = os.path.join(tmp, f"checks-{variant}")
            subprocess.run([args.qaf_compile, model, "-o", artifacts[variant],
                            f"--runtime-checks={variant}"], check=True)
        lines += ["| benchmark | load before | load after | on min ms | off min ms "
                  "| cost (min) | on median ms | off median ms | cost (median) |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, tokens in (("prefill 128", 128), ("decode step", 1)):
            feeds = gen.make_inputs(cfg, 1, tokens)
            command = {}
            logits = {}
            for variant, artifact in artifacts.items():
                out = os.path.join(tmp, f"out-{variant}-{tokens}")
                command[variant] = [args.qaf_run, "infer", artifact, "--output-dir", out,
                                    "--threads", str(args.threads)]
                for key, value in feeds.items():
                    path = os.path.join(tmp, f"{key}-{tokens}.npy")
                    np.save(path, value)
                    command[variant] += ["--input", f"{key}={path}"]
                subprocess.run(command[variant], check=True, capture_output=True)
                logits[variant] = np.load(os.path.join(out, "logits.npy"))
            if not np.array_equal(logits["on"], logits["off"]):
                print(f"FAIL {name}: the two artifacts' logits differ")
                return 1
            before = load()
            minima = {"on": [], "off": []}
            medians = {"on": [], "off": []}
            for run in range(args.runs):
                # on, off, off, on, ...: a drift in the load favours neither.
                order = ("on", "off") if run % 2 == 0 else ("off", "on")
                for variant in order:
                    output = subprocess.run(
                        command[variant] + ["--repeat", str(args.repeat), "--warmup", "2"],
                        check=True, capture_output=True, text=True).stdout
                    medians[variant].append(
                        float(re.search(r"median ([0-9.]+) ms", output).group(1)))
                    minima[variant].append(
                        float(re.search(r"min ([0-9.]+) ms", output).group(1)))
            after = load()
            best = {v: min(minima[v]) for v in minima}
            typical = {v: float(np.median(medians[v])) for v in medians}
            row = (f"| {name} | {before.split('load average:')[-1].strip()} "
                   f"| {after.split('load average:')[-1].strip()} "
                   f"| {best['on']:.2f} | {best['off']:.2f} "
                   f"| {100 * (best['on'] / best['off'] - 1):+.1f} % "
                   f"| {typical['on']:.2f} | {typical['off']:.2f} "
                   f"| {100 * (typical['on'] / typical['off'] - 1):+.1f} % |")
            print(row)
            print(f"  run medians on:  {medians['on']}\n  run medians off: {medians['off']}")
            lines.append(row)
    lines.append("")
    new = not os.path.exists(args.results)
    with open(args.results, "a") as f:
        if new:
            f.write(HEADER + "\n")
        f.write("\n".join(lines) + "\n")
    print(f"results appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
