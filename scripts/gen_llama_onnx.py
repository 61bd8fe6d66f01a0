#!/usr/bin/env python3
"""Generate a Llama/Qwen-style causal decoder as an ONNX model, without torch.

The graph reproduces the operator patterns that ``torch.onnx.export`` (TorchScript
exporter, opset 17) emits for Hugging Face ``LlamaForCausalLM`` / ``Qwen2ForCausalLM``
in eager attention mode:

* token embedding ``Gather(model.embed_tokens.weight, input_ids)``;
* RMSNorm ``Pow(x, 2) -> ReduceMean(-1, keepdims) -> Add(eps) -> Sqrt -> Div(1, .)
  (or Reciprocal) -> Mul(x, .) -> Mul(weight, .)``; ReduceMean takes ``axes`` as an
  attribute below opset 18 and as an input from opset 18 on;
* linear layers as ``MatMul`` with weights stored ``[d_in, d_out]`` under HF names
  (``model.layers.{i}.self_attn.q_proj.weight``), optional Qwen2 q/k/v biases (``Add``);
* shape chains ``Shape -> Gather -> Unsqueeze -> Concat -> Reshape`` to split heads,
  ``Transpose(perm=[0,2,1,3])``, and the reverse to merge them;
* rotary embeddings from an ``inv_freq`` initializer: ``Range`` positions,
  ``Unsqueeze/Expand/MatMul/Transpose/Concat/Cos/Sin``, ``rotate_half`` with ``Slice``
  (constant starts/ends/axes/steps, INT64_MAX ends) + ``Neg`` + ``Concat``;
* grouped-query attention ``repeat_kv``: ``Unsqueeze -> Expand -> Reshape`` with the
  torch ``expand`` idiom (``ConstantOfShape/Mul/Equal/Where`` turning -1 into 1);
* the HF 4.38+ causal mask: ``ConstantOfShape(finfo.min) -> Trilu(k=1, upper) ->
  Mul(Cast(Greater(Range, Reshape(cache_position))))`` expanded to ``[b, 1, s, t]`` and
  folded with ``attention_mask`` (``Cast/Add/Equal/Where``);
* attention ``MatMul(q, Transpose(k)) / sqrt(d) + mask -> Softmax -> MatMul(v)``;
* SwiGLU MLP with SiLU as ``Mul(x, Sigmoid(x))``; residual ``Add``s; final RMSNorm;
  ``lm_head`` ``MatMul`` (separate weight, or ``--tie-embeddings``: ``Transpose`` of the
  embedding).

Node and value names follow the torch exporter's scoped style
(``/model/layers.0/self_attn/q_proj/MatMul`` -> ``..._output_0``).

The module also provides a pure numpy reference forward of the same model
(:func:`reference_forward`) and :func:`check_model_file`, which runs the ONNX checker
(full_check), onnxruntime at several batch sizes / sequence lengths and compares with
the reference.

Usage::

    python3 scripts/gen_llama_onnx.py --preset tiny -o /tmp/tiny.onnx --check
    python3 scripts/gen_llama_onnx.py --preset 135m --external-data -o /tmp/m/model.onnx
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = np.iinfo(np.int64).max
FLOAT_MIN = float(np.finfo(np.float32).min)
CONFIG_METADATA_KEY = "qaf.llama_config"
MIN_OPSET = 14  # Trilu
EXTERNAL_SIZE_THRESHOLD = 1024  # same default as onnx.save_model
DEFAULT_INIT_STD = 0.02  # HF's initializer_range
# The init scale of the tests' models: attention far from uniform, so the logits depend on the
# token positions (a wrong rotary sign moves them by about their own size; see
# test/e2e/llama_compiled.py), while RMSNorm keeps every activation finite.
TEST_INIT_STD = 0.25


# --------------------------------------------------------------------------- config

@dataclasses.dataclass
class LlamaConfig:
    vocab: int = 256
    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128
    rope_theta: float = 10000.0
    eps: float = 1e-5
    seed: int = 0
    opset: int = 17
    attention_mask: bool = True
    tie_embeddings: bool = False
    qkv_bias: bool = False
    rsqrt: str = "div"  # "div": Div(1, Sqrt(.)) (TorchScript); "reciprocal": Reciprocal(Sqrt(.))
    # Standard deviation of the "normal" and "bias" weights. HF's 0.02 leaves a tiny model's
    # attention scores near 0, so softmax is nearly uniform and the logits barely depend on
    # positions (RoPE, causal mask); tests that must see position bugs use a larger value
    # (TEST_INIT_STD).
    init_std: float = DEFAULT_INIT_STD
    # optimum's text-generation-with-past interface: position_ids and past_key_values.{i}.key/value
    # inputs, present.{i}.key/value outputs (the attention reads concat(past, new)).
    with_past: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def validate(self) -> None:
        if self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be a multiple of heads ({self.heads})")
        if self.head_dim % 2:
            raise ValueError(f"head_dim ({self.head_dim}) must be even for rotary embeddings")
        if self.kv_heads <= 0 or self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})")
        if min(self.vocab, self.hidden, self.layers, self.intermediate) <= 0:
            raise ValueError("vocab, hidden, layers and intermediate must be positive")
        max_opset = onnx.defs.onnx_opset_version()
        if not MIN_OPSET <= self.opset <= max_opset:
            raise ValueError(f"opset must be in [{MIN_OPSET}, {max_opset}], got {self.opset}")
        if self.rsqrt not in ("div", "reciprocal"):
            raise ValueError("rsqrt must be 'div' or 'reciprocal'")
        if not self.init_std > 0:
            raise ValueError(f"init_std must be positive, got {self.init_std}")
        if self.with_past and not self.attention_mask:
            raise ValueError("with_past needs the attention mask (it spans past and new tokens)")

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        # The default is left out, so models made before the option are byte-identical.
        if values["init_std"] == DEFAULT_INIT_STD:
            del values["init_std"]
        if not values["with_past"]:
            del values["with_past"]
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LlamaConfig":
        return cls(**json.loads(text))


PRESETS: Dict[str, Dict[str, object]] = {
    "tiny": dict(vocab=256, hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128),
    # SmolLM-135M shapes. With the default separate lm_head: 162.8M parameters (651 MB fp32);
    # with --tie-embeddings (SmolLM-135M's own setting): 134.5M parameters (538 MB fp32).
    "135m": dict(vocab=49152, hidden=576, layers=30, heads=9, kv_heads=3, intermediate=1536,
                 rope_theta=10000.0, eps=1e-5),
}


# --------------------------------------------------------------------------- weights

def inv_freq(cfg: LlamaConfig) -> np.ndarray:
    """HF default rope: 1 / base ** (arange(0, d, 2) / d), computed in float32 like torch."""
    d = cfg.head_dim
    exponent = np.arange(0, d, 2, dtype=np.int64).astype(np.float32) / np.float32(d)
    return (np.float32(1.0) / np.power(np.float32(cfg.rope_theta), exponent)).astype(np.float32)


def weight_specs(cfg: LlamaConfig) -> List[Tuple[str, Tuple[int, ...], str]]:
    """(name, shape, kind) of every trainable tensor, in generation and initializer order.

    kind: "normal" (std cfg.init_std, 0.02 by default like HF init), "norm" (1 + 0.1 * normal,
    so the per-channel scale matters), "bias" (std cfg.init_std).
    """
    h, d, kv, f = cfg.hidden, cfg.head_dim, cfg.kv_heads, cfg.intermediate
    specs: List[Tuple[str, Tuple[int, ...], str]] = [("model.embed_tokens.weight", (cfg.vocab, h), "normal")]
    for i in range(cfg.layers):
        p = f"model.layers.{i}"
        specs.append((f"{p}.input_layernorm.weight", (h,), "norm"))
        specs.append((f"{p}.self_attn.q_proj.weight", (h, cfg.heads * d), "normal"))
        specs.append((f"{p}.self_attn.k_proj.weight", (h, kv * d), "normal"))
        specs.append((f"{p}.self_attn.v_proj.weight", (h, kv * d), "normal"))
        if cfg.qkv_bias:
            specs.append((f"{p}.self_attn.q_proj.bias", (cfg.heads * d,), "bias"))
            specs.append((f"{p}.self_attn.k_proj.bias", (kv * d,), "bias"))
            specs.append((f"{p}.self_attn.v_proj.bias", (kv * d,), "bias"))
        specs.append((f"{p}.self_attn.o_proj.weight", (cfg.heads * d, h), "normal"))
        specs.append((f"{p}.post_attention_layernorm.weight", (h,), "norm"))
        specs.append((f"{p}.mlp.gate_proj.weight", (h, f), "normal"))
        specs.append((f"{p}.mlp.up_proj.weight", (h, f), "normal"))
        specs.append((f"{p}.mlp.down_proj.weight", (f, h), "normal"))
    specs.append(("model.norm.weight", (h,), "norm"))
    if not cfg.tie_embeddings:
        specs.append(("lm_head.weight", (h, cfg.vocab), "normal"))
    return specs


def generate_weights(cfg: LlamaConfig) -> Iterator[Tuple[str, np.ndarray]]:
    """Yield (name, float32 array) one tensor at a time (deterministic in cfg.seed)."""
    rng = np.random.default_rng(cfg.seed)
    for name, shape, kind in weight_specs(cfg):
        a = rng.standard_normal(shape, dtype=np.float32)
        if kind == "norm":
            a *= np.float32(0.1)
            a += np.float32(1.0)
        else:
            a *= np.float32(cfg.init_std)
        yield name, a


def parameter_count(cfg: LlamaConfig) -> int:
    return sum(int(np.prod(s)) for _, s, _ in weight_specs(cfg))


# --------------------------------------------------------------------------- graph building

class GraphBuilder:
    """Emits nodes with torch-exporter style names: '/scope/Op[_k]' -> '/scope/Op[_k]_output_0'."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes: List[onnx.NodeProto] = []
        self._counts: Dict[str, int] = {}

    def op(self, op_type: str, inputs: Sequence[str], scope: str, outputs: Optional[Sequence[str]] = None,
           num_outputs: int = 1, **attrs) -> str | List[str]:
        key = f"{scope}/{op_type}"
        k = self._counts.get(key, 0)
        self._counts[key] = k + 1
        name = key if k == 0 else f"{key}_{k}"
        if outputs is None:
            outputs = [f"{name}_output_{j}" for j in range(num_outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs), name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    def const(self, value, scope: str, dtype=None) -> str:
        arr = np.array(value, dtype=dtype)
        return self.op("Constant", [], scope, value=numpy_helper.from_array(arr))

    def i64(self, value, scope: str) -> str:
        return self.const(value, scope, np.int64)

    def f32(self, value, scope: str) -> str:
        return self.const(value, scope, np.float32)

    def unsqueeze(self, x: str, axes: Sequence[int], scope: str) -> str:
        if self.opset >= 13:
            return self.op("Unsqueeze", [x, self.i64(list(axes), scope)], scope)
        return self.op("Unsqueeze", [x], scope, axes=list(axes))

    def reduce_mean_last(self, x: str, scope: str) -> str:
        if self.opset >= 18:
            return self.op("ReduceMean", [x, self.i64([-1], scope)], scope, keepdims=1)
        return self.op("ReduceMean", [x], scope, axes=[-1], keepdims=1)

    def dim(self, shape: str, index: int, scope: str) -> str:
        """Gather(shape, scalar index) -> 0-d int64, as torch's x.size(i)."""
        return self.op("Gather", [shape, self.i64(index, scope)], scope, axis=0)

    def slice(self, x: str, starts: str, ends: str, axes: str, steps: str, scope: str) -> str:
        return self.op("Slice", [x, starts, ends, axes, steps], scope)

    def expand(self, x: str, size_parts: Sequence[str], scope: str) -> str:
        """torch's expand symbolic: Concat the size list, map -1 to 1 with Where, Expand."""
        size = self.op("Concat", list(size_parts), scope, axis=0)
        ones = self.op("ConstantOfShape", [self.op("Shape", [size], scope)], scope,
                       value=numpy_helper.from_array(np.array([1], dtype=np.int64)))
        neg_ones = self.op("Mul", [ones, self.i64(-1, scope)], scope)
        is_neg = self.op("Equal", [size, neg_ones], scope)
        size = self.op("Where", [is_neg, ones, size], scope)
        return self.op("Expand", [x, size], scope)


def _rms_norm(g: GraphBuilder, cfg: LlamaConfig, x: str, weight: str, scope: str,
              output: Optional[str] = None) -> str:
    sq = g.op("Pow", [x, g.f32(2.0, scope)], scope)
    var = g.reduce_mean_last(sq, scope)
    var = g.op("Add", [var, g.f32(cfg.eps, scope)], scope)
    root = g.op("Sqrt", [var], scope)
    if cfg.rsqrt == "div":
        inv = g.op("Div", [g.f32(1.0, scope), root], scope)
    else:
        inv = g.op("Reciprocal", [root], scope)
    normed = g.op("Mul", [x, inv], scope)
    return g.op("Mul", [weight, normed], scope, outputs=[output] if output else None)


def _linear(g: GraphBuilder, x: str, weight: str, scope: str, bias: Optional[str] = None) -> str:
    y = g.op("MatMul", [x, weight], scope)
    if bias is not None:
        y = g.op("Add", [bias, y], scope)  # torch exports Linear(3-D) + bias as Add(bias, MatMul)
    return y


def _rotate_half(g: GraphBuilder, cfg: LlamaConfig, x: str, scope: str) -> str:
    half = cfg.head_dim // 2
    x1 = g.slice(x, g.i64([0], scope), g.i64([half], scope), g.i64([3], scope), g.i64([1], scope), scope)
    x2 = g.slice(x, g.i64([half], scope), g.i64([INT64_MAX], scope), g.i64([3], scope), g.i64([1], scope), scope)
    return g.op("Concat", [g.op("Neg", [x2], scope), x1], scope, axis=-1)


def _apply_rotary(g: GraphBuilder, cfg: LlamaConfig, x: str, cos: str, sin: str, scope: str) -> str:
    a = g.op("Mul", [x, cos], scope)
    b = g.op("Mul", [_rotate_half(g, cfg, x, scope), sin], scope)
    return g.op("Add", [a, b], scope)


def _split_heads(g: GraphBuilder, x: str, b: str, s: str, heads: Optional[int], head_dim: int, scope: str) -> str:
    """x.view(b, s, heads, d).transpose(1, 2); heads None -> -1 (newer HF hidden_shape)."""
    parts = [g.unsqueeze(b, [0], scope), g.unsqueeze(s, [0], scope),
             g.i64([heads if heads is not None else -1], scope), g.i64([head_dim], scope)]
    shape = g.op("Concat", parts, scope, axis=0)
    x4 = g.op("Reshape", [x, shape], scope)
    return g.op("Transpose", [x4], scope, perm=[0, 2, 1, 3])


def _repeat_kv(g: GraphBuilder, x: str, n_rep: int, scope: str) -> str:
    if n_rep == 1:
        return x
    shp = g.op("Shape", [x], scope)
    bb, hh, ss, dd = (g.dim(shp, i, scope) for i in range(4))
    x5 = g.unsqueeze(x, [2], scope)
    xe = g.expand(x5, [g.unsqueeze(bb, [0], scope), g.unsqueeze(hh, [0], scope), g.i64([n_rep], scope),
                       g.unsqueeze(ss, [0], scope), g.unsqueeze(dd, [0], scope)], scope)
    hr = g.op("Mul", [hh, g.i64(n_rep, scope)], scope)
    shape = g.op("Concat", [g.unsqueeze(bb, [0], scope), g.unsqueeze(hr, [0], scope),
                            g.unsqueeze(ss, [0], scope), g.unsqueeze(dd, [0], scope)], scope, axis=0)
    return g.op("Reshape", [xe, shape], scope)


def _attention(g: GraphBuilder, cfg: LlamaConfig, x: str, cos: str, sin: str, mask: str, i: int) -> str:
    scope = f"/model/layers.{i}/self_attn"
    p = f"model.layers.{i}.self_attn"
    d = cfg.head_dim
    shp = g.op("Shape", [x], scope)
    b = g.dim(shp, 0, scope)
    shp1 = g.op("Shape", [x], scope)
    s = g.dim(shp1, 1, scope)
    bias = (lambda n: f"{p}.{n}_proj.bias") if cfg.qkv_bias else (lambda n: None)
    q = _linear(g, x, f"{p}.q_proj.weight", f"{scope}/q_proj", bias("q"))
    k = _linear(g, x, f"{p}.k_proj.weight", f"{scope}/k_proj", bias("k"))
    v = _linear(g, x, f"{p}.v_proj.weight", f"{scope}/v_proj", bias("v"))
    q = _split_heads(g, q, b, s, cfg.heads, d, scope)
    k = _split_heads(g, k, b, s, None, d, scope)
    v = _split_heads(g, v, b, s, None, d, scope)
    cos_u = g.unsqueeze(cos, [1], scope)
    sin_u = g.unsqueeze(sin, [1], scope)
    q = _apply_rotary(g, cfg, q, cos_u, sin_u, scope)
    k = _apply_rotary(g, cfg, k, cos_u, sin_u, scope)
    if cfg.with_past:
        # DynamicCache.update: torch.cat([past, new], dim=-2), returned as present.
        k = g.op("Concat", [past_name(i, "key"), k], scope, outputs=[present_name(i, "key")], axis=-2)
        v = g.op("Concat", [past_name(i, "value"), v], scope, outputs=[present_name(i, "value")], axis=-2)
    n_rep = cfg.heads // cfg.kv_heads
    k = _repeat_kv(g, k, n_rep, scope)
    v = _repeat_kv(g, v, n_rep, scope)
    kt = g.op("Transpose", [k], scope, perm=[0, 1, 3, 2])
    scores = g.op("MatMul", [q, kt], scope)
    scores = g.op("Div", [scores, g.f32(math.sqrt(d), scope)], scope)
    # causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
    kshape = g.op("Shape", [k], scope)
    klen = g.unsqueeze(g.dim(kshape, 2, scope), [0], scope)
    m = g.slice(mask, g.i64([0], scope), klen, g.i64([3], scope), g.i64([1], scope), scope)
    scores = g.op("Add", [scores, m], scope)
    scores = g.op("Cast", [scores], scope, to=TensorProto.FLOAT)  # softmax(..., dtype=float32)
    probs = g.op("Softmax", [scores], scope, axis=-1)
    out = g.op("MatMul", [probs, v], scope)
    out = g.op("Transpose", [out], scope, perm=[0, 2, 1, 3])
    shape = g.op("Concat", [g.unsqueeze(b, [0], scope), g.unsqueeze(s, [0], scope), g.i64([-1], scope)],
                 scope, axis=0)
    out = g.op("Reshape", [out, shape], scope)
    return _linear(g, out, f"{p}.o_proj.weight", f"{scope}/o_proj")


def _mlp(g: GraphBuilder, x: str, i: int) -> str:
    scope = f"/model/layers.{i}/mlp"
    p = f"model.layers.{i}.mlp"
    gate = _linear(g, x, f"{p}.gate_proj.weight", f"{scope}/gate_proj")
    act_scope = f"{scope}/act_fn"
    act = g.op("Mul", [gate, g.op("Sigmoid", [gate], act_scope)], act_scope)
    up = _linear(g, x, f"{p}.up_proj.weight", f"{scope}/up_proj")
    return _linear(g, g.op("Mul", [act, up], scope), f"{p}.down_proj.weight", f"{scope}/down_proj")


def _causal_mask(g: GraphBuilder, cfg: LlamaConfig, b: str, s: str, cache_position: str) -> str:
    """HF LlamaModel._update_causal_mask (eager) -> float mask [b, 1, s, t]."""
    scope = "/model"
    if cfg.attention_mask:
        t = g.dim(g.op("Shape", ["attention_mask"], scope), 1, scope)  # attention_mask.shape[-1]
    else:
        t = g.op("Add", [s, g.i64(1, scope)], scope)  # past_seen_tokens + sequence_length + 1
    full_shape = g.op("Concat", [g.unsqueeze(s, [0], scope), g.unsqueeze(t, [0], scope)], scope, axis=0)
    full = g.op("ConstantOfShape", [full_shape], scope,
                value=numpy_helper.from_array(np.array([FLOAT_MIN], dtype=np.float32)))
    triu = g.op("Trilu", [full, g.i64(1, scope)], scope, upper=1)
    arange_t = g.op("Range", [g.i64(0, scope), t, g.i64(1, scope)], scope)
    cp = g.op("Reshape", [cache_position, g.i64([-1, 1], scope)], scope)
    gt = g.op("Greater", [arange_t, cp], scope)
    cm = g.op("Mul", [triu, g.op("Cast", [gt], scope, to=TensorProto.FLOAT)], scope)
    cm = g.unsqueeze(cm, [0, 1], scope)
    cm = g.expand(cm, [g.unsqueeze(b, [0], scope), g.i64([1], scope), g.i64([-1], scope), g.i64([-1], scope)], scope)
    if not cfg.attention_mask:
        return cm
    mask_len = g.dim(g.op("Shape", ["attention_mask"], scope), 1, scope)
    cm_sl = g.slice(cm, g.i64([0], scope), g.unsqueeze(mask_len, [0], scope), g.i64([3], scope),
                    g.i64([1], scope), scope)
    am = g.unsqueeze("attention_mask", [1, 2], scope)
    am = g.op("Cast", [am], scope, to=TensorProto.FLOAT)
    pad = g.op("Add", [cm_sl, am], scope)
    pad = g.op("Equal", [pad, g.f32(0.0, scope)], scope)
    return g.op("Where", [pad, g.f32(FLOAT_MIN, scope), cm_sl], scope)


def _rotary(g: GraphBuilder, position_ids: str) -> Tuple[str, str]:
    """HF LlamaRotaryEmbedding.forward -> cos, sin [1, s, head_dim]."""
    scope = "/model/rotary_emb"
    inv = g.unsqueeze("model.rotary_emb.inv_freq", [0, 2], scope)  # inv_freq[None, :, None]
    pb = g.dim(g.op("Shape", [position_ids], scope), 0, scope)
    inv = g.expand(inv, [g.unsqueeze(pb, [0], scope), g.i64([-1], scope), g.i64([1], scope)], scope)
    pos = g.unsqueeze(position_ids, [1], scope)  # position_ids[:, None, :].float()
    pos = g.op("Cast", [pos], scope, to=TensorProto.FLOAT)
    freqs = g.op("MatMul", [inv, pos], scope)
    freqs = g.op("Transpose", [freqs], scope, perm=[0, 2, 1])
    emb = g.op("Concat", [freqs, freqs], scope, axis=-1)
    cos = g.op("Mul", [g.op("Cos", [emb], scope), g.f32(1.0, scope)], scope)  # * attention_scaling
    sin = g.op("Mul", [g.op("Sin", [emb], scope), g.f32(1.0, scope)], scope)
    return cos, sin


def build_graph_nodes(cfg: LlamaConfig) -> List[onnx.NodeProto]:
    g = GraphBuilder(cfg.opset)
    x = g.op("Gather", ["model.embed_tokens.weight", "input_ids"], "/model/embed_tokens", axis=0)
    scope = "/model"
    ids_shape = g.op("Shape", ["input_ids"], scope)
    b = g.dim(ids_shape, 0, scope)
    s = g.dim(g.op("Shape", [x], scope), 1, scope)  # inputs_embeds.shape[1]
    if cfg.with_past:
        # past_seen_tokens = past_key_values.get_seq_length(); the positions are an input.
        past = g.dim(g.op("Shape", [past_name(0, "key")], scope), 2, scope)
        cache_position = g.op("Range", [past, g.op("Add", [past, s], scope), g.i64(1, scope)], scope)
        position_ids = "position_ids"
    else:
        cache_position = g.op("Range", [g.i64(0, scope), s, g.i64(1, scope)], scope)
        position_ids = g.unsqueeze(cache_position, [0], scope)
    mask = _causal_mask(g, cfg, b, s, cache_position)
    cos, sin = _rotary(g, position_ids)
    for i in range(cfg.layers):
        lscope = f"/model/layers.{i}"
        p = f"model.layers.{i}"
        hn = _rms_norm(g, cfg, x, f"{p}.input_layernorm.weight", f"{lscope}/input_layernorm")
        x = g.op("Add", [x, _attention(g, cfg, hn, cos, sin, mask, i)], lscope)
        hn = _rms_norm(g, cfg, x, f"{p}.post_attention_layernorm.weight", f"{lscope}/post_attention_layernorm")
        x = g.op("Add", [x, _mlp(g, hn, i)], lscope)
    x = _rms_norm(g, cfg, x, "model.norm.weight", "/model/norm")
    if cfg.tie_embeddings:
        w = g.op("Transpose", ["model.embed_tokens.weight"], "/lm_head", perm=[1, 0])
    else:
        w = "lm_head.weight"
    g.op("MatMul", [x, w], "/lm_head", outputs=["logits"])
    return g.nodes


# optimum's names and symbolic dims for --task text-generation-with-past.
BATCH_DIM = "batch_size"
SEQUENCE_DIM = "sequence_length"
PAST_DIM = "past_sequence_length"
TOTAL_DIM = "past_sequence_length + sequence_length"


def past_name(layer: int, kind: str) -> str:
    return f"past_key_values.{layer}.{kind}"


def present_name(layer: int, kind: str) -> str:
    return f"present.{layer}.{kind}"


def graph_inputs_outputs(cfg: LlamaConfig) -> Tuple[List[onnx.ValueInfoProto], List[onnx.ValueInfoProto]]:
    if not cfg.with_past:
        inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])]
        if cfg.attention_mask:
            inputs.append(helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]))
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", cfg.vocab])]
        return inputs, outputs
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [BATCH_DIM, SEQUENCE_DIM]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [BATCH_DIM, TOTAL_DIM]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, [BATCH_DIM, SEQUENCE_DIM])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [BATCH_DIM, SEQUENCE_DIM, cfg.vocab])]
    for i in range(cfg.layers):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(
                past_name(i, kind), TensorProto.FLOAT, [BATCH_DIM, cfg.kv_heads, PAST_DIM, cfg.head_dim]))
            outputs.append(helper.make_tensor_value_info(
                present_name(i, kind), TensorProto.FLOAT, [BATCH_DIM, cfg.kv_heads, TOTAL_DIM, cfg.head_dim]))
    return inputs, outputs


