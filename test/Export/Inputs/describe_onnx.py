"""Checks an ONNX model with onnx.checker (full check, so shape inference
runs too) and prints what a test wants to assert about it, one fact per line:

  ir_version 10
  opset ai.onnx 21
  metadata license = Apache-2.0
  input x: FLOAT [batch, 4]
  output y: FLOAT [batch, 4]
  initializer W: FLOAT [4, 4] raw_data = [0.0, 1.0, ...]
  initializer V: FLOAT [64] external(location=m.onnx.data, offset=0, length=256) = [...]
  node mm: MatMul(x, W) -> (h) {attr = value}

Usage: describe_onnx.py model.onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def dims(type_proto):
    tensor = type_proto.tensor_type
    name = onnx.TensorProto.DataType.Name(tensor.elem_type)
    if not tensor.HasField("shape"):
        return name
    parts = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            parts.append(str(dim.dim_value))
        elif dim.dim_param:
            parts.append(dim.dim_param)
        else:
            parts.append("?")
    return f"{name} [{', '.join(parts)}]"


FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
               onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}


def values(tensor, base_dir):
    flat = np.asarray(numpy_helper.to_array(tensor, base_dir)).reshape(-1)
    if tensor.data_type == onnx.TensorProto.BOOL:
        return "[" + ", ".join("true" if v else "false" for v in flat) + "]"
    if tensor.data_type in FLOAT_TYPES:
        return "[" + ", ".join(repr(float(v)) for v in flat) + "]"
    return "[" + ", ".join(str(int(v)) for v in flat) + "]"


def attribute(attr):
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, onnx.TensorProto):
        return "tensor " + values(value, "")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(
            v.decode() if isinstance(v, bytes) else str(v) for v in value) + "]"
    return str(value)


def main():
    path = sys.argv[1]
    base_dir = os.path.dirname(os.path.abspath(path))
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    print("ir_version", model.ir_version)
    for opset in model.opset_import:
        print("opset", opset.domain or "ai.onnx", opset.version)
    if model.producer_name or model.producer_version:
        print(f"producer {model.producer_name} {model.producer_version}")
    if model.doc_string:
        print("doc_string", model.doc_string)
    if model.model_version:
        print("model_version", model.model_version)
    for prop in model.metadata_props:
        print(f"metadata {prop.key} = {prop.value}")
    graph = model.graph
    print("graph", graph.name)
    for value in graph.input:
        print(f"input {value.name}: {dims(value.type)}")
    for value in graph.output:
        print(f"output {value.name}: {dims(value.type)}")
    for tensor in graph.initializer:
        shape = ", ".join(str(d) for d in tensor.dims)
        kind = onnx.TensorProto.DataType.Name(tensor.data_type)
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            entries = ", ".join(f"{e.key}={e.value}" for e in tensor.external_data)
            where = f"external({entries})"
        elif tensor.HasField("raw_data"):
            where = "raw_data"
        else:
            where = "typed_data"
        print(f"initializer {tensor.name}: {kind} [{shape}] {where} = "
              f"{values(tensor, base_dir)}")
    for node in graph.node:
        domain = node.domain + "." if node.domain else ""
        attrs = ", ".join(f"{a.name} = {attribute(a)}" for a in node.attribute)
        line = (f"node {node.name}: {domain}{node.op_type}({', '.join(node.input)})"
                f" -> ({', '.join(node.output)})")
        if attrs:
            line += " {" + attrs + "}"
        print(line)


if __name__ == "__main__":
    main()
