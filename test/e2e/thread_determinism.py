#!/usr/bin/env python3
"""Bitwise determinism of compiled models across thread counts and runs.

The tiny generated decoder (scripts/gen_llama_onnx.py --preset tiny) is
compiled as is and after `qaf-opt --qaf-quantize-weights` (4-bit, so the
quantized-linear kernel runs instead of SGEMM). Each artifact runs with
`qaf-run --threads 1`, 2 and 4, twice each, on a short input (one row: the
kernels' streaming row paths) and a longer batch (enough multiply-adds that
SGEMM and the OpenMP loops split the work among threads). Every output file
must be byte-identical to the single-threaded run: a reduction whose order
depends on the number of threads (or on scheduling) changes the low bits and
fails here even when it is within any numeric tolerance.

Exit status 0 when every comparison is identical; prints `N passed, F failed`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import e2e_support as support  # noqa: E402
import gen_llama_onnx as gen  # noqa: E402

THREADS = [1, 2, 4]
REPEATS = 2
# (batch, sequence): (1, 7) takes the few-rows paths; (4, 64) gives
# M = 256 rows, past SGEMM's per-thread work threshold in every projection.
SHAPES = [(1, 7), (4, 64)]


def check_shape(args, tmp, env, cfg, kind, artifact, batch, seq):
    """Runs every (threads, repeat) pair on one input; returns (passed,
    failed) comparisons against the first single-threaded run."""
    feeds = gen.make_inputs(cfg, batch, seq)
    reference = None
    passed = failed = 0
    for threads in THREADS:
        for repeat in range(REPEATS):
            folder = os.path.join(tmp, f"{kind}-{batch}x{seq}-t{threads}-r{repeat}")
            arrays, raw, _ = support.run_artifact(
                args.qaf_run, artifact, feeds, folder, threads=threads, env=env)
            label = (f"{kind} batch={batch} seq={seq} threads={threads} "
                     f"run={repeat + 1}")
            if reference is None:
                if "logits" not in arrays or not np.all(
                        np.isfinite(arrays["logits"])):
                    print(f"FAIL {label}: no finite logits")
                    return 0, 1
                reference = (raw, arrays["logits"])
                continue
            if raw.keys() == reference[0].keys() and all(
                    raw[k] == reference[0][k] for k in raw):
                passed += 1
                print(f"ok   {label}: byte-identical to threads=1")
            else:
                failed += 1
                diff = support.max_abs_diff(arrays["logits"], reference[1])
                print(f"FAIL {label}: differs from threads=1 "
                      f"(max |difference| {diff:.3g})")
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-translate", "qaf-opt", "qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-thread-determinism-") as tmp:
        cfg, _, artifacts = support.build_tiny_artifacts(args, tmp)
        # OMP_NUM_THREADS and QAF_NUM_THREADS must not override --threads.
        env = {k: v for k, v in os.environ.items()
               if k not in ("OMP_NUM_THREADS", "QAF_NUM_THREADS")}
        for kind, artifact in artifacts.items():
            for batch, seq in SHAPES:
                p, f = check_shape(args, tmp, env, cfg, kind, artifact,
                                   batch, seq)
                passed += p
                failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
