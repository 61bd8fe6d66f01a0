"""Writes a small valid ONNX model with the onnx package (not with qaf), for
tests that need a binary model file: y = x @ W + B, with W a 4x4 float
initializer and B a 4-element one."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

path = sys.argv[1]
weight = numpy_helper.from_array(
    np.arange(16, dtype=np.float32).reshape(4, 4), "W")
bias = numpy_helper.from_array(np.full(4, 0.5, dtype=np.float32), "B")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
     helper.make_node("Add", ["h", "B"], ["y"], name="add")],
    "binary_model",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    initializer=[weight, bias])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="make_model.py")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, path)
