#!/usr/bin/env python3
"""Compiled qaf ops against numpy.

Each case writes a small graph (an `onnx` function whose weights are
constants, feeding one qaf op), compiles it with `qaf-compile`, runs it with
`qaf-run` on random activations, and compares with numpy evaluating the
formulas of ../shared/METHODS.md on the same numbers: quantized linear
layers (2/3/4/8 bits, asym/sym/nf) and every adapter op (LoRA, QA-LoRA,
QA-HiRA, Q-BaRA, LoTA-QAF with codes that move and edge codes that must not,
L4Q). Adapters are checked against the dense update x · ΔWᵀ, which qaf
never forms (it multiplies by the factors). The codes are packed
here, independently of qaf (a little-endian bit stream, first code in the
lowest bits).

With --decompose-kernel-ops the graph is compiled to the linalg phase, its
qaf.kernel.* ops are replaced by their reference loops
(`qaf-opt --qaf-decompose-kernel-ops`, what a target without the kernels
runs), and compiled on from there: the same numbers without the kernels.

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


def adapter_module(k, n, factors, op_name, attrs):
    """A graph computing one qaf adapter op over constant factors."""
    constants = [(name, array, tensor_type(array.shape, element))
                 for name, array, element in factors]
    operands = ", ".join(["%x"] + [f"%{name}" for name, _, _ in factors])
    types = [f"tensor<?x{k}xf32>"] + [t for _, _, t in constants]
    op = (f"%y = qaf.{op_name} {operands} {{{attrs}}} : "
          f"({', '.join(types)}) -> tensor<?x{n}xf32>")
    return build_module(k, n, constants, op)


def lora_case(rng, k=96, n=40, r=6, scale=2.0):
    a = rng.standard_normal((r, k)).astype(np.float32) * 0.1
    b = rng.standard_normal((n, r)).astype(np.float32) * 0.1
    module = adapter_module(k, n, [("a", a, "f32"), ("b", b, "f32")], "lora",
                            f"scale = {scale} : f64")
    # The dense update W + ΔW, ΔW = scale · B · A (METHODS §6).
    delta = scale * (b.astype(np.float64) @ a)
    return module, lambda x: x @ delta.T


def qalora_case(rng, k=96, n=40, r=6, group=32, scale=0.5):
    a = rng.standard_normal((r, k // group)).astype(np.float32)
    b = rng.standard_normal((n, r)).astype(np.float32)
    module = adapter_module(k, n, [("a", a, "f32"), ("b", b, "f32")], "qalora",
                            f"group_size = {group} : i64, scale = {scale} : f64")
    # Dense ΔW[o, i] = scale · (B·A)[o, G(i)] / g: constant inside a group.
    delta = scale * np.repeat(b.astype(np.float64) @ a, group, axis=1) / group
    return module, lambda x: x @ delta.T


def qahira_case(rng, k=96, n=40, group=32, repeat=2, alpha=1.5):
    m = rng.standard_normal((n // repeat, k // group)).astype(np.float32)
    module = adapter_module(
        k, n, [("m", m, "f32")], "qahira",
        f"alpha = {alpha} : f64, group_size = {group} : i64, repeat_out = {repeat} : i64")
    # Dense ΔW[o, i] = α · M[o / λ, G(i)] / g.
    delta = alpha * np.repeat(np.repeat(m.astype(np.float64), repeat, axis=0),
                              group, axis=1) / group
    return module, lambda x: x @ delta.T


def qbara_case(rng, k=96, n=40, r=3, lam=2, scale=0.75):
    a = rng.standard_normal((lam * r, k // lam)).astype(np.float32)
    b = rng.standard_normal((n // lam, lam * r)).astype(np.float32)
    module = adapter_module(k, n, [("a", a, "f32"), ("b", b, "f32")], "qbara",
                            f"pool = {lam} : i64, scale = {scale} : f64")
    # Dense ΔW = (scale / λ) · (B·A) ⊗ 1_{λ×λ} (METHODS §4, with the 1/λ).
    delta = (scale / lam) * np.kron(b.astype(np.float64) @ a, np.ones((lam, lam)))
    return module, lambda x: x @ delta.T


def ternary(rng, shape, density):
    signs = rng.choice([-1, 1], size=shape)
    return (signs * (rng.random(shape) < density)).astype(np.int8)


def lota_case(rng, bits, k=96, n=40, r=8, omega=2.5, group=32):
    q_max = 2 ** bits - 1
    codes = rng.integers(0, q_max + 1, size=(n, k)).astype(np.uint8)
    # Some codes at the edges, where a move must be masked.
    codes[:, :4] = 0
    codes[:, 4:8] = q_max
    scales = rng.uniform(0.01, 0.1, size=(n, k // group)).astype(np.float32)
    zeros = np.round(rng.uniform(0, q_max, size=(n, k // group))).astype(np.float32)
    a_t = ternary(rng, (r, k), 0.8)
    b_t = ternary(rng, (n, r), 0.8)
    delta = b_t.astype(np.int64) @ a_t.astype(np.int64)
    moved = np.where((delta > omega) & (codes < q_max), 1,
                     np.where((delta < -omega) & (codes > 0), -1, 0))
    assert np.count_nonzero(moved) > n * k // 10, "the case must move codes"
    remainder = delta - omega * moved
    mu = remainder.reshape(n, k // group, group).mean(-1) / omega
    group_of = np.arange(k) // group
    weight = scales[:, group_of] * (codes + moved - zeros[:, group_of] + mu[:, group_of])
    packed = pack_rows(codes, bits)
    fmt = f"#qaf.qformat<bits = {bits}, group_size = {group}, scheme = asym>"
    module = adapter_module(
        k, n, [("codes", packed, "ui8"), ("scales", scales, "f32"),
               ("zeros", zeros, "f32"), ("a", a_t, "i8"), ("b", b_t, "i8")],
        "lota_linear", f"format = {fmt}, omega = {omega} : f64")
    return module, lambda x: x @ weight.T


def l4q_case(rng, bits, k=96, n=40, r=4, group=32, alpha=1.0):
    w0 = rng.standard_normal((k, n)).astype(np.float32) * 0.1
    a = rng.standard_normal((r, k)).astype(np.float32) * 0.05
    b = rng.standard_normal((n, r)).astype(np.float32) * 0.05
    scales = rng.uniform(0.01, 0.05, size=(n, k // group)).astype(np.float32)
    offsets = rng.uniform(-0.01, 0.01, size=(n, k // group)).astype(np.float32)
    group_of = np.arange(k) // group
    low, high = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    combined = w0.T.astype(np.float64) + alpha * (b.astype(np.float64) @ a)
    u = (combined - offsets[:, group_of]) / scales[:, group_of]
    weight = scales[:, group_of] * np.round(np.clip(u, low, high)) + offsets[:, group_of]
    module = adapter_module(
        k, n, [("w", w0, "f32"), ("a", a, "f32"), ("b", b, "f32"),
               ("scales", scales, "f32"), ("offsets", offsets, "f32")],
        "l4q_linear", f"alpha = {alpha} : f64, bits = {bits} : i64, group_size = {group} : i64")
    return module, lambda x: x @ weight.T


def cases():
    # Groups of 3 and 6 codes do not fill whole bytes: they stay loops.
    for bits, group in ((2, 32), (3, 32), (4, 32), (4, 96), (8, 48), (4, 3), (2, 6)):
        for scheme in ("asym", "sym"):
            yield f"qlinear-{bits}bit-g{group}-{scheme}", (qlinear_case, bits, scheme, group)
    for bits in (2, 4):
        yield f"qlinear-{bits}bit-nf", (qlinear_case, bits, "nf", 32)
    yield "lora", (lora_case,)
    yield "qalora", (qalora_case,)
    yield "qahira", (qahira_case,)
    yield "qbara", (qbara_case,)
    for bits in (2, 3, 4):
        yield f"lota-{bits}bit", (lota_case, bits)
    for bits in (3, 4):
        yield f"l4q-{bits}bit", (l4q_case, bits)


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr.strip()[:2000]}")
    return result.stdout


def decompose_kernel_ops(args, source, folder):
    """The graph at the linalg phase with its kernel ops decomposed."""
    linalg = os.path.join(folder, "linalg.mlirbc")
    decomposed = os.path.join(folder, "decomposed.mlirbc")
    run([args.qaf_compile, source, "--compile-to=linalg", "-o", linalg])
    run([args.qaf_opt, linalg, "--qaf-decompose-kernel-ops", "--emit-bytecode",
         "-o", decomposed])
    if "qaf.kernel" in run([args.qaf_opt, decomposed]):
        raise RuntimeError("qaf-decompose-kernel-ops left a kernel op")
    return decomposed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--filter", default="")
    parser.add_argument("--decompose-kernel-ops", action="store_true",
                        help="run the kernel ops' reference loops (needs --qaf-opt)")
    parser.add_argument("--qaf-opt")
    args = parser.parse_args()
    if args.decompose_kernel_ops and not args.qaf_opt:
        parser.error("--decompose-kernel-ops needs --qaf-opt")
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
                if args.decompose_kernel_ops:
                    source = decompose_kernel_ops(args, source, folder)
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
