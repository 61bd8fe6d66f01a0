#!/usr/bin/env python3
"""Dynamic broadcasting and empty tensors in compiled models, against ONNX Runtime.

Element-wise ops, Expand and MatMul's batch dims on dynamic shapes broadcast
a run-time 1 against n in either direction, as ONNX Runtime does, and name the node when two sizes
do not broadcast. Empty tensors (0 rows, an empty reduced or softmax axis,
batch 0 through the tiny decoder) give ONNX Runtime's shapes and values; where
ONNX Runtime refuses (the tiny decoder's `Reshape` to [b, s, -1, d] at batch
or sequence 0, whose -1 nothing determines), qaf refuses at the same node.

Each case compiles a small ONNX model with `qaf-compile`, runs `qaf-run infer`
and compares every output with ONNX Runtime's (same shape, equal values) or
both refusals. Exit status 0 when every check passed; prints
`N passed, F failed`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402
from runtime_errors import Checks, compile_model, run_artifact  # noqa: E402


def save_graph(path, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]),
              path)


def run_ort(model, feeds):
    """ONNX Runtime's outputs by name, or the text of its refusal."""
    import onnxruntime as ort
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    try:
        return dict(zip(names, session.run(None, feeds))), None
    except Exception as error:  # onnxruntime raises its own exception types
        return None, str(error)


def compare(checks, name, model, artifact, tmp, feeds, refused_node=None,
            fragments=()):
    """qaf's outputs equal ONNX Runtime's; or, when `refused_node` is given,
    both refuse and name that node (qaf's message also holds `fragments`)."""
    result, out = run_artifact(checks.args, tmp, artifact, feeds)
    expected, refusal = run_ort(model, feeds)
    if refused_node is not None:
        ort_ok = refusal is not None and refused_node in refusal
        checks.record(f"{name}: ONNX Runtime refuses at {refused_node}", ort_ok,
                      f"ONNX Runtime: {refusal or 'ran'}")
        checks.expect_error(name, result, [f"node '{refused_node}'", *fragments])
        return
    if refusal is not None:
        checks.record(name, False, f"ONNX Runtime refused: {refusal[:500]}")
        return
    if result.returncode != 0:
        checks.record(name, False, f"exit {result.returncode}: {result.stderr[:2000]}")
        return
    for output, want in expected.items():
        got = np.load(os.path.join(out, f"{output}.npy"))
        if got.shape != want.shape:
            same = False
        elif want.dtype.kind == "f":
            same = np.allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)
        else:
            same = np.array_equal(got, want)
        checks.record(f"{name}: {output}", same,
                      f"got {got.shape} {got.ravel()[:8]}, "
                      f"ONNX Runtime {want.shape} {want.ravel()[:8]}")


def broadcast_cases(checks, tmp):
    """Every output of one model whose two inputs have only dynamic dims."""
    model = os.path.join(tmp, "broadcast.onnx")
    ops = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Greater"]
    nodes = [helper.make_node(op, ["a", "b"], [op.lower()], name=f"my_{op.lower()}")
             for op in ops]
    nodes += [
        helper.make_node("Where", ["greater", "a", "b"], ["where"], name="my_where"),
        helper.make_node("Shape", ["b"], ["b_shape"], name="my_shape"),
        helper.make_node("Expand", ["a", "b_shape"], ["expand"], name="my_expand"),
    ]
    outputs = [helper.make_tensor_value_info(
        name, TensorProto.BOOL if name in ("equal", "greater") else TensorProto.FLOAT,
        None) for name in [op.lower() for op in ops] + ["where", "expand"]]
    save_graph(model, nodes,
               [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["a0", "a1"]),
                helper.make_tensor_value_info("b", TensorProto.FLOAT, ["b0", "b1"])],
               outputs)
    artifact = os.path.join(tmp, "broadcast")
    compile_model(checks.args, model, artifact)
    rng = np.random.default_rng(14)

    def values(*shape):
        # Positive, so that Pow and Div stay finite; rounded, so that Equal
        # meets equal elements.
        return np.round(rng.uniform(0.5, 2.0, shape), 1).astype(np.float32)

    for a_shape, b_shape in [((4, 1), (1, 5)), ((1, 5), (4, 1)), ((1, 1), (3, 2)),
                             ((3, 2), (1, 1)), ((3, 1), (3, 5)), ((3, 5), (3, 5)),
                             ((1, 3), (1, 3)), ((0, 1), (1, 5)), ((1, 5), (0, 5))]:
        compare(checks, f"broadcast {a_shape} with {b_shape}", model, artifact, tmp,
                {"a": values(*a_shape), "b": values(*b_shape)})

    # One Add of two dynamic sizes: [3] + [1] is ONNX Runtime's [2, 2, 2]
    # (the example), [2] against [3] is refused; a dynamic size
    # against a static one likewise.
    for name, b_dim in [("add_dynamic", "m"), ("add_static", 5)]:
        model = os.path.join(tmp, f"{name}.onnx")
        save_graph(model, [helper.make_node("Add", ["a", "b"], ["c"], name="my_add")],
                   [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n"]),
                    helper.make_tensor_value_info("b", TensorProto.FLOAT, [b_dim])],
                   [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)])
        artifact = os.path.join(tmp, name)
        compile_model(checks.args, model, artifact)
        size = 3 if b_dim == "m" else b_dim
        ones = np.ones(size, np.float32)
        compare(checks, f"{name} [{size}] + [1]", model, artifact, tmp,
                {"a": ones, "b": np.ones(1, np.float32)} if b_dim == "m" else
                {"a": np.ones(1, np.float32), "b": ones})
        compare(checks, f"{name} [2] + [{size}]", model, artifact, tmp,
                {"a": np.ones(2, np.float32), "b": ones}, refused_node="my_add",
                fragments=["sizes 2 and 3 of dimension 0 do not broadcast"]
                if b_dim == "m" else
                ["dimension 0 of size 2 does not broadcast with the static size 5"])


