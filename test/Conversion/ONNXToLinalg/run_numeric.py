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
default), ONNX Runtime (or numpy, where ORT lacks a type) on the built-in
models of --ort-suite (newer ops, f16/bf16/f64, unsigned types, contrib
ops, dynamic shapes, edge cases), or ONNX Runtime on random inputs for any
model given with --model.

Node tests feed axes/shape inputs as graph inputs; they are turned into
initializers first (CONSTANT_INPUT_SLOTS), as real models have them. A node
test that ONNX Runtime itself does not reproduce, or whose data do not fit
its model, is "skipped", as are node tests qaf rejects with a diagnostic
(unsupported ops or types: they say nothing about the lowering). In the ORT
suite and with --model nothing is skipped: an import failure, a crash of any
tool, a time-out, or a model ONNX Runtime cannot run without expected
outputs given is a failure. --expect-passed / --expect-skipped make a change
in the counts a failure too (ctest commits the suite's counts).

Usage:
  run_numeric.py --build BUILD [--filter REGEX] [--ops Add,Softmax | all] [-v]
  run_numeric.py --build BUILD --ort-suite [--filter REGEX] [-v]
  run_numeric.py --build BUILD --model m.onnx [--model n.onnx ...]
A node test runs when every op of its imported IR is in MY_OPS plus --ops
(other tests are "skipped"). With -v every test is listed, and the number
of passed node tests per op is printed.
The last line is "P passed, F failed, S skipped" (then any count that
differs from --expect-*).
"""

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

NODE_TESTS = "/usr/include/onnx/backend/test/data/node"
TIMEOUT_S = 120

LOWERING = ",".join([
    "qaf-checks-to-asserts",
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}",
    "convert-linalg-to-loops", "lower-affine", "convert-scf-to-cf",
    # math-to-llvm first: math-to-libm rejects ops it has no call for
    # (math.absi); it then takes what LLVM has no intrinsic for (erf, tanh).
    "convert-math-to-funcs", "convert-math-to-llvm", "convert-math-to-libm",
    "expand-strided-metadata",
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
    "SimplifiedLayerNormalization",
    "com.microsoft.SkipSimplifiedLayerNormalization", "NoValue", "IsNaN",
    "GatherND",
}


class ImportFailed(RuntimeError):
    """qaf-translate rejected the model (a diagnostic, exit status 1) or
    crashed (any other status: a signal, an abort)."""

    def __init__(self, result):
        self.crashed = result.returncode != 1
        what = f"crashed (exit {result.returncode})" if self.crashed \
            else "failed"
        super().__init__(f"import {what}: " + result.stderr.strip()[-400:])


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
        if ch in "<[{(":
            depth += 1
        elif ch in ">]})":
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


def read_cmake_cache(build):
    """The build's CMake cache entries (NAME -> value)."""
    entries = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            match = re.match(r"([A-Za-z_0-9]+):[A-Z]+=(.*)$", line.strip())
            if match:
                entries[match.group(1)] = match.group(2)
    return entries


class Runner:
    def __init__(self, build, workdir, translate=None, llvm_lib=None,
                 mlir_runner=None, cc=None):
        # The LLVM the build was configured with, not a fixed install path.
        cache = read_cmake_cache(build)
        llvm_root = os.path.normpath(
            os.path.join(cache["LLVM_DIR"], "..", "..", ".."))
        self.llvm_lib = llvm_lib or os.path.join(llvm_root, "lib")
        self.mlir_runner = mlir_runner or os.path.join(llvm_root, "bin",
                                                       "mlir-runner")
        self.cc = cc or cache["CMAKE_C_COMPILER"]
        self.opt = os.path.join(build, "bin", "qaf-opt")
        self.translate = translate or os.path.join(build, "bin",
                                                   "qaf-translate")
        self.workdir = workdir
        source = os.path.join(workdir, "dump.c")
        with open(source, "w") as f:
            f.write(DUMP_C)
        self.dump_lib = os.path.join(workdir, "libqafdump.so")
        subprocess.run([self.cc, "-O1", "-shared", "-fPIC", "-o", self.dump_lib,
                        source], check=True)

    def imported_ops(self, model_path):
        out = os.path.join(self.workdir, "imported.mlir")
        result = run([self.translate, "--import-onnx", model_path,
                      "--print-weights", "-o", out])
        if result.returncode != 0:
            raise ImportFailed(result)
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
        # @main goes at the end of the module, before any resource blobs.
        body, marker, resources = lowered.partition("\n{-#")
        end = body.rstrip().rfind("}")
        module = body[:end] + main + "}\n" + marker + resources
        wrapped = os.path.join(self.workdir, "wrapped.mlir")
        with open(wrapped, "w") as f:
            f.write(module)
        llvm_path = os.path.join(self.workdir, "llvm.mlir")
        result = run([self.opt, wrapped, f"--pass-pipeline=builtin.module("
                      f"{LOWERING})", "-o", llvm_path])
        if result.returncode != 0:
            raise RuntimeError("LLVM lowering failed: " +
                               result.stderr.strip()[-600:])
        libs = ",".join([f"{self.llvm_lib}/libmlir_c_runner_utils.so",
                         f"{self.llvm_lib}/libmlir_runner_utils.so",
                         self.dump_lib])
        result = run([self.mlir_runner, llvm_path, "-e", "main",
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
            if not ort_reproduces(model_path, model, inputs, expected):
                return "skipped", ("ONNX Runtime does not reproduce the "
                                   "reference either: " + "; ".join(errors))
            return "failed", f"{data_set}: " + "; ".join(errors)
    return "passed", "ops " + ",".join(sorted(ops - {"NoValue"}))


def ort_reproduces(model_path, frozen_model, inputs, expected):
    """Whether ONNX Runtime matches the reference outputs within the same
    tolerance (some references were computed in float64)."""
    import onnxruntime
    try:
        session = onnxruntime.InferenceSession(
            frozen_model.SerializeToString(),
            providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        outputs = session.run(None, dict(zip(names, inputs)))
    except Exception:
        return False
    return not any(compare(np.asarray(o), e, "") for o, e in
                   zip(outputs, expected))


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


def run_model(runner, model_path, seed=0, inputs=None, expected=None):
    """ONNX Runtime is the oracle on `inputs` (random when not given),
    unless `expected` outputs are given."""
    import onnxruntime
    model = onnx.load(model_path)
    initializers = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(seed)
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    if inputs is None:
        inputs = [random_input(i, rng) for i in graph_inputs]
    if expected is None:
        # A model ONNX Runtime cannot run needs its expected outputs given.
        try:
            session = onnxruntime.InferenceSession(
                model_path, providers=["CPUExecutionProvider"])
        except Exception as error:
            return "failed", ("ONNX Runtime cannot run it and no expected "
                              f"outputs are given: {str(error)[:200]}")
        expected = session.run(None, {i.name: v for i, v in
                                      zip(graph_inputs, inputs)})
    imported, _ = runner.imported_ops(model_path)
    outputs, elems = runner.execute(imported, inputs,
                                    [e.dtype for e in expected])
    errors = check_outputs(outputs, expected, elems)
    return ("failed", "; ".join(errors)) if errors else ("passed", "")


def ort_suite(runner, workdir):
    """Models the node tests lack (newer ops, f16/bf16/f64 and unsigned
    variants, contrib ops, dynamic shapes, edge cases), each with its
    inputs: yields (name, job) for run_model."""
    from onnx import helper
    T = TensorProto
    rng = np.random.default_rng(1)

    def model(name, nodes, inputs, outputs, initializers=(), opset=21):
        graph = helper.make_graph(
            nodes, name,
            [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
            [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
            list(initializers))
        m = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", opset),
            helper.make_opsetid("com.microsoft", 1)])
        m.ir_version = 10
        path = os.path.join(workdir, name + ".onnx")
        onnx.save(m, path)
        return path

    def case(name, nodes, inputs, outputs, values=None, initializers=(),
             opset=21, expected=None):
        path = model(name, nodes, inputs, outputs, initializers, opset)
        return (name, lambda: run_model(runner, path, inputs=values,
                                        expected=expected))

    node = helper.make_node
    const = lambda name, values, dtype=np.int64: numpy_helper.from_array(
        np.array(values, dtype=dtype), name)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    cases = []

    # Gelu (opset 20), both forms; f16 too.
    for approx in ["none", "tanh"]:
        for t, dt in [(T.FLOAT, np.float32), (T.FLOAT16, np.float16)]:
            cases.append(case(
                f"gelu_{approx}_{dt.__name__}",
                [node("Gelu", ["x"], ["y"], approximate=approx)],
                [("x", t, [4, 33])], [("y", t)],
                [(f32(4, 33) * 3).astype(dt)]))
    # Sigmoid tails, f16 / f64 unary math.
    x = np.array([-100, -30, -5, -1e-3, 0, 1e-3, 5, 30, 100], np.float32)
    cases.append(case("sigmoid_tails", [node("Sigmoid", ["x"], ["y"])],
                      [("x", T.FLOAT, [9])], [("y", T.FLOAT)], [x]))
    for op in ["Sqrt", "Exp", "Log", "Tanh", "Erf", "Sin", "Cos", "Sigmoid",
               "Reciprocal", "Abs", "Neg", "Relu"]:
        for t, dt in [(T.FLOAT16, np.float16), (T.DOUBLE, np.float64)]:
            v = np.abs(f32(3, 7)).astype(dt) + (0.1 if op in ("Sqrt", "Log",
                                                              "Reciprocal")
                                                 else -0.5)
            # ONNX Runtime has no double Erf: math.erf (double) is the
            # oracle there.
            expected = [np.vectorize(math.erf)(v.astype(dt))] \
                if (op, dt) == ("Erf", np.float64) else None
            cases.append(case(f"{op.lower()}_{dt.__name__}",
                              [node(op, ["x"], ["y"])], [("x", t, [3, 7])],
                              [("y", t)], [v.astype(dt)], expected=expected))
    # Integer unary / binary with signedness.
    i8 = np.array([-128, -7, -1, 0, 1, 7, 127], np.int8)
    cases.append(case("abs_int8", [node("Abs", ["x"], ["y"])],
                      [("x", T.INT8, [7])], [("y", T.INT8)], [i8]))
    cases.append(case("neg_int32", [node("Neg", ["x"], ["y"])],
                      [("x", T.INT32, [7])], [("y", T.INT32)],
                      [i8.astype(np.int32)]))
    a = np.array([-7, 7, -7, 7, 0, -9], np.int32)
    b = np.array([2, -2, -2, 2, 3, 4], np.int32)
    cases.append(case("div_int32_trunc", [node("Div", ["a", "b"], ["c"])],
                      [("a", T.INT32, [6]), ("b", T.INT32, [6])],
                      [("c", T.INT32)], [a, b]))
    ua = np.array([200, 255, 3, 128, 0], np.uint8)
    ub = np.array([7, 2, 200, 127, 1], np.uint8)
    for op in ["Div", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
               "Equal", "Max", "Min", "Sub", "Mul", "Add"]:
        out_t = T.BOOL if op in ("Less", "Greater", "LessOrEqual",
                                 "GreaterOrEqual", "Equal") else T.UINT8
        cases.append(case(f"{op.lower()}_uint8", [node(op, ["a", "b"], ["c"])],
                          [("a", T.UINT8, [5]), ("b", T.UINT8, [5])],
                          [("c", out_t)], [ua, ub]))
    for t, dt in [(T.UINT16, np.uint16), (T.UINT32, np.uint32),
                  (T.UINT64, np.uint64)]:
        big = np.array([np.iinfo(dt).max, 5, np.iinfo(dt).max // 2 + 3, 0], dt)
        small = np.array([3, np.iinfo(dt).max - 1, 2, 1], dt)
        cases.append(case(f"less_{dt.__name__}",
                          [node("Less", ["a", "b"], ["c"])],
                          [("a", t, [4]), ("b", t, [4])], [("c", T.BOOL)],
                          [big, small]))
    # Comparisons with NaN are false; Max/Min propagate NaN.
    fa = np.array([np.nan, 1, 2, np.nan], np.float32)
    fb = np.array([np.nan, 1, np.nan, 3], np.float32)
    for op in ["Equal", "Less", "GreaterOrEqual"]:
        cases.append(case(f"{op.lower()}_nan", [node(op, ["a", "b"], ["c"])],
                          [("a", T.FLOAT, [4]), ("b", T.FLOAT, [4])],
                          [("c", T.BOOL)], [fa, fb]))
    cases.append(case("max3_bcast",
                      [node("Max", ["a", "b", "c"], ["y"])],
                      [("a", T.FLOAT, [2, 3, 4]), ("b", T.FLOAT, [3, 1]),
                       ("c", T.FLOAT, [4])], [("y", T.FLOAT)],
                      [f32(2, 3, 4), f32(3, 1), f32(4)]))
    cases.append(case("min3_int64_bcast",
                      [node("Min", ["a", "b", "c"], ["y"])],
                      [("a", T.INT64, [2, 3]), ("b", T.INT64, [1, 3]),
                       ("c", T.INT64, [])], [("y", T.INT64)],
                      [np.arange(6, dtype=np.int64).reshape(2, 3) - 3,
                       np.array([[1, -5, 2]], np.int64),
                       np.array(0, np.int64)]))
    # Pow type combinations.
    base_i = np.array([2, -3, 4, 1, 0], np.int32)
    exp_i = np.array([3, 3, 2, 7, 5], np.int32)
    cases.append(case("pow_int32_int32", [node("Pow", ["x", "y"], ["z"])],
                      [("x", T.INT32, [5]), ("y", T.INT32, [5])],
                      [("z", T.INT32)], [base_i, exp_i]))
    cases.append(case("pow_int64_int32", [node("Pow", ["x", "y"], ["z"])],
                      [("x", T.INT64, [5]), ("y", T.INT32, [5])],
                      [("z", T.INT64)], [base_i.astype(np.int64), exp_i]))
    cases.append(case("pow_int32_float", [node("Pow", ["x", "y"], ["z"])],
                      [("x", T.INT32, [5]), ("y", T.FLOAT, [5])],
                      [("z", T.INT32)],
                      [base_i, np.array([2.5, 2, 0.5, 3, 1], np.float32)]))
    cases.append(case("pow_float_int64", [node("Pow", ["x", "y"], ["z"])],
                      [("x", T.FLOAT, [5]), ("y", T.INT64, [5])],
                      [("z", T.FLOAT)],
                      [np.array([-2, 1.5, -0.5, 3, 0], np.float32),
                       np.array([3, 2, -2, 0, 4], np.int64)]))
    cases.append(case("pow_f16_f32", [node("Pow", ["x", "y"], ["z"])],
                      [("x", T.FLOAT16, [4]), ("y", T.FLOAT, [4])],
                      [("z", T.FLOAT16)],
                      [np.array([2, 1.5, 0.5, 3], np.float16),
                       np.array([3, 2.5, -2, 0.5], np.float32)]))
    # Where (3-way broadcast), Clip variants, logic.
    cases.append(case("where_bcast", [node("Where", ["c", "x", "y"], ["z"])],
                      [("c", T.BOOL, [3, 1]), ("x", T.FLOAT, [4]),
                       ("y", T.FLOAT, [2, 1, 1])], [("z", T.FLOAT)],
                      [np.array([[True], [False], [True]]), f32(4),
                       f32(2, 1, 1)]))
    cases.append(case("clip_int32_min_only",
                      [node("Clip", ["x", "lo", ""], ["y"])],
                      [("x", T.INT32, [6]), ("lo", T.INT32, [])],
                      [("y", T.INT32)],
                      [np.array([-5, -1, 0, 3, 9, -2], np.int32),
                       np.array(-1, np.int32)]))
    cases.append(case("clip_uint8", [node("Clip", ["x", "lo", "hi"], ["y"])],
                      [("x", T.UINT8, [5]), ("lo", T.UINT8, []),
                       ("hi", T.UINT8, [])], [("y", T.UINT8)],
                      [ua, np.array(3, np.uint8), np.array(200, np.uint8)]))
    cases.append(case("clip_f16_max_only",
                      [node("Clip", ["x", "", "hi"], ["y"])],
                      [("x", T.FLOAT16, [8]), ("hi", T.FLOAT16, [])],
                      [("y", T.FLOAT16)],
                      [f32(8).astype(np.float16), np.array(0.25, np.float16)]))
    cases.append(case("logic", [node("And", ["a", "b"], ["t"]),
                                node("Or", ["t", "c"], ["u"]),
                                node("Not", ["u"], ["y"])],
                      [("a", T.BOOL, [2, 3]), ("b", T.BOOL, [3]),
                       ("c", T.BOOL, [2, 1])], [("y", T.BOOL)],
                      [rng.random((2, 3)) < .5, rng.random(3) < .5,
                       rng.random((2, 1)) < .5]))
    # Cast matrix.
    types = [(T.FLOAT, np.float32), (T.DOUBLE, np.float64),
             (T.FLOAT16, np.float16), (T.INT8, np.int8), (T.INT16, np.int16),
             (T.INT32, np.int32), (T.INT64, np.int64), (T.UINT8, np.uint8),
             (T.UINT16, np.uint16), (T.UINT32, np.uint32),
             (T.UINT64, np.uint64), (T.BOOL, np.bool_)]
    for src, sdt in types:
        for dst, ddt in types:
            if src == dst:
                continue
            kind = np.dtype(sdt).kind
            if kind == "f":
                v = np.array([0, 1.5, 2.9, 100.25, 0.5, 7, 126.75, 3],
                             np.float64)
                if np.dtype(ddt).kind in "fb" or np.dtype(ddt).kind == "i":
                    v = v * np.array([1, -1, 1, -1, 1, -1, 1, 1])
            elif kind == "b":
                v = np.array([True, False, True, True, False, False, True,
                              False])
            else:
                v = np.array([0, 1, 2, 100, 5, 7, 126, 3], np.int64)
                if kind == "i" and np.dtype(ddt).kind in "fib":
                    v = v * np.array([1, -1, 1, -1, 1, -1, 1, 1])
            cases.append(case(
                f"cast_{np.dtype(sdt).name}_to_{np.dtype(ddt).name}",
                [node("Cast", ["x"], ["y"], to=dst)], [("x", src, [8])],
                [("y", dst)], [v.astype(sdt)]))
    # Wrapping and sign extension between integer widths.
    cases.append(case("cast_int32_to_uint8_wrap",
                      [node("Cast", ["x"], ["y"], to=T.UINT8)],
                      [("x", T.INT32, [4])], [("y", T.UINT8)],
                      [np.array([-1, 256, 300, -129], np.int32)]))
    cases.append(case("cast_uint8_to_int32_zext",
                      [node("Cast", ["x"], ["y"], to=T.INT32)],
                      [("x", T.UINT8, [3])], [("y", T.INT32)],
                      [np.array([255, 128, 1], np.uint8)]))
    # 4-bit casts wrap. From floats, ONNX defines the cast to a 4-bit type
    # as rounding to the nearest integer, ties to even, then keeping the low
    # four bits (onnx docs/technical/int4.md; its node tests'
    # test_cast_FLOAT_to_INT4 data: -9 -> 7, 8 -> -8). The expected values
    # are that rule, not one runtime's or library's behaviour (ONNX Runtime
    # saturates; ml_dtypes truncates, and its out-of-range results changed
    # between releases). The inputs hold ties, values beyond the 4-bit range
    # and one beyond int32 (3e9, a multiple of 16).
    def cast_to_4_bits(values, signed):
        low_bits = np.rint(values.astype(np.float64)).astype(np.int64) & 0xF
        if signed:
            low_bits = np.where(low_bits >= 8, low_bits - 16, low_bits)
        return low_bits.astype(np.int8)

    x = np.array([-9.7, -8.2, -2.5, -1.5, 0.4, 0.5, 1.5, 2.5, 7.6, 8.5, 17,
                  3e9], np.float32)
    for mid, name, signed in [(T.INT4, "int4", True), (T.UINT4, "uint4", False)]:
        cases.append(case(
            f"cast_int8_via_{name}",
            [node("Cast", ["x"], ["m"], to=mid),
             node("Cast", ["m"], ["y"], to=T.INT8)],
            [("x", T.INT8, [8])], [("y", T.INT8)],
            [np.array([-9, -8, -1, 0, 1, 7, 8, 17], np.int8)]))
        # float16 has no 3e9.
        for source, values in [("float", x), ("float16", x[:-1].astype(np.float16))]:
            cases.append(case(
                f"cast_{source}_via_{name}",
                [node("Cast", ["x"], ["m"], to=mid),
                 node("Cast", ["m"], ["y"], to=T.INT8)],
                [("x", T.FLOAT if source == "float" else T.FLOAT16,
                  [len(values)])], [("y", T.INT8)], [values],
                expected=[cast_to_4_bits(values, signed)]))
    cases.append(case("castlike_f16",
                      [node("CastLike", ["x", "t"], ["y"])],
                      [("x", T.FLOAT, [5]), ("t", T.FLOAT16, [1])],
                      [("y", T.FLOAT16)],
                      [f32(5), np.zeros(1, np.float16)]))
    # Reductions: f16 / int / uint, keepdims, noop, dynamic dims, empty.
    for op in ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"]:
        for keep in [0, 1]:
            cases.append(case(
                f"{op.lower()}_f16_axes02_keep{keep}",
                [node(op, ["x", "axes"], ["y"], keepdims=keep)],
                [("x", T.FLOAT16, [3, 4, 5])], [("y", T.FLOAT16)],
                [f32(3, 4, 5).astype(np.float16)],
                [const("axes", [0, -1])]))
        cases.append(case(
            f"{op.lower()}_dynamic_all",
            [node(op, ["x"], ["y"], keepdims=0)],
            [("x", T.FLOAT, ["N", 6])], [("y", T.FLOAT)], [f32(5, 6)]))
        cases.append(case(
            f"{op.lower()}_int32_axis1",
            [node(op, ["x", "axes"], ["y"])],
            [("x", T.INT32, [3, 4])], [("y", T.INT32)],
            [rng.integers(-50, 50, (3, 4)).astype(np.int32)],
            [const("axes", [1])]))
        # Unsigned: ReduceMax/Min take uint8 (opset 18+), ReduceSum/Mean
        # only 32/64-bit unsigned types, which ONNX Runtime does not
        # implement: numpy (exact integer sums, the mean truncated) is the
        # oracle there. Values above 2^31 fail a signed lowering.
        if op in ("ReduceMax", "ReduceMin"):
            cases.append(case(
                f"{op.lower()}_uint8_axis0",
                [node(op, ["x", "axes"], ["y"], keepdims=0)],
                [("x", T.UINT8, [2, 4])], [("y", T.UINT8)],
                [np.array([[200, 3, 130, 0], [10, 250, 131, 1]], np.uint8)],
                [const("axes", [0])]))
        else:
            big = np.array([[4000000000, 3, 2147483650, 7],
                            [10, 250, 2147483640, 1]], np.uint32)
            # Column sums 4000000010, 253, 4294967290, 8 (all below 2^32);
            # means 2000000005, 126 (126.5 truncated), 2147483645, 4.
            sums = np.array([4000000010, 253, 4294967290, 8], np.uint32)
            means = np.array([2000000005, 126, 2147483645, 4], np.uint32)
            cases.append(case(
                f"{op.lower()}_uint32_axis0",
                [node(op, ["x", "axes"], ["y"], keepdims=0)],
                [("x", T.UINT32, [2, 4])], [("y", T.UINT32)], [big],
                [const("axes", [0])],
                expected=[sums if op == "ReduceSum" else means]))
        cases.append(case(
            f"{op.lower()}_noop",
            [node(op, ["x", "axes"], ["y"], noop_with_empty_axes=1)],
            [("x", T.FLOAT, [2, 3])], [("y", T.FLOAT)], [f32(2, 3)],
            [const("axes", np.zeros(0, np.int64))]))
        if op != "ReduceMean":
            cases.append(case(
                f"{op.lower()}_empty_axis",
                [node(op, ["x", "axes"], ["y"])],
                [("x", T.FLOAT, [2, 0, 3])], [("y", T.FLOAT)],
                [np.zeros((2, 0, 3), np.float32)], [const("axes", [1])]))
    for op in ["ReduceMax", "ReduceMin"]:
        cases.append(case(
            f"{op.lower()}_bool", [node(op, ["x", "axes"], ["y"])],
            [("x", T.BOOL, [3, 4])], [("y", T.BOOL)],
            [np.array([[0, 0, 0, 0], [0, 1, 0, 1], [1, 1, 1, 1]], bool)],
            [const("axes", [1])]))
    # Pow by a constant 2 is a multiply.
    for exponent, dtype in [(2.0, np.float32), (2, np.int64)]:
        cases.append(case(
            f"pow_constant_two_{np.dtype(dtype).name}",
            [node("Pow", ["x", "two"], ["y"])],
            [("x", T.FLOAT, [7])], [("y", T.FLOAT)], [f32(7) * 100],
            [numpy_helper.from_array(np.array(exponent, dtype), "two")]))
    # Softmax / LogSoftmax: f16, dynamic, large values, middle axis.
    for op in ["Softmax", "LogSoftmax"]:
        cases.append(case(f"{op.lower()}_f16_last",
                          [node(op, ["x"], ["y"])],
                          [("x", T.FLOAT16, [3, 17])], [("y", T.FLOAT16)],
                          [(f32(3, 17) * 4).astype(np.float16)]))
        cases.append(case(f"{op.lower()}_dynamic_axis1",
                          [node(op, ["x"], ["y"], axis=1)],
                          [("x", T.FLOAT, ["B", "S", 4])], [("y", T.FLOAT)],
                          [f32(2, 5, 4) * 50]))
        cases.append(case(f"{op.lower()}_f64",
                          [node(op, ["x"], ["y"], axis=0)],
                          [("x", T.DOUBLE, [6, 2])], [("y", T.DOUBLE)],
                          [f32(6, 2).astype(np.float64) * 1000]))
    # CumSum.
    for exclusive in [0, 1]:
        for reverse in [0, 1]:
            cases.append(case(
                f"cumsum_3d_axis1_e{exclusive}_r{reverse}",
                [node("CumSum", ["x", "axis"], ["y"], exclusive=exclusive,
                      reverse=reverse)],
                [("x", T.FLOAT, [2, 5, 3])], [("y", T.FLOAT)],
                [f32(2, 5, 3)], [const("axis", 1, np.int32)]))
    cases.append(case("cumsum_int64_dynamic",
                      [node("CumSum", ["x", "axis"], ["y"], reverse=1)],
                      [("x", T.INT64, ["N", 4])], [("y", T.INT64)],
                      [rng.integers(-9, 9, (6, 4))],
                      [const("axis", -2)]))
    cases.append(case("cumsum_f16",
                      [node("CumSum", ["x", "axis"], ["y"])],
                      [("x", T.FLOAT16, [40])], [("y", T.FLOAT16)],
                      [f32(40).astype(np.float16)], [const("axis", 0)]))
    # LayerNormalization: f16 input, no bias, dynamic batch, axis 1 of 3.
    cases.append(case("layernorm_f16_nobias",
                      [node("LayerNormalization", ["x", "s"],
                            ["y", "m", "i"], axis=-1, epsilon=1e-3)],
                      [("x", T.FLOAT16, [2, 3, 16]), ("s", T.FLOAT16, [16])],
                      [("y", T.FLOAT16), ("m", T.FLOAT), ("i", T.FLOAT)],
                      [(f32(2, 3, 16) + 3).astype(np.float16),
                       f32(16).astype(np.float16)]))
    cases.append(case("layernorm_dynamic_axis1",
                      [node("LayerNormalization", ["x", "s", "b"],
                            ["y", "m", "i"], axis=1)],
                      [("x", T.FLOAT, ["N", 3, 4]), ("s", T.FLOAT, [3, 4]),
                       ("b", T.FLOAT, [3, 4])],
                      [("y", T.FLOAT), ("m", T.FLOAT), ("i", T.FLOAT)],
                      [f32(5, 3, 4) * 10 + 100, f32(3, 4), f32(3, 4)]))
    # ONNX Runtime has no double LayerNormalization: numpy in float64 is
    # the oracle (axis -1; Mean and InvStdDev keep the reduced axis).
    x64, s64 = f32(4, 8).astype(np.float64), f32(8).astype(np.float64)
    mean = x64.mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt(((x64 - mean) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    cases.append(case("layernorm_double_stash",
                      [node("LayerNormalization", ["x", "s"],
                            ["y", "m", "i"], stash_type=T.DOUBLE)],
                      [("x", T.DOUBLE, [4, 8]), ("s", T.DOUBLE, [8])],
                      [("y", T.DOUBLE), ("m", T.DOUBLE), ("i", T.DOUBLE)],
                      [x64, s64],
                      expected=[(x64 - mean) * inv_std * s64, mean, inv_std]))
    # RMSNorm: ONNX Runtime registers SimplifiedLayerNormalization in the
    # default domain (not com.microsoft), as qaf imports it;
    # SkipSimplifiedLayerNormalization is com.microsoft's.
    for t, dt in [(T.FLOAT, np.float32), (T.FLOAT16, np.float16)]:
        for axis in [-1, 1]:
            cases.append(case(
                f"simplified_layernorm_{dt.__name__}_axis{axis}",
                [node("SimplifiedLayerNormalization", ["x", "s"],
                      ["y", "inv"], axis=axis, epsilon=1e-5)],
                [("x", t, [2, 3, 8]),
                 ("s", t, [8] if axis == -1 else [3, 8])],
                [("y", t), ("inv", T.FLOAT)],
                [f32(2, 3, 8).astype(dt),
                 f32(*([8] if axis == -1 else [3, 8])).astype(dt)]))
        for with_bias in [False, True]:
            ins = ["x", "k", "g", "bias"] if with_bias else ["x", "k", "g"]
            shapes = [("x", t, [2, 3, 8]), ("k", t, [2, 3, 8]),
                      ("g", t, [8])] + ([("bias", t, [8])] if with_bias else [])
            vals = [f32(2, 3, 8).astype(dt), f32(2, 3, 8).astype(dt),
                    f32(8).astype(dt)] + ([f32(8).astype(dt)]
                                          if with_bias else [])
            cases.append(case(
                f"skip_simplified_layernorm_{dt.__name__}_bias{int(with_bias)}",
                [node("SkipSimplifiedLayerNormalization", ins,
                      ["y", "mean", "inv", "sum"], domain="com.microsoft",
                      epsilon=1e-6)],
                shapes, [("y", t), ("mean", T.FLOAT), ("inv", T.FLOAT),
                         ("sum", t)], vals))
    # bfloat16 (ORT's Python API has none): numpy in f32, rounded once, is
    # the oracle.
    import ml_dtypes
    bf16 = ml_dtypes.bfloat16
    a = (f32(3, 5) * 4).astype(bf16)
    b = (f32(5) * 4).astype(bf16)
    af, bf = a.astype(np.float32), b.astype(np.float32)
    for op, fn in [("Add", np.add), ("Mul", np.multiply),
                   ("Sub", np.subtract), ("Div", np.divide),
                   ("Max", np.maximum)]:
        cases.append(case(f"{op.lower()}_bf16",
                          [node(op, ["a", "b"], ["c"])],
                          [("a", T.BFLOAT16, [3, 5]), ("b", T.BFLOAT16, [5])],
                          [("c", T.BFLOAT16)], [a, b],
                          expected=[fn(af, bf).astype(bf16)]))
    cases.append(case("less_bf16", [node("Less", ["a", "b"], ["c"])],
                      [("a", T.BFLOAT16, [3, 5]), ("b", T.BFLOAT16, [5])],
                      [("c", T.BOOL)], [a, b], expected=[af < bf]))
    shifted = np.exp(af - af.max(axis=1, keepdims=True))
    cases.append(case("softmax_bf16", [node("Softmax", ["a"], ["c"])],
                      [("a", T.BFLOAT16, [3, 5])], [("c", T.BFLOAT16)], [a],
                      expected=[(shifted / shifted.sum(axis=1, keepdims=True))
                                .astype(bf16)]))
    cases.append(case("sigmoid_bf16", [node("Sigmoid", ["a"], ["c"])],
                      [("a", T.BFLOAT16, [3, 5])], [("c", T.BFLOAT16)], [a],
                      expected=[(1 / (1 + np.exp(-af))).astype(bf16)]))
    cases.append(case("cast_bf16_to_f16",
                      [node("Cast", ["a"], ["c"], to=T.FLOAT16)],
                      [("a", T.BFLOAT16, [3, 5])], [("c", T.FLOAT16)], [a],
                      expected=[af.astype(np.float16)]))
    cases.append(case("reducesum_bf16",
                      [node("ReduceSum", ["a", "axes"], ["c"], keepdims=0)],
                      [("a", T.BFLOAT16, [3, 5])], [("c", T.BFLOAT16)], [a],
                      [const("axes", [1])],
                      expected=[af.sum(axis=1).astype(bf16)]))
    # IsNaN (opset 20): quiet and signalling NaNs of either sign, infinities,
    # -0 and ordinary values, in every float type ORT's Python API feeds;
    # bfloat16 against numpy.
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5,
                         -3.25, 1e-30, np.nan], np.float64)
    for t, dt in [(T.FLOAT, np.float32), (T.DOUBLE, np.float64),
                  (T.FLOAT16, np.float16)]:
        v = specials.astype(dt)
        # A signalling NaN and a NaN with a payload (bits, not arithmetic).
        bits = v.view({4: np.uint32, 8: np.uint64, 2: np.uint16}[v.itemsize])
        exponent_bits = {4: 0x7F800001, 8: 0x7FF0000000000001, 2: 0x7C01}
        bits[9] = exponent_bits[v.itemsize]
        cases.append(case(f"isnan_{dt.__name__}",
                          [node("IsNaN", ["x"], ["y"])],
                          [("x", t, [2, 5])], [("y", T.BOOL)],
                          [v.reshape(2, 5)], opset=20))
    v = specials.astype(bf16).reshape(2, 5)
    cases.append(case("isnan_bf16", [node("IsNaN", ["x"], ["y"])],
                      [("x", T.BFLOAT16, [2, 5])], [("y", T.BOOL)], [v],
                      opset=20, expected=[np.isnan(v.astype(np.float32))]))
    cases.append(case("isnan_dynamic",
                      [node("IsNaN", ["x"], ["y"])],
                      [("x", T.FLOAT, ["N", 3])], [("y", T.BOOL)],
                      [np.array([[np.nan, 1, 2], [3, np.inf, np.nan]],
                                np.float32)], opset=20))
    # GatherND: whole elements (tuple length = data rank), row slices,
    # batch_dims 1 and 2, negative components, a dynamic tuple count, int32
    # and float16 data; ONNX Runtime is the oracle.
    data = f32(4, 5, 3)
    for name, data_v, indices, batch_dims in [
            ("gathernd_elements", data,
             np.array([[0, 1, 2], [3, -1, -3], [-4, 0, 0]], np.int64), 0),
            ("gathernd_rows", data,
             np.array([[[1], [-1]], [[0], [2]]], np.int64), 0),
            ("gathernd_pairs", data,
             np.array([[0, 4], [3, -5], [-1, 2], [2, 2]], np.int64), 0),
            ("gathernd_batch1", data,
             np.array([[[1], [4]], [[-1], [0]], [[2], [2]], [[3], [-5]]],
                      np.int64), 1),
            ("gathernd_batch2", data,
             rng.integers(-3, 3, (4, 5, 2, 1)).astype(np.int64), 2),
            ("gathernd_int32", (data * 10).astype(np.int32),
             np.array([[2, 1], [0, -2]], np.int64), 0),
            ("gathernd_f16", data.astype(np.float16),
             np.array([[[3, 4]], [[-4, -5]]], np.int64), 0)]:
        t = {np.dtype(np.float32): T.FLOAT, np.dtype(np.int32): T.INT32,
             np.dtype(np.float16): T.FLOAT16}[data_v.dtype]
        cases.append(case(name,
                          [node("GatherND", ["data", "indices"], ["y"],
                                batch_dims=batch_dims)],
                          [("data", t, list(data_v.shape)),
                           ("indices", T.INT64, list(indices.shape))],
                          [("y", t)], [data_v, indices]))
    cases.append(case("gathernd_dynamic",
                      [node("GatherND", ["data", "indices"], ["y"])],
                      [("data", T.FLOAT, ["A", 5, 3]),
                       ("indices", T.INT64, ["N", 2])], [("y", T.FLOAT)],
                      [data, np.array([[1, 2], [-1, -1], [0, 4]], np.int64)]))
    # com.microsoft GatherBlockQuantized as ORT GenAI writes it: uint8 data
    # of packed 4-bit (or 8-bit) codes, per-row block scales, packed zero
    # points or the default 2^(bits-1); 2-D and negative indices, int32
    # indices, float16 scales. ONNX Runtime is the oracle.
    def gather_block_quantized_case(name, rows, columns, bits, block, zero,
                                    scale_type, indices):
        per_byte = 8 // bits
        blocks = -(-columns // block)
        data = rng.integers(0, 256, (rows, columns // per_byte)).astype(
            np.uint8)
        scales = (rng.uniform(0.01, 0.1, (rows, blocks))).astype(scale_type)
        t = T.FLOAT if scale_type == np.float32 else T.FLOAT16
        index_type = T.INT64 if indices.dtype == np.int64 else T.INT32
        inputs = [("data", T.UINT8, list(data.shape)),
                  ("indices", index_type, list(indices.shape)),
                  ("scales", t, list(scales.shape))]
        values = [data, indices, scales]
        names = ["data", "indices", "scales"]
        if zero:
            zero_points = rng.integers(
                0, 256, (rows, -(-blocks * bits // 8))).astype(np.uint8)
            inputs.append(("zero_points", T.UINT8, list(zero_points.shape)))
            values.append(zero_points)
            names.append("zero_points")
        return case(name,
                    [node("GatherBlockQuantized", names, ["y"],
                          domain="com.microsoft", bits=bits, block_size=block,
                          gather_axis=0, quantize_axis=1)],
                    inputs, [("y", t)], values)
    cases.append(gather_block_quantized_case(
        "gbq_int4_zero_points", 7, 64, 4, 16, True, np.float32,
        np.array([[0, 6], [-1, 3], [2, -7]], np.int64)))
    cases.append(gather_block_quantized_case(
        "gbq_int4_default_zero", 5, 96, 4, 32, False, np.float32,
        np.array([4, 0, -2], np.int64)))
    cases.append(gather_block_quantized_case(
        "gbq_int4_partial_block_f16", 4, 48, 4, 32, True, np.float16,
        np.array([[3], [1]], np.int32)))
    cases.append(gather_block_quantized_case(
        "gbq_int8", 6, 40, 8, 16, True, np.float32,
        np.array([5, 0, -6], np.int64)))
    cases.append(gather_block_quantized_case(
        "gbq_int8_default_zero", 3, 32, 8, 16, False, np.float32,
        np.array([2, 2, 0], np.int64)))
    # com.microsoft GroupQueryAttention as ORT GenAI's builder writes it:
    # prefill without past and with an empty past, decode (one token) with
    # a past buffer longer than the rows' lengths (batch 2, different
    # seqlens_k), a subsequent prompt, packed QKV, kv_num_heads < num_heads,
    # rotary (half-split, interleaved, partial), softcap, local window,
    # scale, head sink, smooth softmax, attention bias, float16. ONNX
    # Runtime is the oracle, present_key/present_value included.
    def gqa_case(name, batch, sequence, past, total, seqlens, heads=4,
                 kv_heads=2, head_size=16, packed=False, rotary_width=0,
                 dtype=np.float32, bias=None, sink=False, dynamic=False,
                 **attributes):
        t = T.FLOAT if dtype == np.float32 else T.FLOAT16
        hidden = (heads + 2 * kv_heads) * head_size if packed \
            else heads * head_size
        names = ["query", "", "", "", "", "seqlens_k", "total"]
        values_batch, values_sequence, values_past = batch, sequence, past
        if dynamic:  # the symbolic dims of ORT GenAI's models
            batch, sequence = "batch", "sequence"
            past = None if past is None else "past_sequence"
        inputs = [("query", t, [batch, sequence, hidden])]
        values = [f32(values_batch, values_sequence, hidden).astype(dtype)]
        if not packed:
            names[1:3] = ["key", "value"]
            for n in ("key", "value"):
                inputs.append((n, t, [batch, sequence, kv_heads * head_size]))
                values.append(f32(values_batch, values_sequence,
                                  kv_heads * head_size).astype(dtype))
        if past is not None:
            names[3:5] = ["past_key", "past_value"]
            for n in ("past_key", "past_value"):
                inputs.append((n, t, [batch, kv_heads, past, head_size]))
                values.append(f32(values_batch, kv_heads, values_past,
                                  head_size).astype(dtype))
        inputs += [("seqlens_k", T.INT32, [batch]), ("total", T.INT32, [])]
        values += [np.array(seqlens, np.int32), np.array(total, np.int32)]
        if rotary_width:
            names += ["cos_cache", "sin_cache"]
            angles = rng.uniform(0, 6, (32, rotary_width))
            for n, f in (("cos_cache", np.cos), ("sin_cache", np.sin)):
                inputs.append((n, t, [32, rotary_width]))
                values.append(f(angles).astype(dtype))
            attributes["do_rotary"] = 1
        if bias is not None or sink:
            names += [""] * (9 - len(names)) + ["", "", ""]
        if bias is not None:
            names[10] = "attention_bias"
            inputs.append(("attention_bias", t, list(bias)))
            values.append(f32(*bias).astype(dtype))
        if sink:
            names[11] = "head_sink"
            inputs.append(("head_sink", t, [heads]))
            values.append(f32(heads).astype(dtype))
        return case(name,
                    [node("GroupQueryAttention", names,
                          ["output", "present_key", "present_value"],
                          domain="com.microsoft", num_heads=heads,
                          kv_num_heads=kv_heads, **attributes)],
                    inputs, [(n, t) for n in ("output", "present_key",
                                              "present_value")], values)
    cases += [
        gqa_case("gqa_prefill", 1, 5, None, 5, [4]),
        gqa_case("gqa_prefill_empty_past", 2, 4, 0, 4, [3, 3]),
        gqa_case("gqa_decode", 1, 1, 4, 5, [4]),
        gqa_case("gqa_decode_batch2_seqlens", 2, 1, 8, 6, [5, 2],
                 kv_heads=1),
        gqa_case("gqa_subsequent_prompt", 1, 3, 4, 7, [6]),
        gqa_case("gqa_packed_prefill", 1, 3, None, 3, [2], packed=True),
        gqa_case("gqa_packed_decode", 2, 1, 6, 7, [6, 3], packed=True),
        gqa_case("gqa_mha", 1, 3, 2, 5, [4], kv_heads=4),
        gqa_case("gqa_rotary", 1, 3, None, 3, [2], rotary_width=8),
        gqa_case("gqa_rotary_interleaved", 1, 3, None, 3, [2],
                 rotary_width=8, rotary_interleaved=1),
        gqa_case("gqa_rotary_decode", 2, 1, 6, 6, [5, 3], rotary_width=8),
        gqa_case("gqa_rotary_partial_packed", 1, 1, 4, 5, [4],
                 head_size=32, rotary_width=8, packed=True,
                 rotary_interleaved=1),
        gqa_case("gqa_softcap", 1, 5, None, 5, [4], softcap=0.5),
        gqa_case("gqa_local_window", 1, 6, None, 6, [5],
                 local_window_size=2),
        gqa_case("gqa_local_window_decode", 1, 1, 7, 8, [7],
                 local_window_size=3),
        gqa_case("gqa_scale", 1, 5, None, 5, [4], scale=0.3),
        gqa_case("gqa_smooth_softmax", 1, 5, None, 5, [4], smooth_softmax=1),
        gqa_case("gqa_head_sink", 1, 5, None, 5, [4], sink=True),
        gqa_case("gqa_bias_softcap", 1, 5, None, 5, [4], bias=[1, 4, 5, 5],
                 softcap=0.5),
        gqa_case("gqa_bias_broadcast_decode", 2, 1, 8, 8, [7, 4],
                 bias=[2, 1, 1, 8]),
        gqa_case("gqa_f16_rotary_decode", 1, 1, 4, 5, [4], rotary_width=8,
                 dtype=np.float16),
        gqa_case("gqa_dynamic_decode", 2, 1, 5, 6, [5, 3], rotary_width=8,
                 dynamic=True),
        gqa_case("gqa_dynamic_prefill", 1, 4, 0, 4, [3], packed=True,
                 dynamic=True),
    ]
    # Dynamic broadcasting: a run-time size against a static one and
    # against another run-time size.
    cases.append(case("add_dynamic_bcast",
                      [node("Add", ["a", "b"], ["t"]),
                       node("Mul", ["t", "c"], ["y"])],
                      [("a", T.FLOAT, ["N", 3]), ("b", T.FLOAT, [1, 3]),
                       ("c", T.FLOAT, ["N", 1])], [("y", T.FLOAT)],
                      [f32(4, 3), f32(1, 3), f32(4, 1)]))
    cases.append(case("identity_constant",
                      [node("Constant", [], ["k"],
                            value=numpy_helper.from_array(
                                np.array([250, 3], np.uint8), "k")),
                       node("Identity", ["k"], ["y"])],
                      [], [("y", T.UINT8)], []))
    return cases


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
    parser.add_argument("--ort-suite", action="store_true",
                        help="built-in models checked against ONNX Runtime")
    parser.add_argument("--expect-passed", type=int,
                        help="fail unless exactly this many tests pass")
    parser.add_argument("--expect-skipped", type=int,
                        help="fail unless exactly this many are skipped")
    parser.add_argument("--llvm-lib-dir", default=None,
                        help="MLIR's runner utilities (default: the lib/ of "
                             "the LLVM the build was configured with)")
    parser.add_argument("--mlir-runner", default=None,
                        help="default: mlir-runner beside that LLVM's tools")
    parser.add_argument("--cc", default=None,
                        help="C compiler (default: the build's)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    per_op = {}
    with tempfile.TemporaryDirectory(prefix="qaf-numeric-") as workdir:
        runner = Runner(args.build, workdir, args.translate,
                        args.llvm_lib_dir, args.mlir_runner, args.cc)
        if args.ort_suite:
            jobs = []
            for name, job in ort_suite(runner, workdir):
                if re.search(args.filter, name):
                    jobs.append((name, job))
        elif args.model:
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
                # Node tests span every ONNX op: one qaf rejects with a
                # diagnostic says nothing about the lowering (the expected
                # counts catch a change). The ORT suite and --model are
                # qaf's own cases: every failure counts, as does a crash.
                node_tests = not args.ort_suite and not args.model
                status = "skipped" if node_tests and isinstance(
                    error, ImportFailed) and not error.crashed else "failed"
                detail = message
            counts[status] += 1
            if status == "passed" and detail.startswith("ops "):
                for op in detail[4:].split(","):
                    if op in MY_OPS:
                        per_op[op] = per_op.get(op, 0) + 1
            if status == "failed" or args.verbose:
                print(f"{status.upper():8} {name}: {detail}", flush=True)
    if args.verbose and per_op:
        print("passed tests per op: " + ", ".join(
            f"{op} {n}" for op, n in sorted(per_op.items())))
    print(f"{counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['skipped']} skipped")
    ok = counts["failed"] == 0 and counts["passed"] > 0
    for status in ("passed", "skipped"):
        wanted = getattr(args, f"expect_{status}")
        if wanted is not None and counts[status] != wanted:
            print(f"FAILED: {counts[status]} {status}, expected {wanted}")
            ok = False
    return 0 if ok else 1


class _Everything:
    def __ge__(self, other):
        return True

    def __rsub__(self, other):
        return set()

    def __contains__(self, item):
        return True


if __name__ == "__main__":
    sys.exit(main())
