#!/usr/bin/env python3
"""Whole-model gradients of the adapter parameters against float64 finite
differences of an ONNX Runtime forward.

For each of LoRA, QA-LoRA, QA-HiRA, Q-BaRA and L4Q on the generated tiny
decoder (scripts/gen_llama_onnx.py, 2 layers, every linear layer adapted):

qaf's gradient: `qaf-compile --method=M --emit=train` with
`lr=0 beta1=0 weight-decay=0 max-grad-norm=0`, the parameters patched to
random values θ (the output-side factors start at zero, which would leave
the input-side ones without a gradient), then one `qaf-run train` step on
two windows of a token file taken in file order. With β1 = 0, AdamW's first
moment after the step is the gradient itself, and the checkpoint holds it
(`<name>.exp_avg`); lr = 0 leaves θ unchanged, which is checked.

The oracle: the test rewrites the generated ONNX graph in float64 with
onnx.helper, independently of qaf's code: each adapted MatMul multiplies by
the base dequantized in numpy from the codes, scales and zero points qaf
wrote (METHODS.md §0: w = s·(q − z)) and adds the adapter path as
METHODS.md §3, §4, §6 write it (LoRA: (α/r)·B·A·x; QA-LoRA: x pooled over
each quantization group; QA-HiRA: α·RepeatRows_λout(M·x̄); Q-BaRA:
(α/r)·RepeatRows_λ(B·A·AvgPool_λ(x))), with the parameters as inputs. The
causal-LM loss (mean over the labelled tokens) is computed in numpy from
ONNX Runtime's float64 logits. Central differences along random directions
(all parameters at once, then each kind of parameter alone) are compared
with qaf's gradient contracted with the direction, and qaf's loss at θ
with the oracle's.

L4Q's forward rounds (w̃ = round(clamp(u))), so its loss is piecewise
constant in A and B and finite differences of it say nothing. The test
compares with METHODS.md §2's straight-through closed form instead: it
forms, in numpy, the STE tangent T of each layer's W_q along the direction
(M⊙α·(dB·A + B·dA) + ds⊙(M ? w̃ − u : w̃) + dβ⊙(1 − M), M = [Q_N ≤ u ≤ Q_P])
and takes central differences of the ONNX Runtime loss along W_q ± ε·T
(W_q = s·w̃ + β computed in numpy, the layers' weights inputs of the
graph): ⟨∂L/∂W_q, T⟩, which is the STE gradient contracted with the
direction. The scales are shrunk at random so that some of u clips.

Exit status 0 when every comparison holds; prints `N passed, F failed`.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from e2e_support import ToolError, run  # noqa: E402
from training_support import (ParametersFile, causal_lm_loss,  # noqa: E402
                              read_safetensors, windows)

BITS, GROUP, RANK, ALPHA = 4, 32, 4, 8.0
POOL, REPEAT_OUT = 2, 2
BATCH, SEQ = 2, 16
# method -> the qaf-compile flags besides --method, --bits, --group-size,
# --rank and --alpha.
METHODS = {
    "lora": [],
    "qalora": [],
    "qahira": [f"--adapter-options=repeat-out={REPEAT_OUT}"],
    "qbara": [f"--adapter-options=pool={POOL}"],
    "l4q": [],
}
# Parameter name suffix (`<weight>.<suffix>`, README "Quantizing a model")
# -> its role in the layer.
SUFFIXES = {".lora_A": "A", ".lora_B": "B", ".qalora_A": "A", ".qalora_B": "B",
            ".qahira_M": "M", ".qbara_A": "A", ".qbara_B": "B", ".l4q_A": "A",
            ".l4q_B": "B", ".l4q_scales": "scales", ".l4q_offsets": "offsets"}
STATE_SUFFIXES = (".exp_avg", ".exp_avg_sq", ".grad_accum")
EPSILON = 1e-4
RTOL = 2e-3
ROUNDING_MARGIN = 2e-5


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def report(self, ok, message):
        print(("ok   " if ok else "FAIL ") + message, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


# ------------------------------------------------------------ the oracle

def dequantize(codes, scales, zero_points, in_features):
    """W [N, K] from packed codes (first code in the lowest bits), per
    (row, group) scales and zero points: METHODS.md §0."""
    per_byte = 8 // BITS
    shifts = np.arange(per_byte, dtype=np.uint8) * BITS
    unpacked = (codes[:, :, None] >> shifts) & ((1 << BITS) - 1)
    q = unpacked.reshape(codes.shape[0], -1)[:, :in_features].astype(np.float64)
    expand = lambda t: np.repeat(t.astype(np.float64), GROUP, axis=1)  # noqa: E731
    return expand(scales) * (q - expand(zero_points))


def to_float64(model):
    """The graph with every float32 tensor, constant, cast and type made
    float64 (ONNX Runtime runs each of the decoder's ops in double)."""
    def convert_tensor(tensor):
        if tensor.data_type == TensorProto.FLOAT:
            tensor.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(tensor).astype(np.float64), tensor.name))
    for tensor in model.graph.initializer:
        convert_tensor(tensor)
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR:
                convert_tensor(attribute.t)
            if node.op_type == "Cast" and attribute.name == "to" and \
                    attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.DOUBLE
    for value in list(model.graph.input) + list(model.graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.DOUBLE
    del model.graph.value_info[:]
    return model


class Oracle:
    """The float64 ONNX Runtime forward of the adapted decoder: each adapted
    layer's weight (dense, [K, N] as MatMul takes it) and adapter
    parameters are graph inputs."""

    def __init__(self, onnx_path, method, layers, folder):
        self.method, self.layers = method, layers
        model = to_float64(onnx.load(onnx_path))
        graph = model.graph
        matmuls = {node.input[1]: node for node in graph.node if node.op_type == "MatMul"}
        dropped = set(layers)
        kept = [t for t in graph.initializer if t.name not in dropped]
        del graph.initializer[:]
        graph.initializer.extend(kept)
        new_nodes = []
        for weight, layer in layers.items():
            node = matmuls[weight]
            base = node.output[0]
            node.output[0] = base + "/qaf_test_base"
            graph.input.append(helper.make_tensor_value_info(
                weight, TensorProto.DOUBLE, list(layer["dense"].shape)))
            # L4Q's parameters act through `dense` alone (W_q).
            for role, value in layer["parameters"].items() if method != "l4q" else ():
                graph.input.append(helper.make_tensor_value_info(
                    self.input_name(weight, role), TensorProto.DOUBLE, list(value.shape)))
            new_nodes.append((node, self.adapter_nodes(weight, layer, node.input[0],
                                                       node.output[0], base)))
        # Each adapter's nodes go right after its MatMul (topological order).
        nodes = list(graph.node)
        del graph.node[:]
        extra = {id(node): added for node, added in new_nodes}
        for node in nodes:
            graph.node.append(node)
            graph.node.extend(extra.get(id(node), []))
        onnx.checker.check_model(model)
        path = os.path.join(folder, f"{method}-oracle.onnx")
        onnx.save(model, path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        # Unoptimised: ONNX Runtime's fusions (QuickGelu, ...) have float
        # kernels only.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = onnxruntime.InferenceSession(path, options,
                                                    providers=["CPUExecutionProvider"])

    @staticmethod
    def input_name(weight, role):
        return f"{weight}/{role}"

    def adapter_nodes(self, weight, layer, x, base, output):
        """Nodes adding the adapter path to `base` into `output`."""
        if self.method == "l4q":
            return [helper.make_node("Identity", [base], [output])]
        k, n = layer["dense"].shape
        p = lambda name: f"{weight}/qaf_test/{name}"  # noqa: E731
        nodes = []

        def const(name, array):
            nodes.append(helper.make_node("Constant", [], [p(name)],
                                          value=numpy_helper.from_array(array, p(name))))
            return p(name)

        def pooled(width):
            """x averaged over each `width` consecutive input features."""
            shape = const("pool_shape", np.array([0, 0, k // width, width], np.int64))
            nodes.append(helper.make_node("Reshape", [x, shape], [p("grouped")]))
            nodes.append(helper.make_node("ReduceMean", [p("grouped")], [p("pooled")],
                                          axes=[-1], keepdims=0))
            return p("pooled")

        def times_transposed(value, role, name):
            """value · Pᵀ for the parameter P of `role`."""
            nodes.append(helper.make_node("Transpose", [self.input_name(weight, role)],
                                          [p(role + "_T")], perm=[1, 0]))
            nodes.append(helper.make_node("MatMul", [value, p(role + "_T")], [p(name)]))
            return p(name)

        def repeated_rows(value, rows, times):
            """Each of the `rows` last-axis entries repeated `times` times
            in a row (RepeatRows of METHODS.md)."""
            axes = const("unsqueeze_axes", np.array([-1], np.int64))
            nodes.append(helper.make_node("Unsqueeze", [value, axes], [p("unsqueezed")]))
            tile = const("tile", np.array([1, 1, 1, times], np.int64))
            nodes.append(helper.make_node("Tile", [p("unsqueezed"), tile], [p("tiled")]))
            shape = const("repeat_shape", np.array([0, 0, rows * times], np.int64))
            nodes.append(helper.make_node("Reshape", [p("tiled"), shape], [p("repeated")]))
            return p("repeated")

        if self.method == "lora":
            update = times_transposed(times_transposed(x, "A", "xa"), "B", "xab")
            scale = ALPHA / RANK
        elif self.method == "qalora":
            update = times_transposed(times_transposed(pooled(GROUP), "A", "xa"), "B", "xab")
            scale = ALPHA / RANK
        elif self.method == "qahira":
            update = repeated_rows(times_transposed(pooled(GROUP), "M", "xm"),
                                   n // REPEAT_OUT, REPEAT_OUT)
            scale = ALPHA
        elif self.method == "qbara":
            update = repeated_rows(
                times_transposed(times_transposed(pooled(POOL), "A", "xa"), "B", "xab"),
                n // POOL, POOL)
            scale = ALPHA / RANK
        else:
            raise ValueError(self.method)
        scale_name = const("scale", np.array(scale, np.float64))
        nodes.append(helper.make_node("Mul", [update, scale_name], [p("scaled")]))
        nodes.append(helper.make_node("Add", [base, p("scaled")], [output]))
        return nodes

    def loss(self, ids, labels, dense, parameters):
        feeds = {"input_ids": ids}
        for weight in self.layers:
            feeds[weight] = dense[weight]
            if self.method != "l4q":
                for role, value in parameters[weight].items():
                    feeds[self.input_name(weight, role)] = value
        logits = self.session.run(["logits"], feeds)[0]
        return causal_lm_loss(logits, labels)


# ---------------------------------------------------- L4Q's straight-through form

def l4q_forward(w0, a, b, scales, offsets):
    """u, w̃ and W_q [N, K] of METHODS.md §2 with LoRA multiplier α/r (the
    option qaf documents: `--alpha` is LoRA's α), in float64."""
    expand = lambda t: np.repeat(t, GROUP, axis=1)  # noqa: E731
    q_n, q_p = -2.0 ** (BITS - 1), 2.0 ** (BITS - 1) - 1
    combined = w0.T + (ALPHA / RANK) * b @ a
    u = (combined - expand(offsets)) / expand(scales)
    codes = np.round(np.clip(u, q_n, q_p))
    return u, codes, expand(scales) * codes + expand(offsets), (u >= q_n) & (u <= q_p)


def l4q_tangent(w0, theta, direction):
    """The STE derivative of W_q along `direction` (METHODS.md §2)."""
    expand = lambda t: np.repeat(t, GROUP, axis=1)  # noqa: E731
    u, codes, _, inside = l4q_forward(w0, theta["A"], theta["B"], theta["scales"],
                                      theta["offsets"])
    through = (ALPHA / RANK) * (direction["B"] @ theta["A"] + theta["B"] @ direction["A"])
    return (np.where(inside, through, 0.0)
            + expand(direction["scales"]) * np.where(inside, codes - u, codes)
            + expand(direction["offsets"]) * np.where(inside, 0.0, 1.0))


# ------------------------------------------------------------ one method

def random_parameters(rng, initial, initializers):
    """θ: random values in the parameters' shapes. L4Q: scales shrunk by
    0.6..1.1 so that some values clip, offsets a fraction of a step, and
    each layer drawn again while some u lies within ROUNDING_MARGIN of a
    rounding or clamping edge, where qaf's float32 u and the oracle's
    float64 u could round to different codes."""
    theta = {}
    for name, value in initial.items():
        weight, role = role_of(name)
        if role in ("scales", "offsets"):
            continue
        theta[name] = (rng.standard_normal(value.shape) * 0.2).astype(np.float32)
    for name, value in initial.items():
        weight, role = role_of(name)
        if role != "scales":
            continue
        while True:
            scales = (value * rng.uniform(0.6, 1.1, value.shape)).astype(np.float32)
            offsets = (value * rng.uniform(-0.3, 0.3, value.shape)).astype(np.float32)
            u = l4q_forward(initializers[weight].astype(np.float64),
                            theta[weight + ".l4q_A"].astype(np.float64),
                            theta[weight + ".l4q_B"].astype(np.float64),
                            scales.astype(np.float64), offsets.astype(np.float64))[0]
            q_n, q_p = -2.0 ** (BITS - 1), 2.0 ** (BITS - 1) - 1
            distance = np.minimum(np.abs(np.abs(u - np.floor(u)) - 0.5),
                                  np.minimum(np.abs(u - q_n), np.abs(u - q_p)))
            if distance.min() > ROUNDING_MARGIN:
                break
        theta[name], theta[weight + ".l4q_offsets"] = scales, offsets
    return theta


def role_of(name):
    for suffix, role in SUFFIXES.items():
        if name.endswith(suffix):
            return name[:-len(suffix)], role
    raise ValueError(f"unexpected trainable parameter {name}")


def check_method(args, checks, folder, onnx_path, tokens_path, tokens, method, rng):
    artifact = os.path.join(folder, method)
    start = time.time()
    run([args.qaf_compile, onnx_path, f"--method={method}", f"--bits={BITS}",
         f"--group-size={GROUP}", f"--rank={RANK}", f"--alpha={ALPHA}", *METHODS[method],
         "--emit=train",
         "--train-options=lr=0 beta1=0 weight-decay=0 max-grad-norm=0 total-steps=1",
         "--target=cpu", "-o", artifact], timeout=600)
    compile_seconds = time.time() - start
    parameters = ParametersFile(os.path.join(artifact, "parameters.safetensors"))
    trainable = {name: value for name, value in parameters.values.items()
                 if not name.endswith(STATE_SUFFIXES)}
    initializers = {t.name: numpy_helper.to_array(t)
                    for t in onnx.load(onnx_path).graph.initializer}
    theta = random_parameters(rng, trainable, initializers)
    parameters.write(theta)

    checkpoints = os.path.join(folder, method + "-ckpt")
    log = os.path.join(folder, method + ".jsonl")
    run([args.qaf_run, "train", artifact, "--data", tokens_path, "--batch", str(BATCH),
         "--seq-len", str(SEQ), "--steps", "1", "--sequential", "--threads", "2",
         "--ckpt-dir", checkpoints, "--log", log], timeout=300)
    trained = read_safetensors(os.path.join(checkpoints, "step-00000001.safetensors"))
    qaf_loss = json.loads(open(log).readline())["loss"]
    checks.report(all(np.array_equal(trained[name], theta[name]) for name in theta),
                  f"{method}: lr = 0 leaves the {len(theta)} trainable tensors as they were")
    gradient = {name: trained[name + ".exp_avg"].astype(np.float64) for name in theta}

    # The layers, by the MatMul weight each adapter belongs to.
    weights = read_safetensors(os.path.join(artifact, "weights.safetensors"))
    layers = {}
    for name, value in theta.items():
        weight, role = role_of(name)
        layer = layers.setdefault(weight, {"parameters": {}, "names": {}})
        layer["parameters"][role] = value.astype(np.float64)
        layer["names"][role] = name
    for weight, layer in layers.items():
        k, n = initializers[weight].shape
        if method == "l4q":
            layer["w0"] = initializers[weight].astype(np.float64)
            layer["dense"] = l4q_forward(layer["w0"], **{
                key: layer["parameters"][role] for key, role in
                (("a", "A"), ("b", "B"), ("scales", "scales"), ("offsets", "offsets"))})[2].T
        else:
            layer["dense"] = dequantize(weights[weight + ".qcodes"], weights[weight + ".scales"],
                                        weights[weight + ".zero_points"], k).T
        assert layer["dense"].shape == (k, n)
    oracle = Oracle(onnx_path, method, layers, folder)
    ids, labels = windows(tokens, BATCH, SEQ)
    dense = {weight: layer["dense"] for weight, layer in layers.items()}
    at_theta = {weight: layer["parameters"] for weight, layer in layers.items()}
    oracle_loss = oracle.loss(ids, labels, dense, at_theta)
    checks.report(abs(oracle_loss - qaf_loss) <= 1e-4 * max(1.0, abs(oracle_loss)),
                  f"{method}: loss at θ: qaf {qaf_loss:.6f}, float64 oracle {oracle_loss:.6f}")

    roles = sorted({role for layer in layers.values() for role in layer["parameters"]})
    subsets = [roles] + [[role] for role in roles] if len(roles) > 1 else [roles]
    for subset in subsets:
        direction = {weight: {role: rng.standard_normal(value.shape) if role in subset
                              else np.zeros(value.shape)
                              for role, value in layer["parameters"].items()}
                     for weight, layer in layers.items()}
        analytic = sum(float(np.sum(gradient[layer["names"][role]] * direction[weight][role]))
                       for weight, layer in layers.items() for role in layer["parameters"])
        losses = []
        for sign in (1.0, -1.0):
            if method == "l4q":
                moved_dense = {weight: layer["dense"] + sign * EPSILON * l4q_tangent(
                    layer["w0"], layer["parameters"], direction[weight]).T
                    for weight, layer in layers.items()}
                moved = at_theta
            else:
                moved_dense = dense
                moved = {weight: {role: value + sign * EPSILON * direction[weight][role]
                                  for role, value in layer["parameters"].items()}
                         for weight, layer in layers.items()}
            losses.append(oracle.loss(ids, labels, moved_dense, moved))
        numeric = (losses[0] - losses[1]) / (2 * EPSILON)
        # ⟨g, d⟩ with d ~ N(0, I) is of the order of ‖g‖ over the subset:
        # the scale that float32 rounding in qaf's sums is relative to,
        # also where the terms cancel.
        norm = math.sqrt(sum(float(np.sum(gradient[layer["names"][role]] ** 2))
                             for layer in layers.values() for role in subset))
        ok = abs(numeric - analytic) <= RTOL * max(abs(numeric), norm)
        checks.report(ok, f"{method}: d({'+'.join(subset)}): central difference {numeric:.6f}, "
                          f"qaf {analytic:.6f} (|gradient| {norm:.3f})")
    print(f"     ({method}: compiled in {compile_seconds:.0f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ", ".join(METHODS))
    args = parser.parse_args()
    checks = Checks()
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="qaf-whole-model-gradients-") as folder:
        onnx_path = os.path.join(folder, "tiny.onnx")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "scripts",
                                                     "gen_llama_onnx.py"),
                        "--preset", "tiny", "--no-attention-mask", "--init-std", "0.25",
                        "-o", onnx_path], check=True, capture_output=True)
        tokens = rng.integers(0, 256, size=BATCH * (SEQ + 1)).astype(np.int32)
        tokens_path = os.path.join(folder, "tokens.npy")
        np.save(tokens_path, tokens)
        for method in args.methods.split(","):
            check_method(args, checks, folder, onnx_path, tokens_path, tokens, method, rng)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as error:
        print(f"FAIL: {error}")
        sys.exit(1)
