#!/usr/bin/env python3
"""Held-out perplexity of an ONNX decoder in ONNX Runtime, on the windows `qaf-run eval` uses.

    scripts/onnx_perplexity.py --model model.onnx --data held_out.bin --seq-len 256
    scripts/onnx_perplexity.py ... --json result.json     # perplexity, loss, tokens, tokens/s, file size

The token file (README, "Token files") is cut into windows of seq-len + 1
tokens, each taken once in file order (window k starts at token
k·(seq-len+1); its first seq-len tokens are the input, its last seq-len the
labels), exactly as `qaf-run eval` does, so the two perplexities compare.
The model takes input_ids and, when it has one, an all-ones attention_mask.
tokens/s is the scoring throughput (the forward passes only).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenize_text import read_token_file  # noqa: E402


def model_bytes(path):
    """The .onnx file and every external data file it names."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    files = {os.path.abspath(path)}
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                files.add(os.path.join(os.path.dirname(os.path.abspath(path)), entry.value))
    return sum(os.path.getsize(f) for f in files)


def perplexity(model, data, seq_len, batch=4, threads=0):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    ids = read_token_file(data).astype(np.int64)
    windows = ids.size // (seq_len + 1)
    if windows == 0:
        raise ValueError(f"{data}: {ids.size} tokens, fewer than one window of {seq_len + 1}")
    rows = ids[:windows * (seq_len + 1)].reshape(windows, seq_len + 1)
    loss_sum, count, seconds = 0.0, 0, 0.0
    for first in range(0, windows, batch):
        window = rows[first:first + batch]
        feeds = {"input_ids": window[:, :-1]}
        if "attention_mask" in names:
            feeds["attention_mask"] = np.ones_like(feeds["input_ids"])
        start = time.perf_counter()
        logits = session.run(["logits"], feeds)[0].astype(np.float64)
        seconds += time.perf_counter() - start
        logits -= logits.max(axis=-1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=-1))
        labels = window[:, 1:]
        picked = np.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
        loss_sum += float((log_norm - picked).sum())
        count += labels.size
    loss = loss_sum / count
    return {"perplexity": math.exp(loss), "loss": loss, "tokens": count,
            "tokens_per_second": count / seconds, "bytes": model_bytes(model)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="token file")
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="0: ONNX Runtime's default")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    result = perplexity(args.model, args.data, args.seq_len, args.batch, args.threads)
    print(f"{args.model}: perplexity {result['perplexity']:.4f} (loss {result['loss']:.6f}, "
          f"{result['tokens']} tokens, {result['tokens_per_second']:.0f} tokens/s, "
          f"{result['bytes'] / 1e6:.1f} MB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
