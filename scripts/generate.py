#!/usr/bin/env python3
"""Text in, text out with a compiled decoder: `qaf-run generate` behind a tokenizer.

    scripts/generate.py --artifact out/ --tokenizer tokenizer.json --prompt "Once upon a time"
    scripts/generate.py --artifact out/ --tokenizer tokenizer.json --prompt "Hi" \\
        --max-new-tokens 64 --temperature 0.7 --top-p 0.9 --seed 1 --stop "<|im_end|>"

The prompt is encoded with the model's Hugging Face `tokenizer.json` (with
its special tokens, as transformers does by default), `qaf-run generate`
generates the new token ids (with the model's KV cache when it has one;
README, "Generating text"), and the text of the prompt and the new tokens is
printed; qaf-run's timing lines go to stderr. With `--stop`, the text ends
before the first occurrence of that token.

Needs the `tokenizers` package, pinned in scripts/requirements-tools.txt
(`pip install -r scripts/requirements-tools.txt`); it is not a dependency
of qaf's tests.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_qaf_run(given):
    """--qaf-run, else qaf-run on PATH, else the build folder's."""
    for candidate in (given, shutil.which("qaf-run"),
                      os.path.join(REPOSITORY, "build", "bin", "qaf-run")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("generate.py: no qaf-run found: give --qaf-run, put it on PATH, "
             "or build it (build/bin/qaf-run)")


def parse_generated(stdout):
    """The ids of the `generated[0]: ...` line qaf-run prints."""
    for line in stdout.splitlines():
        if line.startswith("generated[0]:"):
            return [int(token) for token in line.split(":", 1)[1].split()]
    raise ValueError(f"no 'generated[0]:' line in qaf-run's output:\n{stdout}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--artifact", required=True, help="the compiled decoder (qaf-compile -o)")
    parser.add_argument("--tokenizer", required=True, help="the model's tokenizer.json")
    parser.add_argument("--prompt", required=True, help="the text to continue")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--max-length", type=int, help="positions of the cache (qaf-run's default)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy (default)")
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--ckpt", help="run with the newest checkpoint of this folder")
    parser.add_argument("--stop", help="a token that ends the text (e.g. '</s>')")
    parser.add_argument("--qaf-run", help="the qaf-run executable")
    args = parser.parse_args()
    try:
        from tokenizers import Tokenizer
    except ImportError:
        sys.exit("generate.py: needs the 'tokenizers' package "
                 "(pip install -r scripts/requirements-tools.txt)")

    tokenizer = Tokenizer.from_file(args.tokenizer)
    stop = None
    if args.stop is not None:
        stop = tokenizer.token_to_id(args.stop)
        if stop is None:
            sys.exit(f"generate.py: '{args.stop}' is not a token of {args.tokenizer}")
    prompt_ids = tokenizer.encode(args.prompt).ids
    if not prompt_ids:
        sys.exit("generate.py: the prompt encodes to no token")

    command = [find_qaf_run(args.qaf_run), "generate", args.artifact,
               "--max-new-tokens", str(args.max_new_tokens),
               "--temperature", str(args.temperature), "--top-k", str(args.top_k),
               "--top-p", str(args.top_p), "--seed", str(args.seed)]
    for option, value in (("--max-length", args.max_length), ("--threads", args.threads),
                          ("--ckpt", args.ckpt)):
        if value is not None:
            command += [option, str(value)]
    with tempfile.TemporaryDirectory(prefix="qaf-generate-") as tmp:
        prompt_file = os.path.join(tmp, "prompt.npy")
        np.save(prompt_file, np.array([prompt_ids], dtype=np.int64))
        result = subprocess.run(command + ["--prompt-ids", prompt_file],
                                capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        return result.returncode
    generated = parse_generated(result.stdout)
    if stop is not None and stop in generated:
        generated = generated[:generated.index(stop)]
    for line in result.stdout.splitlines():
        if not line.startswith("generated["):
            print(line, file=sys.stderr)
    print(args.prompt + tokenizer.decode(generated, skip_special_tokens=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
