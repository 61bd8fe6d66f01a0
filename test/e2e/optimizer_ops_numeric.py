#!/usr/bin/env python3
"""Compiled optimizer ops (qaf.adamw_update, qaf.tsignsgd_update) against
reference steps computed here in numpy.

AdamW: PyTorch's torch.optim.AdamW step (decoupled weight decay, bias
correction) with Hugging Face's constant/cosine schedules with linear
warm-up (get_*_schedule_with_warmup), over several steps whose outputs feed
the next call. t-SignSGD (../shared/METHODS.md §1): the exact reference
step with numpy's quantile (method="lower") and its invariants: entries stay
ternary, each moves at most one level, at most ceil((1 - q_t) * n) move, and
about that many do, with q_t from the quantile schedule at the start, at
80 % and at the end of a run.

Each case is a graph of one op whose operands are inputs, compiled with
qaf-compile and run with qaf-run. Exit status 0 when every case matched.
"""
import argparse
import math
import os
import sys
import tempfile

import numpy as np

from e2e_support import ToolError, compile_model, run_artifact


def tensor_type(shape, element):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


def compile_graph(args, folder, inputs, outputs, op_text):
    """inputs/outputs: [(name, type)]; op_text defines the outputs."""
    params = ", ".join(f'%{n}: {t} {{onnx.name = "{n}"}}' for n, t in inputs)
    results = ", ".join(f'{t} {{onnx.name = "{n}"}}' for n, t in outputs)
    module = "\n".join([
        "module attributes {onnx.opset_import = {ai.onnx = 17 : i64}} {",
        f"  func.func @main_graph({params}) -> ({results}) {{",
        "    " + op_text,
        "    return " + ", ".join(f"%{n}" for n, _ in outputs) + " : "
        + ", ".join(t for _, t in outputs),
        "  }", "}"]) + "\n"
    source = os.path.join(folder, "graph.mlir")
    with open(source, "w") as f:
        f.write(module)
    artifact = os.path.join(folder, "artifact")
    compile_model(args.qaf_compile, source, artifact)
    return artifact


def run_graph(args, artifact, folder, values, output_names):
    outputs, _, _ = run_artifact(args.qaf_run, artifact, values, folder)
    return [outputs[name] for name in output_names]


# ---------------------------------------------------------------- AdamW

def schedule_factor(completed, kind, warmup, total):
    """Hugging Face's lr_lambda for `completed` optimizer steps."""
    if completed < warmup:
        return completed / max(1, warmup)
    if kind == "constant":
        return 1.0
    progress = min(1.0, (completed - warmup) / max(1, total - warmup))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def adamw_reference(p, g, m, v, t, lr, beta1, beta2, eps, wd):
    """torch.optim.AdamW's single-tensor step t (1-based), in float64."""
    p = p * (1 - lr * wd)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    bias1 = 1 - beta1 ** t
    bias2 = 1 - beta2 ** t
    denom = np.sqrt(v) / math.sqrt(bias2) + eps
    p = p - (lr / bias1) * m / denom
    return p, m, v


def adamw_case(args, folder, rng, kind, warmup, total, steps, wd):
    shape = (6, 40)
    lr, beta1, beta2, eps = 0.05, 0.8, 0.95, 1e-6
    ft = tensor_type(shape, "f32")
    it = tensor_type((), "i64")
    op = (f'%new_p, %new_m, %new_v = qaf.adamw_update %p, %g, %m, %v, %t '
          f'{{lr = {lr} : f64, schedule = "{kind}", warmup_steps = {warmup} : i64, '
          f'total_steps = {total} : i64, beta1 = {beta1} : f64, beta2 = {beta2} : f64, '
          f'eps = {eps:e} : f64, weight_decay = {wd} : f64}} '
          f': ({ft}, {ft}, {ft}, {ft}, {it}) -> ({ft}, {ft}, {ft})')
    artifact = compile_graph(args, folder,
                             [("p", ft), ("g", ft), ("m", ft), ("v", ft), ("t", it)],
                             [("new_p", ft), ("new_m", ft), ("new_v", ft)], op)
    p = rng.standard_normal(shape).astype(np.float32)
    m = np.zeros(shape, np.float32)
    v = np.zeros(shape, np.float32)
    ref = [p.astype(np.float64), m.astype(np.float64), v.astype(np.float64)]
    worst = 0.0
    for t in range(1, steps + 1):
        g = rng.standard_normal(shape).astype(np.float32)
        p, m, v = run_graph(args, artifact, folder,
                            {"p": p, "g": g, "m": m, "v": v, "t": np.array(t, np.int64)},
                            ["new_p", "new_m", "new_v"])
        rate = lr * schedule_factor(t - 1, kind, warmup, total)
        ref = adamw_reference(*ref[:1], g.astype(np.float64), *ref[1:], t,
                              rate, beta1, beta2, eps, wd)
        for actual, expected in zip((p, m, v), ref):
            worst = max(worst, float(np.max(np.abs(actual - expected))
                                     / max(1.0, float(np.max(np.abs(expected))))))
    return worst <= 1e-5, f"{steps} steps, max relative |qaf - numpy| = {worst:.3g}"


