#!/usr/bin/env python3
"""The parameters of a compiled adapted model, read and written with numpy
alone (the safetensors format's specification, not qaf's code).

  adapter_parameters.py manifest ART
      prints each entry point's weights and parameters from manifest.json
  adapter_parameters.py perturb ART
      replaces every parameter in ART/parameters.safetensors with random
      values, keeping its metadata (the artifact's fingerprint)
  adapter_parameters.py check-lora ART Y_BASE Y_ADAPTED X SCALE
      checks Y_ADAPTED - Y_BASE == SCALE * (X A^T) B^T for the LoRA factors
      A and B in ART/parameters.safetensors
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "I64": np.int64, "U8": np.uint8, "I8": np.int8}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], np.frombuffer(
            data[begin:end], DTYPES[info["dtype"]]).reshape(info["shape"]))
    return header.get("__metadata__"), tensors


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata} if metadata is not None else {}
    data = b""
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def main():
    mode, artifact = sys.argv[1], sys.argv[2]
    parameters = os.path.join(artifact, "parameters.safetensors")
    if mode == "manifest":
        with open(os.path.join(artifact, "manifest.json")) as f:
            manifest = json.load(f)
        for entry in manifest["entry_points"]:
            for role in ("weights", "parameters"):
                names = " ".join(t["name"] for t in entry[role])
                print(f"{entry['name']} {role}: {names}")
        return 0
    metadata, tensors = read_safetensors(parameters)
    if mode == "perturb":
        rng = np.random.default_rng(11)
        write_safetensors(parameters, {
            name: (dtype, rng.standard_normal(array.shape).astype(array.dtype))
            for name, (dtype, array) in tensors.items()}, metadata)
        return 0
    base, adapted, x = (np.load(p).astype(np.float64) for p in sys.argv[3:6])
    scale = float(sys.argv[6])
    a = next(v for k, (_, v) in tensors.items() if k.endswith("lora_A"))
    b = next(v for k, (_, v) in tensors.items() if k.endswith("lora_B"))
    expected = scale * (x @ a.T.astype(np.float64)) @ b.T.astype(np.float64)
    diff = float(np.max(np.abs((adapted - base) - expected)))
    if not np.any(b) or diff > 1e-3:
        print(f"adapter contribution off by {diff} (B all zero: {not np.any(b)})")
        return 1
    print("the adapter's contribution matches numpy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
