#!/usr/bin/env python3
"""numpy matmul (OpenBLAS sgemm) GFLOP/s on the shapes of qaf-bench-matmul.

Run once per thread count with OPENBLAS_NUM_THREADS set (run.sh does); the
thread count is also enforced with threadpoolctl when it is installed.
Prints tab-separated lines:
  blas <tag> <json of threadpoolctl.threadpool_info(), or numpy's config>
  numpy <tag> <M> <K> <N> <threads> <GFLOP/s> <seconds per call>
where <tag> is --tag (run.sh: "auto", or the forced OPENBLAS_CORETYPE).
Timing matches the C++ benchmark: two warm-up calls, then the best of 5
rounds of at least --min-time seconds each (time.perf_counter).
"""
import argparse
import json
import time

import numpy as np

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

SHAPES = [(128, 576, 576), (128, 1024, 1024), (128, 1536, 1536),
          (128, 2048, 2048), (128, 576, 49152)]


def bench(m, k, n, min_time):
    rng = np.random.default_rng(42)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    c = np.empty((m, n), np.float32)
    np.matmul(a, b, out=c)
    np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(5):
        calls = 0
        t0 = time.perf_counter()
        while True:
            np.matmul(a, b, out=c)
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time and calls >= 3:
                break
        best = min(best, elapsed / calls)
    return 2.0 * m * n * k / best * 1e-9, best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--min-time", type=float, default=0.3)
    parser.add_argument("--tag", default="auto",
                        help="label of this run's OpenBLAS configuration")
    parser.add_argument("--shapes", default="",
                        help="MxKxN,... (default: the qaf-bench-matmul set)")
    args = parser.parse_args()
    shapes = SHAPES
    if args.shapes:
        shapes = [tuple(int(d) for d in s.split("x"))
                  for s in args.shapes.split(",")]
    limits = None
    if threadpoolctl is not None:
        limits = threadpoolctl.threadpool_limits(limits=args.threads,
                                                 user_api="blas")
        info = threadpoolctl.threadpool_info()
    else:
        info = {"threadpoolctl": "not installed",
                "numpy": np.__version__,
                "blas": np.show_config(mode="dicts")
                .get("Build Dependencies", {}).get("blas", {})}
    print(f"blas\t{args.tag}\t" + json.dumps(info), flush=True)
    for m, k, n in shapes:
        gflops, per_call = bench(m, k, n, args.min_time)
        print(f"numpy\t{args.tag}\t{m}\t{k}\t{n}\t{args.threads}\t"
              f"{gflops:.1f}\t"
              f"{per_call:.6f}", flush=True)
    if limits is not None:
        limits.restore_original_limits()


if __name__ == "__main__":
    main()
