#!/usr/bin/env python3
"""A quick mutation fuzz of qaf-opt over the IR of the lit tests.

Each `// -----` chunk of the given .mlir files is mutated (an integer
literal, a float attribute, or every occurrence of one tensor type replaced
by an unranked, rank-changed, zero-sized, dynamic or differently typed
one) and run through qaf-opt with the verifier alone, shape inference,
canonicalization (folds) and the lowering. A mutant may be rejected with a
diagnostic; it must never crash (a signal, an LLVM stack dump or an
assertion). Crashing mutants are written to --out for a reproducer.

    test/fuzz/mutate_mlir.py --qaf-opt build/bin/qaf-opt \\
        test/dialects/*/*.mlir test/Conversion/ONNXToLinalg/*.mlir
"""

import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys

PIPELINES = [
    [],
    ["--qaf-onnx-infer-shapes"],
    ["-canonicalize"],
    ["--qaf-convert-onnx-to-linalg"],
]

INTEGERS = ["-1", "0", "1", "2", "3", "63", "64", "-64", "4096",
            "9223372036854775807", "-9223372036854775808", "1099511627776"]
FLOATS = ["0.0", "-1.0", "0x7FF8000000000000", "0x7FF0000000000000",
          "0xFFF0000000000000", "1.0e+300"]
ELEMENT_TYPES = ["f32", "f16", "i64", "i32", "i8", "ui8", "i1"]

INTEGER_ATTR = re.compile(r"(?<=[=\[, :])-?\d+(?= *(: *i\d+|[,\]>]))")
FLOAT_ATTR = re.compile(r"(?<== )-?\d+\.\d+(e[+-]?\d+)?(?= : f\d+)")
TENSOR_TYPE = re.compile(r"tensor<([^<>]*)>")


def mutate_type(body, rng):
    """Another tensor type for `body` (the text between tensor< and >)."""
    *dims, element = body.split("x")
    choice = rng.randrange(6)
    if choice == 0:
        return "tensor<*x%s>" % element
    if choice == 1 and dims:
        dims = dims[:-1]
    elif choice == 2:
        dims = dims + [str(rng.choice([1, 2, 3]))]
    elif choice == 3 and dims:
        dims[rng.randrange(len(dims))] = rng.choice(["?", "0", "1"])
    else:
        element = rng.choice(ELEMENT_TYPES)
    return "tensor<%s>" % "x".join(dims + [element])


def mutate(chunk, rng):
    """One mutant of `chunk`, or None when there is nothing to mutate."""
    kind = rng.randrange(3)
    if kind == 0:
        types = sorted(set(m.group(0) for m in TENSOR_TYPE.finditer(chunk)))
        if types:
            old = rng.choice(types)
            return chunk.replace(old, mutate_type(old[7:-1], rng))
    matches = list((INTEGER_ATTR if kind == 1 else FLOAT_ATTR).finditer(chunk))
    if not matches:
        matches = list(INTEGER_ATTR.finditer(chunk))
        if not matches:
            return None
    match = rng.choice(matches)
    value = rng.choice(INTEGERS if "." not in match.group(0) else FLOATS)
    return chunk[:match.start()] + value + chunk[match.end():]


def strip_expectations(chunk):
    """The chunk without RUN lines and expected-* comments (the mutant is
    run without -verify-diagnostics)."""
    return "\n".join(line for line in chunk.splitlines()
                     if "expected-" not in line and "RUN:" not in line)


def run(qaf_opt, mutant, pipeline):
    try:
        result = subprocess.run([qaf_opt, *pipeline, "-"], input=mutant,
                                capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "timeout"
    crashed = (result.returncode < 0 or "Stack dump" in result.stderr
               or "PLEASE submit a bug report" in result.stderr
               or "Assertion" in result.stderr)
    return result.stderr if crashed else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="fuzz-crashes")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    chunks = []
    for path in args.files:
        with open(path) as f:
            chunks += [strip_expectations(c) for c in f.read().split("// -----")
                       if "func.func" in c]
    rng = random.Random(args.seed)
    work = []
    while len(work) < args.mutants:
        mutant = mutate(rng.choice(chunks), rng)
        if mutant is not None:
            work.append((mutant, rng.choice(PIPELINES)))

    crashes = 0
    os.makedirs(args.out, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = pool.map(lambda w: run(args.qaf_opt, *w), work)
        for index, ((mutant, pipeline), error) in enumerate(zip(work, results)):
            if error is None:
                continue
            crashes += 1
            path = os.path.join(args.out, "crash-%d.mlir" % index)
            with open(path, "w") as f:
                f.write("// qaf-opt %s\n%s" % (" ".join(pipeline), mutant))
            frames = [l.strip() for l in error.splitlines()
                      if "qaf::" in l or "error:" in l][:3]
            print("%s (%s)\n  %s" % (path, " ".join(pipeline) or "verify",
                                     "\n  ".join(frames)))
    print("%d mutants, %d crashes" % (len(work), crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