def _external_tensor(name: str, arr: np.ndarray, location: str, offset: int) -> TensorProto:
    t = TensorProto()
    t.name = name
    t.data_type = helper.np_dtype_to_tensor_dtype(arr.dtype)
    t.dims.extend(arr.shape)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(arr.nbytes))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def build_model(cfg: LlamaConfig, external_data_file=None, external_location: Optional[str] = None,
                weights: Optional[Iterator[Tuple[str, np.ndarray]]] = None,
                doc_string: str = "Llama-style decoder generated by scripts/gen_llama_onnx.py (random weights)"
                ) -> onnx.ModelProto:
    """Build the ModelProto.

    ``weights`` yields (name, float32 array) in :func:`weight_specs` order (a real model's,
    e.g. scripts/get_smollm2.py); by default the random :func:`generate_weights`.

    With ``external_data_file`` (a binary file object opened for writing, positioned at 0) every
    initializer of at least EXTERNAL_SIZE_THRESHOLD bytes is streamed into it as it is generated
    and referenced with ``location=external_location`` (the layout onnx.save_model(...,
    save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=1024) produces:
    tensors in initializer order, contiguous, no padding), so only one weight is in memory at a
    time. Without it, weights are stored inline as raw_data.
    """
    cfg.validate()
    inputs, outputs = graph_inputs_outputs(cfg)
    nodes = build_graph_nodes(cfg)
    graph = helper.make_graph(nodes, "main_graph", inputs, outputs)

    offset = 0
    specs = weight_specs(cfg)
    given = generate_weights(cfg) if weights is None else weights
    index = -1
    for index, (name, arr) in enumerate(given):
        if index >= len(specs) or (name, tuple(arr.shape)) != specs[index][:2]:
            expected = specs[index][:2] if index < len(specs) else "no more weights"
            raise ValueError(f"weight {index}: got {name} {tuple(arr.shape)}, expected {expected}")
        if arr.dtype != np.float32:
            raise ValueError(f"{name}: weights must be float32, got {arr.dtype}")
        if external_data_file is not None and arr.nbytes >= EXTERNAL_SIZE_THRESHOLD:
            graph.initializer.append(_external_tensor(name, arr, external_location, offset))
            external_data_file.write(memoryview(np.ascontiguousarray(arr)).cast("B"))
            offset += arr.nbytes
        else:
            graph.initializer.append(numpy_helper.from_array(arr, name))
        del arr
    if index + 1 != len(specs):
        raise ValueError(f"got {index + 1} weights, expected {len(specs)}")
    graph.initializer.append(numpy_helper.from_array(inv_freq(cfg), "model.rotary_emb.inv_freq"))

    opset = [helper.make_opsetid("", cfg.opset)]
    model = helper.make_model(graph, opset_imports=opset, producer_name="qaf-gen_llama_onnx",
                              producer_version="1")
    model.ir_version = helper.find_min_ir_version_for(opset)
    model.doc_string = doc_string
    helper.set_model_props(model, {CONFIG_METADATA_KEY: cfg.to_json()})
    return model


