"""Helpers shared by the training tests of test/e2e: reading and patching
safetensors files (an artifact's parameters.safetensors, qaf-run train's
checkpoints), the token files qaf-run train reads, and the causal-LM loss
in numpy float64 (the oracle the tests compare qaf's loss with).
"""
import json
import os
import struct

import numpy as np

SAFETENSORS_DTYPES = {"F32": np.float32, "F64": np.float64, "I8": np.int8,
                      "U8": np.uint8, "I32": np.int32, "I64": np.int64}


def read_safetensors(path):
    """name -> array of every tensor in `path` (copies: writable)."""
    with open(path, "rb") as f:
        raw = f.read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = (8 + size + o for o in info["data_offsets"])
        tensors[name] = np.frombuffer(raw[begin:end], SAFETENSORS_DTYPES[info["dtype"]]
                                      ).reshape(info["shape"]).copy()
    return tensors


class ParametersFile:
    """A safetensors file whose tensors are patched in place (same dtypes
    and shapes, so the header and the fingerprint stay as they are)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = f.read()
        size = struct.unpack("<Q", self.raw[:8])[0]
        header = json.loads(self.raw[8:8 + size])
        self.offsets = {name: 8 + size + info["data_offsets"][0]
                        for name, info in header.items() if name != "__metadata__"}
        self.values = read_safetensors(path)

    def write(self, values):
        data = bytearray(self.raw)
        for name, value in values.items():
            payload = np.ascontiguousarray(value, self.values[name].dtype).tobytes()
            data[self.offsets[name]:self.offsets[name] + len(payload)] = payload
        with open(self.path, "wb") as f:
            f.write(bytes(data))


def causal_lm_loss(logits, labels):
    """The mean cross-entropy of `logits` [B, S, V] against `labels` [B, S]
    (the next token of each position; negative = ignored), in float64."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    keep = labels >= 0
    picked = np.take_along_axis(log_probs, np.where(keep, labels, 0)[..., None], -1)[..., 0]
    return float(-(picked * keep).sum() / keep.sum())


def windows(tokens, batch, seq_len, first_window=0):
    """input_ids and labels of `batch` consecutive windows of qaf-run train's
    token stream, as README "Token files" defines them (window k starts at
    token k·(seq_len + 1); `--sequential` takes them in file order)."""
    rows = [tokens[(first_window + b) * (seq_len + 1):][:seq_len + 1] for b in range(batch)]
    rows = np.stack(rows).astype(np.int64)
    return rows[:, :-1], rows[:, 1:]


def checkpoint_files(folder):
    return sorted(name for name in os.listdir(folder)
                  if name.startswith("step-") and name.endswith(".safetensors"))
