#!/usr/bin/env python3
"""Reverse passes lowered to linalg and run, against ONNX Runtime.

For each case of a check_gradients.py cases file, qaf-opt
--qaf-test-gradients appends the reverse pass and qaf-translate exports it
to ONNX; run_numeric.py's runner (qaf-convert-onnx-to-linalg, the upstream
lowering, mlir-runner) runs that model and ONNX Runtime runs the same model
on the same inputs (the case's values, a random seed). check_gradients.py
shows that the rules are right; this shows that the ops they emit lower
and compute what ONNX says (ScatterND's reduction, Slice bounds read at
run time, dynamic dims), so a training step built from them compiles.

Usage: check_lowered_gradients.py --opt QAF_OPT --translate QAF_TRANSLATE
                                  --cases CASES.py --work DIR
(QAF_OPT's build folder has the runner's CMake cache.)
Prints one line per case and, last, "all lowered gradients match".
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "Conversion",
                                "ONNXToLinalg"))
import check_gradients  # noqa: E402
import run_numeric  # noqa: E402


def case_inputs(case, rng):
    """The case's argument values: fixed ones as given, the others from its
    `inputs` or uniform in +-[1, 2]."""
    generated = case["inputs"](rng) if "inputs" in case else {}
    values = []
    for arg in case["args"]:
        name, element, shape = arg[0], arg[1], arg[2]
        dtype = check_gradients.NUMPY_TYPES[element]
        if len(arg) > 3:
            values.append(np.asarray(arg[3], dtype=dtype))
        elif name in generated:
            values.append(np.asarray(generated[name], dtype=dtype))
        else:
            magnitude = rng.uniform(1.0, 2.0, shape)
            values.append((magnitude * rng.choice([-1.0, 1.0], shape))
                          .astype(dtype))
    return values


def check_case(name, case, args, runner):
    case = check_gradients.normalize(case)
    forward_mlir = os.path.join(args.work, name + ".mlir")
    reverse_mlir = os.path.join(args.work, name + ".grad.mlir")
    forward_onnx = os.path.join(args.work, name + ".onnx")
    reverse_onnx = os.path.join(args.work, name + ".grad.onnx")
    check_gradients.write_module(forward_mlir, case)
    subprocess.run([args.opt, "--qaf-test-gradients", forward_mlir, "-o",
                    reverse_mlir], check=True)
    for mlir, onnx_path in ((forward_mlir, forward_onnx),
                            (reverse_mlir, reverse_onnx)):
        subprocess.run([args.translate, "--export-onnx", mlir, "-o",
                        onnx_path], check=True)

    rng = np.random.default_rng(0)
    inputs = case_inputs(case, rng)
    # The seed has the forward result's shape, which may be dynamic.
    forward = ort.InferenceSession(forward_onnx,
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in forward.get_inputs()]
    result = forward.run(None, dict(zip(names, inputs)))[0]
    seed = rng.standard_normal(result.shape).astype(result.dtype)
    status, message = run_numeric.run_model(runner, reverse_onnx,
                                            inputs=inputs + [seed])
    print(f"{name}: {status} {message}".rstrip())
    return status == "passed"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--opt", required=True, help="qaf-opt")
    parser.add_argument("--translate", required=True, help="qaf-translate")
    parser.add_argument("--cases", required=True,
                        help="a Python file defining CASES")
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.opt)))
    runner = run_numeric.Runner(build, args.work, args.translate)
    cases = check_gradients.load_cases(args.cases)
    results = [check_case(name, case, args, runner)
               for name, case in cases.items()]
    if all(results):
        print("all lowered gradients match")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
