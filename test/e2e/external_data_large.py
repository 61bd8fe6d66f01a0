#!/usr/bin/env python3
"""External data past 2 GiB: offsets beyond 2^31 and 2^32.

A small graph, Y = (X · W1) · W2 + B, keeps its three weights in one
external-data file that is sparse: the file is truncated to a little over
4 GiB and only the weights' bytes are written, W1 just past 2^31 (a signed
32-bit offset overflows there), W2 just past 2^32 (an unsigned 32-bit one
wraps there), B near the start. Neither offset is page-aligned. The model is

  * imported and exported again (`qaf-translate --import-onnx`, then
    `--export-onnx`): the exported initializers must equal the weights bit
    for bit;
  * compiled and run (`qaf-compile`, `qaf-run`): Y must match numpy's
    float64 product of the same weights.

A file cut short of W2's end must be refused with a diagnostic naming the
tensor, not read out of bounds.

The sparse file takes about 12 KiB of disk; a filesystem without sparse
files would need 4 GiB, so the test is skipped there (exit 77) rather than
filling the disk. Everything lives in a temporary folder removed at the end.
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
import e2e_support as support  # noqa: E402

DATA_FILE = "weights.bin"
W1_OFFSET = (1 << 31) + 4
W2_OFFSET = (1 << 32) + 4096 + 12
B_OFFSET = 100
FILE_SIZE = (1 << 32) + (1 << 20)
# Allocated bytes above which the filesystem is taken not to keep holes.
SPARSE_LIMIT = 64 << 20


def external(name, array, offset):
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
    tensor.dims.extend(array.shape)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", DATA_FILE), ("offset", str(offset)),
                       ("length", str(array.nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def write_model(folder, weights, file_size):
    """Writes model.onnx and its sparse external-data file into `folder`."""
    path = os.path.join(folder, DATA_FILE)
    with open(path, "wb") as f:
        f.truncate(file_size)
        for name, offset in (("W1", W1_OFFSET), ("W2", W2_OFFSET),
                             ("B", B_OFFSET)):
            if offset + weights[name].nbytes <= file_size:
                f.seek(offset)
                f.write(weights[name].tobytes())
    nodes = [helper.make_node("MatMul", ["X", "W1"], ["H"]),
             helper.make_node("MatMul", ["H", "W2"], ["P"]),
             helper.make_node("Add", ["P", "B"], ["Y"])]
    graph = helper.make_graph(
        nodes, "large_external_data",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["n", 4])],
        initializer=[external("W1", weights["W1"], W1_OFFSET),
                     external("W2", weights["W2"], W2_OFFSET),
                     external("B", weights["B"], B_OFFSET)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model_path = os.path.join(folder, "model.onnx")
    onnx.save_model(model, model_path)
    return model_path, path


def check_export(args, folder, model_path, weights):
    imported = os.path.join(folder, "imported.mlirbc")
    exported = os.path.join(folder, "exported.onnx")
    support.run([args.qaf_translate, "--import-onnx", model_path, "-o",
                 imported], timeout=300)
    support.run([args.qaf_translate, "--export-onnx", imported, "-o",
                 exported], timeout=300)
    got = {t.name: numpy_helper.to_array(t, base_dir=folder)
           for t in onnx.load(exported).graph.initializer}
    failures = 0
    for name, want in weights.items():
        ok = (name in got and got[name].dtype == want.dtype and
              got[name].shape == want.shape and
              got[name].tobytes() == want.tobytes())
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} export: initializer {name} "
              f"{'equals' if ok else 'differs from'} the bytes at offset "
              f"{dict(W1=W1_OFFSET, W2=W2_OFFSET, B=B_OFFSET)[name]}")
    return failures


def check_compiled(args, folder, model_path, weights):
    artifact = os.path.join(folder, "artifact")
    support.compile_model(args.qaf_compile, model_path, artifact)
    x = np.random.default_rng(7).standard_normal((3, 8)).astype(np.float32)
    outputs, _, _ = support.run_artifact(args.qaf_run, artifact, {"X": x},
                                         os.path.join(folder, "run"))
    expected = (x.astype(np.float64) @ weights["W1"].astype(np.float64)
                @ weights["W2"].astype(np.float64)) + weights["B"]
    y = outputs.get("Y")
    if y is None or y.shape != expected.shape:
        print(f"FAIL compiled: output Y has shape "
              f"{None if y is None else y.shape}, expected {expected.shape}")
        return 1
    diff = support.max_abs_diff(y, expected)
    # Two float32 dot products of length 8 and 16 over values of order 1.
    tolerance = 1e-5 * max(1.0, float(np.max(np.abs(expected))))
    ok = diff <= tolerance
    print(f"{'ok  ' if ok else 'FAIL'} compiled: max |Y - numpy| = {diff:.3g} "
          f"(tolerance {tolerance:.3g})")
    return 0 if ok else 1


def check_truncated(args, folder, weights):
    """W2 lies past the end of a file cut at 2^32."""
    model_path, _ = write_model(folder, weights, file_size=1 << 32)
    try:
        support.run([args.qaf_translate, "--import-onnx", model_path, "-o",
                     os.path.join(folder, "imported.mlirbc")], timeout=300)
    except support.ToolError as error:
        ok = "'W2'" in str(error) and "beyond the end" in str(error)
        print(f"{'ok  ' if ok else 'FAIL'} truncated file: import refused"
              f"{'' if ok else ' without naming W2: ' + str(error)[-500:]}")
        return 0 if ok else 1
    print("FAIL truncated file: W2 past the end of the file was imported")
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-translate", "qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    weights = {"W1": rng.standard_normal((8, 16)).astype(np.float32),
               "W2": rng.standard_normal((16, 4)).astype(np.float32),
               "B": rng.standard_normal(4).astype(np.float32)}
    with tempfile.TemporaryDirectory(prefix="qaf-large-external-") as tmp:
        model_path, data_path = write_model(tmp, weights, FILE_SIZE)
        stat = os.stat(data_path)
        allocated = stat.st_blocks * 512
        if allocated > SPARSE_LIMIT:
            print(f"SKIPPED: the filesystem of {tmp} does not keep sparse "
                  f"files ({allocated} bytes allocated for a file with "
                  f"12 KiB of data); the test would need "
                  f"{FILE_SIZE >> 30} GiB of disk")
            return support.SKIP_CODE
        print(f"external data file: {stat.st_size} bytes, {allocated} "
              f"allocated")
        failures = check_export(args, tmp, model_path, weights)
        failures += check_compiled(args, tmp, model_path, weights)
        truncated = os.path.join(tmp, "truncated")
        os.makedirs(truncated)
        failures += check_truncated(args, truncated, weights)
    print(f"{5 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
