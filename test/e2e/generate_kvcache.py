#!/usr/bin/env python3
"""`qaf-run generate` with a KV cache, against ONNX Runtime's greedy loop.

The tiny decoder of scripts/gen_llama_onnx.py is generated twice with the
same weights: with optimum's cache interface (`--with-past`: past_key_values
inputs, present outputs) and without. Both are compiled; the cached one's
present outputs must be written into its past inputs (`written_into` in the
manifest, with the `qaf.cache_length` input), so decoding copies no cache.

Checked:
- greedy ids of `qaf-run generate` equal the greedy loop written here with
  ONNX Runtime on the cached model (prefill, then one token per call with
  present fed back as past, numpy argmax), over 16 decode steps, at two
  prompt lengths (and two rows for one of them);
- `qaf-run infer` of the cached artifact keeps the ONNX interface (past in,
  present out) and matches ONNX Runtime on a prefill and a 2-token step;
- sampled generation gives the same ids for the same seed, others for
  another seed;
- the model without a cache generates the same greedy ids, with a warning
  that it recomputes the sequence;
- bad input exits 1 with an error naming the input: an attention mask whose
  length disagrees with the cache's, a past of the wrong head count or
  dtype, a prompt longer than the cache, --max-new-tokens beyond it.

Exit status 0 when everything holds; prints what failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import e2e_support as support  # noqa: E402
import gen_llama_onnx as gen  # noqa: E402

DECODE_STEPS = 16
NEW_TOKENS = DECODE_STEPS + 1  # the first new token comes from the prefill
PROMPT_LENGTHS = (5, 12)
LOGITS_TOLERANCE = 1e-4


def ort_greedy(session, cfg, prompt, new_tokens):
    """The greedy loop with the cache: prefill, then one token per call."""
    names = [o.name for o in session.get_outputs()]
    batch, length = prompt.shape
    past = gen.empty_past(cfg, batch)
    feed, generated = prompt, []
    for _ in range(new_tokens):
        total = length + len(generated)
        first = total - feed.shape[1]
        outputs = dict(zip(names, session.run(None, {
            "input_ids": feed,
            "attention_mask": np.ones((batch, total), np.int64),
            "position_ids": np.broadcast_to(np.arange(first, total), feed.shape).copy(),
            **past})))
        token = np.argmax(outputs["logits"][:, -1], axis=-1)
        generated.append(token)
        past = {gen.past_name(i, kind): outputs[gen.present_name(i, kind)]
                for i in range(cfg.layers) for kind in ("key", "value")}
        feed = token[:, None].astype(np.int64)
    return np.stack(generated, axis=1)


def qaf_generate(qaf_run, artifact, prompt_path, *options, expect_failure=False):
    command = [qaf_run, "generate", artifact, "--prompt-ids", prompt_path,
               "--threads=1", *[str(o) for o in options]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if expect_failure:
        if result.returncode != 1:
            raise AssertionError(f"{' '.join(command)}: exit {result.returncode}, "
                                 f"expected 1\n{result.stdout}{result.stderr}")
        return result
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stderr}")
    rows = [line.split(":", 1)[1].split() for line in result.stdout.splitlines()
            if line.startswith("generated[")]
    return np.array(rows, dtype=np.int64), result


def expect_error(result, *fragments):
    for fragment in fragments:
        if fragment not in result.stderr:
            raise AssertionError(f"expected {fragment!r} in the error, got:\n{result.stderr}")
    print(f"  ok: {result.stderr.strip().splitlines()[-1]}")


def qaf_infer_fails(qaf_run, artifact, feeds, folder):
    os.makedirs(folder, exist_ok=True)
    command = [qaf_run, "infer", artifact]
    for name, value in feeds.items():
        path = os.path.join(folder, f"{name}.npy")
        np.save(path, value)
        command += ["--input", f"{name}={path}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode != 1:
        raise AssertionError(f"qaf-run infer: exit {result.returncode}, expected 1\n{result.stderr}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qaf-generate-") as tmp:
        base = dict(gen.PRESETS["tiny"], init_std=gen.TEST_INIT_STD)
        cfg = gen.LlamaConfig(**base, with_past=True)
        plain_cfg = gen.LlamaConfig(**base)
        model = os.path.join(tmp, "cached.onnx")
        plain_model = os.path.join(tmp, "plain.onnx")
        gen.save(cfg, model)
        gen.save(plain_cfg, plain_model)
        cached = os.path.join(tmp, "cached")
        plain = os.path.join(tmp, "plain")
        support.compile_model(args.qaf_compile, model, cached)
        support.compile_model(args.qaf_compile, plain_model, plain)

        with open(os.path.join(cached, "manifest.json")) as f:
            entry = json.load(f)["entry_points"][0]
        written = {o["name"]: o.get("written_into") for o in entry["outputs"]}
        for i in range(cfg.layers):
            for kind in ("key", "value"):
                assert written[gen.present_name(i, kind)] == gen.past_name(i, kind), written
        assert any(i["name"] == "qaf.cache_length" and i["shape"] == [] for i in entry["inputs"])
        print("manifest: every present output is written into its past input")

        session = support.ort_session(model)
        rng = np.random.default_rng(0)
        prompts = {}
        for length in PROMPT_LENGTHS:
            batch = 2 if length == PROMPT_LENGTHS[-1] else 1
            prompts[length] = rng.integers(0, cfg.vocab, size=(batch, length), dtype=np.int64)
            path = os.path.join(tmp, f"prompt{length}.npy")
            np.save(path, prompts[length])
            expected = ort_greedy(session, cfg, prompts[length], NEW_TOKENS)
            ids, result = qaf_generate(args.qaf_run, cached, path, "--max-new-tokens", NEW_TOKENS)
            if not np.array_equal(ids, expected):
                raise AssertionError(f"prompt {length}: qaf {ids.tolist()} != ORT {expected.tolist()}")
            if "warning" in result.stderr:
                raise AssertionError(f"unexpected warning: {result.stderr}")
            print(f"prompt {prompts[length].shape}: {DECODE_STEPS} decode steps, greedy ids "
                  f"equal ORT's: {ids[0].tolist()}")
            ids, result = qaf_generate(args.qaf_run, plain, path, "--max-new-tokens", NEW_TOKENS)
            if not np.array_equal(ids, expected):
                raise AssertionError(f"no cache, prompt {length}: qaf {ids.tolist()} != "
                                     f"ORT {expected.tolist()}")
            expect_error(result, "has no KV cache", "recomputes the whole sequence")

        # The ONNX interface of the cached artifact: past in, present out.
        names = [o.name for o in session.get_outputs()]
        feeds = gen.make_inputs(cfg, 2, 6)
        feeds["attention_mask"][:] = 1
        prefill = {k: (v[:, :4] if v.ndim == 2 else v) for k, v in feeds.items()}
        step = {"input_ids": feeds["input_ids"][:, 4:], "attention_mask": feeds["attention_mask"],
                "position_ids": feeds["position_ids"][:, 4:]}
        expected = dict(zip(names, session.run(None, prefill)))
        step.update({gen.past_name(i, kind): expected[gen.present_name(i, kind)]
                     for i in range(cfg.layers) for kind in ("key", "value")})
        for name, call in (("prefill", prefill), ("step", step)):
            expected = dict(zip(names, session.run(None, call)))
            actual, _, _ = support.run_artifact(args.qaf_run, cached, call,
                                                os.path.join(tmp, name), threads=1)
            worst = max(support.max_abs_diff(actual[n], expected[n])
                        for n in names)
            if worst > LOGITS_TOLERANCE:
                raise AssertionError(f"qaf-run infer {name}: max |qaf - ORT| = {worst}")
            print(f"qaf-run infer {name}: outputs match ORT (max diff {worst:.2g})")

        path = os.path.join(tmp, f"prompt{PROMPT_LENGTHS[0]}.npy")
        sampling = ("--max-new-tokens", NEW_TOKENS, "--temperature", 0.9, "--top-k", 40,
                    "--top-p", 0.95)
        first, _ = qaf_generate(args.qaf_run, cached, path, *sampling, "--seed", 7)
        again, _ = qaf_generate(args.qaf_run, cached, path, *sampling, "--seed", 7)
        other, _ = qaf_generate(args.qaf_run, cached, path, *sampling, "--seed", 8)
        if not np.array_equal(first, again):
            raise AssertionError(f"seed 7 twice: {first.tolist()} != {again.tolist()}")
        if np.array_equal(first, other):
            raise AssertionError(f"seeds 7 and 8 drew the same {first.tolist()}")
        print(f"sampled with seed 7 twice: {first[0].tolist()}; seed 8 differs")

        print("bad input:")
        past = gen.past_name(0, "key")
        wrong_mask = dict(step, attention_mask=np.ones((2, 9), np.int64))
        expect_error(qaf_infer_fails(args.qaf_run, cached, wrong_mask, os.path.join(tmp, "mask")),
                     "input 'attention_mask'", "past_sequence_length + sequence_length",
                     "is 9", "= 4 + 2 = 6")
        wrong_heads = dict(step, **{past: np.zeros((2, 3, 4, cfg.head_dim), np.float32)})
        expect_error(qaf_infer_fails(args.qaf_run, cached, wrong_heads, os.path.join(tmp, "heads")),
                     f"input '{past}'", "dimension 1 is 3, expected 2")
        wrong_dtype = dict(step, **{past: step[past].astype(np.float64)})
        expect_error(qaf_infer_fails(args.qaf_run, cached, wrong_dtype, os.path.join(tmp, "dtype")),
                     f"input '{past}'", "dtype float64, expected float32")
        long_prompt = os.path.join(tmp, f"prompt{PROMPT_LENGTHS[1]}.npy")
        expect_error(qaf_generate(args.qaf_run, cached, long_prompt, "--max-length", 8,
                                  expect_failure=True),
                     "--prompt-ids", "12 tokens", "8 positions of the cache")
        expect_error(qaf_generate(args.qaf_run, cached, path, "--max-length", 20,
                                  "--max-new-tokens", NEW_TOKENS, expect_failure=True),
                     f"--max-new-tokens {NEW_TOKENS}", "need 22 positions", "20 of the cache")
    print("generate-kvcache: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, support.ToolError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
