#!/usr/bin/env python3
"""qaf's group-wise quantizer against ONNX Runtime's own blockwise quantizers.

ONNX Runtime (the `onnxruntime` Python package) exposes the MLAS quantizers behind its
MatMulNBits and MatMulBnb4 quantization tools:

  * quantize_matmul_{2,4,8}bits (asymmetric): per block of `g` rows of a K x N MatMul weight,
    min = min(min w, 0), max = max(max w, 0), s = (max - min) / q_max,
    zp = roundf(-min / s), q = clamp(roundf(w * (1/s) + zp), 0, q_max).
  * quantize_matmul_bnb4 with NF4: s = absmax of the block, q = the NF4 entry picked by a
    decision tree over the midpoints between entries (strict `>`: ties take the lower entry).

qaf's rules (METHODS.md section 0) are the same where
  * asymmetric: the group's range already contains 0 (min <= 0 <= max, min < max), -min/s is
    not an exact .5 tie (roundf rounds it away from zero, qaf to even), and w/s is not within
    1e-3 of a .5 tie (ORT rounds w*(1/s) + zp, qaf w/s, with different float rounding);
  * NF4: w/s is not within 1e-5 of a midpoint (ORT multiplies by 1/absmax, qaf divides).
Everything else is counted and skipped. On the compared groups the scales, zero points and
codes must be identical, and for whole output rows whose codes agree the packed bytes of
quantize_matmul_Nbits (first code in the lowest bits) must equal qaf's packCodes bytes. The
test fails when anything compared differs, when nothing was compared, or when fewer than 90% of
the elements were compared.

Usage: python3 test/quant/ort_quantizer_oracle.py --quantize-npy build/bin/quantize-npy
Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnxruntime.capi import _pybind_state as ort

NF4 = np.array(
    [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
     -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
     0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
     0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0],
    dtype=np.float32)
ORT_NBITS = {2: ort.quantize_matmul_2bits, 4: ort.quantize_matmul_4bits,
             8: ort.quantize_matmul_8bits}
MIN_COMPARED_FRACTION = 0.9


def make_weight(k: int, n: int, seed: int) -> np.ndarray:
    """A K x N MatMul weight: mostly normal columns, a few heavy-tailed ones, a few entirely
    positive or negative ones (where the two asymmetric rules differ) and an all-zero one."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.02, size=(k, n))
    w[:, 1::7] = rng.standard_t(2, size=(k, len(range(1, n, 7)))) * 0.01
    w[:, 2] = np.abs(w[:, 2]) + 0.01
    w[:, 3] = -np.abs(w[:, 3]) - 0.01
    w[:, 4] = 0.0
    return np.ascontiguousarray(w.astype(np.float32))


def run_qaf(tool: str, weight_path: str, out_dir: str, bits: int, group: int,
            scheme: str) -> dict:
    subprocess.run([tool, weight_path, out_dir, f"--bits={bits}", f"--group-size={group}",
                    f"--scheme={scheme}"], check=True, timeout=120)
    names = ["codes", "packed", "scales"] + (["zeros"] if scheme != "nf" else [])
    return {name: np.load(os.path.join(out_dir, name + ".npy")) for name in names}


