#!/usr/bin/env python3
"""Writes the seed corpus of the ONNX import fuzzer: a few tiny valid models
(made with onnx.helper, checked by onnx.checker) that between them reach the
importer's main paths: typed and raw initializers, sub-byte packing, Constant
nodes, the opset normalisations (Squeeze/Clip/Split attributes, old Softmax),
symbolic dimensions, metadata, the com.microsoft domain and the shape chains
that import folds; then the inputs that once crashed it (malformed, so not
checked). Also writes a libFuzzer dictionary of the names the
importer gives meaning to.

Usage: make_corpus.py CORPUS_DIR [--dict FILE] [--llama-generator SCRIPT]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def value(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def model(nodes, inputs, outputs, initializers=(), opset=17, extra_opsets=(),
          **kwargs):
    graph = helper.make_graph(nodes, "seed", inputs, outputs,
                              initializer=list(initializers))
    opsets = [helper.make_opsetid("", opset)] + [
        helper.make_opsetid(domain, version) for domain, version in extra_opsets]
    result = helper.make_model(graph, opset_imports=opsets,
                               producer_name="make_corpus.py", **kwargs)
    result.ir_version = 10 if opset >= 21 else 8 if opset >= 13 else 6
    return result


def matmul_add():
    w = numpy_helper.from_array(
        np.arange(12, dtype=np.float32).reshape(4, 3), "W")
    b = helper.make_tensor("B", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0])
    m = model([helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
               helper.make_node("Add", ["h", "B"], ["y"], name="add")],
              [value("x", TensorProto.FLOAT, ["batch", 4])],
              [value("y", TensorProto.FLOAT, ["batch", 3])], [w, b])
    helper.set_model_props(m, {"author": "qaf", "purpose": "fuzz seed"})
    return m


def typed_initializers():
    tensors = [
        helper.make_tensor("i64", TensorProto.INT64, [3], [-1, 2**40, 7]),
        helper.make_tensor("i32", TensorProto.INT32, [2], [-5, 9]),
        helper.make_tensor("u8", TensorProto.UINT8, [3], [0, 7, 255]),
        helper.make_tensor("f16", TensorProto.FLOAT16, [2],
                           np.array([1.0, -2.0], dtype=np.float16)),
        helper.make_tensor("flags", TensorProto.BOOL, [3], [True, False, True]),
        helper.make_tensor("d", TensorProto.DOUBLE, [2], [0.25, 4.0]),
        helper.make_tensor("q4", TensorProto.INT4, [5], [1, -2, 7, -8, 3]),
        helper.make_tensor("u4", TensorProto.UINT4, [3], [1, 2, 15]),
    ]
    nodes = [helper.make_node("Identity", [t.name], [t.name + "_out"],
                              name=t.name + "_id") for t in tensors]
    outputs = [value(t.name + "_out", t.data_type, list(t.dims))
               for t in tensors]
    return model(nodes, [], outputs, tensors, opset=21)


def old_opset_forms():
    nodes = [
        helper.make_node("Squeeze", ["x"], ["sq"], name="squeeze", axes=[1]),
        helper.make_node("Clip", ["sq"], ["clipped"], name="clip", min=-1.0,
                         max=1.0),
        helper.make_node("Split", ["clipped"], ["a", "b"], name="split",
                         axis=1, split=[2, 4]),
        helper.make_node("Softmax", ["x3"], ["sm"], name="softmax", axis=1),
        helper.make_node("Unsqueeze", ["a"], ["ua"], name="unsqueeze",
                         axes=[0]),
        helper.make_node("ReduceSum", ["b"], ["rs"], name="reduce", axes=[1],
                         keepdims=1),
    ]
    return model(nodes,
                 [value("x", TensorProto.FLOAT, [3, 1, 6]),
                  value("x3", TensorProto.FLOAT, [2, 3, 4])],
                 [value("ua", TensorProto.FLOAT, [1, 3, 2]),
                  value("rs", TensorProto.FLOAT, [3, 1]),
                  value("sm", TensorProto.FLOAT, [2, 3, 4])], opset=10)


def shape_chain():
    # The Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain exporters
    # write to split attention heads; import folds it when shapes are known.
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="zero",
                         value=helper.make_tensor("v", TensorProto.INT64, [],
                                                  [0])),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="gather",
                         axis=0),
        helper.make_node("Constant", [], ["axes"], name="axes",
                         value_ints=[0]),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"],
                         name="unsqueeze"),
        helper.make_node("Constant", [], ["rest"], name="rest",
                         value_ints=[2, -1]),
        helper.make_node("Concat", ["batch1", "rest"], ["new_shape"],
                         name="concat", axis=0),
        helper.make_node("Reshape", ["x", "new_shape"], ["heads"],
                         name="reshape"),
        helper.make_node("Transpose", ["heads"], ["t"], name="transpose",
                         perm=[0, 2, 1]),
        helper.make_node("Constant", [], ["scale"], name="scale",
                         value_float=0.5),
        helper.make_node("Mul", ["t", "scale"], ["y"], name="mul"),
    ]
    return model(nodes, [value("x", TensorProto.FLOAT, ["batch", 8])],
                 [value("y", TensorProto.FLOAT, ["batch", 4, 2])])


def decoder_block():
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32),
                                "embed"),
        numpy_helper.from_array(np.ones(8, dtype=np.float32), "norm"),
        numpy_helper.from_array(rng.standard_normal((8, 8)).astype(np.float32),
                                "proj"),
    ]
    nodes = [
        helper.make_node("Gather", ["embed", "ids"], ["h"], name="embed"),
        helper.make_node("SimplifiedLayerNormalization", ["h", "norm"], ["n"],
                         name="rms", domain="com.microsoft", axis=-1,
                         epsilon=1e-6),
        helper.make_node("MatMul", ["n", "proj"], ["p"], name="proj"),
        helper.make_node("Sigmoid", ["p"], ["g"], name="sigmoid"),
        helper.make_node("Mul", ["p", "g"], ["s"], name="silu"),
        helper.make_node("Softmax", ["s"], ["probs"], name="softmax", axis=-1),
        helper.make_node("Cast", ["probs"], ["half"], name="cast",
                         to=TensorProto.FLOAT16),
    ]
    return model(nodes, [value("ids", TensorProto.INT64, ["batch", "seq"])],
                 [value("half", TensorProto.FLOAT16, ["batch", "seq", 8])],
                 weights, extra_opsets=[("com.microsoft", 1)])


def blocked_dequantize():
    codes = helper.make_tensor("codes", TensorProto.INT4, [4, 8],
                               list(np.arange(32) % 16 - 8))
    scales = numpy_helper.from_array(np.full((4, 2), 0.1, dtype=np.float32),
                                     "scales")
    nodes = [
        helper.make_node("DequantizeLinear", ["codes", "scales"], ["w"],
                         name="dq", axis=1, block_size=4),
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
    ]
    return model(nodes, [value("x", TensorProto.FLOAT, [2, 4])],
                 [value("y", TensorProto.FLOAT, [2, 8])], [codes, scales],
                 opset=21)


def matmul_nbits():
    # 8 output rows, 16 inputs, blocks of 16, 4 bits: (8, 1, 8) bytes.
    packed = numpy_helper.from_array(
        np.arange(64, dtype=np.uint8).reshape(8, 1, 8), "B_q")
    scales = numpy_helper.from_array(np.full(8, 0.05, dtype=np.float32),
                                     "scales")
    node = helper.make_node("MatMulNBits", ["x", "B_q", "scales"], ["y"],
                            name="mmnb", domain="com.microsoft", K=16, N=8,
                            bits=4, block_size=16)
    return model([node], [value("x", TensorProto.FLOAT, [1, 16])],
                 [value("y", TensorProto.FLOAT, [1, 8])], [packed, scales],
                 extra_opsets=[("com.microsoft", 1)])


def range_non_scalar_delta():
    # Reaches RangeOp::verify's "must be a scalar" error: a [2] delta that
    # is a graph input passes shape inference (the length is just unknown).
    # The verifier once read the operand's name from a dead temporary (ASan:
    # stack-use-after-scope); a regression input, not a valid model.
    nodes = [helper.make_node("Range", ["start", "limit", "delta"], ["y"],
                              name="range")]
    return model(nodes,
                 [value("start", TensorProto.INT64, []),
                  value("limit", TensorProto.INT64, []),
                  value("delta", TensorProto.INT64, [2])],
                 [value("y", TensorProto.INT64, None)])


def reshape_huge_shape_input():
    # A Reshape whose shape is a graph input of static length 2^35: shape
    # inference once allocated one entry per element and aborted.
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"],
                              name="reshape")]
    return model(nodes,
                 [value("x", TensorProto.FLOAT, [2, 3]),
                  value("shape", TensorProto.INT64, [2**35])],
                 [value("y", TensorProto.FLOAT, None)])


SEEDS = {
    "matmul_add": matmul_add,
    "typed_initializers": typed_initializers,
    "old_opset_forms": old_opset_forms,
    "shape_chain": shape_chain,
    "decoder_block": decoder_block,
    "blocked_dequantize": blocked_dequantize,
    "matmul_nbits": matmul_nbits,
}

# Inputs that once crashed the importer, replayed first in every run. They
# are malformed on purpose, so onnx.checker does not see them.
REGRESSIONS = {
    "regression_range_non_scalar_delta": range_non_scalar_delta,
    "regression_reshape_huge_shape_input": reshape_huge_shape_input,
}

# Names the importer and the dialect give meaning to.
DICTIONARY = [
    "ai.onnx", "com.microsoft", "location", "offset", "length", "axis",
    "axes", "split", "num_outputs", "min", "max", "perm", "keepdims", "to",
    "value", "value_float", "value_floats", "value_int", "value_ints",
    "block_size", "epsilon", "Constant", "MatMul", "Add", "Mul", "Softmax",
    "LogSoftmax", "Squeeze", "Unsqueeze", "Split", "Slice", "Clip", "Reshape",
    "Shape", "Gather", "Concat", "Transpose", "Cast", "ReduceSum",
    "ReduceMean", "Flatten", "Expand", "Where", "Range", "ConstantOfShape",
    "Trilu", "DequantizeLinear", "MatMulNBits", "LayerNormalization",
    "SimplifiedLayerNormalization", "RotaryEmbedding", "Identity", "NoValue",
]


def write_llama_seed(script, path):
    """The repository's Llama generator at toy sizes: the operator mix of a
    real decoder. Optional: the corpus is useful without it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "llama.onnx")
        result = subprocess.run(
            [sys.executable, script, "-o", out, "--vocab", "32", "--hidden",
             "16", "--layers", "1", "--heads", "2", "--kv-heads", "1",
             "--intermediate", "32"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            print(f"make_corpus.py: skipping the Llama seed: {result.stderr}",
                  file=sys.stderr)
            return False
        with open(out, "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus_dir")
    parser.add_argument("--dict", help="write a libFuzzer dictionary here")
    parser.add_argument("--llama-generator",
                        help="scripts/gen_llama_onnx.py, for a decoder seed")
    args = parser.parse_args()
    os.makedirs(args.corpus_dir, exist_ok=True)
    for name, make in SEEDS.items():
        seed = make()
        onnx.checker.check_model(seed, full_check=True)
        with open(os.path.join(args.corpus_dir, name + ".onnx"), "wb") as f:
            f.write(seed.SerializeToString())
    for name, make in REGRESSIONS.items():
        with open(os.path.join(args.corpus_dir, name + ".onnx"), "wb") as f:
            f.write(make().SerializeToString())
    count = len(SEEDS) + len(REGRESSIONS)
    if args.llama_generator and write_llama_seed(
            args.llama_generator, os.path.join(args.corpus_dir, "llama.onnx")):
        count += 1
    if args.dict:
        with open(args.dict, "w") as f:
            for word in DICTIONARY:
                f.write(f'"{word}"\n')
    print(f"make_corpus.py: {count} seeds in {args.corpus_dir}")


if __name__ == "__main__":
    main()
