#!/usr/bin/env python3
"""Gradients from qaf-test-gradients against finite differences.

Each case is a small function of onnx ops in float64. qaf-opt
--qaf-test-gradients appends its reverse pass, qaf-translate exports both the
forward function and the reverse one to ONNX, and ONNX Runtime runs them: the
gradients of L = sum(f(x, y) * seed) must match central differences of the
forward model (also run by ONNX Runtime, in float64), element by element.

Usage: check_gradients.py --opt QAF_OPT --translate QAF_TRANSLATE --work DIR
                          [--cases CASES.py]
(see `normalize` for how a case is written).
Prints one line per case and, last, "all gradients match".
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

# name -> (argument shapes, body). The body names its arguments %x and %y
# and returns %r; every op is f64 with the types written out.
CASES = {
    # y is broadcast along the leading dim it lacks.
    "add_missing_leading_dim": ([(2, 3), (3,)], """
  %r = onnx.Add %x, %y : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
"""),
    # Both operands stretch: x along dim 1, y along dim 0 and a missing dim.
    "sub_both_broadcast": ([(3, 1), (4,)], """
  %r = onnx.Sub %x, %y : (tensor<3x1xf64>, tensor<4xf64>) -> tensor<3x4xf64>
"""),
    "mul_size_one_dim": ([(2, 3), (2, 1)], """
  %r = onnx.Mul %x, %y : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
"""),
    "div_broadcast": ([(2, 3), (1, 3)], """
  %r = onnx.Div %x, %y : (tensor<2x3xf64>, tensor<1x3xf64>) -> tensor<2x3xf64>
"""),
    # x and y are used more than once: their gradients add up.
    "chain_with_reuse": ([(2, 3), (2, 1)], """
  %0 = onnx.Mul %x, %y : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
  %1 = onnx.Div %0, %y : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
  %2 = onnx.Mul %1, %x : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %3 = onnx.Neg %2 : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Sub %3, %y : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
"""),
    # The unary rules, whose derivatives are written with their result;
    # Sqrt reads x * x and Reciprocal x (|x| >= 1: away from 0).
    "unary_functions": ([(2, 3), (3,)], """
  %0 = onnx.Mul %x, %x : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %1 = onnx.Sqrt %0 : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %2 = onnx.Reciprocal %x : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %3 = onnx.Tanh %x : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %4 = onnx.Sigmoid %y : (tensor<3xf64>) -> tensor<3xf64>
  %5 = onnx.Exp %y : (tensor<3xf64>) -> tensor<3xf64>
  %6 = onnx.Add %1, %2 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %7 = onnx.Mul %3, %4 : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
  %8 = onnx.Add %6, %7 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Sub %8, %5 : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
