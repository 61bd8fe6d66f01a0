#!/usr/bin/env python3
"""Numeric check of qaf-convert-onnx-to-linalg against outside oracles.

For each ONNX model this driver
  1. imports it:        qaf-translate --import-onnx model.onnx --print-weights
  2. lowers it:         qaf-opt --qaf-convert-onnx-to-linalg
  3. appends @main, which calls @main_graph on the inputs (as constants) and
     prints every output's bytes (a tiny C helper, built here with clang),
  4. compiles it with upstream passes (one-shot-bufferize, linalg-to-loops,
     math-to-libm/funcs, convert-to-llvm) and runs it with mlir-runner,
  5. compares with the expected outputs: floats rtol=1e-4 / atol=1e-5
     (f16: 1e-3, bf16: 1e-2; NaNs must line up), integers and bools exactly.

Oracles: the ONNX backend node tests (model.onnx + test_data_set_*/*.pb; the
default), or ONNX Runtime on random inputs for any model given with --model.

Usage:
  run_numeric.py --build build-lowerA [--filter REGEX] [--ops Add,Softmax]
  run_numeric.py --build build-lowerA --model m.onnx [--model n.onnx ...]
A node test runs when every op of its imported IR is in --ops (default: every
op the lowering claims; tests with other ops are listed as "skipped").
The last line is "P passed, F failed, S skipped".
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

NODE_TESTS = "/usr/include/onnx/backend/test/data/node"
LLVM_LIB = "/usr/lib/llvm-22/lib"
RUNNER = "/usr/lib/llvm-22/bin/mlir-runner"
CLANG = "clang-22"
TIMEOUT_S = 120

LOWERING = ",".join([
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "convert-linalg-to-loops", "lower-affine", "convert-scf-to-cf",
    "convert-math-to-funcs", "convert-math-to-libm", "expand-strided-metadata",
    "lower-affine", "finalize-memref-to-llvm", "convert-to-llvm", "reconcile-unrealized-casts",
])

# Element types as MLIR prints them (signless after the conversion), with
# their byte size in memory and the numpy dtype of their bits.
ELEMENT_BYTES = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2, "i64": 8, "i32": 4,
                 "i16": 2, "i8": 1, "i4": 1, "i2": 1, "i1": 1}

DUMP_C = r"""
#include <stdint.h>
#include <stdio.h>
typedef struct { int64_t rank; void *descriptor; } Unranked;
static void dump(Unranked *m, int64_t elementBytes) {
  char **ptrs = (char **)m->descriptor;
  char *aligned = ptrs[1];
  int64_t *rest = (int64_t *)(ptrs + 2);
  int64_t offset = rest[0];
  int64_t *sizes = rest + 1, *strides = rest + 1 + m->rank;
  int64_t count = 1;
  printf("QAFDUMP %lld", (long long)m->rank);
  for (int64_t i = 0; i < m->rank; ++i) {
    printf(" %lld", (long long)sizes[i]);
    count *= sizes[i];
  }
  printf(" :");
  int64_t index[32] = {0};
  for (int64_t n = 0; n < count; ++n) {
    int64_t linear = offset;
    for (int64_t i = 0; i < m->rank; ++i) linear += index[i] * strides[i];
    unsigned char *p = (unsigned char *)(aligned + linear * elementBytes);
    printf(" ");
    for (int64_t b = 0; b < elementBytes; ++b) printf("%02x", p[b]);
    for (int64_t i = m->rank - 1; i >= 0; --i) {
      if (++index[i] < sizes[i]) break;
      index[i] = 0;
    }
  }
  printf("\n");
  fflush(stdout);
}
#define DEF(t) \
  void _mlir_ciface_qafDump_##t(Unranked *m, int64_t n) { dump(m, n); }
