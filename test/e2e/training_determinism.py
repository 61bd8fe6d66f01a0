#!/usr/bin/env python3
"""Training is deterministic, and a kill while a checkpoint is being
written loses nothing.

On the generated tiny decoder with LoRA (`qaf-compile --method=lora
--emit=train`):
1. `qaf-run train --threads 1` twice gives byte-identical checkpoints, and
   so does `--threads 2` twice. Whether 1 and 2 threads agree with each
   other is reported, not required: a reduction split across threads adds
   in another order.
2. A run with a checkpoint every step is killed (SIGKILL) while a
   checkpoint file is being written: the test polls the checkpoint folder
   and kills as soon as a temporary `step-*.safetensors.tmp-*` appears
   after the first checkpoint,
   and counts the kill as mid-checkpoint only when that temporary is still
   there afterwards (else it tries again). Resumed with the same arguments
   and --resume, the run ends with a checkpoint byte-identical to an
   uninterrupted run's.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_support import ToolError, run  # noqa: E402
from training_support import checkpoint_files  # noqa: E402
from whole_model_gradients import Checks  # noqa: E402

BATCH, SEQ, STEPS = 4, 16, 8
KILL_ATTEMPTS = 30


def final_checkpoint(folder):
    with open(os.path.join(folder, checkpoint_files(folder)[-1]), "rb") as f:
        return checkpoint_files(folder)[-1], f.read()


def temporaries(folder):
    try:
        return [name for name in os.listdir(folder) if ".safetensors.tmp-" in name]
    except FileNotFoundError:
        return []


def kill_mid_checkpoint(command, folder):
    """Starts `command` and SIGKILLs it once a checkpoint temporary exists
    after the first checkpoint (before it there is nothing to resume).
    Returns whether the kill caught a checkpoint before its rename (its
    temporary is left behind) while the run was still going."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest = os.path.join(folder, "latest")
    while process.poll() is None and not (os.path.exists(latest) and temporaries(folder)):
        pass
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return running and bool(temporaries(folder))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="qaf-training-determinism-") as folder:
        onnx_path = os.path.join(folder, "tiny.onnx")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "scripts",
                                                     "gen_llama_onnx.py"),
                        "--preset", "tiny", "--no-attention-mask", "--init-std", "0.25",
                        "-o", onnx_path], check=True, capture_output=True)
        tokens = os.path.join(folder, "tokens.npy")
        np.save(tokens, np.random.default_rng(5).integers(
            0, 256, size=6 * BATCH * (SEQ + 1)).astype(np.int32))
        artifact = os.path.join(folder, "lora")
        run([args.qaf_compile, onnx_path, "--method=lora", "--bits=4", "--group-size=32",
             "--rank=4", "--alpha=8", "--emit=train",
             f"--train-options=lr=1e-2 total-steps={STEPS} max-grad-norm=1",
             "--target=cpu", "-o", artifact], timeout=600)

        def train(threads, ckpt_dir, *extra):
            return [args.qaf_run, "train", artifact, "--data", tokens, "--batch", str(BATCH),
                    "--seq-len", str(SEQ), "--steps", str(STEPS), "--seed", "9",
                    "--threads", str(threads), "--ckpt-dir", ckpt_dir, *extra]

        finals = {}
        for threads in (1, 2):
            runs = []
            for repeat in range(2):
                ckpt_dir = os.path.join(folder, f"threads{threads}-{repeat}")
                run(train(threads, ckpt_dir, "--ckpt-every", "3"), timeout=300)
                runs.append(final_checkpoint(ckpt_dir))
            finals[threads] = runs[0]
            checks.report(runs[0] == runs[1],
                          f"--threads {threads} twice: {runs[0][0]} byte-identical")
        same = finals[1] == finals[2]
        print(f"     1 and 2 threads {'give the same bytes' if same else 'differ'}")

        caught = 0
        for attempt in range(KILL_ATTEMPTS):
            ckpt_dir = os.path.join(folder, f"killed-{attempt}")
            if not kill_mid_checkpoint(train(1, ckpt_dir, "--ckpt-every", "1"), ckpt_dir):
                continue
            caught += 1
            left = temporaries(ckpt_dir)
            written = os.path.getsize(os.path.join(ckpt_dir, left[0]))
            run(train(1, ckpt_dir, "--ckpt-every", "1", "--resume"), timeout=300)
            resumed = final_checkpoint(ckpt_dir)
            checks.report(resumed == finals[1],
                          f"killed while writing {left[0]} ({written} of {len(finals[1][1])} "
                          f"bytes, attempt {attempt + 1}), "
                          f"resumed: {resumed[0]} byte-identical to the uninterrupted run's")
            checks.report(not temporaries(ckpt_dir),
                          "the resumed run removed the killed run's temporary")
            break
        checks.report(caught == 1, f"a kill caught a checkpoint before its rename "
                                   f"(within {KILL_ATTEMPTS} attempts)")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolError as error:
        print(f"FAIL: {error}")
        sys.exit(1)
