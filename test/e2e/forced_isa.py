#!/usr/bin/env python3
"""One CPU kernel path, forced with QAF_CPU, in the unit tests and in a model.

The kernels (lib/Runtime/CPU/Kernels) pick avx512, avx2 or generic at run
time; without forcing, a compiled model only ever runs the host's widest
path. For the path given with --isa this test

  * checks that the CPU can run it, from /proc/cpuinfo (independently of
    the kernels' own detection); if it cannot, the test says so and exits
    with 77, which ctest reports as skipped: a narrower CPU never passes by
    running a wider path or by falling back;
  * runs the kernels' unit tests of that path (qaf-unit-tests, the SGEMM and
    quantized-linear cases parameterised by path) with QAF_CPU set, and
    requires that they ran and none was skipped;
  * compiles the tiny generated decoder, as is and 4-bit quantized
    (`qaf-opt --qaf-quantize-weights`), loads the artifact's model.so with
    QAF_CPU set and asks it which path it took (qaf_cpu_kernels_isa), then
    runs it with `qaf-run` under QAF_CPU: no fallback message on stderr, the
    float logits within 1e-5 · max|logits| of ONNX Runtime's, the quantized
    logits within the same bound of the unforced run's.

Exit status 0 when every check passed, 77 when the CPU lacks the path.
"""
import argparse
import ctypes
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import e2e_support as support  # noqa: E402
import gen_llama_onnx as gen  # noqa: E402

# The CPU features each path's code is compiled for (the target attributes
# in lib/Runtime/CPU/Kernels).
REQUIRED_FLAGS = {
    "generic": [],
    "avx2": ["avx2", "fma"],
    "avx512": ["avx512f", "avx512bw", "avx2", "fma"],
}
RELATIVE_TOLERANCE = 1e-5
FALLBACK_MESSAGE = "requested, but this CPU does not support"
SHAPES = [(1, 7), (2, 33)]


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def check_unit_tests(args, env):
    command = [args.unit_tests,
               f"--gtest_filter=Paths/*.*/{args.isa}_*"]
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=900, env=env)
    out = result.stdout
    ran = re.search(r"\[==========\] (\d+) tests? from .* ran", out)
    skipped = re.search(r"\[  SKIPPED \] (\d+) test", out)
    count = int(ran.group(1)) if ran else 0
    if result.returncode != 0 or not count or skipped:
        print(f"FAIL unit tests of the {args.isa} path (exit "
              f"{result.returncode}, {count} ran, "
              f"{skipped.group(1) if skipped else 0} skipped):\n"
              f"{out[-3000:]}{result.stderr[-1000:]}")
        return 1
    print(f"ok   unit tests of the {args.isa} path: {count} ran, none skipped")
    return 0


def isa_of_model(artifact, env):
    """The path the artifact's model.so takes under `env`, asked in a child
    process (the choice is made once per process)."""
    code = ("import ctypes, sys\n"
            "lib = ctypes.CDLL(sys.argv[1])\n"
            "lib.qaf_cpu_kernels_isa.restype = ctypes.c_char_p\n"
            "print(lib.qaf_cpu_kernels_isa().decode())\n")
    result = subprocess.run([sys.executable, "-c", code,
                             os.path.join(artifact, "model.so")],
                            capture_output=True, text=True, timeout=60,
                            env=env)
    return result.stdout.strip(), result.stderr.strip()


def check_model(args, tmp, env):
    cfg, model, artifacts = support.build_tiny_artifacts(args, tmp)
    unforced = {k: v for k, v in env.items() if k != "QAF_CPU"}
    session = support.ort_session(model)
    failures = 0
    for kind, artifact in artifacts.items():
        got, err = isa_of_model(artifact, env)
        if got != args.isa:
            print(f"FAIL {kind}: model.so under QAF_CPU={args.isa} runs the "
                  f"'{got}' path ({err[-500:]})")
            failures += 1
            continue
        print(f"ok   {kind}: model.so under QAF_CPU={args.isa} runs {got}")
        for batch, seq in SHAPES:
            feeds = gen.make_inputs(cfg, batch, seq)
            label = f"{kind} batch={batch} seq={seq}"
            folder = os.path.join(tmp, f"{kind}-{batch}x{seq}")
            outputs, _, result = support.run_artifact(
                args.qaf_run, artifact, feeds, folder, env=env)
            if FALLBACK_MESSAGE in result.stderr:
                print(f"FAIL {label}: qaf-run fell back: {result.stderr}")
                failures += 1
                continue
            if kind == "float":
                expected = session.run(None, feeds)[0]
                oracle = "onnxruntime"
            else:
                reference, _, _ = support.run_artifact(
                    args.qaf_run, artifact, feeds, folder + "-unforced",
                    env=unforced)
                expected = reference["logits"]
                oracle = "the unforced path"
            diff = support.max_abs_diff(outputs["logits"], expected)
            tolerance = RELATIVE_TOLERANCE * float(np.max(np.abs(expected)))
            ok = diff <= tolerance
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {label}: max |logits - "
                  f"{oracle}| = {diff:.3g} (tolerance {tolerance:.3g})")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--isa", required=True, choices=sorted(REQUIRED_FLAGS))
    parser.add_argument("--unit-tests", required=True,
                        help="the qaf-unit-tests binary")
    for tool in ("qaf-translate", "qaf-opt", "qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    args = parser.parse_args()

    flags = cpu_flags()
    if flags is None and REQUIRED_FLAGS[args.isa]:
        print(f"SKIPPED: no /proc/cpuinfo to tell whether this CPU runs the "
              f"{args.isa} path")
        return support.SKIP_CODE
    missing = [f for f in REQUIRED_FLAGS[args.isa] if f not in (flags or ())]
    if missing:
        print(f"SKIPPED: QAF_CPU={args.isa} needs {', '.join(missing)}, which "
              f"this CPU lacks; the {args.isa} kernel path is not tested on "
              f"this machine")
        return support.SKIP_CODE

    env = dict(os.environ, QAF_CPU=args.isa)
    failures = check_unit_tests(args, env)
    with tempfile.TemporaryDirectory(prefix=f"qaf-forced-{args.isa}-") as tmp:
        try:
            failures += check_model(args, tmp, env)
        except (support.ToolError, subprocess.TimeoutExpired) as error:
            print(f"FAIL {error}")
            failures += 1
    print(f"{'FAILED' if failures else 'PASSED'}: QAF_CPU={args.isa}, "
          f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
