#!/usr/bin/env python3
"""Checks that two ONNX models compute the same thing in ONNX Runtime.

Runs onnx.checker (full check) on the second model, then feeds both models
the same random inputs (symbolic dimensions get a few different sizes) and
compares every output. Exit status 0 when they match.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort

NUMPY_TYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.BOOL: np.bool_,
}


def make_inputs(model, dim_sizes, rng):
    feeds = {}
    for value in model.graph.input:
        tensor_type = value.type.tensor_type
        shape = []
        for dim in tensor_type.shape.dim:
            if dim.HasField("dim_value"):
                shape.append(dim.dim_value)
            else:
                shape.append(dim_sizes.get(dim.dim_param, 2))
        dtype = NUMPY_TYPES[tensor_type.elem_type]
        if value.name == "input_ids":
            feeds[value.name] = rng.integers(0, 64, size=shape).astype(dtype)
        elif value.name == "attention_mask":
            feeds[value.name] = np.ones(shape, dtype=dtype)
        elif np.issubdtype(dtype, np.floating):
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[value.name] = rng.integers(0, 4, size=shape).astype(dtype)
    return feeds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("original")
    parser.add_argument("exported")
    parser.add_argument("--atol", type=float, default=0.0)
    args = parser.parse_args()

    onnx.checker.check_model(args.exported, full_check=True)
    print(f"   onnx.checker (full_check): {args.exported} is valid")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sessions = [ort.InferenceSession(path, options,
                                     providers=["CPUExecutionProvider"])
                for path in (args.original, args.exported)]
    model = onnx.load(args.original, load_external_data=False)
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch, sequence in ((1, 5), (3, 17)):
        feeds = make_inputs(model, {"batch": batch, "sequence": sequence}, rng)
        expected, actual = (s.run(None, feeds) for s in sessions)
        for e, a in zip(expected, actual):
            if e.shape != a.shape:
                print(f"   shape mismatch: {e.shape} vs {a.shape}")
                return 1
            worst = max(worst, float(np.max(np.abs(e.astype(np.float64) -
                                                   a.astype(np.float64)))))
        print(f"   batch {batch}, sequence {sequence}: outputs "
              f"{[tuple(a.shape) for a in actual]}, max |diff| so far {worst:g}")
    if worst > args.atol:
        print(f"FAIL: outputs differ by {worst:g} (allowed {args.atol:g})")
        return 1
    print("OK: ONNX Runtime gives the same outputs for both models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
