#!/usr/bin/env python3
"""Run-time errors of compiled models reach the caller as a message.

Each case compiles a small ONNX model (or the tiny generated decoder, or
Inputs/nested_checks.mlir: checks inside loops and branches) with
`qaf-compile`, runs `qaf-run infer` on inputs the model cannot run on, and
asserts exit status 1 with a message naming the ONNX node and the values
involved (never an abort, a stack dump or a silent result), a failed allocation
(sequence 65536 under a 4 GiB address-space limit) included; the valid inputs
beside them must give ONNX Runtime's result. With `--expect-clean-stderr`
(the AddressSanitizer build) nothing but qaf-run's message may appear on
stderr.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402


def save_model(path, nodes, inputs, outputs):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              path)


def compile_model(args, model, artifact):
    result = subprocess.run([args.qaf_compile, model, "-o", artifact],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"qaf-compile {model} failed:\n{result.stderr[:2000]}")


def run_artifact(args, tmp, artifact, inputs, extra=(), memory_limit=None):
    command = [args.qaf_run, "infer", artifact, *extra]
    for name, value in inputs.items():
        path = os.path.join(tmp, f"{name}.npy")
        np.save(path, value)
        command += ["--input", f"{name}={path}"]
    out = os.path.join(tmp, "out")
    command += ["--output-dir", out]
    def limit_memory():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            preexec_fn=limit_memory if memory_limit else None)
    return result, out


def ort_outputs(model, inputs):
    import onnxruntime as ort
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


class Checks:
    def __init__(self, clean_stderr):
        self.passed = 0
        self.failed = 0
        self.clean_stderr = clean_stderr

    def record(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def expect_error(self, name, result, fragments):
        stderr = result.stderr.strip()
        ok = result.returncode == 1 and all(f in stderr for f in fragments)
        if ok and self.clean_stderr:
            # Only qaf-run's own line: no sanitizer report, no stack dump.
            ok = len(stderr.splitlines()) == 1 and stderr.startswith("qaf-run: ")
        self.record(name, ok,
                    f"exit {result.returncode}, stderr:\n{stderr[:3000]}\n"
                    f"expected exit 1 and {fragments}")

    def expect_result(self, name, result, out, output_name, expected):
        if result.returncode != 0:
            self.record(name, False, f"exit {result.returncode}: {result.stderr[:2000]}")
            return
        got = np.load(os.path.join(out, f"{output_name}.npy"))
        ok = got.shape == expected.shape and np.allclose(got, expected, atol=1e-4)
        self.record(name, ok, f"got {got.shape} {got.ravel()[:8]}, "
                              f"ONNX Runtime {expected.shape} {expected.ravel()[:8]}")


def gather_cases(args, tmp, checks):
    model = os.path.join(tmp, "gather.onnx")
    save_model(model,
               [helper.make_node("Gather", ["data", "indices"], ["out"],
                                 name="my_gather", axis=0)],
               [helper.make_tensor_value_info("data", TensorProto.FLOAT, [4, 3]),
                helper.make_tensor_value_info("indices", TensorProto.INT64, ["n"])],
               [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", 3])])
    artifact = os.path.join(tmp, "gather")
    compile_model(args, model, artifact)
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    valid = np.array([0, 3, -4, -1], dtype=np.int64)
    result, out = run_artifact(args, tmp, artifact, {"data": data, "indices": valid})
    checks.expect_result("gather negative indices", result, out, "out",
                         ort_outputs(model, {"data": data, "indices": valid})[0])
    for bad, shown in [([0, 4, 3], "index 4"), ([0, -5], "index -5"),
                       ([10**12], "index 1000000000000"),
                       ([-10**12], "index -1000000000000")]:
        result, _ = run_artifact(args, tmp, artifact, {
            "data": data, "indices": np.array(bad, dtype=np.int64)})
        checks.expect_error(f"gather indices {bad}", result,
                            ["node 'my_gather'", "indices element out of data bounds",
                             shown, "of size 4"])


def shape_cases(args, tmp, checks):
    add = os.path.join(tmp, "add.onnx")
    save_model(add, [helper.make_node("Add", ["a", "b"], ["c"], name="my_add")],
               [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["x"]),
                helper.make_tensor_value_info("b", TensorProto.FLOAT, ["y"])],
               [helper.make_tensor_value_info("c", TensorProto.FLOAT, [None])])
    artifact = os.path.join(tmp, "add")
    compile_model(args, add, artifact)
    result, _ = run_artifact(args, tmp, artifact, {
        "a": np.ones(3, np.float32), "b": np.ones(2, np.float32)})
    checks.expect_error("add [3]+[2]", result,
                        ["node 'my_add'", "sizes 3 and 2", "do not broadcast"])

    matmul = os.path.join(tmp, "matmul.onnx")
    save_model(matmul, [helper.make_node("MatMul", ["a", "b"], ["c"], name="my_mm")],
               [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["m", "k"]),
                helper.make_tensor_value_info("b", TensorProto.FLOAT, ["k2", "n"])],
               [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["m", "n"])])
    artifact = os.path.join(tmp, "matmul")
    compile_model(args, matmul, artifact)
    result, _ = run_artifact(args, tmp, artifact, {
        "a": np.ones((2, 3), np.float32), "b": np.ones((4, 2), np.float32)})
    checks.expect_error("matmul K 3 vs 4", result,
                        ["node 'my_mm'", "inner dimensions differ", "(3 and 4)"])

    reshape = os.path.join(tmp, "reshape.onnx")
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [4, 2])
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="my_reshape")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])], [shape])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              reshape)
    artifact = os.path.join(tmp, "reshape")
    compile_model(args, reshape, artifact)
    result, _ = run_artifact(args, tmp, artifact, {"x": np.ones(7, np.float32)})
    checks.expect_error("reshape 7 -> [4,2]", result,
                        ["node 'my_reshape'", "holds 8 elements, the input 7"])
    result, _ = run_artifact(args, tmp, artifact, {"x": np.ones(8, np.float32)},
                             ["--threads", "100000"])
    checks.expect_error("--threads 100000", result, ["thread count 100000"])


def scatter_nd_cases(args, tmp, checks):
    model = os.path.join(tmp, "scatter_nd.onnx")
    save_model(model,
               [helper.make_node("ScatterND", ["data", "indices", "updates"], ["out"],
                                 name="my_scatter", reduction="add")],
               [helper.make_tensor_value_info("data", TensorProto.FLOAT, [4, 3]),
                helper.make_tensor_value_info("indices", TensorProto.INT64, ["n", 1]),
                helper.make_tensor_value_info("updates", TensorProto.FLOAT, ["n", 3])],
               [helper.make_tensor_value_info("out", TensorProto.FLOAT, [4, 3])])
    artifact = os.path.join(tmp, "scatter_nd")
    compile_model(args, model, artifact)
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    valid = np.array([[0], [3], [-1]], dtype=np.int64)
    updates = np.ones((3, 3), dtype=np.float32)
    feeds = {"data": data, "indices": valid, "updates": updates}
    result, out = run_artifact(args, tmp, artifact, feeds)
    checks.expect_result("scatter_nd negative indices", result, out, "out",
                         ort_outputs(model, feeds)[0])
    for bad, shown in [([[0], [4]], "index 4"), ([[-5], [1]], "index -5"),
                       ([[10**12], [0]], "index 1000000000000")]:
        indices = np.array(bad, dtype=np.int64)
        result, _ = run_artifact(args, tmp, artifact, {
            "data": data, "indices": indices,
            "updates": np.ones((len(bad), 3), dtype=np.float32)})
        checks.expect_error(f"scatter_nd indices {bad}", result,
                            ["node 'my_scatter'", "indices element out of data bounds",
                             shown, "on axis 0 of size 4"])


def gather_nd_cases(args, tmp, checks):
    # batch_dims 1: each of the 2 batches picks rows of its own [4, 3] slice;
    # the tuple component indexes axis 1 of the data.
    model = os.path.join(tmp, "gather_nd.onnx")
    save_model(model,
               [helper.make_node("GatherND", ["data", "indices"], ["out"],
                                 name="my_gather_nd", batch_dims=1)],
               [helper.make_tensor_value_info("data", TensorProto.FLOAT, [2, 4, 3]),
                helper.make_tensor_value_info("indices", TensorProto.INT64, [2, "n", 1])],
               [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, "n", 3])])
    artifact = os.path.join(tmp, "gather_nd")
    compile_model(args, model, artifact)
    data = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    valid = np.array([[[0], [3], [-1]], [[-4], [2], [1]]], dtype=np.int64)
    feeds = {"data": data, "indices": valid}
    result, out = run_artifact(args, tmp, artifact, feeds)
    checks.expect_result("gather_nd negative indices", result, out, "out",
                         ort_outputs(model, feeds)[0])
    for bad, shown in [([[[0]], [[4]]], "index 4"), ([[[-5]], [[1]]], "index -5"),
                       ([[[10**12]], [[0]]], "index 1000000000000")]:
        result, _ = run_artifact(args, tmp, artifact, {
            "data": data, "indices": np.array(bad, dtype=np.int64)})
        checks.expect_error(f"gather_nd indices {bad}", result,
                            ["node 'my_gather_nd'", "onnx.GatherND",
                             "indices element out of data bounds", shown,
                             "on axis 1 of size 4"])


def nested_cases(args, tmp, checks):
    # Checks inside an scf.for, an scf.if and a parallel (OpenMP) loop body,
    # written at the tensor phase (Inputs/nested_checks.mlir). An index of
    # 10^12 read or written after its check failed would fault.
    source = os.path.join(HERE, "Inputs", "nested_checks.mlir")
    artifact = os.path.join(tmp, "nested")
    result = subprocess.run([args.qaf_compile, source, "--entry", "loop", "-o", artifact],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"qaf-compile {source} failed:\n{result.stderr[:2000]}")
    valid = np.array([0, 3, 3, 7], dtype=np.int64)
    expected = {"loop": ("counts", np.bincount(valid, minlength=8).astype(np.float32)),
                "branch": ("marked", np.eye(8, dtype=np.float32)[0]),
                "parallel": ("gathered", (10 + valid).astype(np.float32))}
    for entry, (output, value) in expected.items():
        result, out = run_artifact(args, tmp, artifact, {"indices": valid},
                                   ["--entry", entry])
        checks.expect_result(f"{entry}: valid indices", result, out, output, value)
    for entry, bad, fragments in [
            ("loop", [1, 10**12, -10**12, 2],
             ["loop: index 1000000000000 out of range in iteration 1"]),
            ("loop", [8], ["loop: index 8 out of range in iteration 0"]),
            ("branch", [10**12, 1], ["branch: index 1000000000000 out of range"]),
            ("parallel", [2] * 999 + [10**12] * 1000 + [3],
             ["parallel: index 1000000000000 out of range"]),
    ]:
        for threads in ("1", "4"):
            result, _ = run_artifact(args, tmp, artifact,
                                     {"indices": np.array(bad, dtype=np.int64)},
                                     ["--entry", entry, "--threads", threads])
            checks.expect_error(f"{entry} with {bad[:4]}... on {threads} threads",
                                result, fragments)


def decoder_cases(args, tmp, checks):
    model = os.path.join(tmp, "tiny.onnx")
    gen.save(gen.LlamaConfig(**gen.PRESETS["tiny"]), model)
    artifact = os.path.join(tmp, "tiny")
    compile_model(args, model, artifact)
    vocabulary = gen.PRESETS["tiny"]["vocab"]
    mask = np.ones((1, 3), dtype=np.int64)
    valid = np.array([[1, vocabulary - 1, 3]], dtype=np.int64)
    result, out = run_artifact(args, tmp, artifact,
                               {"input_ids": valid, "attention_mask": mask})
    checks.expect_result("decoder valid ids", result, out, "logits",
                         ort_outputs(model, {"input_ids": valid,
                                             "attention_mask": mask})[0])
    for bad in [vocabulary, -300, 10**12, -10**12]:
        ids = np.array([[1, bad, 3]], dtype=np.int64)
        result, _ = run_artifact(args, tmp, artifact,
                                 {"input_ids": ids, "attention_mask": mask})
        checks.expect_error(f"decoder id {bad}", result,
                            ["node '/model/embed_tokens/Gather'",
                             "indices element out of data bounds", f"index {bad}",
                             f"of size {vocabulary}"])
    if not checks.clean_stderr:
        # Sequence 65536 under a 4 GiB address-space limit: the [s, s] mask
        # (16 GiB) cannot be allocated. (Not under ASan, which reserves far
        # more address space than that.)
        ids = np.ones((1, 65536), dtype=np.int64)
        result, _ = run_artifact(args, tmp, artifact,
                                 {"input_ids": ids, "attention_mask": ids},
                                 ["--threads", "1"], memory_limit=4 << 30)
        checks.expect_error("decoder sequence 65536 under ulimit -v", result,
                            ["out of memory", "cannot allocate a buffer of "
                             "17179869184 bytes", "node '"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--decoder-only", action="store_true",
                        help="only the tiny decoder's out-of-range ids")
    parser.add_argument("--expect-clean-stderr", action="store_true",
                        help="fail on anything but qaf-run's message on stderr")
    args = parser.parse_args()
    checks = Checks(args.expect_clean_stderr)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [decoder_cases] if args.decoder_only else [
            gather_cases, scatter_nd_cases, gather_nd_cases, nested_cases, shape_cases, decoder_cases]
        for case in cases:
            folder = os.path.join(tmp, case.__name__)
            os.makedirs(folder)
            case(args, folder, checks)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
