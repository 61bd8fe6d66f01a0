#!/usr/bin/env python3
"""Run-time shape checks of compiled data-movement ops reach the caller.

Squeeze, Split, GatherElements, Concat and ScatterND with every dimension
dynamic: on input shapes ONNX Runtime refuses, `qaf-run infer` must exit 1
with a message naming the node and the sizes involved (never compute, read
past a buffer or crash); on valid shapes, and on the empty Concat inputs that
ONNX Runtime skips, it must give ONNX Runtime's result.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

from runtime_errors import Checks, compile_model, run_artifact


def dynamic(name, rank, element=TensorProto.FLOAT):
    """A graph input or output of `rank` dims, each its own dim name."""
    return helper.make_tensor_value_info(
        name, element, [f"{name}_{i}" for i in range(rank)])


class Case:
    """One single-node model, compiled once, run on several inputs."""

    def __init__(self, args, tmp, checks, node, inputs, outputs, initializers=()):
        self.args, self.tmp, self.checks = args, tmp, checks
        self.node = node.name
        self.model = os.path.join(tmp, f"{node.name}.onnx")
        graph = helper.make_graph([node], "g", inputs, outputs, list(initializers))
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]),
                  self.model)
        self.artifact = os.path.join(tmp, node.name)
        compile_model(args, self.model, self.artifact)
        self.output = outputs[0].name

    def ort(self, feeds):
        """ONNX Runtime's first output, or None when it refuses."""
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.log_severity_level = 4  # its refusals are expected here
        session = ort.InferenceSession(self.model, options,
                                       providers=["CPUExecutionProvider"])
        try:
            return session.run(None, feeds)[0]
        except Exception as e:  # noqa: BLE001 - only ORT's own errors are refusals
            if not type(e).__module__.startswith("onnxruntime"):
                raise
            return None

    def computes(self, name, feeds):
        expected = self.ort(feeds)
        if expected is None:
            self.checks.record(name, False, "ONNX Runtime refuses these inputs")
            return
        result, out = run_artifact(self.args, self.tmp, self.artifact, feeds)
        self.checks.expect_result(name, result, out, self.output, expected)

    def refuses(self, name, feeds, fragments, ort_refuses=True):
        """qaf-run refuses naming the node; ONNX Runtime refuses too unless
        `ort_refuses` is False (it computes an unspecified result)."""
        if ort_refuses and self.ort(feeds) is not None:
            self.checks.record(name, False, "ONNX Runtime computes these inputs")
            return
        result, _ = run_artifact(self.args, self.tmp, self.artifact, feeds)
        self.checks.expect_error(name, result, [f"node '{self.node}'", *fragments])


def ones(*shape):
    return np.ones(shape, np.float32)


def squeeze_cases(args, tmp, checks):
    case = Case(args, tmp, checks,
                helper.make_node("Squeeze", ["x", "axes"], ["y"], name="my_squeeze"),
                [dynamic("x", 4)], [dynamic("y", 3)],
                [helper.make_tensor("axes", TensorProto.INT64, [1], [0])])
    case.computes("squeeze [1,3,5,6] axis 0", {"x": np.arange(90, dtype=np.float32)
                                                      .reshape(1, 3, 5, 6)})
    case.refuses("squeeze [6,3,5,6] axis 0", {"x": ones(6, 3, 5, 6)},
                 ["onnx.Squeeze: cannot squeeze dimension 0 of size 6"])
    case.refuses("squeeze [0,3,5,6] axis 0", {"x": ones(0, 3, 5, 6)},
                 ["cannot squeeze dimension 0 of size 0"])
    # Axes known only at run time.
    case = Case(args, tmp, checks,
                helper.make_node("Squeeze", ["x", "axes"], ["y"], name="my_runtime_squeeze"),
                [dynamic("x", 2), helper.make_tensor_value_info("axes", TensorProto.INT64, [1])],
                [dynamic("y", 1)])
    axis = np.array([-2], np.int64)
    case.computes("squeeze [1,3] run-time axis -2", {"x": np.arange(3, dtype=np.float32)
                                                            .reshape(1, 3), "axes": axis})
    case.refuses("squeeze [2,3] run-time axis -2", {"x": ones(2, 3), "axes": axis},
                 ["cannot squeeze dimension 0 of size 2"])


