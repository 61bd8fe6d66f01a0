#!/usr/bin/env python3
"""ctest smollm2-transformers: the converter against an independent one.
transformers loads the same GGUF (`from_pretrained(dir, gguf_file=...)`,
its own dequantization and Q/K un-permutation) and its tokenizer; the
logits of scripts/get_smollm2.py's ONNX (ONNX Runtime) must match the
PyTorch model's, and tokenizer.json's ids transformers' on every text of
smollm2_support.TEXTS.

Needs torch and transformers (scripts/requirements-exporters.txt), which
the build and scripts/test.sh never install: without them the test exits
77, which ctest counts as skipped. QAF_PEERS_PYTHON=/path/to/venv/bin/python
runs it with that interpreter instead (ctest -R smollm2-transformers).
"""
import argparse
import os
import sys

TOLERANCE = 1e-3


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True)
    args = parser.parse_args()
    try:
        import torch
        import transformers
    except ImportError:
        peers = os.environ.get("QAF_PEERS_PYTHON")
        # A venv's python links to the base interpreter: mark the second run
        # instead of comparing paths.
        if peers and not os.environ.get("QAF_PEERS_PYTHON_RUNNING"):
            os.environ["QAF_PEERS_PYTHON_RUNNING"] = "1"
            os.execv(peers, [peers, *sys.argv])
        print("skipped: torch and transformers are not installed (pip install -r "
              "scripts/requirements-exporters.txt in a venv, then QAF_PEERS_PYTHON=that python)")
        return 77
    import numpy as np
    from tokenizers import Tokenizer

    import smollm2_support as support
    from smollm2_support import gen
    import get_smollm2  # scripts/, put on sys.path by smollm2_support
    directory = support.model_dir(args)
    gguf = get_smollm2.find_gguf()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: {gguf}")
    failures = 0

    ours = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    theirs = transformers.AutoTokenizer.from_pretrained(os.path.dirname(gguf),
                                                        gguf_file=os.path.basename(gguf))
    for text in support.TEXTS:
        a = ours.encode(text, add_special_tokens=False).ids
        b = theirs.encode(text, add_special_tokens=False)
        print(f"{'ok  ' if a == b else 'FAIL'} ids of {text[:30]!r}: {len(a)} ids"
              + ("" if a == b else f"\n  ours   {a}\n  theirs {b}"))
        failures += a != b

    model = transformers.AutoModelForCausalLM.from_pretrained(
        os.path.dirname(gguf), gguf_file=os.path.basename(gguf), dtype=torch.float32)
    session = gen.ort_session(os.path.join(directory, "model.onnx"))
    worst = 0.0
    for text in support.TEXTS[:4]:
        ids = ours.encode(text).ids
        with torch.no_grad():
            expected = model(torch.tensor([ids])).logits[0].numpy()
        logits = support.ort_logits(session, ids)
        diff = float(np.max(np.abs(logits - expected)))
        worst = max(worst, diff)
        same = bool(np.array_equal(logits.argmax(-1), expected.argmax(-1)))
        ok = diff < TOLERANCE and same
        print(f"{'ok  ' if ok else 'FAIL'} logits of {text[:30]!r} ({len(ids)} tokens): max abs "
              f"difference {diff:.3g} (tolerance {TOLERANCE:g}), next-token choices "
              f"{'equal' if same else 'differ'}")
        failures += not ok
    print(f"max abs logit difference ONNX (ORT) vs transformers: {worst:.3g}; {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
