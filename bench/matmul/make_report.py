#!/usr/bin/env python3
"""Writes bench/results/matmul.md from the outputs of qaf-bench-matmul and
numpy_bench.py (tab-separated lines, see those programs)."""
import argparse
import datetime
import json
import os
import platform
import subprocess


def read_lines(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def machine():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def commit(root):
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qaf", required=True)
    parser.add_argument("--numpy", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--conditions", default="",
                        help="how the machine was loaded (for the report)")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()

    peak = {}   # (isa, threads) -> GFLOP/s
    qaf = {}    # (isa, M, K, N, threads) -> GFLOP/s
    isas = []
    for row in read_lines(args.qaf):
        if row[0] == "peak":
            peak[(row[1], int(row[2]))] = float(row[3])
            if row[1] not in isas:
                isas.append(row[1])
        elif row[0] == "sgemm":
            qaf[(row[1], int(row[2]), int(row[3]), int(row[4]),
                 int(row[5]))] = float(row[6])
    numpy = {}  # (tag, M, K, N, threads) -> GFLOP/s
    blas = {}   # tag -> threadpoolctl info
    for row in read_lines(args.numpy):
        if row[0] == "blas":
            info = json.loads(row[2])
            blas[row[1]] = info[0] if isinstance(info, list) and info else info
        elif row[0] == "numpy":
            numpy[(row[1], int(row[2]), int(row[3]), int(row[4]),
                   int(row[5]))] = float(row[6])

    def describe_blas(tag):
        info = blas.get(tag, {})
        if isinstance(info, dict) and "internal_api" in info:
            return (f"{info.get('internal_api')} {info.get('version')}, "
                    f"kernel `{info.get('architecture')}` (threadpoolctl)")
        return f"`{json.dumps(info)}` (threadpoolctl not installed)"

    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        "# qaf_sgemm benchmark",
        "",
        "Written by `bench/matmul/run.sh` (the latest run only). "
        "GFLOP/s = 2·M·N·K / time of one `C = A·B` call (row-major fp32, "
        "contiguous), best of 5 rounds of ≥ 0.3 s after two warm-up calls; "
        "numpy times `np.matmul(a, b, out=c)` the same way with "
        "`time.perf_counter`. The peak is a register-only FMA loop of the "
        "same instruction set (24 independent accumulator chains, no memory "
        "traffic) on 1 core and on all cores at once: what the FMA pipes "
        "sustain at the clock the cores actually run.",
        "",
        f"- date: {now:%Y-%m-%d %H:%M} UTC, commit {commit(args.root)}",
        f"- machine: {machine()}"
        + (f"; {args.conditions}" if args.conditions else ""),
        f"- numpy: {describe_blas('auto')}; OPENBLAS_CORETYPE and "
        "OPENBLAS_L2_SIZE unset, OPENBLAS_NUM_THREADS = threads"
        + (f"; beside qaf's AVX2 path, OPENBLAS_CORETYPE=Haswell: "
           f"{describe_blas('Haswell')}" if "Haswell" in blas else ""),
    ]
    for isa in isas:
        peaks = ", ".join(f"{t} thread{'s' if t > 1 else ''}: "
                          f"{g:.1f} GFLOP/s"
                          for (i, t), g in sorted(peak.items()) if i == isa)
        lines.append(f"- measured peak ({isa} FMA loop): {peaks}")
    lines.append("")

    for index, isa in enumerate(isas):
        title = "default path" if index == 0 else f"forced, --isa={isa}"
        tag = "Haswell" if isa == "avx2" and "Haswell" in blas else "auto"
        kernel = blas.get(tag, {}).get("architecture", tag) \
            if isinstance(blas.get(tag), dict) else tag
        lines += [f"## {isa} ({title})", "",
                  "| shape M×K×N | threads | qaf GFLOP/s | % of measured peak "
                  f"| numpy GFLOP/s (OpenBLAS {kernel}) | qaf / numpy |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for (i, m, k, n, t), g in qaf.items():
            if i != isa:
                continue
            p = peak.get((isa, t))
            pct = f"{100.0 * g / p:.0f}%" if p else "n/a"
            npg = numpy.get((tag, m, k, n, t))
            ratio = f"{g / npg:.2f}" if npg else "n/a"
            npt = f"{npg:.1f}" if npg else "n/a"
            lines.append(f"| {m}×{k}×{n} | {t} | {g:.1f} | {pct} | {npt} "
                         f"| {ratio} |")
        lines.append("")
    with open(args.output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
