#!/usr/bin/env python3
"""Debian's `fortunes` as training and held-out token files.

    scripts/prepare_fortunes.py --tokenizer models/smollm2/tokenizer.json -o data/fortunes
    scripts/prepare_fortunes.py ... --held-out-tokens 8192   # cap the held-out file (quicker eval)

Reads every fortune file of the `fortunes` package (apt-get install
fortunes; scripts/setup.sh installs it) under /usr/share/games/fortunes
(`--source`): one document per fortune (the text between `%` lines), with
terminal overstriking (`_\\bx`, `x\\bx`) removed, blank-only and duplicate
fortunes dropped, `ascii-art` skipped (drawings, not prose). The split is
by document and deterministic: a fortune is held out when the first 8 bytes
of the SHA-256 of its text, as an integer, fall in the lowest
`--held-out-percent` of their range; so the same fortune is always on the
same side, whatever the file order or the package version around it.

Each side is tokenized with the model's tokenizer.json, every document
followed by the document separator (`--separator`, SmolLM2's
`<|endoftext|>`), and written in qaf's flat token format by
scripts/tokenize_text.py's writer: `train.bin` in a seeded shuffled order of
documents (so `qaf-run train --sequential` windows also mix the files),
`held_out.bin` in hash order; `fortunes.json` records the counts.
"""

import argparse
import hashlib
import json
import os
import random
import re
import sys

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
from tokenize_text import load_tokenizer, write_token_file  # noqa: E402

DEFAULT_SOURCE = "/usr/share/games/fortunes"
SKIPPED_FILES = {"ascii-art"}
OVERSTRIKE = re.compile(r".\x08")


def fortune_files(source):
    """The fortune text files: not the strfile indexes (.dat) nor the .u8 links."""
    names = sorted(name for name in os.listdir(source)
                   if not name.endswith((".dat", ".u8")) and name not in SKIPPED_FILES
                   and os.path.isfile(os.path.join(source, name)))
    if not names:
        sys.exit(f"prepare_fortunes.py: no fortune files in {source} "
                 "(apt-get install fortunes, or scripts/setup.sh)")
    return names


def read_fortunes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for chunk in re.split(r"^%[ \t]*$", text, flags=re.MULTILINE):
        chunk = OVERSTRIKE.sub("", chunk).strip("\n")
        if chunk.strip():
            yield chunk


def held_out_rank(text):
    """A deterministic number in [0, 1) from the document's text alone."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True, help="the model's tokenizer.json")
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--held-out-percent", type=float, default=5.0)
    parser.add_argument("--held-out-tokens", type=int,
                        help="keep only the first documents of the held-out side, up to about "
                             "this many tokens")
    parser.add_argument("--separator", default="<|endoftext|>")
    parser.add_argument("--seed", type=int, default=0, help="order of the training documents")
    args = parser.parse_args()
    if not 0 < args.held_out_percent < 100:
        parser.error("--held-out-percent must lie in (0, 100)")
    tokenizer, vocab_size, separator = load_tokenizer(args.tokenizer, args.separator,
                                                      "prepare_fortunes.py")

    seen = set()
    train, held = [], []
    files = fortune_files(args.source)
    for name in files:
        for text in read_fortunes(os.path.join(args.source, name)):
            if text in seen:
                continue
            seen.add(text)
            rank = held_out_rank(text)
            (held if rank < args.held_out_percent / 100 else train).append((rank, text))
    held.sort()
    train.sort()
    random.Random(args.seed).shuffle(train)

    def tokens(documents, limit=None):
        ids, count = [], 0
        for _, text in documents:
            if limit is not None and len(ids) >= limit:
                break
            ids.extend(tokenizer.encode(text, add_special_tokens=False).ids)
            ids.append(separator)
            count += 1
        return ids, count

    os.makedirs(args.output_dir, exist_ok=True)
    summary = {"source": args.source, "files": files, "documents": len(seen),
               "held_out_percent": args.held_out_percent, "separator": args.separator}
    for side, documents, limit in (("train", train, None),
                                   ("held_out", held, args.held_out_tokens)):
        ids, count = tokens(documents, limit)
        path = os.path.join(args.output_dir, f"{side}.bin")
        write_token_file(path, ids, vocab_size)
        summary[side] = {"file": f"{side}.bin", "documents": count, "tokens": len(ids)}
        print(f"{path}: {count} fortunes, {len(ids)} tokens")
    with open(os.path.join(args.output_dir, "fortunes.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