def matmul_batch_cases(checks, tmp):
    """MatMul's batch dims broadcast a run-time 1 against n as ONNX Runtime's
    do: two dynamic batch dims (either side 1, or equal: the batch_matmul
    path), a dynamic one against a static 4 (and the rank-4 attention shape);
    sizes that do not broadcast are refused at the node."""
    rng = np.random.default_rng(15)

    def values(*shape):
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)

    for name, a_dims, b_dims, cases in [
            ("dynamic", ["p", 3, 5], ["q", 5, 2],
             [((1, 3, 5), (4, 5, 2)), ((4, 3, 5), (1, 5, 2)), ((4, 3, 5), (4, 5, 2)),
              ((1, 3, 5), (1, 5, 2))]),
            ("static", ["p", 3, 5], [4, 5, 2],
             [((1, 3, 5), (4, 5, 2)), ((4, 3, 5), (4, 5, 2))]),
            ("attention", ["b", 2, "s", 5], ["c", 2, 5, "t"],
             [((1, 2, 3, 5), (3, 2, 5, 4)), ((3, 2, 3, 5), (1, 2, 5, 4)),
              ((3, 2, 3, 5), (3, 2, 5, 4))])]:
        model = os.path.join(tmp, f"matmul_{name}.onnx")
        save_graph(model, [helper.make_node("MatMul", ["a", "b"], ["c"], name="my_mm")],
                   [helper.make_tensor_value_info("a", TensorProto.FLOAT, a_dims),
                    helper.make_tensor_value_info("b", TensorProto.FLOAT, b_dims)],
                   [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)])
        artifact = os.path.join(tmp, f"matmul_{name}")
        compile_model(checks.args, model, artifact)
        for a_shape, b_shape in cases:
            compare(checks, f"matmul_{name} {a_shape} x {b_shape}", model, artifact, tmp,
                    {"a": values(*a_shape), "b": values(*b_shape)})
        if name == "dynamic":
            compare(checks, "matmul_dynamic (2, 3, 5) x (3, 5, 2)", model, artifact, tmp,
                    {"a": values(2, 3, 5), "b": values(3, 5, 2)}, refused_node="my_mm",
                    fragments=["sizes 2 and 3 of dimension 0 do not broadcast"])
        elif name == "static":
            compare(checks, "matmul_static (2, 3, 5) x (4, 5, 2)", model, artifact, tmp,
                    {"a": values(2, 3, 5), "b": values(4, 5, 2)}, refused_node="my_mm",
                    fragments=["dimension 0 of size 2 does not broadcast with the "
                               "static size 4"])