# ------------------------------------------------------------- t-SignSGD

def quantile_level(t, total):
    """METHODS.md §1's schedule as qaf.tsignsgd_update states it."""
    f = min(1.0, max(0.0, (t - 1) / total))
    if f <= 0.8:
        return 0.95 + (0.999 - 0.95) * f / 0.8
    return 0.999 + (0.9999 - 0.999) * (f - 0.8) / 0.2


def tsignsgd_case(args, folder, rng, t, total, shape):
    n = int(np.prod(shape))
    pt = tensor_type(shape, "i8")
    gt = tensor_type(shape, "f32")
    it = tensor_type((), "i64")
    op = (f"%new_p = qaf.tsignsgd_update %p, %g, %t {{total_steps = {total} : i64}} "
          f": ({pt}, {gt}, {it}) -> {pt}")
    artifact = compile_graph(args, folder, [("p", pt), ("g", gt), ("t", it)],
                             [("new_p", pt)], op)
    p = rng.integers(-1, 2, size=shape).astype(np.int8)
    g = rng.standard_normal(shape).astype(np.float32)
    g[0, :3] = 0.0  # exact zeros never move
    (actual,) = run_graph(args, artifact, folder,
                          {"p": p, "g": g, "t": np.array(t, np.int64)}, ["new_p"])
    q = quantile_level(t, total)
    sigma = np.quantile(np.abs(g), q, method="lower")
    moves = np.abs(g) > max(1e-9, sigma)
    expected = np.where(moves, np.clip(p - np.sign(g).astype(np.int8), -1, 1), p)
    moved = int(np.count_nonzero(actual != p))
    bound = math.ceil((1 - q) * n)
    checks = {
        "equals the reference": np.array_equal(actual, expected),
        "ternary": bool(np.all(np.isin(actual, [-1, 0, 1]))),
        "at most one level": bool(np.all(np.abs(actual.astype(np.int32) - p) <= 1)),
        "moved <= ceil((1-q) n)": int(np.count_nonzero(moves)) <= bound,
        # Entries at the clamp edge may not move; the selected ones are
        # those above the quantile: floor((1 - q)(n - 1)) or so.
        "selected ~ (1-q) n": abs(int(np.count_nonzero(moves))
                                  - math.floor((1 - q) * (n - 1))) <= 1,
    }
    failed = [name for name, ok in checks.items() if not ok]
    return not failed, (f"q_t = {q:.5f}, {int(np.count_nonzero(moves))} selected, "
                        f"{moved} moved of {n} (bound {bound})"
                        + (f"; FAILED: {', '.join(failed)}" if failed else ""))


def cases():
    yield "adamw-constant", lambda a, f, r: adamw_case(a, f, r, "constant", 0, 100, 4, 0.1)
    yield "adamw-constant-warmup", lambda a, f, r: adamw_case(a, f, r, "constant", 2, 100, 4, 0.0)
    yield "adamw-cosine-warmup", lambda a, f, r: adamw_case(a, f, r, "cosine", 2, 6, 8, 0.01)
    for t, total in ((1, 100), (81, 100), (100, 100)):
        yield f"tsignsgd-t{t}-of-{total}", (
            lambda a, f, r, t=t, total=total: tsignsgd_case(a, f, r, t, total, (64, 160)))
    yield "tsignsgd-small", lambda a, f, r: tsignsgd_case(a, f, r, 1, 10, (3, 7))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-optimizer-ops-") as tmp:
        for index, (name, case) in enumerate(cases()):
            if args.filter not in name:
                continue
            folder = os.path.join(tmp, name)
            os.makedirs(folder)
            try:
                ok, detail = case(args, folder, np.random.default_rng(index))
            except ToolError as error:
                ok, detail = False, str(error)
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
