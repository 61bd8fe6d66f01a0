"""Writes a model with ONNX Runtime's RMSNorm contrib ops, in their domains."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
gamma = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "gamma")
nodes = [
    helper.make_node("SimplifiedLayerNormalization", ["x", "gamma"], ["n"],
                     name="rms", axis=-1, epsilon=1e-6),
    helper.make_node("SkipSimplifiedLayerNormalization", ["n", "x", "gamma"],
                     ["y"], name="skip_rms", domain="com.microsoft", epsilon=1e-6),
]
graph = helper.make_graph(
    nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 8])], [gamma])
model = helper.make_model(graph, opset_imports=[
    helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
onnx.save(model, sys.argv[1])
