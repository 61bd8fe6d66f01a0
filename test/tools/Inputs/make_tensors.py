#!/usr/bin/env python3
"""Tensor files for the qaf-run tests, written with numpy and onnx alone.

The safetensors writer here follows the format's specification directly,
independently of qaf's writer, so the tests also check that qaf reads files
that qaf did not write.

  make_tensors.py weights OUT [--fingerprint F] [--dtype F32|F16]
                              [--corrupt truncated|offsets|header-length]
  make_tensors.py parameters OUT [--fingerprint F] [--omit NAME]
  make_tensors.py check-parameters FILE STEPS [--fingerprint F]
                              (p and step after STEPS train steps with G)
  make_tensors.py inputs DIR   (x.npy, scale.npy and their variants)
  make_tensors.py check-infer DIR   (checks y.npy and positive.npy in DIR)
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

# The values every test uses: y = (x + w) * scale[:, None].
X = (np.arange(8, dtype=np.float32) - 3).reshape(2, 4)
W = np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32)
SCALE = np.array([1, 2], dtype=np.int64)
# The parameters' initial values, and the train step's input: each step
# does p += g * w and step += 1.
P = np.array([1, 2, 3, 4], dtype=np.float32)
STEP = np.array(0, dtype=np.int64)
G = np.array([2, 1, -1, 3], dtype=np.float32)


def write_safetensors(path, tensors, metadata, corrupt=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if corrupt == "offsets":
        first = next(iter(tensors))
        header[first]["data_offsets"][1] += 64
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    length = len(text)
    if corrupt == "header-length":
        length = 1 << 40
    blob = struct.pack("<Q", length) + text + data
    if corrupt == "truncated":
        blob = blob[:len(blob) - 6]
    with open(path, "wb") as f:
        f.write(blob)


def write_weights(args):
    w = W.astype(np.float16) if args.dtype == "F16" else W
    metadata = None if args.fingerprint == "" else {
        "qaf.fingerprint": args.fingerprint}
    write_safetensors(args.out, {"w": (args.dtype, w)}, metadata,
                      args.corrupt)


def write_parameters(args):
    tensors = {"p": ("F32", P), "step": ("I64", STEP)}
    tensors.pop(args.omit, None)
    write_safetensors(args.out, tensors, {"qaf.fingerprint": args.fingerprint})


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtypes[info["dtype"]]
                                      ).reshape(info["shape"])
    return header.get("__metadata__", {}), tensors


def check_parameters(args):
    metadata, tensors = read_safetensors(args.file)
    assert metadata.get("qaf.fingerprint") == args.fingerprint, metadata
    p, step = P.copy(), STEP.copy()
    for _ in range(args.steps):
        p += G * W
        step += 1
    assert sorted(tensors) == ["p", "step"], sorted(tensors)
    assert np.array_equal(tensors["p"], p), (tensors["p"], p)
    assert tensors["step"].shape == () and int(tensors["step"]) == int(step)
    print(f"parameters after {args.steps} steps match numpy")


def write_inputs(args):
    import onnx
    from onnx import numpy_helper

    d = args.dir
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "x.npy"), X)
    np.save(os.path.join(d, "scale.npy"), SCALE)
    np.save(os.path.join(d, "g.npy"), G)
    np.save(os.path.join(d, "scale3.npy"), np.array([1, 2, 3], np.int64))
    np.save(os.path.join(d, "x-int64.npy"), X.astype(np.int64))
    np.save(os.path.join(d, "x-rank3.npy"), X.reshape(1, 2, 4))
    np.save(os.path.join(d, "x-wide.npy"), np.zeros((2, 5), np.float32))
    np.save(os.path.join(d, "x-fortran.npy"), np.asfortranarray(X))
    np.save(os.path.join(d, "x-bigendian.npy"), X.astype(">f4"))
    np.save(os.path.join(d, "x-object.npy"), np.array([1, "a"], dtype=object),
            allow_pickle=True)
    with open(os.path.join(d, "x-truncated.npy"), "wb") as f:
        f.write(open(os.path.join(d, "x.npy"), "rb").read()[:-3])
    # raw_data for x, the typed int64_data field for scale.
    with open(os.path.join(d, "x.pb"), "wb") as f:
        f.write(numpy_helper.from_array(X, "x").SerializeToString())
    scale = onnx.helper.make_tensor("scale", onnx.TensorProto.INT64, [2],
                                    SCALE.tolist(), raw=False)
    with open(os.path.join(d, "scale.pb"), "wb") as f:
        f.write(scale.SerializeToString())
    strings = onnx.helper.make_tensor("s", onnx.TensorProto.STRING, [1],
                                      [b"a"])
    with open(os.path.join(d, "strings.pb"), "wb") as f:
        f.write(strings.SerializeToString())
    with open(os.path.join(d, "garbage.pb"), "wb") as f:
        f.write(b"\xff\xff\xff\xff not a protobuf")


def check_infer(args):
    y = np.load(os.path.join(args.dir, "y.npy"))
    positive = np.load(os.path.join(args.dir, "positive.npy"))
    expected = (X + W) * SCALE[:, None].astype(np.float32)
    assert y.dtype == np.float32 and y.shape == (2, 4), (y.dtype, y.shape)
    assert np.array_equal(y, expected), (y, expected)
    assert positive.dtype == np.bool_, positive.dtype
    assert np.array_equal(positive, expected > 0), positive
    print("infer outputs match numpy")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    weights = sub.add_parser("weights")
    weights.add_argument("out")
    weights.add_argument("--fingerprint", default="fake-0001")
    weights.add_argument("--dtype", default="F32", choices=["F32", "F16"])
    weights.add_argument("--corrupt",
                         choices=["truncated", "offsets", "header-length"])
    parameters = sub.add_parser("parameters")
    parameters.add_argument("out")
    parameters.add_argument("--fingerprint", default="fake-0001")
    parameters.add_argument("--omit")
    inputs = sub.add_parser("inputs")
    inputs.add_argument("dir")
    check = sub.add_parser("check-infer")
    check.add_argument("dir")
    check_params = sub.add_parser("check-parameters")
    check_params.add_argument("file")
    check_params.add_argument("steps", type=int)
    check_params.add_argument("--fingerprint", default="fake-0001")
    args = parser.parse_args()
    {"weights": write_weights, "parameters": write_parameters,
     "inputs": write_inputs, "check-infer": check_infer,
     "check-parameters": check_parameters}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
