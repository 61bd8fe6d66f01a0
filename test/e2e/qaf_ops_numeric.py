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


# Hand-worked examples, one per method: K = 4 inputs, x = [1, 2, 3, 4], the
# factors and the expected outputs written out and worked by hand in the
# comments (from METHODS.md, not from the formulas above), so that a wrong
# transcription of a formula in both qaf and this file cannot pass.
HAND_X = np.array([[1, 2, 3, 4]], np.float32)


def hand_lora(rng):
    # LoRA (§6), r = 1, scale = α/r = 2:
    #   A·x = 1·1 + 0·2 − 1·3 + 2·4 = 6
    #   Δy = 2 · B · 6 = 2 · [0.5·6, −1·6] = [6, −12]
    a = np.array([[1, 0, -1, 2]], np.float32)
    b = np.array([[0.5], [-1]], np.float32)
    module = adapter_module(4, 2, [("a", a, "f32"), ("b", b, "f32")], "lora",
                            "scale = 2.0 : f64")
    return module, [6, -12]


def hand_qalora(rng):
    # QA-LoRA (§3), g = 2, r = 1, scale = α/r = 0.5:
    #   x̄ = [(1 + 2)/2, (3 + 4)/2] = [1.5, 3.5]
    #   A·x̄ = 2·1.5 − 1·3.5 = −0.5
    #   Δy = 0.5 · [1·(−0.5), 0.5·(−0.5)] = [−0.25, −0.125]
    a = np.array([[2, -1]], np.float32)
    b = np.array([[1], [0.5]], np.float32)
    module = adapter_module(4, 2, [("a", a, "f32"), ("b", b, "f32")], "qalora",
                            "group_size = 2 : i64, scale = 0.5 : f64")
    return module, [-0.25, -0.125]


def hand_qahira(rng):
    # QA-HiRA (§3), g = 2, λout = 2, α = 1.5, M is [4/2, 4/2]:
    #   x̄ = [1.5, 3.5]
    #   M·x̄ = [2·1.5 − 2·3.5, 1·1.5 + 0·3.5] = [−4, 1.5]
    #   α·M·x̄ = [−6, 2.25]; each row feeds 2 outputs: [−6, −6, 2.25, 2.25]
    m = np.array([[2, -2], [1, 0]], np.float32)
    module = adapter_module(
        4, 4, [("m", m, "f32")], "qahira",
        "alpha = 1.5 : f64, group_size = 2 : i64, repeat_out = 2 : i64")
    return module, [-6, -6, 2.25, 2.25]


def hand_qbara(rng):
    # Q-BaRA (§4), λ = 2, r = 1 (rank λr = 2), scale = α/r = 2;
    # A is [λr, K/λ] = [2, 2], B is [N/λ, λr] = [2, 2]:
    #   AvgPool_2(x) = [1.5, 3.5]
    #   A·p = [1·1.5 + 0·3.5, 0·1.5 + 2·3.5] = [1.5, 7]
    #   B·(A·p) = [1·1.5 − 1·7, 0.5·1.5 + 0·7] = [−5.5, 0.75]
    #   2 · that = [−11, 1.5], rows repeated λ = 2 times: [−11, −11, 1.5, 1.5]
    a = np.array([[1, 0], [0, 2]], np.float32)
    b = np.array([[1, -1], [0.5, 0]], np.float32)
    module = adapter_module(4, 4, [("a", a, "f32"), ("b", b, "f32")], "qbara",
                            "pool = 2 : i64, scale = 2.0 : f64")
    return module, [-11, -11, 1.5, 1.5]


