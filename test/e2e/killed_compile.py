#!/usr/bin/env python3
"""A compile killed with SIGKILL leaves no litter the next compile keeps.

Compiles the tiny generated decoder with `qaf-compile` (TMPDIR pointing into
the test's folder) and kills it with SIGKILL in each phase that writes files,
at a moment the test waits for, so that the kill lands in that phase:
- weights: as soon as `weights.safetensors.tmp-*` appears in the artifact
  folder (the write is short, so the test tries a few times to land there);
- object: as soon as the first object file appears in its temporary folder;
- link: as soon as its linker (`-shared`) runs; the orphaned linker is
  waited for.
After each kill it checks that the artifact folder holds no object, part,
library or linker temporary and no manifest (a reader cannot take it for an
artifact) — only the weights temporary of the weights phase, which a writer
killed outright cannot remove — and that a second compile into the same
folder succeeds, leaves no temporary file or folder behind and gives an
artifact `qaf-run` runs.

Then, independent of timing, a stale weights temporary of a dead writer
(unlocked) and a live writer's (locked by this test) are put in the artifact
folder: the next compile removes the first and keeps the second.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import fcntl
import fnmatch
import glob
import os
import shutil
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
WEIGHTS_TEMPORARY = "weights.safetensors.tmp-*"
# Tries at killing inside the (short) weights write.
WEIGHTS_TRIES = 5


def children(pid):
    """The process ids of `pid`'s children (every thread's)."""
    found = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                found += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def running(pid):
    """Whether `pid` runs (not gone, not a zombie no one reaps)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for a phase")
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
        ids = os.path.join(tmp, "ids.npy")
        np.save(ids, np.array([[1, 2, 3]], dtype=np.int64))
        mask = os.path.join(tmp, "mask.npy")
        np.save(mask, np.ones((1, 3), dtype=np.int64))

        def weights_written():
            return glob.glob(os.path.join(artifact, WEIGHTS_TEMPORARY))

        def object_written():
            return glob.glob(os.path.join(system_tmp, OBJECT_PATTERN))

        def linking(pid):
            return [c for c in children(pid) if b"-shared" in command_line(c)]

        def kill_when(ready, pause=0.005):
            """Runs the compile, SIGKILLs it once `ready(pid)` holds (asked
            every `pause` seconds); the kill landed when it did (not when
            the compile ended first)."""
            shutil.rmtree(artifact, ignore_errors=True)
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
            deadline = time.monotonic() + args.timeout
            seen = []
            while process.poll() is None and time.monotonic() < deadline:
                seen = ready(process.pid)
                if seen:
                    break
                time.sleep(pause)
            orphans = children(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait()
            # A linker the compile started runs on; its output is what a
            # killed link leaves.
            while any(running(pid) for pid in orphans) and time.monotonic() < deadline:
                time.sleep(0.01)
            if not seen:
                return False, f"exit {process.returncode}: " \
                    f"{process.stderr.read().decode()[:2000]}"
            return process.returncode == -signal.SIGKILL, f"exit {process.returncode}"

        def recompile_and_run(phase):
            rerun = subprocess.run(command, env=env, capture_output=True, text=True,
                                   timeout=args.timeout)
            check(f"{phase}: a second compile succeeds", rerun.returncode == 0,
                  rerun.stderr[:2000])
            remaining = os.listdir(system_tmp)
            check(f"{phase}: no temporary folder is left", not remaining,
                  f"left: {remaining}")
            left = sorted(os.listdir(artifact))
            check(f"{phase}: the artifact holds no temporary",
                  not [n for n in left if ".tmp" in n], f"{left}")
            check(f"{phase}: the artifact is complete", "manifest.json" in left, f"{left}")
            run = subprocess.run([args.qaf_run, "infer", artifact, "--input",
                                  f"input_ids={ids}", "--input", f"attention_mask={mask}"],
                                 capture_output=True, text=True, timeout=600)
            check(f"{phase}: qaf-run runs the artifact", run.returncode == 0, run.stderr[:2000])

        def check_partial(phase, allowed=()):
            left = sorted(os.listdir(artifact)) if os.path.isdir(artifact) else []
            partial = [name for name in left
                       if (name.endswith((".o", ".so")) or ".part" in name or ".tmp" in name
                           or name == "manifest.json")
                       and not any(fnmatch.fnmatch(name, p) for p in allowed)]
            check(f"{phase}: no partial files in the artifact folder", not partial,
                  f"found {partial} among {left}")

        # The weights phase: the write is short, so the kill may come late.
        for _ in range(WEIGHTS_TRIES):
            landed, detail = kill_when(lambda pid: weights_written(), pause=0)
            if landed and weights_written():
                break
        check("weights: killed while writing the weights", landed and weights_written(),
              f"{detail} after {WEIGHTS_TRIES} tries")
        check_partial("weights", allowed=(WEIGHTS_TEMPORARY,))
        recompile_and_run("weights")

        landed, detail = kill_when(lambda pid: object_written())
        check("object: killed in the object phase", landed, detail)
        check_partial("object")
        check("object: the killed compile's temporary folder is left",
              bool(glob.glob(os.path.join(system_tmp, "qaf-compile-*"))),
              f"{os.listdir(system_tmp)}")
        recompile_and_run("object")

        landed, detail = kill_when(linking)
        check("link: killed while linking", landed, detail)
        check_partial("link")
        recompile_and_run("link")

        # A dead writer's temporary goes; a live writer's (locked) stays.
        os.makedirs(artifact, exist_ok=True)
        stale = os.path.join(artifact, "weights.safetensors.tmp-dead01")
        live = os.path.join(artifact, "weights.safetensors.tmp-live01")
        with open(stale, "wb") as f:
            f.write(b"partial")
        with open(live, "wb") as holder:
            fcntl.flock(holder, fcntl.LOCK_EX)
            rerun = subprocess.run(command, env=env, capture_output=True, text=True,
                                   timeout=args.timeout)
            check("stale temporaries: the compile succeeds", rerun.returncode == 0,
                  rerun.stderr[:2000])
            check("stale temporaries: a dead writer's is removed", not os.path.exists(stale))
            check("stale temporaries: a live writer's is kept", os.path.exists(live))

    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
