#!/usr/bin/env python3
"""Runs a qaf artifact with qaf-run and the ONNX model with ONNX Runtime on
the same random token ids, and reports the largest logit difference.

usage: compare_compiled_with_ort.py QAF_RUN ARTIFACT MODEL.onnx
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def main():
    qaf_run, artifact, model = sys.argv[1:4]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    rng = np.random.default_rng(0)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for batch, seq in ((1, 8), (2, 33)):
            feeds = {"input_ids": rng.integers(0, 64, size=(batch, seq)).astype(np.int64)}
            if "attention_mask" in names:
                feeds["attention_mask"] = np.ones((batch, seq), np.int64)
            command = [qaf_run, "infer", artifact, "--output-dir", tmp]
            for key, value in feeds.items():
                np.save(os.path.join(tmp, key + ".npy"), value)
                command += ["--input", f"{key}={os.path.join(tmp, key + '.npy')}"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            actual = np.load(os.path.join(tmp, "logits.npy"))
            expected = session.run(None, feeds)[0]
            diff = float(np.max(np.abs(actual - expected)))
            worst = max(worst, diff)
            print(f"   batch {batch}, sequence {seq}: logits {actual.shape}, "
                  f"max |qaf - onnxruntime| = {diff:.2g}")
    if worst > 1e-3:
        print("FAIL: the compiled model disagrees with ONNX Runtime")
        return 1
    print("OK: the compiled model matches ONNX Runtime (one artifact, two shapes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
