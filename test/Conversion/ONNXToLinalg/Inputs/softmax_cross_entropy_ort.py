#!/usr/bin/env python3
"""SoftmaxCrossEntropyLoss lowered by qaf-convert-onnx-to-linalg and run
with mlir-runner (run_numeric.py's Runner) against ONNX Runtime, which runs
the op in float and double: every reduction, ignore_index (-100 as Hugging
Face uses, and a class id), class weights, extra dims (N, C, d1, d2), the
log_prob output, int32 labels, and the (B, V, T) layout of a causal LM.
Then the ONNX node tests of the op (test_sce_*, not the expanded ones)
against their reference outputs.

Usage: softmax_cross_entropy_ort.py --opt QAF_OPT
Prints one line per case and, last, "P passed, F failed".
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as T, helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import run_numeric  # noqa: E402


def model(path, scores_shape, labels_shape, dtype, label_type, attrs,
          weights, log_prob):
    inputs = [helper.make_tensor_value_info("scores", dtype, scores_shape),
              helper.make_tensor_value_info("labels", label_type,
                                            labels_shape)]
    names = ["scores", "labels"]
    if weights:
        inputs.append(helper.make_tensor_value_info("weights", dtype,
                                                    [scores_shape[1]]))
        names.append("weights")
    outputs = ["loss"] + (["log_prob"] if log_prob else [])
    node = helper.make_node("SoftmaxCrossEntropyLoss", names, outputs,
                            **attrs)
    graph = helper.make_graph(
        [node], "sce", inputs,
        [helper.make_tensor_value_info(o, dtype, None) for o in outputs])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)


def cases(rng):
    """name -> (scores shape, dtype, label dtype, attrs, weights, log_prob,
    ignored fraction)."""
    out = {}
    for reduction in ["none", "sum", "mean"]:
        out[f"{reduction}_2d"] = ((5, 7), T.DOUBLE, T.INT64,
                                  {"reduction": reduction}, False, False, 0)
        out[f"{reduction}_ignore_hf"] = (
            (3, 6, 4), T.DOUBLE, T.INT64,
            {"reduction": reduction, "ignore_index": -100}, False, False,
            0.3)
        out[f"{reduction}_weights_ignore"] = (
            (4, 5, 2, 3), T.FLOAT, T.INT64,
            {"reduction": reduction, "ignore_index": -100}, True, True, 0.25)
    out["mean_ignore_class_id_int32"] = ((6, 4), T.FLOAT, T.INT32,
                                         {"ignore_index": 2}, True, False, 0)
    out["mean_log_prob_default"] = ((4, 9, 3), T.DOUBLE, T.INT64, {}, False,
                                    True, 0)
    # Every label ignored: 0 / 0, NaN, as ONNX Runtime.
    out["mean_all_ignored"] = ((2, 3), T.DOUBLE, T.INT64,
                               {"ignore_index": -100}, False, False, 1.0)
    # A causal LM's (B, V, T - 1) scores, large logits.
    out["causal_lm_layout"] = ((2, 50, 7), T.FLOAT, T.INT64,
                               {"ignore_index": -100}, False, False, 0.2)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--opt", required=True, help="qaf-opt of the build")
    args = parser.parse_args()
    build = os.path.dirname(os.path.dirname(os.path.realpath(args.opt)))
    rng = np.random.default_rng(7)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-sce-") as workdir:
        runner = run_numeric.Runner(build, workdir)
        for name, (shape, dtype, label_type, attrs, weights, log_prob,
                   ignored) in cases(rng).items():
            np_type = np.float64 if dtype == T.DOUBLE else np.float32
            labels_shape = (shape[0],) + shape[2:]
            scale = 8.0 if name == "causal_lm_layout" else 2.0
            scores = (rng.standard_normal(shape) * scale).astype(np_type)
            labels = rng.integers(0, shape[1], labels_shape)
            mask = rng.random(labels_shape) < ignored
            labels[mask] = attrs.get("ignore_index", 0)
            labels = labels.astype(np.int32 if label_type == T.INT32
                                   else np.int64)
            inputs = [scores, labels]
            if weights:
                inputs.append(rng.uniform(0.5, 2.0, shape[1]).astype(np_type))
            path = os.path.join(workdir, name + ".onnx")
            model(path, list(shape), list(labels_shape), dtype, label_type,
                  attrs, weights, log_prob)
            try:
                status, detail = run_numeric.run_model(runner, path,
                                                       inputs=inputs)
            except Exception as error:  # one case's failure, not the run's
                status, detail = "failed", str(error)
            print(f"{name}: {status} {detail}".rstrip(), flush=True)
            passed += status == "passed"
            failed += status != "passed"
        # A label outside [0, C) that is not ignore_index stops the run (the
        # lowering's check becomes an assertion here; ONNX Runtime fails
        # too); the same model with labels in range runs (the cases above).
        path = os.path.join(workdir, "label_out_of_range.onnx")
        model(path, [2, 3], [2], T.DOUBLE, T.INT64, {"ignore_index": -100},
              False, False)
        imported, _ = runner.imported_ops(path)
        try:
            runner.execute(imported, [rng.standard_normal((2, 3)),
                                      np.array([1, 3], np.int64)],
                           [np.float64])
            status = "failed: the run did not stop"
        except RuntimeError as error:
            status = "passed" if str(error).startswith("run failed") else \
                f"failed: {str(error)[-300:]}"
        print(f"label_out_of_range: {status}", flush=True)
        passed += status == "passed"
        failed += status != "passed"
        allowed = set(run_numeric.MY_OPS) | {"SoftmaxCrossEntropyLoss"}
        for name in sorted(os.listdir(run_numeric.NODE_TESTS)):
            if not name.startswith("test_sce_") or "expanded" in name:
                continue
            try:
                status, detail = run_numeric.run_node_test(
                    runner, os.path.join(run_numeric.NODE_TESTS, name),
                    allowed)
            except Exception as error:
                status, detail = "failed", str(error)
            print(f"{name}: {status}", flush=True)
            passed += status == "passed"
            failed += status != "passed"
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