"""),
}


def tensor_type(shape, element="f64"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + element + ">"


NUMPY_TYPES = {"f64": np.float64, "f32": np.float32, "i64": np.int64,
               "i32": np.int32, "i1": np.bool_}


def normalize(case):
    """A case as a dict. The short form `(shapes, body)` names its f64
    arguments %x and %y. The long form is a dict with
      args:   [(name, element type, shape[, fixed values])]; arguments of a
              float type without fixed values are differentiated, the others
              (indices, masks, shapes) are fed their fixed values;
      body:   the ops, ending in %r;
      inputs: optional rng -> {name: array} for the differentiated
              arguments (default: uniform in +-[1, 2], away from 0);
      tol, h: the relative tolerance and the difference step (1e-5, 1e-6).
    """
    if isinstance(case, dict):
        return case
    shapes, body = case
    return {"args": [(n, "f64", s) for n, s in zip("xy", shapes)],
            "body": body}


def write_module(path, case):
    body = case["body"]
    result = body.strip().splitlines()[-1].split("->")[-1].strip()
    args = ", ".join(f"%{a[0]}: {tensor_type(a[2], a[1])}"
                     for a in case["args"])
    with open(path, "w") as f:
        f.write(f"func.func @main_graph({args}) -> {result} {{\n{body}"
                f"  return %r : {result}\n}}\n")


def run(cmd):
    subprocess.run(cmd, check=True)


def session(path):
    """ONNX Runtime on the graph as written: its fusions (x * Sigmoid(x)
    into QuickGelu, say) may lack the float64 kernels the nodes have."""
    options = ort.SessionOptions()
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    return ort.InferenceSession(path, options,
                                providers=["CPUExecutionProvider"])


def check_case(name, case, tools, work):
    case = normalize(case)
    forward_mlir = os.path.join(work, name + ".mlir")
    reverse_mlir = os.path.join(work, name + ".grad.mlir")
    forward_onnx = os.path.join(work, name + ".onnx")
    reverse_onnx = os.path.join(work, name + ".grad.onnx")
    write_module(forward_mlir, case)
    run([tools.opt, "--qaf-test-gradients",
         forward_mlir, "-o", reverse_mlir])
    run([tools.translate, "--export-onnx",
         forward_mlir, "-o", forward_onnx])
    run([tools.translate, "--export-onnx",
         reverse_mlir, "-o", reverse_onnx])

    rng = np.random.default_rng(0)
    generated = case["inputs"](rng) if "inputs" in case else {}
    inputs = []
    differentiated = []
    for index, arg in enumerate(case["args"]):
        arg_name, element, shape = arg[0], arg[1], arg[2]
        if len(arg) > 3:
            inputs.append(np.asarray(arg[3], dtype=NUMPY_TYPES[element]))
            continue
        if arg_name in generated:
            value = np.asarray(generated[arg_name],
                               dtype=NUMPY_TYPES[element])
        else:
            # Away from 0, so that divisions stay well conditioned; an
            # array even for a 0-D shape (numpy gives a scalar there).
            value = np.asarray(rng.uniform(1.0, 2.0, shape) *
                               rng.choice([-1.0, 1.0], shape),
                               dtype=NUMPY_TYPES[element])
        inputs.append(value)
        if element.startswith("f"):
            differentiated.append(index)
    forward = session(forward_onnx)
    reverse = session(reverse_onnx)
    names = [i.name for i in forward.get_inputs()]
    result = forward.run(None, dict(zip(names, inputs)))[0]
    seed = rng.standard_normal(result.shape).astype(result.dtype)
    reverse_names = [i.name for i in reverse.get_inputs()]
    outputs = reverse.run(None, dict(zip(reverse_names, inputs + [seed])))
    gradients = outputs[1:]
    if len(gradients) != len(differentiated):
        print(f"{name}: {len(gradients)} gradients, expected "
              f"{len(differentiated)}")
        return False

    def loss(values):
        out = forward.run(None, dict(zip(names, values)))[0]
        return float(np.sum(out.astype(np.float64) * seed))

    h = case.get("h", 1e-6)
    worst = 0.0
    for index, got in zip(differentiated, gradients):
        value = inputs[index]
        expected = np.zeros(value.shape)
        for position in np.ndindex(value.shape):
            plus = [v.copy() for v in inputs]
            minus = [v.copy() for v in inputs]
            plus[index][position] += h
            minus[index][position] -= h
            expected[position] = (loss(plus) - loss(minus)) / (2 * h)
        if got.shape != value.shape:
            print(f"{name}: gradient of argument {index} has shape "
                  f"{got.shape}, expected {value.shape}")
            return False
        error = np.max(np.abs(got - expected) / (1e-6 + np.abs(expected)),
                       initial=0.0)
        worst = max(worst, float(error))
    ok = worst < case.get("tol", 1e-5)
    print(f"{name}: max relative error {worst:.1e} {'ok' if ok else 'FAILED'}")
    return ok


def load_cases(path):
    """CASES from a Python file, so each group of rules keeps its own."""
    namespace = {"np": np}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), namespace)
    return namespace["CASES"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--opt", required=True, help="qaf-opt")
    parser.add_argument("--translate", required=True, help="qaf-translate")
    parser.add_argument("--work", required=True)
    parser.add_argument("--cases", help="a Python file defining CASES "
                        "(default: the element-wise cases here)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cases = load_cases(args.cases) if args.cases else CASES
    results = [check_case(name, case, args, args.work)
               for name, case in cases.items()]
    if all(results):
        print("all gradients match")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
