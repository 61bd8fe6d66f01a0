#!/usr/bin/env python3
"""Files for the qaf-run train/eval tests over fake-trainer.c, and numpy
oracles of what training it must give.

The toy model (fake-trainer.c) predicts every token from one distribution,
softmax(prior + bias), prior a weight and bias a trained parameter; a train
step with learning rate lr at step s does, per vocabulary entry j,
    g_j = p_j - count_j / N,  v_j = 0.9 v_j + g_j,  bias_j -= lr/sqrt(s) v_j
(v = bias_velocity, the optimizer state) and returns the loss before it.

  trainer_files.py artifact DIR          weights and parameters files
  trainer_files.py tokens DIR            token files (flat, .npy, broken)
  trainer_files.py check-train CKPT LOG DATA BATCH SEQ STEPS LR
        CKPT (a checkpoint) and LOG (the JSONL log) match STEPS sequential
        steps of the model on DATA, computed here
  trainer_files.py check-eval OUT CKPT|- DATA SEQ
        OUT (qaf-run eval's output) matches the perplexity computed here
  trainer_files.py check-logits NPY CKPT   logits = prior + bias
  trainer_files.py kill-after-checkpoint DIR COMMAND...
        runs COMMAND, SIGKILLs it once DIR/latest exists (a checkpoint was
        written) and checks that it was killed, not finished
"""

import json
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tensors import read_safetensors, write_safetensors  # noqa: E402

VOCAB = 8
FINGERPRINT = "trainer-0001"
PRIOR = np.linspace(0.0, 0.7, VOCAB, dtype=np.float32)
MAGIC = b"QAFTOKEN"
# The training text: a skewed distribution the model learns.
TRAIN = np.array(([0, 1, 0, 2, 0, 1, 0, 3, 4, 0, 1, 5] * 8)[:95], np.int64)
HELD_OUT = np.array([0, 1, 0, 2, 0, 6, 0, 1, 7, 0, 1, 0, 3, 0], np.int64)


def write_flat(path, ids, width=2, count=None):
    """The flat token format, written from the README's description."""
    ids = np.asarray(ids)
    header = MAGIC + struct.pack("<IIQ", 1, width,
                                 len(ids) if count is None else count)
    dtype = "<u2" if width == 2 else "<u4"
    with open(path, "wb") as f:
        f.write(header + ids.astype(dtype).tobytes())


def artifact(out):
    write_safetensors(os.path.join(out, "weights.safetensors"),
                      {"prior": ("F32", PRIOR)}, {"qaf.fingerprint": FINGERPRINT})
    zeros = np.zeros(VOCAB, np.float32)
    write_safetensors(os.path.join(out, "parameters.safetensors"),
                      {"bias": ("F32", zeros), "bias_velocity": ("F32", zeros)},
                      {"qaf.fingerprint": FINGERPRINT})


def tokens(out):
    os.makedirs(out, exist_ok=True)
    write_flat(os.path.join(out, "train.bin"), TRAIN)
    write_flat(os.path.join(out, "train32.bin"), TRAIN, width=4)
    np.save(os.path.join(out, "train.npy"), TRAIN.astype(np.int32))
    np.save(os.path.join(out, "train-2d.npy"),
            TRAIN[:92].astype(np.uint16).reshape(4, 23))
    write_flat(os.path.join(out, "held.bin"), HELD_OUT)
    bad = TRAIN.copy()
    bad[41] = VOCAB
    write_flat(os.path.join(out, "id-too-large.bin"), bad)
    negative = TRAIN[:92].astype(np.int64).reshape(4, 23)
    negative[2, 7] = -3
    np.save(os.path.join(out, "negative.npy"), negative)
    write_flat(os.path.join(out, "short.bin"), TRAIN[:7])
    write_flat(os.path.join(out, "truncated.bin"), TRAIN[:10], count=12)
    np.save(os.path.join(out, "floats.npy"), TRAIN.astype(np.float32))
    np.save(os.path.join(out, "ids.npy"), TRAIN[:6].reshape(2, 3))


def read_flat(path):
    blob = open(path, "rb").read()
    assert blob[:8] == MAGIC
    _, width, count = struct.unpack("<IIQ", blob[8:24])
    return np.frombuffer(blob[24:], "<u2" if width == 2 else "<u4")[:count]


