#!/usr/bin/env python3
"""buildCausalLMLoss against a numpy causal-LM loss.

qaf-opt --qaf-test-causal-lm-loss turns `(logits, labels) -> logits` into
the loss (reduction mean or sum) or the token count; qaf-translate exports it
to ONNX and ONNX Runtime runs it in float64. The oracle, written here from
the definition (as Hugging Face's LlamaForCausalLM computes it): position t
predicts token t + 1, labels of -100 count for nothing,
mean = sum over counted tokens of -log softmax(logits[b, t])[labels[b, t+1]]
divided by their count.

Usage: check_causal_lm_loss.py --opt QAF_OPT --translate QAF_TRANSLATE
                               --work DIR
Prints one line per case and, last, "causal-LM loss matches".
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

IGNORED = -100


def reference(logits, labels):
    """(mean, sum, count) of the shifted next-token cross-entropy."""
    predicting = logits[:, :-1, :]
    targets = labels[:, 1:]
    shifted = predicting - predicting.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    counted = targets != IGNORED
    picked = np.take_along_axis(
        log_probs, np.where(counted, targets, 0)[..., None], axis=-1)[..., 0]
    total = float(-(picked * counted).sum())
    count = int(counted.sum())
    return total / count, total, count


def run(opt, translate, work, name, options, logits, labels):
    source = os.path.join(work, name + ".mlir")
    lowered = os.path.join(work, name + ".loss.mlir")
    model = os.path.join(work, name + ".onnx")
    b, t, v = logits.shape
    with open(source, "w") as f:
        f.write(f"func.func @main_graph(%logits: tensor<{b}x{t}x{v}xf64>, "
                f"%labels: tensor<{b}x{t}xi64>) -> tensor<{b}x{t}x{v}xf64> "
                f"{{\n  return %logits : tensor<{b}x{t}x{v}xf64>\n}}\n")
    subprocess.run([opt, f"--qaf-test-causal-lm-loss={options}", source,
                    "-o", lowered], check=True)
    subprocess.run([translate, "--export-onnx", lowered, "-o", model],
                   check=True)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, [logits, labels])))[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--opt", required=True)
    parser.add_argument("--translate", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(3)
    ok = True
    # (batch, sequence, vocabulary, fraction of labels set to -100)
    for name, (b, t, v, ignored) in {
            "ids_only": (2, 6, 13, 0.0),
            "hf_labels_with_padding": (3, 5, 17, 0.3)}.items():
        logits = rng.standard_normal((b, t, v)) * 3
        labels = rng.integers(0, v, (b, t))
        labels[rng.random((b, t)) < ignored] = IGNORED
        # Position 0 is never predicted: its label must not matter.
        labels[:, 0] = IGNORED if ignored else labels[:, 0]
        mean, total, count = reference(logits, labels)
        got_mean = float(run(args.opt, args.translate, args.work,
                             name + "_mean", "", logits, labels))
        got_sum = float(run(args.opt, args.translate, args.work,
                            name + "_sum", "reduction=sum", logits, labels))
        got_count = int(run(args.opt, args.translate, args.work,
                            name + "_count", "count=1", logits, labels))
        good = (abs(got_mean - mean) <= 1e-10 * abs(mean) and
                abs(got_sum - total) <= 1e-10 * abs(total) and
                got_count == count)
        print(f"{name}: mean {got_mean:.12g} (expected {mean:.12g}), sum "
              f"{got_sum:.12g} ({total:.12g}), tokens {got_count} ({count}) "
              f"{'ok' if good else 'FAILED'}")
        ok &= good
    if ok:
        print("causal-LM loss matches")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