def hand_lota(rng):
    # LoTA-QAF (§1), 2 bits (q_max = 3), g = 2, r = 2, ω = 1:
    #   A_T = [[1, 1, −1, 0], [1, −1, −1, 1]], B_T = [[1, 1], [−1, −1]]
    #   ΔW = B_T·A_T: row 0 = A0 + A1 = [2, 0, −2, 1]
    #                 row 1 = −A0 − A1 = [−2, 0, 2, −1]
    #   codes q: row 0 = [1, 2, 3, 0], row 1 = [0, 2, 3, 2]
    #   Ŵ row 0: 2 > 1 and 1 < 3 → +1; 0 → 0; −2 < −1 and 3 > 0 → −1;
    #            1 > 1 is false → 0:                    [1, 0, −1, 0]
    #   Ŵ row 1: −2 but q = 0 (down masked) → 0; 0; 2 but q = 3 (up masked)
    #            → 0; −1 → 0:                           [0, 0, 0, 0]
    #   R = ΔW − ω·Ŵ: row 0 = [1, 0, −1, 1], row 1 = [−2, 0, 2, −1]
    #   μ = group mean of R / ω: row 0 = [0.5, 0], row 1 = [−1, 0.5]
    #   s: row 0 = [0.5, 0.25], row 1 = [1, 0.5]; z: row 0 = [1, 2], row 1 = [0, 1]
    #   w_eff = s·(q + Ŵ − z + μ):
    #     row 0: 0.5·(1+1−1+0.5) = 0.75, 0.5·(2−1+0.5) = 0.75,
    #            0.25·(3−1−2) = 0, 0.25·(0−2) = −0.5
    #     row 1: 1·(0−0−1) = −1, 1·(2−0−1) = 1,
    #            0.5·(3−1+0.5) = 1.25, 0.5·(2−1+0.5) = 0.75
    #   y = w_eff·x: 0.75 + 1.5 + 0 − 2 = 0.25;  −1 + 2 + 3.75 + 3 = 7.75
    # Codes packed 2 bits each, first code lowest: row 0 = 1 | 2<<2 | 3<<4 =
    # 0x39, row 1 = 2<<2 | 3<<4 | 2<<6 = 0xB8.
    codes = np.array([[0x39], [0xB8]], np.uint8)
    scales = np.array([[0.5, 0.25], [1, 0.5]], np.float32)
    zeros = np.array([[1, 2], [0, 1]], np.float32)
    a_t = np.array([[1, 1, -1, 0], [1, -1, -1, 1]], np.int8)
    b_t = np.array([[1, 1], [-1, -1]], np.int8)
    fmt = "#qaf.qformat<bits = 2, group_size = 2, scheme = asym>"
    module = adapter_module(
        4, 2, [("codes", codes, "ui8"), ("scales", scales, "f32"),
               ("zeros", zeros, "f32"), ("a", a_t, "i8"), ("b", b_t, "i8")],
        "lota_linear", f"format = {fmt}, omega = 1.0 : f64")
    return module, [0.25, 7.75]


def hand_l4q(rng):
    # L4Q (§2), 3 bits (Q_N = −4, Q_P = 3), g = 2, r = 1, α = 1:
    #   W0ᵀ: row 0 = [1.0, −0.2, 0.5, 1.0], row 1 = [0, 0.1, −0.9, 0.4]
    #   A = [1, 0, 0, −1], B = [0.2, 0.5]ᵀ: B·A row 0 = [0.2, 0, 0, −0.2],
    #   row 1 = [0.5, 0, 0, −0.5]
    #   W_c: row 0 = [1.2, −0.2, 0.5, 0.8], row 1 = [0.5, 0.1, −0.9, −0.1]
    #   s: row 0 = [0.25, 0.5], row 1 = [0.2, 0.25]
    #   β: row 0 = [0, 0.1],   row 1 = [0.05, 0]
    #   u = (W_c − β)/s: row 0 = [4.8, −0.8, 0.8, 1.4]
    #                    row 1 = [2.25, 0.25, −3.6, −0.4]
    #   w̃ = round(clamp(u, −4, 3)): row 0 = [3, −1, 1, 1], row 1 = [2, 0, −4, 0]
    #   W_q = s·w̃ + β: row 0 = [0.75, −0.25, 0.6, 0.6]
    #                  row 1 = [0.45, 0.05, −1.0, 0]
    #   y: 0.75 − 0.5 + 1.8 + 2.4 = 4.45;  0.45 + 0.1 − 3 + 0 = −2.45
    w0 = np.array([[1.0, 0], [-0.2, 0.1], [0.5, -0.9], [1.0, 0.4]], np.float32)
    a = np.array([[1, 0, 0, -1]], np.float32)
    b = np.array([[0.2], [0.5]], np.float32)
    scales = np.array([[0.25, 0.5], [0.2, 0.25]], np.float32)
    offsets = np.array([[0, 0.1], [0.05, 0]], np.float32)
    module = adapter_module(
        4, 2, [("w", w0, "f32"), ("a", a, "f32"), ("b", b, "f32"),
               ("scales", scales, "f32"), ("offsets", offsets, "f32")],
        "l4q_linear", "alpha = 1.0 : f64, bits = 3 : i64, group_size = 2 : i64")
    return module, [4.45, -2.45]


def hand_case(builder):
    """A hand-worked example: its module, its expected outputs, its x."""
    def build(rng):
        module, expected = builder(rng)
        return module, lambda x: np.array([expected], np.float64), HAND_X
    return build


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
    for name, builder in (("lora", hand_lora), ("qalora", hand_qalora),
                          ("qahira", hand_qahira), ("qbara", hand_qbara),
                          ("lota", hand_lota), ("l4q", hand_l4q)):
        yield f"hand-{name}", (hand_case(builder),)


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
                module, reference, *given_x = builder(rng, *params)
                source = os.path.join(folder, "graph.mlir")
                with open(source, "w") as f:
                    f.write(module)
                if args.decompose_kernel_ops:
                    source = decompose_kernel_ops(args, source, folder)
                run([args.qaf_compile, source, "-o", os.path.join(folder, "artifact")])
                k = int(module.split("tensor<?x", 1)[1].split("xf32>", 1)[0])
                x = given_x[0] if given_x else rng.standard_normal((3, k)).astype(np.float32)
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
