#!/usr/bin/env python3
"""Compiled qaf ops against numpy.

Each case writes a small graph (an `onnx` function whose weights are
constants, feeding one qaf op), compiles it with `qaf-compile`, runs it with
`qaf-run` on random activations, and compares with numpy evaluating the
formulas of ../shared/METHODS.md on the same numbers. The codes are packed
here, independently of qaf (a little-endian bit stream, first code in the
lowest bits).

Exit status 0 when every case matched; prints `N passed, F failed`.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], np.float32)
NF2 = np.array([-1.0, 0.0, 0.33791524171829224, 1.0], np.float32)


def pack_rows(codes, bits):
    """[N, K] codes -> [N, K * bits / 8] bytes, bit stream per row."""
    n, k = codes.shape
    out = np.zeros((n, k * bits // 8), np.uint8)
    for row in range(n):
        acc = 0
        for i, code in enumerate(codes[row]):
            acc |= int(code) << (i * bits)
        out[row] = np.frombuffer(acc.to_bytes(k * bits // 8, "little"), np.uint8)
    return out


def mlir_constant(name, array, mlir_type):
    data = np.ascontiguousarray(array).tobytes().hex().upper()
    return (f'    %{name} = onnx.Constant {{value = dense<"0x{data}"> : {mlir_type}}} '
            f': {mlir_type}')


def tensor_type(shape, element):
    return "tensor<" + "x".join(str(d) for d in shape) + "x" + element + ">"


def build_module(k, n, constants, op_text):
    lines = ["module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {",
             f"  func.func @main_graph(%x: tensor<?x{k}xf32> {{onnx.name = \"x\"}}) "
             f"-> (tensor<?x{n}xf32> {{onnx.name = \"y\"}}) {{"]
    for name, array, mlir_type in constants:
        lines.append(mlir_constant(name, array, mlir_type))
    lines.append("    " + op_text)
    lines.append(f"    return %y : tensor<?x{n}xf32>")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def qlinear_case(rng, bits, scheme, group, k=96, n=40):
    codes = rng.integers(0, 2 ** bits, size=(n, k)).astype(np.uint8)
    scales = rng.uniform(0.01, 0.1, size=(n, k // group)).astype(np.float32)
    group_of = np.arange(k) // group
    if scheme == "nf":
        book = NF4 if bits == 4 else NF2
        weight = scales[:, group_of] * book[codes]
        zeros = None
    else:
        # Float zero points, fractional as merges leave them.
        zeros = rng.uniform(-2, 2 ** bits + 1, size=(n, k // group)).astype(np.float32)
        weight = (codes.astype(np.float32) - zeros[:, group_of]) * scales[:, group_of]
    packed = pack_rows(codes, bits)
    fmt = f"#qaf.qformat<bits = {bits}, group_size = {group}, scheme = {scheme}>"
    constants = [("codes", packed, tensor_type(packed.shape, "ui8")),
                 ("scales", scales, tensor_type(scales.shape, "f32"))]
    operands = "%x, %codes, %scales"
    types = [f"tensor<?x{k}xf32>", tensor_type(packed.shape, "ui8"),
             tensor_type(scales.shape, "f32")]
    if zeros is not None:
        constants.append(("zeros", zeros, tensor_type(zeros.shape, "f32")))
        operands += ", %zeros"
        types.append(tensor_type(zeros.shape, "f32"))
    op = (f"%y = qaf.qlinear {operands} {{format = {fmt}}} : "
          f"({', '.join(types)}) -> tensor<?x{n}xf32>")
    return build_module(k, n, constants, op), lambda x: x @ weight.T


def cases():
    for bits, group in ((2, 32), (3, 32), (4, 32), (4, 96), (8, 48)):
        for scheme in ("asym", "sym"):
            yield f"qlinear-{bits}bit-g{group}-{scheme}", (qlinear_case, bits, scheme, group)
    for bits in (2, 4):
        yield f"qlinear-{bits}bit-nf", (qlinear_case, bits, "nf", 32)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr.strip()[:2000]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-ops-numeric-") as tmp:
        for index, (name, (builder, *params)) in enumerate(cases()):
            if args.filter not in name:
                continue
            rng = np.random.default_rng(index)
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            try:
                module, reference = builder(rng, *params)
                source = os.path.join(folder, "graph.mlir")
                with open(source, "w") as f:
                    f.write(module)
                run([args.qaf_compile, source, "-o", os.path.join(folder, "artifact")])
                k = int(module.split("tensor<?x", 1)[1].split("xf32>", 1)[0])
                x = rng.standard_normal((3, k)).astype(np.float32)
                np.save(os.path.join(folder, "x.npy"), x)
                run([args.qaf_run, "infer", os.path.join(folder, "artifact"),
                     "--input", f"x={os.path.join(folder, 'x.npy')}",
                     "--output-dir", os.path.join(folder, "out")])
                actual = np.load(os.path.join(folder, "out", "y.npy"))
                expected = reference(x.astype(np.float64))
                diff = float(np.max(np.abs(actual - expected)))
                scale = float(np.max(np.abs(expected)))
                ok = actual.shape == expected.shape and diff <= 1e-5 * max(1.0, scale)
            except RuntimeError as error:
                print(f"FAIL {name}: {error}")
                failed += 1
                continue
            print(f"{'ok  ' if ok else 'FAIL'} {name}: max |qaf - numpy| = {diff:.3g}")
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
