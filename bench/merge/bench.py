#!/usr/bin/env python3
"""Merge + export time of the 135M decoder (issue 10's bar: < 10 s).

The 135M preset of scripts/gen_llama_onnx.py (tied embeddings) is imported,
quantized (4-bit, group 64) and given adapters of each lossless method
(their initial values: the merge rewrites every adapted layer whatever its
values, so a trained checkpoint costs the same), then timed:
`qaf-opt --qaf-merge-adapters` (bytecode in, bytecode out) and
`qaf-translate --export-onnx` of the merged graph (MatMulNBits). Wall and
user seconds and peak RSS of each process (wait4), median of --runs.
Appends to bench/results/merge.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from common import append_results, commit, machine  # noqa: E402


def timed(command):
    """Runs `command`; returns (wall s, user s, peak RSS MB)."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}\n{stderr}")
    return wall, usage.ru_utime, usage.ru_maxrss / 1024


def main():
    build = os.path.join(ROOT, "build", "bin")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-opt", default=os.path.join(build, "qaf-opt"))
    parser.add_argument("--qaf-translate", default=os.path.join(build, "qaf-translate"))
    parser.add_argument("--methods", default="lota,qalora,qahira")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work-dir", help="keep the files here (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.work_dir or scratch
        os.makedirs(folder, exist_ok=True)
        model = os.path.join(folder, "m135.onnx")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_llama_onnx.py"),
                        "--preset", "135m", "--tie-embeddings", "-o", model],
                       check=True, stdout=subprocess.DEVNULL)
        imported = os.path.join(folder, "m.mlirbc")
        quantized = os.path.join(folder, "q4.mlirbc")
        subprocess.run([args.qaf_translate, "--import-onnx", model, "-o", imported], check=True)
        subprocess.run([args.qaf_opt, imported, "--emit-bytecode", "-o", quantized,
                        "--qaf-quantize-weights=bits=4 group-size=64"], check=True)
        load_before = os.getloadavg()[0]
        rows = []
        for method in args.methods.split(","):
            adapted = os.path.join(folder, f"{method}.mlirbc")
            # The adapters start as no-ops (output side zero); the merge does
            # the same work per layer whatever the values are.
            subprocess.run([args.qaf_opt, quantized, "--emit-bytecode", "-o", adapted,
                            f"--qaf-attach-adapters=method={method} rank=16"], check=True)
            merged = os.path.join(folder, f"{method}-merged.mlirbc")
            exported = os.path.join(folder, f"{method}-merged.onnx")
            merge_runs, export_runs = [], []
            for _ in range(args.runs):
                merge_runs.append(timed([args.qaf_opt, adapted, "--emit-bytecode", "-o", merged,
                                         "--qaf-merge-adapters"]))
                export_runs.append(timed([args.qaf_translate, "--export-onnx", merged,
                                          "-o", exported]))
            merge = [statistics.median(r[i] for r in merge_runs) for i in range(3)]
            export = [statistics.median(r[i] for r in export_runs) for i in range(3)]
            size_mb = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                          if f.startswith(f"{method}-merged.onnx")) / 1e6
            total = merge[0] + export[0]
            print(f"{method}: merge {merge[0]:.2f} s, export {export[0]:.2f} s, "
                  f"total {total:.2f} s, file {size_mb:.1f} MB")
            rows.append(f"| {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} | {commit()} | "
                        f"{machine()} | {load_before:.1f} | {method} | {merge[0]:.2f} / "
                        f"{merge[1]:.2f} / {merge[2]:.0f} | {export[0]:.2f} / {export[1]:.2f} / "
                        f"{export[2]:.0f} | {total:.2f} | {size_mb:.1f} |")
    header = """# Merge + export of the 135M decoder

Written by `bench/merge/bench.py` (`bench/merge/run.sh`, newest last).
Model: `gen_llama_onnx.py --preset 135m --tie-embeddings`, quantized 4-bit
group 64 (head and tied embedding stay float), adapters rank 16 on every
linear layer of every block; timed: `qaf-opt --qaf-merge-adapters`
(bytecode to bytecode) and `qaf-translate --export-onnx` of the result
(MatMulNBits). Each cell: wall s / user s / peak RSS MB, median of the runs.
Bar (issue 10): merge + export < 10 s.

| date (UTC) | commit | machine | load | method | merge | export | merge + export (s) | file (MB) |
| --- | --- | --- | ---: | --- | --- | --- | ---: | ---: |
"""
    append_results(os.path.join(ROOT, "bench", "results", "merge.md"), header, rows)


if __name__ == "__main__":
    main()
