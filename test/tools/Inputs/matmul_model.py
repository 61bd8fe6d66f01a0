"""A one-MatMul ONNX model whose weight is large enough to be outlined.

  matmul_model.py model OUT_DIR   writes OUT_DIR/model.onnx and OUT_DIR/x.npy
  matmul_model.py two-layers OUT_DIR
                                  writes OUT_DIR/two-layers.onnx,
                                  y = relu(x w1) w,
                                  and OUT_DIR/x.npy
  matmul_model.py check OUT_DIR Y.npy...
                                  compares each y with numpy's x @ w
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D_IN, D_OUT = 8, 300  # 2400 weight elements: more than qaf inlines


def weight():
    return np.random.default_rng(7).standard_normal((D_IN, D_OUT)).astype(np.float32)


def inputs():
    return np.random.default_rng(8).standard_normal((3, D_IN)).astype(np.float32)


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "model":
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")], "proj",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", D_IN])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", D_OUT])],
            [numpy_helper.from_array(weight(), "w")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, os.path.join(folder, "model.onnx"))
        np.save(os.path.join(folder, "x.npy"), inputs())
        return 0
    if mode == "two-layers":
        w1 = np.random.default_rng(9).standard_normal((D_IN, D_IN)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w1"], ["h"], name="first"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "w"], ["y"], name="second")], "two",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", D_IN])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", D_OUT])],
            [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(weight(), "w")],
            value_info=[helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", D_IN])
                        for name in ("h", "r")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, os.path.join(folder, "two-layers.onnx"))
        np.save(os.path.join(folder, "x.npy"), inputs())
        return 0
    expected = inputs() @ weight()
    for path in sys.argv[3:]:
        diff = float(np.max(np.abs(np.load(path) - expected)))
        if diff > 1e-4:
            print(f"{path}: max |y - numpy| = {diff}")
            return 1
    print(f"{len(sys.argv) - 3} outputs match numpy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
