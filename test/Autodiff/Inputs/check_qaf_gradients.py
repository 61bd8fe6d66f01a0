#!/usr/bin/env python3
"""The gradient rules of the qaf ops, compiled, against outside oracles.

Each case is a function of one qaf op (its frozen weights as constants, its
activation and trainable factors as arguments). `qaf-opt --qaf-test-gradients`
appends the reverse pass of L = sum(y * seed), `qaf-compile` compiles it for
the CPU and `qaf-run` runs it; the gradients it returns are compared with

- for the smooth rules (the input gradient of qaf.qlinear, LoRA, QA-LoRA,
  QA-HiRA, Q-BaRA, and the input gradients of LoTA-QAF and L4Q): central
  finite differences, element by element, of the op's forward written here
  in numpy from ../shared/METHODS.md and evaluated in float64;
- for the straight-through rules (LoTA-QAF's A_T and B_T, L4Q's A, B, s and
  β): METHODS.md's closed forms (§1, §2), written here in numpy.

Codes are packed here, independently of qaf (a little-endian bit stream per
row, first code in the lowest bits). With --decompose-kernel-ops the reverse
pass is compiled to the linalg phase and its kernel ops are replaced by
their reference loops (what a target without the CPU kernels runs).

Usage: check_qaf_gradients.py --opt QAF_OPT --compile QAF_COMPILE
                              --run QAF_RUN --work DIR
                              [--decompose-kernel-ops] [--filter TEXT]
Prints one line per case and, last, "all gradients match".
"""

import argparse
import os
import subprocess
import sys

import numpy as np

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367,
                -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0])


