#!/usr/bin/env python3
"""fp32 prefill of a 135M-parameter Llama-style decoder: qaf vs ONNX Runtime.

Generates SmolLM-135M's shapes (tied embeddings, 134.5M parameters) with
scripts/gen_llama_onnx.py, compiles it once with qaf-compile (timed: the bar
is < 60 s), then times a 128-token prefill (batch 1) with qaf-run and with
ONNX Runtime's CPU execution provider at the same thread counts, in the same
run, after checking the logits agree. Appends a row per thread count to
bench/results/cpu_prefill.md.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen_llama_onnx as gen  # noqa: E402
from common import append_results, commit, machine  # noqa: E402

HEADER = """# fp32 prefill, 135M-parameter decoder: qaf vs ONNX Runtime

Written by `bench/cpu_prefill/bench.py` (newest last). Model: SmolLM-135M
shapes with tied embeddings (`gen_llama_onnx.py --preset 135m
--tie-embeddings`), batch 1, 128 tokens, fp32. qaf: `qaf-compile` artifact
run by `qaf-run --repeat`; ONNX Runtime: CPU execution provider, default
graph optimizations, same `intra_op_num_threads`. Median of the timed runs.
Bars: qaf tokens/s >= 0.5x ONNX Runtime's; compile < 60 s.

| date (UTC) | commit | machine | threads | compile (s) | qaf ms | qaf tok/s | ORT ms | ORT tok/s | qaf / ORT | max abs logit diff |
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    build = os.path.join(ROOT, "build", "bin")
    parser.add_argument("--qaf-compile", default=os.path.join(build, "qaf-compile"))
    parser.add_argument("--qaf-run", default=os.path.join(build, "qaf-run"))
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "cpu_prefill.md"))
    args = parser.parse_args()

    import onnxruntime as ort
    cfg = gen.LlamaConfig(**{**gen.PRESETS["135m"], "tie_embeddings": True})
    with tempfile.TemporaryDirectory(prefix="qaf-bench-prefill-") as tmp:
        model = os.path.join(tmp, "model.onnx")
        gen.save(cfg, model, external_data=True)
        artifact = os.path.join(tmp, "artifact")
        start = time.perf_counter()
        subprocess.run([args.qaf_compile, model, "-o", artifact], check=True)
        compile_s = time.perf_counter() - start
        print(f"compile: {compile_s:.1f} s (bar < 60 s)")

        feeds = gen.make_inputs(cfg, 1, args.tokens)
        command = [args.qaf_run, "infer", artifact, "--output-dir", os.path.join(tmp, "out")]
        for key, value in feeds.items():
            np.save(os.path.join(tmp, key + ".npy"), value)
            command += ["--input", f"{key}={os.path.join(tmp, key + '.npy')}"]
        rows = []
        for threads in [int(t) for t in args.threads.split(",")]:
            output = subprocess.run(command + ["--threads", str(threads), "--repeat",
                                               str(args.repeat), "--warmup", "2"],
                                    check=True, capture_output=True, text=True).stdout
            qaf_ms = float(re.search(r"median ([0-9.]+) ms", output).group(1))
            actual = np.load(os.path.join(tmp, "out", "logits.npy"))

            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.log_severity_level = 3
            session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
            expected = session.run(None, feeds)[0]
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                session.run(None, feeds)
                times.append((time.perf_counter() - t) * 1000)
            ort_ms = float(np.median(times))
            diff = float(np.max(np.abs(actual - expected)))
            ratio = ort_ms / qaf_ms
            print(f"threads {threads}: qaf {qaf_ms:.1f} ms, ORT {ort_ms:.1f} ms, "
                  f"qaf/ORT tokens/s {ratio:.2f}x (bar >= 0.5x), max |diff| {diff:.2g}")
            rows.append(f"| {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} | {commit()} "
                        f"| {machine()} | {threads} | {compile_s:.1f} | {qaf_ms:.1f} "
                        f"| {args.tokens / qaf_ms * 1000:.0f} | {ort_ms:.1f} "
                        f"| {args.tokens / ort_ms * 1000:.0f} | {ratio:.2f} | {diff:.2g} |")
            if diff > 1e-3:
                print("FAIL: logits disagree with ONNX Runtime")
                return 1
    append_results(args.results, HEADER, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