def softmax(bias):
    logits = PRIOR.astype(np.float64) + bias.astype(np.float64)
    e = np.exp(logits - logits.max())
    return e / e.sum()


def check_train(ckpt, log, data, batch, seq, steps, lr):
    ids = read_flat(data).astype(np.int64)
    windows = len(ids) // (seq + 1)
    bias = np.zeros(VOCAB, np.float32)
    velocity = np.zeros(VOCAB, np.float32)
    losses, rates, cursor = [], [], 0
    for step in range(1, steps + 1):
        labels = []
        for _ in range(batch):
            start = (cursor % windows) * (seq + 1)
            labels.extend(ids[start + 1:start + seq + 1])
            cursor += 1
        p = softmax(bias)
        labels = np.array(labels)
        losses.append(float(np.float32(-np.mean(np.log(p[labels])))))
        counts = np.bincount(labels, minlength=VOCAB)
        g = p - counts / len(labels)
        velocity = (0.9 * velocity.astype(np.float64) + g).astype(np.float32)
        rate = lr / np.sqrt(step)
        rates.append(float(np.float32(rate)))
        bias = (bias.astype(np.float64) - rate * velocity).astype(np.float32)
    metadata, tensors = read_safetensors(ckpt)
    assert metadata["qaf.fingerprint"] == FINGERPRINT, metadata
    assert metadata["qaf.checkpoint.step"] == str(steps), metadata
    np.testing.assert_allclose(tensors["bias"], bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tensors["bias_velocity"], velocity, rtol=1e-5,
                               atol=1e-6)
    lines = [json.loads(line) for line in open(log)]
    assert [line["step"] for line in lines] == list(range(1, steps + 1)), lines
    np.testing.assert_allclose([line["loss"] for line in lines], losses,
                               rtol=1e-5)
    np.testing.assert_allclose([line["learning_rate"] for line in lines],
                               rates, rtol=1e-6)
    assert all(line["tokens_per_second"] > 0 for line in lines), lines
    print(f"{steps} steps match numpy: loss {losses[0]:.4f} -> "
          f"{losses[-1]:.4f}")


def check_eval(out, ckpt, data, seq):
    bias = (np.zeros(VOCAB, np.float32) if ckpt == "-"
            else read_safetensors(ckpt)[1]["bias"])
    ids = read_flat(data).astype(np.int64)
    windows = len(ids) // (seq + 1)
    labels = np.concatenate([ids[w * (seq + 1) + 1:(w + 1) * (seq + 1)]
                             for w in range(windows)])
    loss = -np.mean(np.log(softmax(bias)[labels]))
    printed = dict(line.split(": ") for line in open(out).read().splitlines())
    assert int(printed["tokens"]) == len(labels), (printed, len(labels))
    np.testing.assert_allclose(float(printed["perplexity"]), np.exp(loss),
                               rtol=1e-5)
    print(f"perplexity {np.exp(loss):.4f} over {len(labels)} tokens matches "
          "numpy")


def check_logits(npy, ckpt):
    logits = np.load(npy)
    bias = read_safetensors(ckpt)[1]["bias"]
    assert logits.shape == (2, 3, VOCAB), logits.shape
    np.testing.assert_allclose(logits, np.broadcast_to(PRIOR + bias,
                                                       logits.shape))
    assert np.any(bias != 0)
    print("logits are prior + the trained bias")


def kill_after_checkpoint(folder, command):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    latest = os.path.join(folder, "latest")
    while not os.path.exists(latest) and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, (
        f"the run ended (status {process.returncode}) before it was killed")
    print(f"killed after {open(latest).read().strip()}")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "artifact":
        artifact(*args)
    elif command == "tokens":
        tokens(*args)
    elif command == "check-train":
        ckpt, log, data, batch, seq, steps, lr = args
        check_train(ckpt, log, data, int(batch), int(seq), int(steps),
                    float(lr))
    elif command == "check-eval":
        out, ckpt, data, seq = args
        check_eval(out, ckpt, data, int(seq))
    elif command == "check-logits":
        check_logits(*args)
    elif command == "kill-after-checkpoint":
        kill_after_checkpoint(args[0], args[1:])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
