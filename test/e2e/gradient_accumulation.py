#!/usr/bin/env python3
"""Gradient accumulation and clipping by the global norm against a numpy
reference.

The tiny model of train_step_gradients.py (embedding, a 4-bit quantized
projection with a LoRA adapter, tanh logits) goes through
qaf-build-training with `accumulate=2`, AdamW with weight decay, and
`max-grad-norm` off (clipping would hide a wrong mean: it rescales the
gradient to the same norm), then small enough that every step clips. train_step, untied so
that it returns the new parameters and optimizer state, runs four calls
(two optimizer steps of two micro-batches each); the test feeds each call
the state the previous one returned.

The reference, in numpy float64: the gradient of the mean causal-LM loss of
the model written out by hand (base dequantized from the codes, scales and
zero points qaf wrote, METHODS.md §0; LoRA per §6), the mean over the two
micro-batches of their mean-loss gradients (the semantics of Hugging Face
Trainer and PEFT users: each micro-batch's mean loss divided by the number
of micro-batches), scaled by min(1, max_norm / (‖g‖ + 1e-6)) as
torch.nn.utils.clip_grad_norm_, then torch.optim.AdamW's step. The first
micro-batch has a masked label, so its token count differs from the
second's: the test also checks that qaf's step is *not* the one of the
token-weighted mean over the joined batch. With equal token counts both
are the gradient of the joined batch's mean loss.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import re
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_support import ToolError, compile_model, run  # noqa: E402
from train_step_gradients import model_text, train_step_as_entry  # noqa: E402
from training_support import ParametersFile, read_safetensors  # noqa: E402
from whole_model_gradients import Checks  # noqa: E402

VOCAB, HIDDEN, RANK, ALPHA, BITS, GROUP = 16, 32, 2, 4.0, 4, 16
LR, BETA1, BETA2, EPS, WEIGHT_DECAY = 0.05, 0.9, 0.999, 1e-8, 0.1
# max-grad-norm: off (where a wrong mean would show: clipping rescales it
# away), and small enough that every step clips.
MAX_NORMS = (0.0, 0.05)
TRAINED = ("proj.lora_A", "proj.lora_B")


def dequantize(codes, scales, zero_points):
    """W [N, K] (METHODS.md §0, codes packed first in the lowest bits)."""
    shifts = np.arange(8 // BITS, dtype=np.uint8) * BITS
    q = ((codes[:, :, None] >> shifts) & ((1 << BITS) - 1)).reshape(codes.shape[0], -1)
    expand = lambda t: np.repeat(t.astype(np.float64), GROUP, axis=1)  # noqa: E731
    return expand(scales) * (q.astype(np.float64) - expand(zero_points))


def loss_and_gradient(embed, weight, theta, ids, labels):
    """The mean causal-LM loss of logits = tanh(h·Wᵀ + (α/r)·(h·Aᵀ)·Bᵀ),
    h = embed[ids], and its gradient with respect to A and B."""
    a, b = theta["proj.lora_A"], theta["proj.lora_B"]
    scale = ALPHA / RANK
    h = embed[ids]
    ha = h @ a.T
    logits = np.tanh(h @ weight.T + scale * ha @ b.T)
    shifted = logits - logits.max(-1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
    keep = labels >= 0
    count = keep.sum()
    picked = np.take_along_axis(probabilities, np.where(keep, labels, 0)[..., None], -1)[..., 0]
    loss = -np.sum(np.log(picked) * keep) / count
    one_hot = np.zeros_like(probabilities)
    np.put_along_axis(one_hot, np.where(keep, labels, 0)[..., None], 1, -1)
    d_logits = (probabilities - one_hot) * keep[..., None] / count
    d_y = d_logits * (1 - logits ** 2)
    d_b = scale * np.einsum("bsn,bsr->nr", d_y, ha)
    d_a = scale * np.einsum("bsr,bsk->rk", d_y @ b, h)
    return loss, {"proj.lora_A": d_a, "proj.lora_B": d_b}


def adamw(theta, state, gradient, step):
    """torch.optim.AdamW's step `step` (1-based), constant learning rate."""
    new_theta, new_state = {}, {}
    for name, value in theta.items():
        g = gradient[name]
        m = BETA1 * state[name + ".exp_avg"] + (1 - BETA1) * g
        v = BETA2 * state[name + ".exp_avg_sq"] + (1 - BETA2) * g * g
        decayed = value - LR * WEIGHT_DECAY * value
        new_theta[name] = decayed - LR * (m / (1 - BETA1 ** step)) / (
            np.sqrt(v / (1 - BETA2 ** step)) + EPS)
        new_state[name + ".exp_avg"], new_state[name + ".exp_avg_sq"] = m, v
    return new_theta, new_state


def clipped(gradient, max_norm):
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in gradient.values()))
    coefficient = min(1.0, max_norm / (norm + 1e-6)) if max_norm > 0 else 1.0
    return {name: g * coefficient for name, g in gradient.items()}, norm


def run_step(qaf_run, artifact, folder, ids, labels, step):
    """One train_step call (qaf-run infer on the untied entry point)."""
    os.makedirs(folder)
    command = [qaf_run, "infer", artifact, "--no-verify-weights", "--output-dir", folder]
    for name, value in (("input_ids", ids), ("labels", labels),
                        ("step", np.array(step, np.int64))):
        path = os.path.join(folder, name + ".in.npy")
        np.save(path, value)
        command += ["--input", f"{name}={path}"]
    run(command, timeout=120)
    return {entry[:-4]: np.load(os.path.join(folder, entry))
            for entry in os.listdir(folder) if entry.endswith(".npy") and ".in." not in entry}


