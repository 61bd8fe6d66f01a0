#!/usr/bin/env python3
"""Markdown table from the JSON files bench/qlinear/run.sh collects."""
import json
import os
import platform
import subprocess
import sys


def load(folder, name):
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    folder = sys.argv[1]
    print("# Quantized decode: int4 matrix-vector bandwidth\n")
    print("`bash bench/qlinear/run.sh` on this machine "
          f"({cpu_name()}, {os.cpu_count()} cores). qaf: `qaf_qlinear` "
          "(the kernel compiled models call), M = 1, int4 codes, group 64, "
          "float scales and zero points; effective weight bandwidth = bytes of "
          "codes + scales + zero points per call / time. Every call reads its "
          "weight from memory (≥ 256 MiB of weights in rotation, 8× the L3). "
          "The copy is a STREAM-style copy of 512 MiB arrays in the same run "
          "(bytes read + written). ONNX Runtime: `MatMulNBits` with its packed "
          "uint8 zero points on the same shapes, `accuracy_level` 0 (float, "
          "what qaf computes) and 4 (int8 activations, approximate).\n")
    for threads in (1, 2):
        qaf = load(folder, f"qaf-{threads}.json")
        ort0 = load(folder, f"ort-{threads}.json")
        ort4 = load(folder, f"ort4-{threads}.json")
        copy = qaf["stream_copy_gbs"]
        print(f"## {threads} thread{'s' if threads > 1 else ''} "
              f"(copy {copy:.1f} GB/s, kernel path {qaf['isa']})\n")
        print("| K × N | qaf µs | qaf GB/s | % of copy | ORT (fp32) µs | ORT GB/s "
              "| ORT (int8 act.) µs | qaf speed-up vs ORT fp32 |")
        print("|---|---|---|---|---|---|---|---|")
        worst = 100.0
        for q, o, o4 in zip(qaf["shapes"], ort0["shapes"], ort4["shapes"]):
            share = 100.0 * q["gbs"] / copy
            worst = min(worst, share)
            print(f"| {q['k']} × {q['n']} | {q['us']:.1f} | {q['gbs']:.1f} | "
                  f"{share:.0f} % | {o['us']:.1f} | {o['gbs']:.1f} | {o4['us']:.1f} | "
                  f"{o['us'] / q['us']:.2f}× |")
        print(f"\nLowest share of the copy bandwidth: {worst:.0f} % "
              f"(bar: ≥ 50 %). ONNX Runtime {ort0['onnxruntime']}.\n")


if __name__ == "__main__":
    main()