def pack_rows(codes, bits):
    """[N, K] codes -> [N, K * bits / 8] bytes, a bit stream per row."""
    n, k = codes.shape
    out = np.zeros((n, k * bits // 8), np.uint8)
    for row in range(n):
        acc = 0
        for i, code in enumerate(codes[row]):
            acc |= int(code) << (i * bits)
        out[row] = np.frombuffer(acc.to_bytes(k * bits // 8, "little"),
                                 np.uint8)
    return out


def tensor_type(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def constant(name, array, element):
    data = np.ascontiguousarray(array).tobytes().hex().upper()
    t = tensor_type(array.shape, element)
    return f'  %{name} = onnx.Constant {{value = dense<"0x{data}"> : {t}}} : {t}'


class Case:
    """A qaf op over arguments `args` [(name, array, element)] and constants
    `consts` (same form); `forward(values)` is y in float64 from the
    arguments by name; `closed_forms(values, seed)` gives the expected
    gradients of the arguments that are not checked by finite differences.
    `fd` names the arguments checked by finite differences."""

    def __init__(self, op, attrs, args, consts, out_shape, forward, fd,
                 closed_forms=None, operands=None):
        self.op, self.attrs, self.args, self.consts = op, attrs, args, consts
        self.out_shape, self.forward, self.fd = out_shape, forward, fd
        self.closed_forms = closed_forms or (lambda values, seed: {})
        self.operands = operands or [a[0] for a in args] + [c[0] for c in consts]
        self.dynamic = False

    def with_dynamic_rows(self):
        """The same case with x's and y's leading dims dynamic (`?`)."""
        self.dynamic = True
        return self

    def module(self):
        def activation_type(shape, element):
            if not self.dynamic:
                return tensor_type(shape, element)
            return tensor_type(["?"] * (len(shape) - 1) + [shape[-1]], element)
        arg_types = {n: tensor_type(a.shape, e) for n, a, e in self.args}
        arg_types["x"] = activation_type(self.args[0][1].shape, "f32")
        arg_types.update({n: tensor_type(a.shape, e) for n, a, e in self.consts})
        out = activation_type(self.out_shape, "f32")
        signature = ", ".join(f"%{n}: {arg_types[n]}" for n, _, _ in self.args)
        lines = ["module attributes {onnx.opset_import = {ai.onnx = 18 : i64}} {",
                 f"func.func @main_graph({signature}) -> {out} {{"]
        lines += [constant(n, a, e) for n, a, e in self.consts]
        operand_types = ", ".join(arg_types[n] for n in self.operands)
        lines.append(f"  %y = qaf.{self.op} "
                     + ", ".join(f"%{n}" for n in self.operands)
                     + f" {{{self.attrs}}} : ({operand_types}) -> {out}")
        lines += [f"  return %y : {out}", "}", "}"]
        return "\n".join(lines) + "\n"


def run(command):
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n"
                           f"{result.stderr.strip()[:3000]}")
    return result.stdout


def compile_and_run(case, tools, folder, seed):
    """The compiled reverse pass on the case's arguments: [y, gradients...]."""
    source = os.path.join(folder, "forward.mlir")
    with open(source, "w") as f:
        f.write(case.module())
    reverse = os.path.join(folder, "reverse.mlir")
    run([tools.opt, "--qaf-test-gradients", source, "-o", reverse])
    if tools.decompose_kernel_ops:
        linalg = os.path.join(folder, "linalg.mlirbc")
        run([tools.compile, reverse, "--compile-to=linalg", "-o", linalg])
        reverse = os.path.join(folder, "decomposed.mlirbc")
        run([tools.opt, linalg, "--qaf-decompose-kernel-ops",
             "--emit-bytecode", "-o", reverse])
        if "qaf.kernel" in run([tools.opt, reverse]):
            raise RuntimeError("a kernel op survived the decomposition")
    artifact = os.path.join(folder, "artifact")
    run([tools.compile, reverse, "-o", artifact])
    inputs = []
    for index, (name, array, _) in enumerate(case.args + [("seed", seed, "")]):
        path = os.path.join(folder, f"{index}_{name}.npy")
        np.save(path, array)
        inputs.append(path)
    out = os.path.join(folder, "out")
    run([tools.run, "infer", artifact, *inputs, "--output-dir", out])
    outputs = []
    while os.path.exists(os.path.join(out, f"output_{len(outputs)}.npy")):
        outputs.append(np.load(os.path.join(out, f"output_{len(outputs)}.npy")))
    return outputs


def finite_differences(case, values, seed, name, h=1e-3):
    """dL/d values[name] by central differences of the float64 forward (the
    forwards are linear in each argument, so h only meets rounding)."""
    def loss(v):
        return float(np.sum(case.forward(v) * seed))
    value = values[name]
    gradient = np.zeros(value.shape)
    for position in np.ndindex(value.shape):
        plus, minus = dict(values), dict(values)
        plus[name] = value.copy()
        minus[name] = value.copy()
        plus[name][position] += h
        minus[name][position] -= h
        gradient[position] = (loss(plus) - loss(minus)) / (2 * h)
    return gradient


def check_case(name, case, tools, work):
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    seed = rng.standard_normal(case.out_shape).astype(np.float32)
    outputs = compile_and_run(case, tools, folder, seed)
    values = {n: a.astype(np.float64) for n, a, _ in case.args}
    seed64 = seed.astype(np.float64)
    # The reverse pass returns y, then one gradient per float argument and
    # per integer one a rule gives a gradient (LoTA's factors), in order.
    expected = case.closed_forms(values, seed64)
    for argument in case.fd:
        expected[argument] = finite_differences(case, values, seed64, argument)
    order = [n for n, _, _ in case.args if n in expected]
    if len(outputs) != 1 + len(order):
        print(f"{name}: {len(outputs) - 1} gradients, expected {len(order)}")
        return False
    worst = float(np.max(np.abs(outputs[0] - case.forward(values)))
                  / (1e-6 + np.max(np.abs(case.forward(values)))))
    for argument, got in zip(order, outputs[1:]):
        want = expected[argument]
        if got.shape != want.shape:
            print(f"{name}: the gradient of {argument} has shape {got.shape}, "
                  f"expected {want.shape}")
            return False
        # Relative to the gradient's largest entry: f32 against float64.
        error = float(np.max(np.abs(got - want)) /
                      (1e-6 + np.max(np.abs(want))))
        worst = max(worst, error)
        if error >= 1e-4:
            print(f"{name}: the gradient of {argument} is off by {error:.1e}")
    ok = worst < 1e-4
    print(f"{name}: max relative error {worst:.1e} {'ok' if ok else 'FAILED'}")
    return ok


#===-----------------------------------------------------------------------===#
# The cases: forwards and closed forms from METHODS.md
#===-----------------------------------------------------------------------===#

def rows(x):
    return x.reshape(-1, x.shape[-1])


def qlinear_case(rng, bits, group, scheme, x_shape, n=24):
    k = x_shape[-1]
    codes = rng.integers(0, 2 ** bits, size=(n, k))
    scales = rng.uniform(0.01, 0.1, size=(n, k // group)).astype(np.float32)
    group_of = np.arange(k) // group
    consts = [("codes", pack_rows(codes, bits), "ui8"),
              ("scales", scales, "f32")]
    if scheme == "nf":
        book = NF4 if bits == 4 else np.array([-1.0, 0.0, 0.33791524171829224, 1.0])
        weight = scales[:, group_of].astype(np.float64) * book[codes]
    else:
        zeros = rng.uniform(-1, 2 ** bits, size=(n, k // group)).astype(np.float32)
        consts.append(("zeros", zeros, "f32"))
        weight = scales[:, group_of].astype(np.float64) * (
            codes - zeros[:, group_of].astype(np.float64))
    x = rng.standard_normal(x_shape).astype(np.float32)
    fmt = f"#qaf.qformat<bits = {bits}, group_size = {group}, scheme = {scheme}>"
    return Case("qlinear", f"format = {fmt}", [("x", x, "f32")], consts,
                x_shape[:-1] + (n,), lambda v: v["x"] @ weight.T, ["x"])


def pool(x, p):
    """The mean of each run of p consecutive features."""
    return x.reshape(*x.shape[:-1], x.shape[-1] // p, p).mean(-1)


def lora_case(rng, x_shape=(2, 3, 32), n=12, r=3, scale=2.0):
    k = x_shape[-1]
    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("a", rng.standard_normal((r, k)).astype(np.float32), "f32"),
            ("b", rng.standard_normal((n, r)).astype(np.float32), "f32")]
    # §6: Δy = (α/r)·B·A·x.
    return Case("lora", f"scale = {scale} : f64", args, [],
                x_shape[:-1] + (n,),
                lambda v: scale * (v["x"] @ v["a"].T) @ v["b"].T,
                ["x", "a", "b"])


def qalora_case(rng, x_shape=(5, 32), n=12, r=3, group=8, scale=0.5):
    k = x_shape[-1]
    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("a", rng.standard_normal((r, k // group)).astype(np.float32), "f32"),
            ("b", rng.standard_normal((n, r)).astype(np.float32), "f32")]
    # §3: Δy = α/r·B·A·x̄, x̄ the mean over each group.
    return Case("qalora", f"group_size = {group} : i64, scale = {scale} : f64",
                args, [], x_shape[:-1] + (n,),
                lambda v: scale * (pool(v["x"], group) @ v["a"].T) @ v["b"].T,
                ["x", "a", "b"])


def qahira_case(rng, x_shape=(2, 2, 32), n=12, group=8, repeat=3, alpha=1.5):
    k = x_shape[-1]
    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("m", rng.standard_normal((n // repeat, k // group)).astype(np.float32),
             "f32")]
    # §3: Δy = α·RepeatRows_λ(M·x̄).
    return Case("qahira",
                f"alpha = {alpha} : f64, group_size = {group} : i64, "
                f"repeat_out = {repeat} : i64", args, [], x_shape[:-1] + (n,),
                lambda v: alpha * np.repeat(pool(v["x"], group) @ v["m"].T,
                                            repeat, axis=-1),
                ["x", "m"])


def qbara_case(rng, x_shape=(4, 16), n=12, r=2, lam=2, scale=0.75):
    k = x_shape[-1]
    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("a", rng.standard_normal((lam * r, k // lam)).astype(np.float32), "f32"),
            ("b", rng.standard_normal((n // lam, lam * r)).astype(np.float32), "f32")]
    # §4: Δy = (α/r)·RepeatRows_λ(B·A·AvgPool_λ(x)).
    return Case("qbara", f"pool = {lam} : i64, scale = {scale} : f64", args, [],
                x_shape[:-1] + (n,),
                lambda v: scale * np.repeat(
                    (pool(v["x"], lam) @ v["a"].T) @ v["b"].T, lam, axis=-1),
                ["x", "a", "b"])


def ternary(rng, shape, density):
    return (rng.choice([-1, 1], size=shape) *
            (rng.random(shape) < density)).astype(np.int8)


def lota_case(rng, bits=4, x_shape=(3, 64), n=16, r=6, omega=2.5, group=16):
    k = x_shape[-1]
    q_max = 2 ** bits - 1
    codes = rng.integers(0, q_max + 1, size=(n, k))
    codes[:, :3] = 0       # down moves masked
    codes[:, 3:6] = q_max  # up moves masked
    scales = rng.uniform(0.01, 0.1, size=(n, k // group)).astype(np.float32)
    zeros = np.round(rng.uniform(0, q_max, size=(n, k // group))).astype(np.float32)
    a_t = ternary(rng, (r, k), 0.8)
    b_t = ternary(rng, (n, r), 0.8)
    group_of = np.arange(k) // group
    s = scales[:, group_of].astype(np.float64)

    def effective_weight(a, b):
        # §1's forward: Ŵ (with the edge masks), μ, w_eff.
        delta = b @ a
        moved = np.where((delta > omega) & (codes < q_max), 1,
                         np.where((delta < -omega) & (codes > 0), -1, 0))
        mu = (delta - omega * moved).reshape(n, k // group, group).mean(-1) / omega
        return s * (codes + moved - zeros[:, group_of] + mu[:, group_of]), moved

    weight, moved = effective_weight(a_t.astype(np.float64), b_t.astype(np.float64))
    assert np.count_nonzero(moved) > 0, "the case must move codes"

    def closed_forms(v, seed):
        # §1's backward, straight through the threshold.
        gw = rows(seed).T @ rows(v["x"])
        sg = s * gw
        means = sg.reshape(n, k // group, group).mean(-1)[:, group_of]
        d_delta = sg + means / omega
        return {"a": v["b"].T @ d_delta, "b": d_delta @ v["a"].T}

    fmt = f"#qaf.qformat<bits = {bits}, group_size = {group}, scheme = asym>"
    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("a", a_t, "i8"), ("b", b_t, "i8")]
    consts = [("codes", pack_rows(codes, bits), "ui8"), ("scales", scales, "f32"),
              ("zeros", zeros, "f32")]
    return Case("lota_linear", f"format = {fmt}, omega = {omega} : f64", args,
                consts, x_shape[:-1] + (n,),
                lambda v: v["x"] @ effective_weight(v["a"], v["b"])[0].T, ["x"],
                closed_forms,
                operands=["x", "codes", "scales", "zeros", "a", "b"])


def l4q_case(rng, bits=3, x_shape=(2, 3, 16), n=8, r=2, group=4, alpha=1.5):
    k = x_shape[-1]
    w0 = (rng.standard_normal((k, n)) * 0.3).astype(np.float32)
    low, high = -2 ** (bits - 1), 2 ** (bits - 1) - 1
    group_of = np.arange(k) // group
    # Scales small enough that some u leave [Q_N, Q_P] (both branches).
    scales = rng.uniform(0.05, 0.12, size=(n, k // group)).astype(np.float32)
    offsets = rng.uniform(-0.05, 0.05, size=(n, k // group)).astype(np.float32)

    def quantizer(v):
        # §2: u and w̃ of W_c = W0 + α·B·A.
        combined = w0.T.astype(np.float64) + alpha * (v["b"] @ v["a"])
        u = (combined - v["beta"][:, group_of]) / v["s"][:, group_of]
        return u, np.round(np.clip(u, low, high))

    def forward(v):
        u, codes = quantizer(v)
        weight = v["s"][:, group_of] * codes + v["beta"][:, group_of]
        return v["x"] @ weight.T

    def closed_forms(v, seed):
        # §2's gradients, M = [Q_N <= u <= Q_P], G = dL/dW_q.
        u, codes = quantizer(v)
        inside = (u >= low) & (u <= high)
        g = rows(seed).T @ rows(v["x"])
        per_group = lambda t: t.reshape(n, k // group, group).sum(-1)
        return {"a": alpha * v["b"].T @ (inside * g),
                "b": alpha * (inside * g) @ v["a"].T,
                "s": per_group(g * np.where(inside, codes - u, codes)),
                "beta": per_group(g * (1 - inside))}

    args = [("x", rng.standard_normal(x_shape).astype(np.float32), "f32"),
            ("a", (rng.standard_normal((r, k)) * 0.3).astype(np.float32), "f32"),
            ("b", (rng.standard_normal((n, r)) * 0.3).astype(np.float32), "f32"),
            ("s", scales, "f32"), ("beta", offsets, "f32")]
    u, _ = quantizer({n_: a.astype(np.float64) for n_, a, _ in args})
    assert ((u < low) | (u > high)).any() and ((u >= low) & (u <= high)).any(), \
        "the case must clamp some weights and not others"
    return Case("l4q_linear",
                f"alpha = {alpha} : f64, bits = {bits} : i64, group_size = {group} : i64",
                args, [("w", w0, "f32")], x_shape[:-1] + (n,), forward, ["x"],
                closed_forms, operands=["x", "w", "a", "b", "s", "beta"])


def cases(rng):
    # The kernel's blocks are 64 columns: K = 96 ends in a partial one, and
    # 9 rows take its GEMM beyond a tile of rows.
    yield "qlinear-4bit-g32-asym", qlinear_case(rng, 4, 32, "asym", (9, 96))
    yield "qlinear-3bit-g32-sym", qlinear_case(rng, 3, 32, "sym", (2, 3, 64))
    yield "qlinear-2bit-g16-asym", qlinear_case(rng, 2, 16, "asym", (1, 64))
    # Groups of 3 2-bit codes are not whole bytes; nf has a codebook: both
    # take the reference loops.
    yield "qlinear-2bit-g6-asym", qlinear_case(rng, 2, 6, "asym", (3, 24))
    yield "qlinear-4bit-nf", qlinear_case(rng, 4, 32, "nf", (3, 64))
    yield "lora", lora_case(rng)
    yield "qalora", qalora_case(rng)
    yield "qahira", qahira_case(rng)
    yield "qbara", qbara_case(rng)
    yield "lota-4bit", lota_case(rng)
    yield "lota-2bit", lota_case(rng, bits=2, r=4, omega=1.5)
    yield "l4q-3bit", l4q_case(rng)
    # The CPU kernel of the factor gradients cuts the outputs into tiles of
    # 32 rows: 70 and 45 rows end in a partial tile; groups of 24 and 16.
    yield "lota-ragged", lota_case(rng, x_shape=(5, 96), n=70, r=5, group=24)
    yield "l4q-ragged", l4q_case(rng, x_shape=(7, 48), n=45, r=3, group=16)
    # Leading dims known only at run time: rows are flattened with -1.
    yield "lora-dynamic", lora_case(rng).with_dynamic_rows()
    yield "qahira-dynamic", qahira_case(rng).with_dynamic_rows()
    yield "lota-dynamic", lota_case(rng, x_shape=(2, 5, 64)).with_dynamic_rows()
    yield "l4q-dynamic", l4q_case(rng).with_dynamic_rows()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opt", required=True, help="qaf-opt")
    parser.add_argument("--compile", required=True, help="qaf-compile")
    parser.add_argument("--run", required=True, help="qaf-run")
    parser.add_argument("--work", required=True)
    parser.add_argument("--filter", default="")
    parser.add_argument("--decompose-kernel-ops", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(0)
    results = []
    for name, case in cases(rng):
        if args.filter not in name:
            continue
        try:
            results.append(check_case(name, case, args, args.work))
        except RuntimeError as error:
            print(f"{name}: FAILED\n{error}")
            results.append(False)
    if results and all(results):
        print("all gradients match")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
