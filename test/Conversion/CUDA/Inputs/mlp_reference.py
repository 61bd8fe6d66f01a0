"""Writes an input for Inputs/mlp.textproto and checks qaf-run's output
against softmax(x·W + b) computed here in numpy float64 (the model's W and b
written out again, the oracle independent of qaf).

    mlp_reference.py write DIR     -> DIR/x.npy
    mlp_reference.py check DIR     -> compares DIR/out/y.npy, exit 1 if off
"""
import os
import sys

import numpy as np

W = np.arange(1, 13, dtype=np.float64).reshape(4, 3)
B = np.array([0.5, -0.5, 0.25])


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    x = np.linspace(-1.0, 1.0, 5 * 4).reshape(5, 4).astype(np.float32)
    if mode == "write":
        np.save(os.path.join(folder, "x.npy"), x)
        return 0
    z = x.astype(np.float64) @ W + B
    expected = np.exp(z - z.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    got = np.load(os.path.join(folder, "out", "y.npy"))
    diff = float(np.max(np.abs(got - expected)))
    print(f"max |cuda - numpy| = {diff:.3g}")
    return 0 if got.shape == expected.shape and diff <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
