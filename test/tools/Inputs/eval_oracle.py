#!/usr/bin/env python3
"""ONNX Runtime's held-out perplexity of a causal LM, for qaf-run eval.

  eval_oracle.py tokens OUT.npy VOCAB COUNT
      writes COUNT random int32 token ids below VOCAB (seed 5)
  eval_oracle.py check MODEL.onnx TOKENS.npy SEQ EVAL_OUTPUT
      runs MODEL in ONNX Runtime on the token file's whole windows of SEQ + 1
      tokens (SEQ inputs, the next SEQ as labels: qaf-run eval's windows),
      and checks the perplexity qaf-run eval printed (EVAL_OUTPUT) against
      it, to 1e-5 relative
"""
import math
import re
import sys

import numpy as np


def ort_perplexity(model, tokens, seq):
    import onnxruntime as ort
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    windows = len(tokens) // (seq + 1)
    rows = tokens[:windows * (seq + 1)].reshape(windows, seq + 1).astype(np.int64)
    feeds = {"input_ids": rows[:, :seq]}
    logits = session.run(None, feeds)[0].astype(np.float64)
    top = logits.max(-1, keepdims=True)
    logz = np.log(np.exp(logits - top).sum(-1)) + top[..., 0]
    picked = np.take_along_axis(logits, rows[:, 1:, None], -1)[..., 0]
    return math.exp(float(np.mean(logz - picked))), windows * seq


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "tokens":
        out, vocab, count = args[0], int(args[1]), int(args[2])
        np.save(out, np.random.default_rng(5).integers(0, vocab, count).astype(np.int32))
        return 0
    model, tokens, seq, printed = args
    expected, count = ort_perplexity(model, np.load(tokens), int(seq))
    text = open(printed).read()
    got = float(re.search(r"perplexity: ([0-9.e+-]+)", text).group(1))
    tokens_printed = int(re.search(r"tokens: ([0-9]+)", text).group(1))
    if tokens_printed != count or not abs(got - expected) <= 1e-5 * expected:
        print(f"mismatch: qaf-run eval {got} over {tokens_printed} tokens, "
              f"ONNX Runtime {expected} over {count}")
        return 1
    print(f"perplexity over {count} tokens matches ONNX Runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
