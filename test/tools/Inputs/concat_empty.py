#!/usr/bin/env python3
"""Concat models with inputs of size 0 along the axis (valid ONNX; ONNX
Runtime runs them), for qaf-compile, and the check of qaf-run's outputs
against ONNX Runtime.

  concat_empty.py models DIR        writes DIR/<case>.onnx and DIR/x.npy
  concat_empty.py check DIR CASE Y.npy
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# name: (shape of x, Concat's inputs, axis). `empty` is a [0, 4]
# initializer, `wide` a [2, 0] one, `one` a [1, 4] one.
CASES = {
    "empty-last": ([2, 4], ["x", "empty"], 0),
    "empty-first": ([2, 4], ["empty", "x"], 0),
    "empty-around": ([2, 4], ["empty", "x", "one", "empty"], 0),
    "dynamic": (["n", 4], ["x", "empty"], 0),
    "all-empty": ([2, 4], ["wide", "wide"], 1),
}


def make_model(shape, inputs, axis):
    initializers = [
        numpy_helper.from_array(np.zeros((0, 4), np.float32), "empty"),
        numpy_helper.from_array(np.zeros((2, 0), np.float32), "wide"),
        numpy_helper.from_array(np.ones((1, 4), np.float32), "one"),
    ]
    concat = helper.make_node("Concat", inputs, ["concat"], axis=axis,
                              name="concat")
    # x is used in every case, so that every model has an input.
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None])]
    nodes = [concat]
    if "x" not in inputs:
        nodes.append(helper.make_node("Identity", ["x"], ["x_copy"]))
        outputs.append(helper.make_tensor_value_info("x_copy", TensorProto.FLOAT, [None, None]))
    nodes.append(helper.make_node("Identity", ["concat"], ["y"]))
    graph = helper.make_graph(
        nodes, "concat_empty",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def main():
    command, directory = sys.argv[1], sys.argv[2]
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    if command == "models":
        for name, (shape, inputs, axis) in CASES.items():
            onnx.save(make_model(shape, inputs, axis),
                      os.path.join(directory, name + ".onnx"))
        np.save(os.path.join(directory, "x.npy"), x)
        return 0
    import onnxruntime as ort
    name, produced = sys.argv[3], np.load(sys.argv[4])
    session = ort.InferenceSession(os.path.join(directory, name + ".onnx"),
                                   providers=["CPUExecutionProvider"])
    expected = session.run(["y"], {"x": x})[0]
    if expected.shape != produced.shape or not np.array_equal(expected, produced):
        print(f"{name}: qaf gives {produced.shape} {produced.tolist()}, "
              f"ONNX Runtime {expected.shape} {expected.tolist()}")
        return 1
    print(f"{name}: matches ONNX Runtime, shape {list(expected.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