def empty_op_cases(checks, tmp):
    """0 rows through MatMul, Softmax and the reductions; an empty softmax and
    reduced axis."""
    model = os.path.join(tmp, "empty.onnx")
    weight = numpy_helper.from_array(
        np.arange(32, dtype=np.float32).reshape(8, 4) / 8, "w")
    rows = numpy_helper.from_array(np.array([0], np.int64), "rows")
    # Axis 1, not -1: ONNX Runtime 1.30 reduces an empty tensor over a
    # negative axis to the input's shape (and warns that it disagrees with
    # its own shape inference).
    last = numpy_helper.from_array(np.array([1], np.int64), "last")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["matmul"]),
        helper.make_node("Softmax", ["x"], ["softmax"], axis=-1),
        helper.make_node("ReduceMean", ["x", "rows"], ["mean_rows"], keepdims=0),
        helper.make_node("ReduceSum", ["x", "rows"], ["sum_rows"], keepdims=0),
        helper.make_node("Softmax", ["z"], ["softmax_empty"], axis=-1),
        helper.make_node("ReduceMean", ["z", "last"], ["mean_empty"], keepdims=0),
        helper.make_node("ReduceMax", ["z", "last"], ["max_empty"], keepdims=0),
    ]
    outputs = [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, None)
               for node in nodes]
    save_graph(model, nodes,
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8]),
                helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, "m"])],
               outputs, [weight, rows, last])
    artifact = os.path.join(tmp, "empty")
    compile_model(checks.args, model, artifact)
    rng = np.random.default_rng(0)
    for n, m in [(0, 0), (0, 3), (2, 0), (2, 3)]:
        compare(checks, f"empty ops n={n} m={m}", model, artifact, tmp,
                {"x": rng.standard_normal((n, 8)).astype(np.float32),
                 "z": rng.standard_normal((2, m)).astype(np.float32)})


def explicit_head_counts(model_path, out_path):
    """The tiny decoder with its Reshape -1 entries written out (kv heads for
    [b, s, -1, d], the hidden size for [b, s, -1]), which ONNX Runtime runs
    at batch 0."""
    config = gen.LlamaConfig(**gen.PRESETS["tiny"])
    model = onnx.load(model_path)
    producers = {output: node for node in model.graph.node for output in node.output}
    for node in model.graph.node:
        concat = producers.get(node.input[1]) if node.op_type == "Reshape" else None
        if concat is None or concat.op_type != "Concat":
            continue
        for entry in concat.input:
            constant = producers.get(entry)
            if constant is None or constant.op_type != "Constant":
                continue
            if numpy_helper.to_array(constant.attribute[0].t).tolist() == [-1]:
                size = config.kv_heads if len(concat.input) == 4 else config.hidden
                constant.attribute[0].t.CopyFrom(
                    numpy_helper.from_array(np.array([size], np.int64)))
    onnx.save(model, out_path)


def decoder_cases(checks, tmp):
    model = os.path.join(tmp, "tiny.onnx")
    gen.save(gen.LlamaConfig(**gen.PRESETS["tiny"]), model)
    artifact = os.path.join(tmp, "tiny")
    compile_model(checks.args, model, artifact)
    vocabulary = gen.PRESETS["tiny"]["vocab"]
    rng = np.random.default_rng(1)

    def feeds(batch, sequence):
        ids = rng.integers(0, vocabulary, (batch, sequence), dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}

    compare(checks, "tiny decoder (2, 3)", model, artifact, tmp, feeds(2, 3))
    # [b, s, -1, d] of nothing: -1 is undetermined, for both.
    for batch, sequence in [(0, 3), (1, 0)]:
        compare(checks, f"tiny decoder ({batch}, {sequence})", model, artifact, tmp,
                feeds(batch, sequence),
                refused_node="/model/layers.0/self_attn/Reshape_1",
                fragments=["cannot infer the -1 of the requested shape"])

    explicit = os.path.join(tmp, "tiny_explicit.onnx")
    explicit_head_counts(model, explicit)
    artifact = os.path.join(tmp, "tiny_explicit")
    compile_model(checks.args, explicit, artifact)
    for batch, sequence in [(0, 3), (0, 1), (2, 3)]:
        compare(checks, f"explicit-heads decoder ({batch}, {sequence})", explicit,
                artifact, tmp, feeds(batch, sequence))
    # Sequence 0: repeat_kv's Reshape to [b, h, s, d] reads s = 0 as "copy
    # the input's dim" (ONNX's rule without allowzero), which no longer fits.
    compare(checks, "explicit-heads decoder (1, 0)", explicit, artifact, tmp,
            feeds(1, 0), refused_node="/model/layers.0/self_attn/Reshape_3",
            fragments=["the requested shape holds 128 elements, the input 0"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    checks = Checks(clean_stderr=False)
    checks.args = args
    with tempfile.TemporaryDirectory() as tmp:
        for case in [broadcast_cases, matmul_batch_cases, empty_op_cases, decoder_cases]:
            folder = os.path.join(tmp, case.__name__)
            os.makedirs(folder)
            case(checks, folder)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
