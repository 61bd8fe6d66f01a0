#!/usr/bin/env python3
"""A compile killed with SIGKILL leaves no partial files in the artifact folder.

Compiles the tiny generated decoder with `qaf-compile` (TMPDIR pointing into
the test's folder), kills it with SIGKILL as soon as the first object file
appears in its temporary folder (so the kill lands in the object phase every
time), then checks that the artifact folder holds no object, part or
temporary file and no manifest (a reader cannot take it for an artifact),
that the killed compile's temporary folder is there, and that a second
compile into the same folder succeeds, removes the stale temporary folder
and gives an artifact `qaf-run` runs.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402

# The object code of a part (part0.o, ...), or of the whole model
# (model.o.tmp-*) on a machine with one core.
OBJECT_PATTERN = os.path.join("qaf-compile-*", "*.o*")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for the object phase")
    args = parser.parse_args()
    failures = []
    passed = 0

    def check(name, ok, detail=""):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(name)
            print(f"FAIL {name}: {detail}")

    with tempfile.TemporaryDirectory() as tmp:
        system_tmp = os.path.join(tmp, "system-tmp")
        os.makedirs(system_tmp)
        env = dict(os.environ, TMPDIR=system_tmp)
        model = os.path.join(tmp, "tiny.onnx")
        gen.save(gen.LlamaConfig(**gen.PRESETS["tiny"]), model)
        artifact = os.path.join(tmp, "artifact")
        command = [args.qaf_compile, model, "-o", artifact]

        compile_process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE)
        deadline = time.monotonic() + args.timeout
        seen = []
        while compile_process.poll() is None and time.monotonic() < deadline:
            seen = glob.glob(os.path.join(system_tmp, OBJECT_PATTERN))
            if seen:
                break
            time.sleep(0.005)
        if not seen:
            compile_process.kill()
            compile_process.wait()
            print(f"FAIL: no object file appeared (exit {compile_process.returncode}): "
                  f"{compile_process.stderr.read().decode()[:2000]}")
            return 1
        compile_process.send_signal(signal.SIGKILL)
        compile_process.wait()
        check("killed by SIGKILL", compile_process.returncode == -signal.SIGKILL,
              f"exit {compile_process.returncode}")

        left = sorted(os.listdir(artifact)) if os.path.isdir(artifact) else []
        partial = [name for name in left
                   if name.endswith((".o", ".so")) or ".part" in name or ".tmp" in name
                   or name == "manifest.json"]
        check("no partial files in the artifact folder", not partial,
              f"found {partial} among {left}")
        stale = glob.glob(os.path.join(system_tmp, "qaf-compile-*"))
        check("the killed compile's temporary folder is left", bool(stale),
              f"{os.listdir(system_tmp)}")

        rerun = subprocess.run(command, env=env, capture_output=True, text=True,
                               timeout=args.timeout)
        check("a second compile succeeds", rerun.returncode == 0, rerun.stderr[:2000])
        remaining = os.listdir(system_tmp)
        check("the second compile removed the stale temporary folder", not remaining,
              f"left: {remaining}")
        check("the artifact is complete",
              os.path.exists(os.path.join(artifact, "manifest.json")), f"{os.listdir(artifact)}")

        ids = os.path.join(tmp, "ids.npy")
        np.save(ids, np.array([[1, 2, 3]], dtype=np.int64))
        mask = os.path.join(tmp, "mask.npy")
        np.save(mask, np.ones((1, 3), dtype=np.int64))
        run = subprocess.run([args.qaf_run, "infer", artifact, "--input", f"input_ids={ids}",
                              "--input", f"attention_mask={mask}"],
                             capture_output=True, text=True, timeout=600)
        check("qaf-run runs the artifact", run.returncode == 0, run.stderr[:2000])

    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