def split_cases(args, tmp, checks):
    case = Case(args, tmp, checks,
                helper.make_node("Split", ["x", "split"], ["y", "z"], name="my_split",
                                 axis=1),
                [dynamic("x", 2)], [dynamic("y", 2), dynamic("z", 2)],
                [helper.make_tensor("split", TensorProto.INT64, [2], [2, 4])])
    case.computes("split [3,6] into 2+4", {"x": np.arange(18, dtype=np.float32)
                                                  .reshape(3, 6)})
    case.refuses("split [3,7] into 2+4", {"x": ones(3, 7)},
                 ["onnx.Split: the split sizes add up to 6, not to the size 7 of axis 1"])
    case.refuses("split [2,1] into 2+4", {"x": ones(2, 1)},
                 ["the split sizes add up to 6, not to the size 1 of axis 1"])


def gather_elements_cases(args, tmp, checks):
    case = Case(args, tmp, checks,
                helper.make_node("GatherElements", ["data", "indices"], ["out"],
                                 name="my_gather_elements", axis=0),
                [dynamic("data", 2), dynamic("indices", 2, TensorProto.INT64)],
                [dynamic("out", 2)])
    data = np.arange(9, dtype=np.float32).reshape(3, 3)
    # Larger than the data on the axis, smaller off it: valid.
    indices = np.array([[0, 2], [1, -1], [2, 0], [-3, 1], [1, 1]], np.int64)
    case.computes("gather elements indices [5,2] of [3,3]",
                  {"data": data, "indices": indices})
    case.refuses("gather elements indices [2,4] of [3,3]",
                 {"data": data, "indices": np.zeros((2, 4), np.int64)},
                 ["onnx.GatherElements: dimension 1 of the indices (size 4) exceeds "
                  "the data's size 3"])


def concat_cases(args, tmp, checks):
    case = Case(args, tmp, checks,
                helper.make_node("Concat", ["a", "b"], ["c"], name="my_concat", axis=0),
                [dynamic("a", 2), dynamic("b", 2)], [dynamic("c", 2)])
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    case.computes("concat [2,3] [4,3]", {"a": a, "b": -ones(4, 3)})
    # An input empty along the axis is skipped whatever its other sizes,
    # first or not.
    case.computes("concat [2,3] [0,5]", {"a": a, "b": ones(0, 5)})
    case.computes("concat [0,5] [2,3]", {"a": ones(0, 5), "b": a})
    case.computes("concat [0,5] [0,3]", {"a": ones(0, 5), "b": ones(0, 3)})
    case.refuses("concat [2,3] [2,2]", {"a": a, "b": ones(2, 2)},
                 ["onnx.Concat: sizes off the axis must match: dimension 1 of input 1 "
                  "has size 2, not 3"])
    case.refuses("concat [2,2] [2,3]", {"a": ones(2, 2), "b": a},
                 ["dimension 1 of input 1 has size 3, not 2"])
    # Empty but not along the axis: ONNX Runtime skips its sizes yet counts
    # its row, leaving that row of its result uninitialised; qaf refuses.
    case.refuses("concat [2,3] [1,0]", {"a": a, "b": ones(1, 0)},
                 ["dimension 1 of input 1 has size 0, not 3"], ort_refuses=False)


def scatternd_cases(args, tmp, checks):
    case = Case(args, tmp, checks,
                helper.make_node("ScatterND", ["data", "indices", "updates"], ["out"],
                                 name="my_scatternd"),
                # The compiled ScatterND needs the depth of its index tuples.
                [dynamic("data", 3),
                 helper.make_tensor_value_info("indices", TensorProto.INT64, ["n", 1]),
                 dynamic("updates", 3)],
                [dynamic("out", 3)])
    data = np.arange(96, dtype=np.float32).reshape(4, 6, 4)
    indices = np.array([[0], [2]], np.int64)
    case.computes("scatternd updates [2,6,4] into [4,6,4]",
                  {"data": data, "indices": indices, "updates": -ones(2, 6, 4)})
    case.refuses("scatternd updates [2,4,4] into [4,6,4]",
                 {"data": data, "indices": indices, "updates": ones(2, 4, 4)},
                 ["onnx.ScatterND: dimension 1 of the updates has size 4, not 6"])
    case.refuses("scatternd updates [3,6,4] for 2 indices",
                 {"data": data, "indices": indices, "updates": ones(3, 6, 4)},
                 ["dimension 0 of the updates has size 3, not 2"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    checks = Checks(clean_stderr=False)
    # One folder: each model is named after its node, and each run's inputs
    # and outputs are written before it reads them.
    with tempfile.TemporaryDirectory() as tmp:
        for cases in [squeeze_cases, split_cases, gather_elements_cases, concat_cases,
                      scatternd_cases]:
            cases(args, tmp, checks)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
