#!/usr/bin/env python3
"""Fine-tuning end to end: `qaf-compile --method=... --emit=train`, then
`qaf-run train` and `qaf-run eval` on the generated tiny decoder.

For each method asked for (default: lora):
1. One qaf-compile command quantizes (4-bit), attaches the adapters and
   builds train_step / eval_step; the artifact holds the adapters and the
   optimizer state as writable parameters.
2. Learning works: on a memorisation task (a fixed random cycle of tokens,
   written by numpy; the held-out file is the same cycle at another phase)
   the held-out loss that `qaf-run eval` reports (ln perplexity) after
   training is at most half the untrained model's.
3. Resume is bit-identical: a run stopped after half its steps (and one
   killed by SIGKILL after a checkpoint) and resumed with --resume ends with
   the same checkpoint bytes as an uninterrupted run.
For LoTA it also reports how many ternary codes flipped.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import glob
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adapters_e2e import Checks, run  # noqa: E402
GENERATOR = os.path.join(HERE, "..", "..", "scripts", "gen_llama_onnx.py")

VOCAB = 256
CYCLE = 48
SEQ = 16
BATCH = 4
# method -> (qaf-compile flags, --train-options, steps).
METHODS = {
    "lora": (["--rank=8", "--alpha=16"], "lr=1e-2 weight-decay=0", 150),
    "lota": (["--rank=16"], "", 150),
}


def write_tokens(folder):
    """A random cycle of CYCLE distinct ids, repeated: the next token is a
    function of the current one, which the adapters must memorise."""
    rng = np.random.default_rng(7)
    cycle = rng.permutation(VOCAB)[:CYCLE]
    train = np.tile(cycle, 64).astype(np.int32)
    held = np.roll(np.tile(cycle, 8), -CYCLE // 3).astype(np.int32)
    paths = os.path.join(folder, "train.npy"), os.path.join(folder, "held.npy")
    np.save(paths[0], train)
    np.save(paths[1], held)
    return paths


def held_out_loss(tools, artifact, held, ckpt=None):
    command = [tools.qaf_run, "eval", artifact, "--data", held, "--seq-len", str(SEQ),
               "--batch", str(BATCH)]
    if ckpt:
        command += ["--ckpt", ckpt]
    out = run(command)
    match = re.search(r"perplexity: ([0-9.einf]+)", out)
    if not match:
        raise RuntimeError(f"no perplexity in qaf-run eval's output:\n{out}")
    return math.log(float(match.group(1)))


def checkpoints(folder):
    return sorted(glob.glob(os.path.join(folder, "step-*.safetensors")))


def read_safetensors(path):
    import json
    import struct
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    dtypes = {"F32": np.float32, "I8": np.int8, "I64": np.int64, "I32": np.int32,
              "U8": np.uint8}
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__" or spec["dtype"] not in dtypes:
            continue
        begin, end = spec["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtypes[spec["dtype"]]).reshape(
            spec["shape"])
    return tensors


def check_method(tools, checks, folder, onnx_path, method, train, held):
    flags, train_options, steps = METHODS[method]
    artifact = os.path.join(folder, method)
    start = time.time()
    run([tools.qaf_compile, onnx_path, f"--method={method}", "--bits=4", "--group-size=32",
         *flags, "--emit=train", f"--train-options=total-steps={steps} {train_options}",
         "--target=cpu", "-o", artifact], timeout=600)
    checks.report(os.path.exists(os.path.join(artifact, "parameters.safetensors")),
                  f"{method}: compiled in {time.time() - start:.0f} s, "
                  "the adapters are writable parameters (parameters.safetensors)")

    before = held_out_loss(tools, artifact, held)
    train_command = [tools.qaf_run, "train", artifact, "--data", train, "--batch", str(BATCH),
                     "--seq-len", str(SEQ), "--seed", "3", "--threads", "1"]
    whole = os.path.join(folder, method + "-whole")
    start = time.time()
    run(train_command + ["--steps", str(steps), "--ckpt-dir", whole, "--ckpt-every",
                         str(steps // 3)])
    seconds = time.time() - start
    final = checkpoints(whole)[-1]
    after = held_out_loss(tools, artifact, held, whole)
    checks.report(after <= before / 2,
                  f"{method}: held-out loss {before:.3f} -> {after:.3f} after {steps} steps "
                  f"({seconds:.1f} s; at most half is required)")

    if method == "lota":
        initial = read_safetensors(os.path.join(artifact, "parameters.safetensors"))
        trained = read_safetensors(final)
        flipped = sum(int(np.count_nonzero(initial[name] != trained[name]))
                      for name in initial if initial[name].dtype == np.int8)
        total = sum(initial[name].size for name in initial if initial[name].dtype == np.int8)
        checks.report(flipped > 0, f"lota: {flipped} of {total} ternary codes flipped")

    # Stopped after half the steps, then resumed.
    parts = os.path.join(folder, method + "-parts")
    run(train_command + ["--steps", str(steps // 2), "--ckpt-dir", parts])
    run(train_command + ["--steps", str(steps), "--ckpt-dir", parts, "--resume"])
    resumed = checkpoints(parts)[-1]
    checks.report(os.path.basename(resumed) == os.path.basename(final)
                  and open(resumed, "rb").read() == open(final, "rb").read(),
                  f"{method}: stopped at step {steps // 2} and resumed: "
                  f"{os.path.basename(resumed)} is byte-identical")

    # Killed by SIGKILL right after its first checkpoint, then resumed.
    killed = os.path.join(folder, method + "-killed")
    process = subprocess.Popen(train_command + ["--steps", str(steps), "--ckpt-dir", killed,
                                                "--ckpt-every", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # `latest` is written after the checkpoint it names.
    while process.poll() is None and not os.path.exists(os.path.join(killed, "latest")):
        time.sleep(0.001)
    was_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    last = checkpoints(killed)
    run(train_command + ["--steps", str(steps), "--ckpt-dir", killed, "--ckpt-every", "1",
                         "--resume"])
    resumed = checkpoints(killed)[-1]
    checks.report(was_running and open(resumed, "rb").read() == open(final, "rb").read(),
                  f"{method}: killed after {os.path.basename(last[-1]) if last else 'nothing'}"
                  f" (still running: {was_running}) and resumed: the final checkpoint is "
                  "byte-identical")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    parser.add_argument("--methods", default="lora",
                        help=f"comma-separated, of {', '.join(METHODS)}")
    tools = parser.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="qaf-training-e2e-") as folder:
        onnx_path = os.path.join(folder, "tiny.onnx")
        # A larger weight scale than the default: the frozen output head's
        # rows must be long enough for the RMS-normed hidden state to make
        # one token's logit dominate (at 0.02 no adapter gets the loss far
        # below ln(vocab)).
        run([sys.executable, GENERATOR, "--preset", "tiny", "--no-attention-mask",
             "--init-std", "0.25", "-o", onnx_path])
        train, held = write_tokens(folder)
        for method in tools.methods.split(","):
            try:
                check_method(tools, checks, folder, onnx_path, method, train, held)
            except (RuntimeError, subprocess.TimeoutExpired, IndexError) as error:
                checks.report(False, f"{method}: {error}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
