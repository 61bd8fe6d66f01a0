#!/usr/bin/env python3
"""train_step's gradients against finite differences of its own loss.

A tiny model (embedding, a 4-bit quantized projection with a LoRA adapter,
tanh logits) goes through qaf-quantize-weights, qaf-attach-adapters and
qaf-build-training with lr = 0, no clipping and no weight decay, so that one
call leaves the parameters as they were and AdamW's first moment holds
(1 − β1)·g: the gradient of the mean causal-LM loss (labels are the next
ids, some masked with −100). This test calls train_step with labels of its
own choosing, which qaf-run train cannot (it cuts labels from a token
file): the module keeps @train_step alone, renamed to the graph name
qaf-compile takes and with its results untied (no `qaf.updates`), so that
qaf-run infer returns the new parameters and state as outputs. The same
artifact, with the parameters file patched to θ ± ε·d, gives the central
differences of the loss along random directions d. (The whole decoder's
gradients, through qaf-compile --emit=train and qaf-run train, against an
independent float64 forward: whole_model_gradients.py.)

Exit status 0 when every direction matches.
"""
import argparse
import os
import re
import sys
import tempfile

import numpy as np

from e2e_support import ToolError, compile_model, run, run_artifact
from training_support import ParametersFile

BETA1 = 0.9


def hex_constant(name, array, element):
    shape = "x".join(str(d) for d in array.shape)
    data = np.ascontiguousarray(array).tobytes().hex().upper()
    return (f'  %{name} = onnx.Constant {{value = dense<"0x{data}"> : tensor<{shape}x{element}>}} '
            f': tensor<{shape}x{element}> loc("{name}")')


def model_text(rng, vocab=16, hidden=32):
    embed = rng.standard_normal((vocab, hidden)).astype(np.float32)
    proj = (rng.standard_normal((hidden, vocab)) * 0.3).astype(np.float32)
    return "\n".join([
        f'func.func @main_graph(%ids: tensor<2x8xi64> {{onnx.name = "input_ids"}}) '
        f'-> (tensor<2x8x{vocab}xf32> {{onnx.name = "logits"}}) {{',
        hex_constant("embed", embed, "f32"),
        hex_constant("proj", proj, "f32"),
        f"  %h = onnx.Gather %embed, %ids : (tensor<{vocab}x{hidden}xf32>, tensor<2x8xi64>) "
        f"-> tensor<2x8x{hidden}xf32>",
        f"  %y = onnx.MatMul %h, %proj : (tensor<2x8x{hidden}xf32>, tensor<{hidden}x{vocab}xf32>) "
        f"-> tensor<2x8x{vocab}xf32>",
        f"  %logits = onnx.Tanh %y : (tensor<2x8x{vocab}xf32>) -> tensor<2x8x{vocab}xf32>",
        f"  return %logits : tensor<2x8x{vocab}xf32>",
        "}"]) + "\n"


def train_step_as_entry(text):
    """The module with @train_step alone, named as the graph qaf-compile takes,
    its new parameters and optimizer state untied (qaf.updates), so that
    they are outputs this test reads rather than stored in place."""
    for name in ("main_graph", "eval_step"):
        start = text.index(f"  func.func @{name}(")
        end = text.index("\n  }\n", start) + len("\n  }\n")
        text = text[:start] + text[end:]
    text = re.sub(r', qaf\.updates = "[^"]*"', "", text)
    return text.replace("func.func @train_step(", "func.func @main_graph(")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="qaf-train-step-") as tmp:
        source = os.path.join(tmp, "model.mlir")
        with open(source, "w") as f:
            f.write(model_text(rng))
        built = run([args.qaf_opt, source, "--qaf-quantize-weights=bits=4 group-size=16",
                     "--qaf-attach-adapters=method=lora rank=2 alpha=4",
                     "--qaf-build-training=lr=0 max-grad-norm=0 weight-decay=0 "
                     f"beta1={BETA1}"], timeout=300).stdout
        entry = os.path.join(tmp, "train_step.mlir")
        with open(entry, "w") as f:
            f.write(train_step_as_entry(built))
        artifact = os.path.join(tmp, "artifact")
        compile_model(args.qaf_compile, entry, artifact)

        ids = rng.integers(0, 16, size=(2, 8)).astype(np.int64)
        labels = np.concatenate([ids[:, 1:], np.full((2, 1), -100)], axis=1)
        labels[0, 2] = -100
        feeds = {"input_ids": ids, "labels": labels, "step": np.array(1, np.int64)}
        parameters = ParametersFile(os.path.join(artifact, "parameters.safetensors"))
        trained = ["proj.lora_A", "proj.lora_B"]
        theta = {name: parameters.values[name] for name in trained}
        # B starts at zero, which would leave A without a gradient.
        theta["proj.lora_B"] = (rng.standard_normal(theta["proj.lora_B"].shape) * 0.3
                                ).astype(np.float32)
        parameters.write(theta)

        def call(tag):
            outputs, _, _ = run_artifact(args.qaf_run, artifact, feeds,
                                         os.path.join(tmp, tag))
            return outputs

        outputs = call("at-theta")
        failures = 0
        for name in trained:
            if not np.array_equal(outputs[name], theta[name]):
                print(f"FAIL {name} changed with lr = 0")
                failures += 1
        gradient = {name: outputs[name + ".exp_avg"].astype(np.float64) / (1 - BETA1)
                    for name in trained}
        epsilon = 2e-3
        for trial in range(4):
            direction = {name: rng.standard_normal(theta[name].shape) for name in trained}
            losses = []
            for sign in (1, -1):
                parameters.write({name: theta[name] + sign * epsilon * direction[name]
                                  for name in trained})
                losses.append(float(call(f"d{trial}{sign}")["loss"]))
            numeric = (losses[0] - losses[1]) / (2 * epsilon)
            analytic = sum(float(np.sum(gradient[name] * direction[name]))
                           for name in trained)
            ok = abs(numeric - analytic) <= 2e-3 * max(1.0, abs(numeric))
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} direction {trial}: finite difference "
                  f"{numeric:.6f}, train_step {analytic:.6f}")
    print("all gradients match" if not failures else f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as error:
        print(f"FAIL: {error}")
        sys.exit(1)
