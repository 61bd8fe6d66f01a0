#!/usr/bin/env python3
"""Turns text into a token file for `qaf-run train` and `qaf-run eval`.

    scripts/tokenize_text.py --tokenizer model/tokenizer.json -o train.bin a.txt b.txt
    scripts/tokenize_text.py --tokenizer model/tokenizer.json -o held.npy --eos "</s>" held.txt

Each input file (`-`: standard input) is one document, encoded with the
model's Hugging Face `tokenizer.json`; documents are concatenated, each
followed by the id of `--eos` when it is given. The output is the flat qaf
token format (README, "Token files") unless its name ends in `.npy`; ids are
uint16 when the vocabulary has at most 65536 entries, else uint32.

Needs the `tokenizers` package, pinned in scripts/requirements-tools.txt
(`pip install -r scripts/requirements-tools.txt`); it is not a dependency
of qaf's tests, which write token files with numpy.
"""

import argparse
import os
import struct
import sys

import numpy as np

MAGIC = b"QAFTOKEN"
VERSION = 1


def write_token_file(path, ids, vocab_size):
    """Writes `ids` as the flat format, or `.npy` by the name's extension."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"{path}: ids must lie in [0, {vocab_size})")
    dtype = np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")
    if path.endswith(".npy"):
        np.save(path, ids.astype(dtype))
        return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC + struct.pack("<IIQ", VERSION, dtype.itemsize, ids.size))
        f.write(ids.astype(dtype).tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_token_file(path):
    """The ids of a token file (the flat format, or `.npy` by the name's extension)."""
    if path.endswith(".npy"):
        return np.load(path).reshape(-1)
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) != 24 or header[:8] != MAGIC:
            raise ValueError(f"{path}: not a qaf token file (no '{MAGIC.decode()}' header)")
        version, width, count = struct.unpack("<IIQ", header[8:])
        if version != VERSION or width not in (2, 4):
            raise ValueError(f"{path}: version {version}, {width} bytes per id: unsupported")
        ids = np.frombuffer(f.read(), dtype=np.dtype("<u2") if width == 2 else np.dtype("<u4"))
    if ids.size != count:
        raise ValueError(f"{path}: header says {count} ids, the file holds {ids.size}")
    return ids


def load_tokenizer(path, separator, caller):
    """(tokenizers.Tokenizer, vocabulary size, id of `separator` or None);
    exits naming `caller` when the package or the token is missing."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        sys.exit(f"{caller}: needs the 'tokenizers' package "
                 "(pip install -r scripts/requirements-tools.txt)")
    tokenizer = Tokenizer.from_file(path)
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)
    separator_id = None
    if separator is not None:
        separator_id = tokenizer.token_to_id(separator)
        if separator_id is None:
            sys.exit(f"{caller}: '{separator}' is not a token of {path}")
    return tokenizer, vocab_size, separator_id


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="text files; - for stdin")
    parser.add_argument("--tokenizer", required=True,
                        help="the model's tokenizer.json")
    parser.add_argument("-o", "--output", required=True,
                        help="the token file (.bin: flat format; .npy)")
    parser.add_argument("--eos", help="a token to append after each document "
                        "(e.g. '</s>' or '<|endoftext|>')")
    args = parser.parse_args()
    tokenizer, vocab_size, eos = load_tokenizer(args.tokenizer, args.eos,
                                                "tokenize_text.py")
    ids = []
    for name in args.inputs:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        ids.extend(tokenizer.encode(text, add_special_tokens=False).ids)
        if eos is not None:
            ids.append(eos)
    write_token_file(args.output, ids, vocab_size)
    print(f"{args.output}: {len(ids)} tokens from {len(args.inputs)} "
          f"document(s), vocabulary {vocab_size}")


if __name__ == "__main__":
    main()