DEF(f64) DEF(f32) DEF(f16) DEF(bf16) DEF(i64) DEF(i32) DEF(i16) DEF(i8)
DEF(i4) DEF(i2) DEF(i1)
"""

# The op types the lowering claims (this family; others via --ops).
MY_OPS = {
    "Constant", "Identity", "Add", "Sub", "Mul", "Div", "Pow", "Equal",
    "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Not",
    "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Tanh", "Erf",
    "Sigmoid", "Relu", "Cos", "Sin", "Gelu", "Where", "Cast", "CastLike",
    "Clip", "Max", "Min", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
    "Softmax", "LogSoftmax", "CumSum", "LayerNormalization",
    "com.microsoft.SimplifiedLayerNormalization",
    "com.microsoft.SkipSimplifiedLayerNormalization", "NoValue",
}


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=TIMEOUT_S, **kwargs)


def tensor_type(text):
    """'tensor<3x?xf32>' -> ([3, None], 'f32')."""
    inner = text[len("tensor<"):-1]
    parts = inner.split("x")
    dims = [None if p == "?" else int(p) for p in parts[:-1]]
    return dims, parts[-1]


def split_types(text):
    """Splits a comma-separated list of types at top level."""
    types, depth, current = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            types.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        types.append(current.strip())
    return types


def main_graph_signature(lowered):
    """Argument and result types of @main_graph in the lowered IR."""
    match = re.search(r"func\.func @main_graph\((.*?)\)\s*(->\s*(.*?))?\s*\{\n",
                      lowered, re.S)
    if not match:
        raise RuntimeError("no @main_graph in the lowered IR")
    args = [re.sub(r"\s*\{.*\}$", "", a.split(":", 1)[1].strip())
            for a in split_types(match.group(1))]
    results_text = (match.group(3) or "").strip()
    if results_text.startswith("("):
        results_text = results_text[1:-1]
    results = [re.sub(r"\s*\{.*\}$", "", r).strip()
               for r in split_types(results_text)]
    return args, results


def bool_literal(array):
    if array.ndim == 0:
        return "true" if array else "false"
    return "[" + ", ".join(bool_literal(a) for a in array) + "]"


def constant_for(value, mlir_type, name):
    dims, elem = tensor_type(mlir_type)
    static = "tensor<" + "x".join(str(d) for d in value.shape) + \
        ("x" if value.ndim else "") + elem + ">"
    if value.size == 0:
        line = f"%{name} = tensor.empty() : {static}"
    elif elem == "i1":
        line = (f"%{name} = arith.constant dense<{bool_literal(value)}> : "
                f"{static}")
    else:
        raw = np.ascontiguousarray(value).tobytes()
        if elem in ("i4", "i2"):
            raw = np.ascontiguousarray(value).astype(np.int8).tobytes()
        line = (f"%{name} = arith.constant dense<\"0x{raw.hex().upper()}\"> "
                f": {static}")
    lines = [line]
    if static != mlir_type:
        lines.append(f"%{name}_c = tensor.cast %{name} : {static} to "
                     f"{mlir_type}")
        name = name + "_c"
    return lines, name


def build_main(inputs, arg_types, result_types):
    lines, names = [], []
    for i, (value, mlir_type) in enumerate(zip(inputs, arg_types)):
        body, name = constant_for(value, mlir_type, f"in{i}")
        lines += body
        names.append("%" + name)
    results = ", ".join(result_types)
    call = f"call @main_graph({', '.join(names)}) : " \
           f"({', '.join(arg_types)}) -> ({results})"
    if len(result_types) == 1:
        lines.append(f"%r = {call}")
        result_names = ["%r"]
    else:
        lines.append(f"%r:{len(result_types)} = {call}")
        result_names = [f"%r#{i}" for i in range(len(result_types))]
    decls = set()
    for i, (name, mlir_type) in enumerate(zip(result_names, result_types)):
        dims, elem = tensor_type(mlir_type)
        memref = "memref<" + mlir_type[len("tensor<"):]
        lines.append(f"%m{i} = bufferization.to_buffer {name} : {mlir_type} "
                     f"to {memref}")
        lines.append(f"%u{i} = memref.cast %m{i} : {memref} to memref<*x{elem}>")
        lines.append(f"%n{i} = arith.constant {ELEMENT_BYTES[elem]} : i64")
        lines.append(f"call @qafDump_{elem}(%u{i}, %n{i}) : "
                     f"(memref<*x{elem}>, i64) -> ()")
        decls.add(f"func.func private @qafDump_{elem}(memref<*x{elem}>, i64) "
                  f"attributes {{llvm.emit_c_interface}}")
    text = "\n".join(sorted(decls)) + "\nfunc.func @main() {\n  " + \
        "\n  ".join(lines) + "\n  return\n}\n"
    return text


def decode(line, expected_dtype, elem):
    header, _, data = line.partition(":")
    fields = header.split()
    rank = int(fields[1])
    shape = tuple(int(x) for x in fields[2:2 + rank])
    raw = bytes.fromhex("".join(data.split()))
    if elem == "bf16":
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    if str(expected_dtype) == "bfloat16":
        expected_dtype = np.float32
    if elem == "i1":
        return (np.frombuffer(raw, dtype=np.uint8) != 0).reshape(shape)
    if elem in ("i4", "i2"):
        width = int(elem[1:])
        codes = np.frombuffer(raw, dtype=np.uint8) & ((1 << width) - 1)
        if np.dtype(expected_dtype).kind == "i" or \
                str(expected_dtype) in ("int4", "int2"):
            codes = codes.astype(np.int16)
            codes = np.where(codes >= (1 << (width - 1)),
                             codes - (1 << width), codes)
        return codes.astype(np.int64).reshape(shape)
    dtype = np.dtype(expected_dtype).newbyteorder("<")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def compare(actual, expected, elem):
    """None when equal within tolerance, else a message. `elem` is the MLIR
    element type of the output."""
    if tuple(actual.shape) != tuple(expected.shape):
        return f"shape {actual.shape} != expected {expected.shape}"
    if elem == "bf16" and expected.dtype == np.uint16:
        # Old test data stores bfloat16 as its uint16 bits.
        expected = (expected.astype(np.uint32) << 16).view(np.float32)
    kind = expected.dtype.kind
    name = "bfloat16" if elem == "bf16" else str(expected.dtype)
    if kind == "f" or name == "bfloat16":
        rtol, atol = 1e-4, 1e-5
        if name == "float16":
            rtol, atol = 1e-3, 1e-3
        if name == "bfloat16":
            rtol, atol = 1e-2, 1e-2
        a = actual.astype(np.float64)
        e = expected.astype(np.float64)
        if not np.array_equal(np.isnan(a), np.isnan(e)):
            return "NaNs differ"
        mask = ~np.isnan(e)
        if not np.allclose(a[mask], e[mask], rtol=rtol, atol=atol):
            diff = np.abs(a[mask] - e[mask])
            worst = int(np.argmax(diff))
            return (f"max abs diff {diff.max():.3g} (actual "
                    f"{a[mask].flat[worst]!r}, expected "
                    f"{e[mask].flat[worst]!r})")
        return None
    if kind == "b":
        return None if np.array_equal(actual.astype(bool), expected) \
            else "bools differ"
    if np.array_equal(actual.astype(np.int64), expected.astype(np.int64)):
        return None
    return f"integers differ: {actual.ravel()[:8]} vs {expected.ravel()[:8]}"


class Runner:
    def __init__(self, build, workdir, translate=None):
        self.opt = os.path.join(build, "bin", "qaf-opt")
        self.translate = translate or os.path.join(build, "bin",
                                                   "qaf-translate")
        self.workdir = workdir
        source = os.path.join(workdir, "dump.c")
        with open(source, "w") as f:
            f.write(DUMP_C)
        self.dump_lib = os.path.join(workdir, "libqafdump.so")
        subprocess.run([CLANG, "-O1", "-shared", "-fPIC", "-o", self.dump_lib,
                        source], check=True)

    def imported_ops(self, model_path):
        out = os.path.join(self.workdir, "imported.mlir")
        result = run([self.translate, "--import-onnx", model_path,
                      "--print-weights", "-o", out])
        if result.returncode != 0:
            raise RuntimeError("import failed: " + result.stderr.strip()[-400:])
        with open(out) as f:
            text = f.read()
        ops = set(re.findall(r"(?:=|^)\s*(onnx\.[A-Za-z_.]+)[ (]", text, re.M))
        return out, {op[len("onnx."):] for op in ops}

    def execute(self, imported, inputs, output_dtypes):
        """Lowers, runs and decodes; returns the outputs as numpy arrays."""
        lowered_path = os.path.join(self.workdir, "lowered.mlir")
        result = run([self.opt, "--qaf-convert-onnx-to-linalg", imported,
                      "-o", lowered_path])
        if result.returncode != 0:
            raise RuntimeError("conversion failed: " +
                               result.stderr.strip()[-600:])
        with open(lowered_path) as f:
            lowered = f.read()
        arg_types, result_types = main_graph_signature(lowered)
        main = build_main(inputs, arg_types, result_types)
        end = lowered.rstrip().rfind("}")
        module = lowered[:end] + main + "}\n"
        wrapped = os.path.join(self.workdir, "wrapped.mlir")
        with open(wrapped, "w") as f:
            f.write(module)
        llvm_path = os.path.join(self.workdir, "llvm.mlir")
        result = run([self.opt, wrapped, f"--pass-pipeline=builtin.module("
                      f"{LOWERING})", "-o", llvm_path])
        if result.returncode != 0:
            raise RuntimeError("LLVM lowering failed: " +
                               result.stderr.strip()[-600:])
        libs = ",".join([f"{LLVM_LIB}/libmlir_c_runner_utils.so",
                         f"{LLVM_LIB}/libmlir_runner_utils.so", self.dump_lib])
        result = run([RUNNER, llvm_path, "-e", "main",
                      "-entry-point-result=void", f"-shared-libs={libs}"])
        if result.returncode != 0:
            raise RuntimeError(f"run failed (exit {result.returncode}): " +
                               (result.stderr + result.stdout).strip()[-600:])
        lines = [l for l in result.stdout.splitlines()
                 if l.startswith("QAFDUMP")]
        if len(lines) != len(result_types):
            raise RuntimeError(f"{len(lines)} outputs printed, "
                               f"{len(result_types)} expected")
        outputs, elems = [], []
        for line, mlir_type, dtype in zip(lines, result_types, output_dtypes):
            elem = tensor_type(mlir_type)[1]
            outputs.append(decode(line, dtype, elem))
            elems.append(elem)
        return outputs, elems


def load_pb(path):
    tensor = TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def check_outputs(outputs, expected, elems):
    errors = []
    for i, (actual, reference, elem) in enumerate(zip(outputs, expected,
                                                      elems)):
        message = compare(actual, reference, elem)
        if message:
            errors.append(f"output {i}: {message}")
    return errors


# Inputs that real models give as constants (axes, shapes, ...): the node
# tests feed them as graph inputs, which would make them run-time values.
# They are turned into initializers before import.
CONSTANT_INPUT_SLOTS = {
    "ReduceSum": [1], "ReduceMean": [1], "ReduceMax": [1], "ReduceMin": [1],
    "CumSum": [1], "Reshape": [1], "Expand": [1], "Tile": [1],
    "Slice": [1, 2, 3, 4], "Squeeze": [1], "Unsqueeze": [1], "Split": [1],
    "ConstantOfShape": [0], "Trilu": [1], "Range": [0, 1, 2],
}


def freeze_constant_inputs(model, inputs):
    """Moves the graph inputs that feed CONSTANT_INPUT_SLOTS into
    initializers; returns the remaining inputs."""
    slots = set()
    for node in model.graph.node:
        for index in CONSTANT_INPUT_SLOTS.get(node.op_type, []):
            if index < len(node.input) and node.input[index]:
                slots.add(node.input[index])
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    kept_inputs, kept_values = [], []
    for info, value in zip(graph_inputs, inputs):
        if info.name in slots:
            model.graph.initializer.append(
                numpy_helper.from_array(value, info.name))
        else:
            kept_inputs.append(info)
            kept_values.append(value)
    del model.graph.input[:]
    model.graph.input.extend(kept_inputs)
    return kept_values


def shapes_match(model, inputs):
    """The test data fits the model's declared static input shapes (a few
    old tests are malformed; ONNX Runtime rejects them too)."""
    initializers = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    for info, value in zip(graph_inputs, inputs):
        dims = info.type.tensor_type.shape.dim
        declared = [d.dim_value if d.HasField("dim_value") else None
                    for d in dims]
        if len(declared) != value.ndim or any(
                d is not None and d != v for d, v in zip(declared, value.shape)):
            return False
    return True


def run_node_test(runner, test_dir, allowed_ops):
    model_path = os.path.join(test_dir, "model.onnx")
    data_sets = sorted(d for d in os.listdir(test_dir)
                       if d.startswith("test_data_set"))
    for data_set in data_sets:
        folder = os.path.join(test_dir, data_set)
        count = lambda prefix: len([f for f in os.listdir(folder)
                                    if f.startswith(prefix)])
        try:
            inputs = [load_pb(os.path.join(folder, f"input_{i}.pb"))
                      for i in range(count("input_"))]
            expected = [load_pb(os.path.join(folder, f"output_{i}.pb"))
                        for i in range(count("output_"))]
        except Exception as error:
            # Sequences, optionals: not tensors, not qaf's.
            return "skipped", f"test data is not plain tensors ({error})"
        model = onnx.load(model_path)
        if not shapes_match(model, inputs):
            return "skipped", "test data does not match the model's shapes"
        inputs = freeze_constant_inputs(model, inputs)
        frozen = os.path.join(runner.workdir, "model.onnx")
        onnx.save(model, frozen)
        imported, ops = runner.imported_ops(frozen)
        if not ops <= allowed_ops:
            return "skipped", "ops " + ",".join(sorted(ops - allowed_ops))
        outputs, elems = runner.execute(imported, inputs,
                                        [e.dtype for e in expected])
        errors = check_outputs(outputs, expected, elems)
        if errors:
            return "failed", f"{data_set}: " + "; ".join(errors)
    return "passed", ""


def random_input(value_info, rng):
    tensor_type = value_info.type.tensor_type
    shape = [d.dim_value for d in tensor_type.shape.dim]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -100), min(info.max, 100), shape,
                            dtype=dtype)
    return rng.standard_normal(shape).astype(dtype)


def run_model(runner, model_path, seed=0):
    """Random inputs; ONNX Runtime is the oracle."""
    import onnxruntime
    model = onnx.load(model_path)
    initializers = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(seed)
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    inputs = [random_input(i, rng) for i in graph_inputs]
    session = onnxruntime.InferenceSession(
        model_path, providers=["CPUExecutionProvider"])
    expected = session.run(None, {i.name: v for i, v in
                                  zip(graph_inputs, inputs)})
    imported, _ = runner.imported_ops(model_path)
    outputs, elems = runner.execute(imported, inputs,
                                    [e.dtype for e in expected])
    errors = check_outputs(outputs, expected, elems)
    return ("failed", "; ".join(errors)) if errors else ("passed", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True,
                        help="build folder with bin/qaf-opt, bin/qaf-translate")
    parser.add_argument("--translate", default=None,
                        help="qaf-translate to import with (default: the "
                             "build's)")
    parser.add_argument("--tests-dir", default=NODE_TESTS)
    parser.add_argument("--filter", default="", help="regex on test names")
    parser.add_argument("--ops", default="",
                        help="extra op types allowed in node tests (comma "
                             "separated; 'all' for any)")
    parser.add_argument("--model", action="append", default=[],
                        help="an ONNX model to check against ONNX Runtime")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    with tempfile.TemporaryDirectory(prefix="qaf-numeric-") as workdir:
        runner = Runner(args.build, workdir, args.translate)
        if args.model:
            jobs = [(m, lambda m=m: run_model(runner, m)) for m in args.model]
        else:
            allowed = set(MY_OPS)
            extra = [o for o in args.ops.split(",") if o]
            allowed |= set(extra)
            names = sorted(n for n in os.listdir(args.tests_dir)
                           if re.search(args.filter, n))
            jobs = [(n, lambda n=n: run_node_test(
                runner, os.path.join(args.tests_dir, n),
                allowed if "all" not in extra else _Everything()))
                for n in names]
        for name, job in jobs:
            try:
                status, detail = job()
            except Exception as error:  # one test's failure, not the run's
                message = f"{type(error).__name__}: {error}" \
                    if not isinstance(error, RuntimeError) else str(error)
                # Models qaf cannot import say nothing about the lowering.
                status = "skipped" if message.startswith("import failed") \
                    else "failed"
                detail = message
            counts[status] += 1
            if status == "failed" or args.verbose:
                print(f"{status.upper():8} {name}: {detail}", flush=True)
    print(f"{counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    return 0 if counts["failed"] == 0 and counts["passed"] > 0 else 1


class _Everything:
    def __ge__(self, other):
        return True

    def __rsub__(self, other):
        return set()

    def __contains__(self, item):
        return True


if __name__ == "__main__":
    sys.exit(main())
