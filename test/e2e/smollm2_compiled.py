#!/usr/bin/env python3
"""ctest smollm2-compiled: qaf imports and compiles the real
SmolLM2-135M-Instruct (converted by smollm2-convert) for this CPU, and
`qaf-run infer` gives ONNX Runtime's logits (max abs difference < 1e-3 on
logits of size ~30) on a left-padded batch of two real texts; the compiled
model's next-token choices are ONNX Runtime's."""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import e2e_support
import smollm2_support as support
from smollm2_support import gen

TOLERANCE = 1e-3


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    directory = support.model_dir(args)
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    texts = support.TEXTS[:2]
    ids = [tokenizer.encode(text).ids for text in texts]
    length = max(len(row) for row in ids)
    input_ids = np.zeros((len(ids), length), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for r, row in enumerate(ids):
        input_ids[r, length - len(row):] = row
        mask[r, length - len(row):] = 1
    feeds = {"input_ids": input_ids, "attention_mask": mask}
    expected = gen.ort_session(os.path.join(directory, "model.onnx")).run(["logits"], feeds)[0]

    with tempfile.TemporaryDirectory(prefix="qaf-smollm2-") as tmp:
        start = time.time()
        artifact = os.path.join(tmp, "artifact")
        e2e_support.compile_model(args.qaf_compile, os.path.join(directory, "model.onnx"),
                                  artifact, timeout=1200)
        print(f"qaf-compile: {time.time() - start:.0f} s")
        outputs, _, _ = e2e_support.run_artifact(args.qaf_run, artifact, feeds, tmp)
    kept = mask != 0
    logits = outputs["logits"]
    diff = e2e_support.max_abs_diff(logits[kept], expected[kept])
    same_choice = float(np.mean(logits.argmax(-1)[kept] == expected.argmax(-1)[kept]))
    print(f"{'ok  ' if diff < TOLERANCE else 'FAIL'} qaf-run infer vs ONNX Runtime: max abs logit "
          f"difference {diff:.3g} (tolerance {TOLERANCE:g}; logits up to "
          f"{np.abs(expected).max():.1f})")
    print(f"{'ok  ' if same_choice == 1.0 else 'FAIL'} next-token choice equal at "
          f"{same_choice:.0%} of the {int(kept.sum())} positions")
    return 0 if diff < TOLERANCE and same_choice == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