def save(cfg: LlamaConfig, path: str, external_data: bool = False, **build_options) -> onnx.ModelProto:
    """Generate and write the model to ``path`` (and ``path + '.data'`` with external data).

    ``build_options`` go to :func:`build_model` (``weights``, ``doc_string``)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if external_data:
        location = os.path.basename(path) + ".data"
        with open(os.path.join(os.path.dirname(path), location), "wb") as f:
            model = build_model(cfg, f, location, **build_options)
        onnx.save_model(model, path)
    else:
        model = build_model(cfg, **build_options)
        stale = path + ".data"
        if os.path.exists(stale):
            os.remove(stale)
        onnx.save_model(model, path)
    return model


# --------------------------------------------------------------------------- loading

def load_config(path: str) -> LlamaConfig:
    model = onnx.load(path, load_external_data=False)
    for prop in model.metadata_props:
        if prop.key == CONFIG_METADATA_KEY:
            return LlamaConfig.from_json(prop.value)
    raise ValueError(f"{path}: no '{CONFIG_METADATA_KEY}' metadata (not made by gen_llama_onnx.py?)")


def load_weights(path: str) -> Dict[str, np.ndarray]:
    """name -> array for every initializer; external data is memory-mapped, not copied."""
    model = onnx.load(path, load_external_data=False)
    base = os.path.dirname(os.path.abspath(path))
    out: Dict[str, np.ndarray] = {}
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            dtype = helper.tensor_dtype_to_np_dtype(t.data_type)
            shape = tuple(t.dims)
            count = int(np.prod(shape)) if shape else 1
            out[t.name] = np.memmap(os.path.join(base, info["location"]), dtype=dtype, mode="r",
                                    offset=int(info.get("offset", 0)), shape=(count,)).reshape(shape)
        else:
            out[t.name] = numpy_helper.to_array(t)
    return out


# --------------------------------------------------------------------------- numpy reference

def _np_rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    var = np.mean(x * x, axis=-1, keepdims=True)
    return w * (x / np.sqrt(var + np.float32(eps)))


def _np_rotate_half(x: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference_forward(cfg: LlamaConfig, w: Dict[str, np.ndarray], input_ids: np.ndarray,
                      attention_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Llama forward in plain numpy (float32), written from the model math, not the graph."""
    f32 = np.float32
    bsz, seq = input_ids.shape
    nh, kvh, d = cfg.heads, cfg.kv_heads, cfg.head_dim
    x = np.asarray(w["model.embed_tokens.weight"])[input_ids].astype(f32)

    pos = np.arange(seq, dtype=f32)
    freqs = np.outer(pos, inv_freq(cfg)).astype(f32)  # [s, d/2]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)  # [s, d], broadcast over [b, h, s, d]

    neg = f32(FLOAT_MIN)
    allowed = np.tril(np.ones((seq, seq), dtype=bool))[None, None]  # [1, 1, s, s]
    if attention_mask is not None:
        allowed = allowed & (attention_mask[:, None, None, :] != 0)
    mask = np.where(allowed, f32(0.0), neg).astype(f32)
    mask = np.broadcast_to(mask, (bsz, 1, seq, seq))

    for i in range(cfg.layers):
        p = f"model.layers.{i}"
        hn = _np_rms_norm(x, w[f"{p}.input_layernorm.weight"], cfg.eps)
        q = hn @ w[f"{p}.self_attn.q_proj.weight"]
        k = hn @ w[f"{p}.self_attn.k_proj.weight"]
        v = hn @ w[f"{p}.self_attn.v_proj.weight"]
        if cfg.qkv_bias:
            q = q + w[f"{p}.self_attn.q_proj.bias"]
            k = k + w[f"{p}.self_attn.k_proj.bias"]
            v = v + w[f"{p}.self_attn.v_proj.bias"]
        q = q.reshape(bsz, seq, nh, d).transpose(0, 2, 1, 3)
        k = k.reshape(bsz, seq, kvh, d).transpose(0, 2, 1, 3)
        v = v.reshape(bsz, seq, kvh, d).transpose(0, 2, 1, 3)
        q = q * cos + _np_rotate_half(q) * sin
        k = k * cos + _np_rotate_half(k) * sin
        k = np.repeat(k, nh // kvh, axis=1)  # head j uses kv head j // n_rep
        v = np.repeat(v, nh // kvh, axis=1)
        scores = (q @ k.transpose(0, 1, 3, 2)) / f32(math.sqrt(d)) + mask
        attn = _np_softmax(scores) @ v  # [b, h, s, d]
        attn = attn.transpose(0, 2, 1, 3).reshape(bsz, seq, nh * d)
        x = x + attn @ w[f"{p}.self_attn.o_proj.weight"]
        hn = _np_rms_norm(x, w[f"{p}.post_attention_layernorm.weight"], cfg.eps)
        gate = hn @ w[f"{p}.mlp.gate_proj.weight"]
        act = gate / (f32(1.0) + np.exp(-gate))
        x = x + (act * (hn @ w[f"{p}.mlp.up_proj.weight"])) @ w[f"{p}.mlp.down_proj.weight"]
    x = _np_rms_norm(x, w["model.norm.weight"], cfg.eps)
    lm = w["model.embed_tokens.weight"].T if cfg.tie_embeddings else w["lm_head.weight"]
    return (x @ lm).astype(f32)


# --------------------------------------------------------------------------- checking

def make_inputs(cfg: LlamaConfig, batch: int, seq: int, seed: int = 1,
                with_mask: Optional[bool] = None) -> Dict[str, np.ndarray]:
    """Random token ids; attention_mask with left padding (row r has min(r, seq - 1) zeros).

    A --with-past model also gets position_ids 0..seq-1 and an empty past (length 0).
    """
    rng = np.random.default_rng(seed + 1000 * batch + seq)
    feeds = {"input_ids": rng.integers(0, cfg.vocab, size=(batch, seq), dtype=np.int64)}
    if cfg.attention_mask if with_mask is None else with_mask:
        mask = np.ones((batch, seq), dtype=np.int64)
        for r in range(batch):
            mask[r, :min(r, seq - 1)] = 0
        feeds["attention_mask"] = mask
    if cfg.with_past:
        feeds["position_ids"] = np.broadcast_to(np.arange(seq, dtype=np.int64), (batch, seq)).copy()
        feeds.update(empty_past(cfg, batch))
    return feeds


def empty_past(cfg: LlamaConfig, batch: int) -> Dict[str, np.ndarray]:
    """past_key_values.{i}.key/value of length 0: the feeds of a prefill."""
    empty = np.zeros((batch, cfg.kv_heads, 0, cfg.head_dim), dtype=np.float32)
    return {past_name(i, kind): empty for i in range(cfg.layers) for kind in ("key", "value")}


def check_cache_decoding(sess, cfg: LlamaConfig, feeds: Dict[str, np.ndarray], full: List[np.ndarray],
                         prefill: int, tol: float) -> float:
    """Prefill `prefill` tokens, then decode the rest one at a time feeding present back as past;
    every step's logits and the final present must equal the full run's (`full`: the outputs of
    one call on the whole sequence) at the positions the attention mask keeps (a padding query
    attends to nothing, so its row depends on how long the keys are). Returns the max abs
    difference."""
    names = [o.name for o in sess.get_outputs()]
    seq = feeds["input_ids"].shape[1]
    past = empty_past(cfg, feeds["input_ids"].shape[0])
    worst = 0.0
    start = 0
    for stop in [prefill] + list(range(prefill + 1, seq + 1)):
        step = {"input_ids": feeds["input_ids"][:, start:stop],
                "attention_mask": feeds["attention_mask"][:, :stop],
                "position_ids": feeds["position_ids"][:, start:stop], **past}
        outs = dict(zip(names, sess.run(names, step)))
        kept = feeds["attention_mask"][:, start:stop] != 0
        worst = max(worst, float(np.max(np.abs(outs["logits"] - full[0][:, start:stop])[kept])))
        past = {past_name(i, kind): outs[present_name(i, kind)]
                for i in range(cfg.layers) for kind in ("key", "value")}
        start = stop
    for name, value in zip(names[1:], full[1:]):
        present = outs[name]
        assert present.shape == value.shape, (name, present.shape, value.shape)
        kept = feeds["attention_mask"] != 0  # [batch, seq] -> present [batch, kv_heads, seq, head_dim]
        worst = max(worst, float(np.max(np.abs(present - value).transpose(0, 2, 1, 3)[kept])))
    if worst >= tol:
        raise AssertionError(f"prefill {prefill} + decode differs from the full run by {worst} "
                             f"(tolerance {tol})")
    return worst


def ort_session(path: str, optimize: bool = True, threads: int = 0):
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if threads:
        so.intra_op_num_threads = threads
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def check_model_file(path: str, cfg: Optional[LlamaConfig] = None,
                     shapes: Sequence[Tuple[int, int]] = ((1, 7), (3, 16)), tol: float = 1e-4,
                     log=print) -> float:
    """full_check + ORT at several (batch, seq) + comparison with the numpy reference.

    Returns the max abs difference; raises AssertionError if it exceeds tol.
    """
    cfg = cfg or load_config(path)
    t0 = time.perf_counter()
    onnx.checker.check_model(path, full_check=True)
    log(f"onnx.checker.check_model(full_check=True): ok ({time.perf_counter() - t0:.2f} s)")
    t0 = time.perf_counter()
    sess = ort_session(path)
    log(f"onnxruntime session created ({time.perf_counter() - t0:.2f} s)")
    names = [i.name for i in sess.get_inputs()]
    weights = load_weights(path)
    worst = 0.0
    for batch, seq in shapes:
        feeds = make_inputs(cfg, batch, seq)
        assert sorted(feeds) == sorted(names), (sorted(feeds), names)
        outputs = sess.run(None, feeds)
        logits = outputs[0]
        assert logits.shape == (batch, seq, cfg.vocab), logits.shape
        assert np.all(np.isfinite(logits)), "non-finite logits"
        ref = reference_forward(cfg, weights, feeds["input_ids"], feeds.get("attention_mask"))
        diff = float(np.max(np.abs(logits.astype(np.float64) - ref)))
        worst = max(worst, diff)
        log(f"  batch={batch} seq={seq}: logits {logits.shape} mean={logits.mean():+.5f} "
            f"std={logits.std():.5f} min={logits.min():+.5f} max={logits.max():+.5f} "
            f"| max|ort - numpy ref|={diff:.3g}")
        if diff >= tol:
            raise AssertionError(f"ORT and numpy reference differ by {diff} (tolerance {tol})")
        if cfg.with_past and seq > 1:
            prefill = seq // 2
            cache_diff = check_cache_decoding(sess, cfg, feeds, outputs, prefill, tol)
            worst = max(worst, cache_diff)
            log(f"  batch={batch} seq={seq}: prefill {prefill} + {seq - prefill} decode steps with "
                f"the cache | max|cached - full|={cache_diff:.3g}")
    return worst


# --------------------------------------------------------------------------- CLI

def config_from_args(args: argparse.Namespace) -> LlamaConfig:
    values: Dict[str, object] = {}
    if args.preset:
        values.update(PRESETS[args.preset])
    for field in ("vocab", "hidden", "layers", "heads", "kv_heads", "intermediate", "rope_theta", "eps",
                  "seed", "opset", "rsqrt", "init_std"):
        v = getattr(args, field)
        if v is not None:
            values[field] = v
    values["attention_mask"] = args.attention_mask
    values["tie_embeddings"] = args.tie_embeddings
    values["qkv_bias"] = args.qkv_bias
    values["with_past"] = args.with_past
    cfg = LlamaConfig(**values)
    cfg.validate()
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True, help="output .onnx path")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="tiny (default sizes) or 135m (SmolLM-135M-like)")
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--kv-heads", type=int)
    ap.add_argument("--intermediate", type=int)
    ap.add_argument("--rope-theta", type=float)
    ap.add_argument("--eps", type=float)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--init-std", type=float,
                    help=f"std of the projection/embedding weights (default {DEFAULT_INIT_STD}; "
                         f"the tests use {TEST_INIT_STD}, for attention far from uniform)")
    ap.add_argument("--opset", type=int, help="ONNX opset (default 17; ReduceMean takes axes as input from 18)")
    ap.add_argument("--rsqrt", choices=["div", "reciprocal"], help="RMSNorm 1/sqrt as Div(1, .) (default) or Reciprocal")
    ap.add_argument("--attention-mask", action=argparse.BooleanOptionalAction, default=True,
                    help="add the attention_mask input folded into the causal mask (default on)")
    ap.add_argument("--tie-embeddings", action="store_true", help="lm_head = Transpose(embed_tokens.weight)")
    ap.add_argument("--qkv-bias", action="store_true", help="Qwen2-style q/k/v projection biases")
    ap.add_argument("--with-past", action="store_true",
                    help="optimum's text-generation-with-past interface: position_ids and "
                         "past_key_values.{i}.key/value inputs, present.{i}.key/value outputs")
    ap.add_argument("--external-data", action="store_true",
                    help="store weights (>= 1 KiB) in one external file <output>.data")
    ap.add_argument("--check", action="store_true",
                    help="full_check, run onnxruntime at two batch/sequence sizes, compare with numpy")
    args = ap.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except (ValueError, TypeError) as e:
        ap.error(str(e))

    t0 = time.perf_counter()
    model = save(cfg, args.output, external_data=args.external_data)
    dt = time.perf_counter() - t0
    nparams = parameter_count(cfg)
    print(f"wrote {args.output}{' (+ ' + os.path.basename(args.output) + '.data)' if args.external_data else ''}: "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers, {nparams:,} parameters "
          f"({nparams * 4 / 1e6:.1f} MB fp32), opset {cfg.opset}, {dt:.2f} s")
    if args.check:
        del model
        try:
            worst = check_model_file(args.output, cfg)
        except AssertionError as e:
            print(f"CHECK FAILED: {e}", file=sys.stderr)
            return 1
        print(f"check passed: max |ort - numpy ref| = {worst:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
