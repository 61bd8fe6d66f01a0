#!/usr/bin/env python3
"""A 135M-shaped decoder compiled once and checked against ONNX Runtime.

scripts/gen_llama_onnx.py --preset 135m (SmolLM-135M's shapes: 30 layers,
hidden 576, 9 heads over 3 KV heads, vocab 49152, tied embeddings: 134.5M
parameters, 538 MB of float32 weights in an external-data file) is compiled
with `qaf-compile` and run with `qaf-run` on one short sequence with a
left-padded mask; the logits must match ONNX Runtime's within
RELATIVE_TOLERANCE · max|logits|. The tiny decoders of llama_compiled.py
cannot show what only real sizes exercise: weights of hundreds of MB,
GEMMs big enough to take the kernels' blocked, multi-threaded paths, a
vocabulary of 49152 columns.

ctest runs it with the label `long` (about 2 minutes on 2 cores, 2 GB of
memory, 2.5 GB of temporary disk): `ctest -L long`, or `ctest -R llama-135m`.

Exit status 0 when the logits match; prints the error.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import e2e_support as support  # noqa: E402
import gen_llama_onnx as gen  # noqa: E402

# 30 float32 layers: the error grows with depth; measured 3.9e-6 for
# max |logits| = 2.4 (1.6e-6 relative) on an AVX-512 machine.
RELATIVE_TOLERANCE = 2e-5
BATCH, SEQUENCE = 2, 12


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qaf-llama-135m-") as tmp:
        folder = args.keep or tmp
        os.makedirs(folder, exist_ok=True)
        cfg = gen.LlamaConfig(**{**gen.PRESETS["135m"], "tie_embeddings": True})
        model = os.path.join(folder, "model.onnx")
        start = time.time()
        gen.save(cfg, model, external_data=True)
        print(f"generated {gen.parameter_count(cfg) / 1e6:.1f}M parameters "
              f"in {time.time() - start:.0f} s")
        artifact = os.path.join(folder, "artifact")
        start = time.time()
        support.compile_model(args.qaf_compile, model, artifact, timeout=1500)
        print(f"compiled in {time.time() - start:.0f} s")
        feeds = gen.make_inputs(cfg, BATCH, SEQUENCE)
        start = time.time()
        outputs, _, _ = support.run_artifact(args.qaf_run, artifact, feeds,
                                             os.path.join(folder, "run"))
        print(f"ran in {time.time() - start:.0f} s")
        expected = gen.ort_session(model).run(None, feeds)[0]
        logits = outputs.get("logits")
        if logits is None or logits.shape != expected.shape:
            print(f"FAIL logits shape {None if logits is None else logits.shape}"
                  f", expected {expected.shape}")
            return 1
        diff = support.max_abs_diff(logits, expected)
        scale = float(np.max(np.abs(expected)))
        tolerance = RELATIVE_TOLERANCE * scale
        ok = diff <= tolerance
        print(f"{'ok  ' if ok else 'FAIL'} batch={BATCH} seq={SEQUENCE}: "
              f"max |logits - onnxruntime| = {diff:.3g} (max |logits| "
              f"{scale:.3g}, tolerance {tolerance:.3g})")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