def unpack_low_first(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    per_byte = 8 // bits
    shifts = np.arange(per_byte, dtype=np.uint8) * bits
    codes = (packed[..., None] >> shifts) & ((1 << bits) - 1)
    return codes.reshape(*packed.shape[:-1], -1)[..., :count]


class Report:
    def __init__(self):
        self.failures: list[str] = []
        self.total_groups = self.compared_groups = 0
        self.total_codes = self.compared_codes = 0

    def fail(self, message: str) -> None:
        if len(self.failures) < 20:
            print("FAIL:", message)
        self.failures.append(message)


def compare_asymmetric(tool: str, weight: np.ndarray, weight_path: str, tmp: str, bits: int,
                       group: int, report: Report) -> None:
    k, n = weight.shape
    q_max = (1 << bits) - 1
    per_byte = 8 // bits
    blocks = k // group
    packed = np.zeros((n, blocks, group * bits // 8), dtype=np.uint8)
    zero_points = np.zeros((n, (blocks + per_byte - 1) // per_byte), dtype=np.uint8)
    scales = np.zeros((n, blocks), dtype=np.float32)
    ORT_NBITS[bits](packed, weight, scales, zero_points, group, n, k, False)
    ort_codes = unpack_low_first(packed.reshape(n, -1), bits, k)
    ort_zeros = unpack_low_first(zero_points, bits, blocks)

    ours = run_qaf(tool, weight_path, os.path.join(tmp, f"asym{bits}_{group}"), bits, group,
                   "asym")
    label = f"asym {bits}-bit g{group}"
    groups = compared_groups = codes_compared = 0
    for row in range(n):
        for blk in range(blocks):
            groups += 1
            w = weight[blk * group:(blk + 1) * group, row]
            lo, hi = w.min(), w.max()
            if not (lo <= 0 <= hi and lo < hi):
                continue  # ORT widens the range to include 0; an empty range has s = 0
            scale = (hi - lo) / np.float32(q_max)  # float32 arithmetic, as both do
            zero_fp = -lo / scale
            if zero_fp - np.floor(zero_fp) == 0.5:
                continue  # roundf and round-half-even disagree on the zero point
            where = f"{label} output row {row} group {blk}"
            compared_groups += 1
            if ours["scales"][row, blk] != scales[row, blk]:
                report.fail(f"{where}: scale {ours['scales'][row, blk]!r} vs ORT "
                            f"{scales[row, blk]!r}")
            if ours["zeros"][row, blk] != ort_zeros[row, blk]:
                report.fail(f"{where}: zero point {ours['zeros'][row, blk]!r} vs ORT "
                            f"{ort_zeros[row, blk]}")
            x = w.astype(np.float64) / np.float64(scale)
            clear = np.abs(x - np.floor(x) - 0.5) > 1e-3
            mine = ours["codes"][row, blk * group:(blk + 1) * group]
            theirs = ort_codes[row, blk * group:(blk + 1) * group]
            bad = np.nonzero(clear & (mine != theirs))[0]
            for i in bad[:3]:
                report.fail(f"{where} element {i} (w = {w[i]!r}): code {mine[i]} vs ORT "
                            f"{theirs[i]}")
            codes_compared += int(clear.sum())
    # Packed layout: rows whose codes agree must have byte-identical packing.
    same_rows = np.all(ours["codes"] == ort_codes, axis=1)
    packed_rows = int(same_rows.sum())
    mismatched = np.nonzero(same_rows & np.any(ours["packed"] != packed.reshape(n, -1),
                                               axis=1))[0]
    for row in mismatched[:3]:
        report.fail(f"{label} output row {row}: equal codes packed differently")
    print(f"{label}: compared {compared_groups}/{groups} groups, {codes_compared}/{k * n} "
          f"codes, packed bytes of {packed_rows}/{n} rows")
    if packed_rows == 0:
        report.fail(f"{label}: no row to compare packed bytes on")
    report.total_groups += groups
    report.compared_groups += compared_groups
    report.total_codes += k * n
    report.compared_codes += codes_compared


def compare_nf4(tool: str, weight: np.ndarray, weight_path: str, tmp: str, group: int,
                report: Report) -> None:
    k, n = weight.shape
    transposed = np.ascontiguousarray(weight.T)  # bnb4 blocks the N x K weight row by row
    packed = np.zeros((k * n + 1) // 2, dtype=np.uint8)
    absmax = np.zeros(k * n // group, dtype=np.float32)
    ort.quantize_matmul_bnb4(packed, transposed, absmax, group, 1, n, k)
    # bitsandbytes order: the first code in the high nibble.
    ort_codes = np.stack([packed >> 4, packed & 0xF], axis=1).reshape(n, k)
    absmax = absmax.reshape(n, k // group)

    ours = run_qaf(tool, weight_path, os.path.join(tmp, f"nf4_{group}"), 4, group, "nf")
    label = f"nf4 g{group}"
    midpoints = (NF4[:-1].astype(np.float64) + NF4[1:]) / 2
    groups = compared_groups = codes_compared = 0
    for row in range(n):
        for blk in range(k // group):
            groups += 1
            w = transposed[row, blk * group:(blk + 1) * group]
            scale = np.abs(w).max()
            where = f"{label} output row {row} group {blk}"
            mine = ours["codes"][row, blk * group:(blk + 1) * group]
            theirs = ort_codes[row, blk * group:(blk + 1) * group]
            if scale == 0:
                clear = np.ones(group, dtype=bool)  # ORT's s is 0, qaf's 1: codes only
            else:
                compared_groups += 1
                if ours["scales"][row, blk] != absmax[row, blk]:
                    report.fail(f"{where}: scale {ours['scales'][row, blk]!r} vs ORT "
                                f"{absmax[row, blk]!r}")
                x = w.astype(np.float64) / np.float64(scale)
                clear = np.min(np.abs(x[:, None] - midpoints[None, :]), axis=1) > 1e-5
            bad = np.nonzero(clear & (mine != theirs))[0]
            for i in bad[:3]:
                report.fail(f"{where} element {i} (w = {w[i]!r}): code {mine[i]} vs ORT "
                            f"{theirs[i]}")
            codes_compared += int(clear.sum())
    print(f"{label}: compared {compared_groups}/{groups} groups (scales), "
          f"{codes_compared}/{k * n} codes")
    report.total_groups += groups
    report.compared_groups += compared_groups
    report.total_codes += k * n
    report.compared_codes += codes_compared


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantize-npy", required=True, help="the quantize-npy test driver")
    parser.add_argument("--keep", help="write the fixtures and outputs here and keep them")
    args = parser.parse_args()

    report = Report()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        os.makedirs(tmp, exist_ok=True)
        weight = make_weight(512, 96, seed=2024)
        weight_path = os.path.join(tmp, "weight.npy")
        np.save(weight_path, weight)
        for bits in (2, 4, 8):
            for group in (32, 64, 128):
                compare_asymmetric(args.quantize_npy, weight, weight_path, tmp, bits, group,
                                   report)
        for group in (64, 128):
            compare_nf4(args.quantize_npy, weight, weight_path, tmp, group, report)

    fraction = report.compared_codes / max(report.total_codes, 1)
    print(f"total: compared {report.compared_groups}/{report.total_groups} groups, "
          f"{report.compared_codes}/{report.total_codes} codes ({100 * fraction:.1f}%)")
    if report.compared_codes == 0:
        report.fail("nothing was compared")
    elif fraction < MIN_COMPARED_FRACTION:
        report.fail(f"only {100 * fraction:.1f}% of the codes were compared")
    if report.failures:
        print(f"{len(report.failures)} failure(s)")
        return 1
    print("all compared codes, scales, zero points and packed bytes are identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