def close(actual, expected, rtol=2e-4):
    scale = max(1e-6, float(np.max(np.abs(expected))))
    return float(np.max(np.abs(actual.astype(np.float64) - expected))) <= rtol * scale


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    checks = Checks()
    for max_norm in MAX_NORMS:
        with tempfile.TemporaryDirectory(prefix="qaf-gradient-accumulation-") as tmp:
            check_steps(args, checks, tmp, max_norm)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def check_steps(args, checks, tmp, max_norm):
    """Two optimizer steps of two micro-batches with max-grad-norm
    `max_norm`, against numpy's."""
    rng = np.random.default_rng(3)
    source = os.path.join(tmp, "model.mlir")
    with open(source, "w") as f:
        f.write(model_text(rng, VOCAB, HIDDEN))
    built = run([args.qaf_opt, source,
                 f"--qaf-quantize-weights=bits={BITS} group-size={GROUP}",
                 f"--qaf-attach-adapters=method=lora rank={RANK} alpha={ALPHA}",
                 f"--qaf-build-training=optimizer=adamw lr={LR} schedule=constant "
                 f"beta1={BETA1} beta2={BETA2} eps={EPS} weight-decay={WEIGHT_DECAY} "
                 f"max-grad-norm={max_norm} accumulate=2 total-steps=2"],
                timeout=300).stdout
    entry = os.path.join(tmp, "train_step.mlir")
    with open(entry, "w") as f:
        f.write(train_step_as_entry(built))
    artifact = os.path.join(tmp, "artifact")
    compile_model(args.qaf_compile, entry, artifact)

    weights = read_safetensors(os.path.join(artifact, "weights.safetensors"))
    # The embedding stays a constant of the code (model_text's).
    embed_hex = re.search(r'%embed = onnx.Constant \{value = dense<"0x([0-9A-F]+)">',
                          open(source).read()).group(1)
    embed = np.frombuffer(bytes.fromhex(embed_hex), "<f4").reshape(VOCAB, HIDDEN
                                                                   ).astype(np.float64)
    weight = dequantize(weights["proj.qcodes"], weights["proj.scales"],
                        weights["proj.zero_points"])
    # Untied, the trainable tensors are the artifact's parameters and the
    # optimizer state is among its weights: both files are patched with
    # what the previous call returned (the weights' hash check is off).
    files = [ParametersFile(os.path.join(artifact, name))
             for name in ("parameters.safetensors", "weights.safetensors")]
    # B starts at zero, which would leave A without a gradient.
    files[0].write({"proj.lora_B": (rng.standard_normal((VOCAB, RANK)) * 0.3
                                    ).astype(np.float32)})
    state = {name: value.astype(np.float64)
             for path in (f.path for f in files)
             for name, value in read_safetensors(path).items()
             if name.startswith(TRAINED)}

    def micro_batch(masked):
        ids = rng.integers(0, VOCAB, size=(2, 8)).astype(np.int64)
        labels = np.concatenate([ids[:, 1:], np.full((2, 1), -100)], axis=1)
        for row, column in masked:
            labels[row, column] = -100
        return ids, labels

    reference = {name: state[name] for name in TRAINED}
    reference_state = {name: state[name] for name in state if name not in TRAINED}
    call = 0
    for optimizer_step in (1, 2):
        batches = [micro_batch([(0, 2), (1, 5)]), micro_batch([])]
        gradients = [loss_and_gradient(embed, weight, reference, *batch)[1]
                     for batch in batches]
        mean_of_means = {name: (gradients[0][name] + gradients[1][name]) / 2
                         for name in TRAINED}
        joined = loss_and_gradient(embed, weight, reference,
                                   *(np.concatenate(parts) for parts in zip(*batches)))[1]
        update, norm = clipped(mean_of_means, max_norm)
        token_weighted_step = adamw(reference, reference_state,
                                    clipped(joined, max_norm)[0], optimizer_step)
        case = f"max-grad-norm={max_norm}, step {optimizer_step}"
        if max_norm:
            checks.report(norm > max_norm, f"{case}: the global norm {norm:.4f} "
                                           "exceeds max-grad-norm: it clips")
        reference, reference_state = adamw(reference, reference_state, update,
                                           optimizer_step)
        for micro, (ids, labels) in enumerate(batches):
            call += 1
            outputs = run_step(args.qaf_run, artifact, os.path.join(tmp, f"call{call}"),
                               ids, labels, call)
            for each in files:
                current = ParametersFile(each.path)
                current.write({name: outputs[name] for name in current.values
                               if name in outputs})
            if micro == 0:
                checks.report(
                    all(np.array_equal(outputs[name], state[name].astype(np.float32))
                        for name in TRAINED) and
                    all(close(outputs[name + ".grad_accum"], gradients[0][name])
                        for name in TRAINED),
                    f"{case}, call {call}: parameters unchanged, grad_accum holds the "
                    "micro-batch's gradient")
        ok = all(close(outputs[name], reference[name]) for name in TRAINED) and all(
            close(outputs[name], reference_state[name]) for name in reference_state
            if not name.endswith(".grad_accum"))
        checks.report(ok, f"{case} (calls {call - 1}, {call}): "
                          "parameters, exp_avg and exp_avg_sq match numpy's "
                          "mean-of-means, clipped, AdamW step")
        checks.report(not all(close(outputs[name + ".exp_avg"],
                                    token_weighted_step[1][name + ".exp_avg"])
                              for name in TRAINED),
                      f"{case}: differs from the token-weighted "
                      "mean's step (micro-batches of 12 and 14 tokens)")
        checks.report(all(not np.any(outputs[name + ".grad_accum"]) for name in TRAINED),
                      f"{case}: grad_accum is zero again")
        state = {name: value.astype(np.float64) for name, value in outputs.items()
                 if name != "loss"}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as error:
        print(f"FAIL: {error}")
        sys.exit(1)
