#!/usr/bin/env python3
"""Check qaf's ONNX importer and exporter against the ONNX backend node tests.

Data sets (`--data-set`): `onnx` (the default), the node tests that the
installed onnx Python package ships (onnx 1.20.1: opsets up to 25, int4/int2,
float8); `debian`, Debian's libonnx-testdata (onnx 1.12, opsets up to 17,
older forms of many ops).  `--tests-dir` runs any other folder of node tests
(`--data-set` then only says which committed counts apply to it).

For every node test that qaf claims to support (see "Scope" below) this driver
  1. runs `qaf-translate --import-onnx model.onnx --export-onnx -o out.onnx`,
  2. runs `onnx.checker.check_model(out.onnx, full_check=True)`,
  3. runs ONNX Runtime on out.onnx with every test_data_set_* and compares each
     output with the reference output_*.pb (floats: rtol=1e-4, atol=1e-5 with
     np.testing.assert_allclose semantics, NaNs must line up; integers and bool
     exactly; element type, output count and shapes must match),
  4. compares the same outputs with ONNX Runtime's outputs on the ORIGINAL
     model (rtol=1e-6, atol=0): the importer/exporter must not change the
     computation.  A test that passes 3 but not 4 is a failure that is counted
     and reported separately ("matches the reference only").

Scope.  A test is in scope when its model
  - uses only op types that `qaf-translate --list-onnx-ops` prints (that list is
    the single source of truth; `Add` means the default domain, `dom.Op` a
    node of domain `dom`),
  - has no subgraphs (attributes of type GRAPH / GRAPHS),
  - has no sequence / optional / map / sparse values and no string tensors,
  - uses only element types qaf supports (QAF_ELEM_TYPES below),
  - and (round trip only) ONNX Runtime reproduces the reference outputs on
    the original model: ORT runs the exported model, so a model it cannot
    run, or runs differently from the reference, says nothing about qaf.
    Only a clean refusal or a difference counts: an ORT crash or time-out
    on the original is a failure of the test, not a reason to skip it.
Models with an old opset (Softmax-1/11 coercion to 2-D, Squeeze with an `axes`
attribute, ...) are deliberately in scope: normalising them is the importer's
job.

Every ORT run happens in a child process (this script re-invoked with the
hidden `--_worker` option, reused across tests) so that a model that crashes or
hangs ORT costs one test, not the whole run.  Every step (the ORT oracle on the
original, qaf-translate, the checks of the exported model) has its own 60 s
timeout; running past it is the failure "hang".

Compiled mode (`--compile`).  The reference outputs alone are the oracle
(ONNX Runtime is not consulted, so tests of ops or types it does not
implement stay in scope).  Instead of steps 1-4, every in-scope test is
  1. compiled: `qaf-compile model.onnx -o <work>/art` (CPU artifact; 120 s),
  2. run: `qaf-run infer <work>/art --input input_0.pb ... --output-dir
     <work>/out_k` once per test_data_set_k (inputs bound in manifest order;
     60 s each),
  3. each output `<work>/out_k/<name>.npy` is compared with the reference
     output_*.pb: float32 rtol=1e-4 atol=1e-5, float16/bfloat16 rtol=1e-3
     atol=1e-3, float64 rtol=1e-7 atol=1e-12, integers and bool exactly;
     element type, output count and shapes must match (bfloat16 outputs come
     back widened to float32, which is allowed).
  `--target=cuda` compiles for the CUDA target instead (`--cuda-arch`, sm_80
  by default) and runs with `qaf-run infer --device cuda:0`; with `--no-run`
  (no GPU) step 2 and 3 are replaced by a check of the artifact: qaf-compile
  ran ptxas on every kernel, and `model.so` leaves undefined only the mgpu*
  functions of qaf's CUDA runtime and libc/libm (`nm -u`).
  The scope adds one rule: graph inputs and outputs must have an element type
  that the artifact ABI supports (docs/artifact-abi.md).  `--expected-failures
  FILE` names known failures (`test_name  # reason`, one a line): they are
  reported as "known failure (reason)" and counted apart, neither passed nor
  failed; a listed test that passes is a failure ("unexpectedly passed"), so
  the list cannot go stale.  The same option works in the round trip.

Expected counts (`--expected-counts FILE`, JSON: data set -> mode -> counts):
the number of tests considered, in scope, passed and known failures, and the
number out of scope for each reason, must be exactly those committed for the
data set and mode; any difference fails the run.  A test that silently
leaves the scope (an op dropped from --list-onnx-ops, a new dtype rule, ORT
refusing a model) is caught there, and so is a run that finds nothing.  When
a change is intended (a new op, a fixed failure), update the file: the run
prints the counts it found in the file's format.  Not checked with --filter.

Exit status: 0 when at least one test is in scope, none failed and the
counts (when given) match, else 1.
The last line of a test run is exactly `P passed, F failed` (parsed by CI).
"""

import argparse
import concurrent.futures
import ctypes
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

# Node-test folders by data set (see the module docstring).
DATA_SETS = {
    "onnx": os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node"),
    "debian": "/usr/include/onnx/backend/test/data/node",
}
STEP_TIMEOUT_S = 60
COMPILE_TIMEOUT_S = 120

# Tolerances against the reference outputs (those of the onnx backend tests),
# and against ORT's own outputs on the original model.
REF_RTOL, REF_ATOL = 1e-4, 1e-5
ORT_RTOL, ORT_ATOL = 1e-6, 0.0

T = TensorProto
QAF_ELEM_TYPES = {
    T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16,
    T.INT8, T.INT16, T.INT32, T.INT64,
    T.UINT8, T.UINT16, T.UINT32, T.UINT64,
    T.BOOL, T.INT4, T.UINT4, T.INT2, T.UINT2,
    T.FLOAT8E4M3FN, T.FLOAT8E4M3FNUZ, T.FLOAT8E5M2, T.FLOAT8E5M2FNUZ,
}
# Types that ORT's Python API cannot hand over as a plain numpy array: they
# are passed to / read from ORT as raw bytes in ONNX's own (packed) layout,
# which is also ORT's in-memory layout.
RAW_ELEM_TYPES = {
    T.BFLOAT16, T.FLOAT8E4M3FN, T.FLOAT8E4M3FNUZ, T.FLOAT8E5M2,
    T.FLOAT8E5M2FNUZ, T.FLOAT4E2M1, T.FLOAT8E8M0,
    T.INT4, T.UINT4, T.INT2, T.UINT2,
}
# Element types that may cross a compiled entry point (docs/artifact-abi.md).
ABI_ELEM_TYPES = {
    T.FLOAT, T.FLOAT16, T.BFLOAT16, T.DOUBLE,
    T.INT8, T.INT16, T.INT32, T.INT64,
    T.UINT8, T.UINT16, T.UINT32, T.UINT64, T.BOOL,
}
# Integer attributes whose value is an element type (Cast.to, EyeLike.dtype,
# QuantizeLinear.output_dtype, ...): a model that casts to string or complex
# is out of scope even if only an intermediate value has that type.
ELEM_TYPE_ATTRS = {"to", "dtype", "output_dtype"}

# Out-of-scope reasons, in the order in which they are checked and printed.
# A test is counted under the first reason that applies.
REASONS = {
    "unreadable": "onnx cannot load the model",
    "no_data": "no test_data_set_* folder",
    "op": "uses op types that qaf-translate --list-onnx-ops does not list",
    "subgraph": "has subgraphs (GRAPH/GRAPHS attributes)",
    "non_tensor": "uses sequence/optional/map/sparse values",
    "string": "uses string tensors",
    "elem_type": "uses element types qaf does not support",
    "entry_dtype": "dtype not supported at a compiled entry point",
    "ort": "onnxruntime cannot run the original",
    "ort_differs": "onnxruntime on the original differs from the reference",
}


def elem_type_name(t):
    try:
        return TensorProto.DataType.Name(t)
    except ValueError:
        return str(t)


def numbered(folder, prefix):
    """Files/folders `prefix<N>...` in folder, sorted by N (so 10 comes after 9)."""
    pat = re.compile(re.escape(prefix) + r"(\d+)")
    items = []
    for name in os.listdir(folder):
        m = pat.match(name)
        if m:
            items.append((int(m.group(1)), os.path.join(folder, name)))
    return [p for _, p in sorted(items)]


# ----------------------------------------------------------------------------
# Static scope: decided from model.onnx alone, without running anything.
# ----------------------------------------------------------------------------

def static_scope(test_dir, supported_ops):
    """Returns None when the test is statically in scope, else (reason, detail)."""
    try:
        model = onnx.load(os.path.join(test_dir, "model.onnx"), load_external_data=False)
    except Exception as e:  # noqa: BLE001 - any parse failure means "skip"
        return "unreadable", str(e).splitlines()[0] if str(e) else type(e).__name__
    if not numbered(test_dir, "test_data_set_"):
        return "no_data", ""

    unsupported, subgraphs = set(), set()
    problems = {"non_tensor": set(), "string": set(), "elem_type": set()}

    def check_elem(t, where):
        if t == T.STRING:
            problems["string"].add(where)
        elif t not in QAF_ELEM_TYPES:
            problems["elem_type"].add(f"{elem_type_name(t)} ({where})")

    def check_type(tp, where):
        kind = tp.WhichOneof("value")
        if kind == "tensor_type":
            # elem_type 0 means "not given" (allowed in value_info); nothing to check.
            if tp.tensor_type.elem_type != T.UNDEFINED:
                check_elem(tp.tensor_type.elem_type, where)
        elif kind is not None:
            problems["non_tensor"].add(f"{kind} ({where})")

    def walk(graph):
        for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
            check_type(vi.type, vi.name)
        for init in graph.initializer:
            check_elem(init.data_type, init.name)
        for sp in graph.sparse_initializer:
            problems["non_tensor"].add(f"sparse initializer ({sp.values.name})")
        for node in graph.node:
            key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            if key not in supported_ops:
                unsupported.add(key)
            for a in node.attribute:
                where = f"{node.op_type}.{a.name}"
                if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                    subgraphs.add(node.op_type)
                    for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs):
                        walk(g)
                elif a.type == onnx.AttributeProto.TENSOR:
                    check_elem(a.t.data_type, where)
                elif a.type == onnx.AttributeProto.TENSORS:
                    for t in a.tensors:
                        check_elem(t.data_type, where)
                elif a.type in (onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS):
                    problems["non_tensor"].add(f"sparse tensor ({where})")
                elif (a.type == onnx.AttributeProto.INT and a.name in ELEM_TYPE_ATTRS
                      and node.domain in ("", "ai.onnx")):
                    check_elem(a.i, where)

    walk(model.graph)
    if unsupported:
        return "op", ", ".join(sorted(unsupported))
    if subgraphs:
        return "subgraph", ", ".join(sorted(subgraphs))
    for reason in ("non_tensor", "string", "elem_type"):
        if problems[reason]:
            return reason, ", ".join(sorted(problems[reason]))
    return None


def entry_scope(test_dir):
    """--compile only: None when every graph input/output has an ABI dtype, else (reason, detail)."""
    model = onnx.load(os.path.join(test_dir, "model.onnx"), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    bad = [f"{elem_type_name(vi.type.tensor_type.elem_type)} ({vi.name})"
           for vi in list(model.graph.input) + list(model.graph.output)
           if vi.name not in inits and vi.type.tensor_type.elem_type not in ABI_ELEM_TYPES]
    return ("entry_dtype", ", ".join(bad)) if bad else None


# ----------------------------------------------------------------------------
# Worker side: everything that touches onnxruntime.  Runs in a child process.
# ----------------------------------------------------------------------------

def phase(text):
    # The parent reports the last phase when a worker crashes or hangs.
    print(f"phase: {text}", flush=True)


def declared_elem_types(value_infos):
    return [vi.type.tensor_type.elem_type if vi.type.HasField("tensor_type") else T.UNDEFINED
            for vi in value_infos]


def load_pb(path, declared):
    tp = onnx.load_tensor(path)
    # The onnx<=1.12 test generator stored bfloat16 data as UINT16 tensors
    # (same bits, same int32_data/raw_data encoding); read them as declared.
    if tp.data_type == T.UINT16 and declared == T.BFLOAT16:
        tp.data_type = T.BFLOAT16
    return numpy_helper.to_array(tp), tp.data_type


def to_ortvalue(ort, arr, elem_type):
    if elem_type in RAW_ELEM_TYPES:
        raw = numpy_helper.from_array(arr).raw_data  # ONNX packing == ORT memory layout
        v = ort.OrtValue.ortvalue_from_shape_and_type(list(arr.shape), elem_type)
        if len(raw) != v.tensor_size_in_bytes():
            raise RuntimeError(f"cannot bind {elem_type_name(elem_type)} input: "
                               f"{len(raw)} bytes for {v.tensor_size_in_bytes()}")
        if raw:
            ctypes.memmove(v.data_ptr(), raw, len(raw))
        return v
    return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(arr))


def from_ortvalue(v):
    if not v.is_tensor():
        raise RuntimeError(f"output is not a tensor ({v.data_type()})")
    et = v.element_type()
    if et in RAW_ELEM_TYPES:
        n = v.tensor_size_in_bytes()
        raw = ctypes.string_at(v.data_ptr(), n) if n else b""
        return numpy_helper.to_array(TensorProto(data_type=et, dims=v.shape(), raw_data=raw))
    return v.numpy()


def load_data_sets(test_dir, model):
    """[(set name, [(input name, elem type, array)], [expected arrays])] for the original model."""
    inits = {i.name for i in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in inits]
    in_types = declared_elem_types(graph_inputs)
    out_types = declared_elem_types(model.graph.output)
    sets = []
    for ds in numbered(test_dir, "test_data_set_"):
        in_files = numbered(ds, "input_")
        out_files = numbered(ds, "output_")
        if len(in_files) > len(graph_inputs):
            raise RuntimeError(f"{os.path.basename(ds)}: {len(in_files)} input files "
                               f"for {len(graph_inputs)} graph inputs")
        inputs = []
        for f, vi, t in zip(in_files, graph_inputs, in_types):
            arr, stored = load_pb(f, t)
            inputs.append((vi.name, t if t != T.UNDEFINED else stored, arr))
        expected = [load_pb(f, t)[0] for f, t in
                    zip(out_files, out_types + [T.UNDEFINED] * len(out_files))]
        sets.append((os.path.basename(ds), inputs, expected))
    return sets


def make_session(ort, model_path):
    so = ort.SessionOptions()
    # One thread: --jobs already runs tests in parallel, and a single-threaded
    # run is deterministic, which the "identical to ORT on the original"
    # comparison relies on.
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


def run_session(ort, sess, inputs):
    # inputs are bound by name; `keep` holds the numpy buffers that the
    # zero-copy OrtValues point into until the run is over.
    keep = [arr for _, _, arr in inputs]
    feeds = {name: to_ortvalue(ort, arr, t) for name, t, arr in inputs}
    outs = sess.run_with_ort_values(None, feeds)
    del keep
    return [from_ortvalue(v) for v in outs]


def is_float(dtype):
    # numpy floats and the ml_dtypes ones (bfloat16, float8_*, float4_e2m1fn).
    return dtype.kind == "f" or dtype.name.startswith(("float", "bfloat"))


def compare(actual, expected, rtol, atol):
    """None when equal under the rules of the module docstring, else a summary."""
    if actual.dtype != expected.dtype:
        return f"element type {actual.dtype} != expected {expected.dtype}"
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != expected {expected.shape}"
    if is_float(actual.dtype):
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        # Same test as np.testing.assert_allclose: |a-e| <= atol + rtol*|e|,
        # NaN only matches NaN, inf only matches the same inf.
        bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        if actual.dtype.name in ("int4", "uint4", "int2", "uint2"):
            a, e = actual.astype(np.int16), expected.astype(np.int16)
        else:
            a, e = actual, expected
        bad = a != e
    nbad = int(np.count_nonzero(bad))
    if nbad == 0:
        return None
    idx = np.unravel_index(int(np.argmax(bad.ravel())), bad.shape)
    msg = (f"{nbad}/{bad.size} elements differ, first at {tuple(int(i) for i in idx)}: "
           f"got {a[idx].item()!r}, expected {e[idx].item()!r}")
    if is_float(actual.dtype):
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a - e)[bad & np.isfinite(a) & np.isfinite(e)]
        if diff.size:
            msg += f", max abs diff {diff.max():.3g}"
    return msg


def compare_outputs(got, expected, rtol, atol, set_name):
    if len(got) != len(expected):
        return f"{set_name}: {len(got)} outputs, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        err = compare(g, e, rtol, atol)
        if err:
            return f"{set_name} output {i}: {err}"
    return None


def run_job(mode, test_dir, exported=None):
    """One ORT job; returns a JSON-able dict.

    mode "oracle": does ORT on the original reproduce the reference outputs?
      -> {"ok": bool, "detail": str, "reason": "ort" or "ort_differs" when not ok}
    mode "check":  checker + ORT on the exported model, compared with the
      reference and with ORT on the original.
      -> {"ok": bool, "detail": str, "reference_ok": bool}
    """
    import onnxruntime as ort

    model_path = os.path.join(test_dir, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    phase("loading test data")
    sets = load_data_sets(test_dir, model)

    phase("onnxruntime on the original model")
    try:
        sess = make_session(ort, model_path)
        original = [run_session(ort, sess, inputs) for _, inputs, _ in sets]
    except Exception as e:  # noqa: BLE001
        # Only ORT's own refusal (its exception types) puts a test out of
        # scope; an error of this script is raised and fails the test.
        if mode == "oracle" and is_ort_error(e):
            return dict(ok=False, reason="ort", detail=f"onnxruntime: {first_line(str(e))}")
        raise
    if mode == "oracle":
        for (name, _, expected), got in zip(sets, original):
            err = compare_outputs(got, expected, REF_RTOL, REF_ATOL, name)
            if err:
                return dict(ok=False, reason="ort_differs", detail=err)
        return dict(ok=True, detail="")

    phase("onnx.checker on the exported model")
    try:
        onnx.checker.check_model(exported, full_check=True)
    except Exception as e:  # noqa: BLE001
        return dict(ok=False, reference_ok=False, detail=f"onnx.checker: {first_line(str(e))}")

    phase("onnxruntime on the exported model")
    try:
        sess = make_session(ort, exported)
        names = {i.name for i in sess.get_inputs()}
        for name, _, _ in sets[0][1] if sets else []:
            if name not in names:
                return dict(ok=False, reference_ok=False,
                            detail=f"exported model has no graph input '{name}' "
                                   f"(it has {sorted(names)})")
        got_all = [run_session(ort, sess, inputs) for _, inputs, _ in sets]
    except Exception as e:  # noqa: BLE001
        return dict(ok=False, reference_ok=False,
                    detail=f"onnxruntime on the exported model: {first_line(str(e))}")

    phase("comparing outputs")
    for (name, _, expected), got in zip(sets, got_all):
        err = compare_outputs(got, expected, REF_RTOL, REF_ATOL, name)
        if err:
            return dict(ok=False, reference_ok=False, detail=f"vs reference: {err}")
    for (name, _, _), got, orig in zip(sets, got_all, original):
        err = compare_outputs(got, orig, ORT_RTOL, ORT_ATOL, name)
        if err:
            return dict(ok=False, reference_ok=True,
                        detail=f"matches the reference only; vs onnxruntime on the original: {err}")
    return dict(ok=True, reference_ok=True, detail="")


def is_ort_error(e):
    """Whether `e` is one of onnxruntime's exceptions (a refusal to load or run)."""
    return type(e).__module__.startswith("onnxruntime")


def worker_loop():
    """Serves jobs, one JSON line each on stdin, answering `QAF-RESULT {json}` on stdout."""
    import onnxruntime  # noqa: F401 - pay the import once, before the first job's clock starts
    print("QAF-READY", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            res = run_job(job["mode"], job["test"], job.get("exported"))
        except Exception as e:  # noqa: BLE001 - report, keep serving
            res = {"error": f"{type(e).__name__}: {first_line(str(e))}"}
        print("QAF-RESULT " + json.dumps(res), flush=True)
    return 0


# ----------------------------------------------------------------------------
# Driver side.
# ----------------------------------------------------------------------------

def first_line(text):
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 300 else line[:297] + "..."
    return ""


def run_cmd(cmd, timeout=STEP_TIMEOUT_S):
    """(returncode or None on timeout, stdout, stderr).

    The child gets its own process group so that a timeout also kills
    whatever it started itself.
    """
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace", start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return None, out, err


def describe_exit(what, rc, err, timeout=STEP_TIMEOUT_S):
    """Reason string for a step that did not finish normally."""
    if rc is None:
        return f"hang: {what} did not finish in {timeout} s"
    if rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = f"signal {-rc}"
        head = f"{what} killed by {sig}"
    else:
        head = f"{what} exited with status {rc}"
    line = first_line(err)
    return f"{head}: {line}" if line else head


class Worker:
    """A long-lived child process (this script with --_worker) that runs ORT jobs.

    Importing onnxruntime takes longer than a node test's whole ORT work, so a
    worker serves many jobs; each job still has its own timeout, and a job that
    crashes or hangs ORT costs only that test and a restart of the worker.
    """

    def __init__(self, log_dir):
        self.proc, self.buf, self.log_dir = None, b"", log_dir

    def _start(self):
        # ORT's native error output goes to a file, read back after a crash;
        # a pipe nobody drains could fill up and block the worker.
        self.log = tempfile.NamedTemporaryFile("w+", dir=self.log_dir, prefix="worker-",
                                               suffix=".stderr", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            start_new_session=True)
        self.buf = b""
        # start-up (imports) is not charged to the first job's timeout
        while self._readline(time.monotonic() + STEP_TIMEOUT_S) != "QAF-READY":
            pass

    def _readline(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise EOFError
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode(errors="replace")

    def stop(self):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.log.close()
            self.proc = None

    def run(self, mode, test_dir, exported=None):
        """(result dict, "") or (None, reason) when the worker crashed or hung."""
        last_phase, log_start = "worker start-up", 0
        try:
            if self.proc is None:
                self._start()
            log_start = os.path.getsize(self.log.name)  # this job's stderr starts here
            job = {"mode": mode, "test": test_dir, "exported": exported}
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            deadline = time.monotonic() + STEP_TIMEOUT_S
            while True:
                line = self._readline(deadline)
                if line.startswith("phase: "):
                    last_phase = line[len("phase: "):]
                elif line.startswith("QAF-RESULT "):
                    res = json.loads(line[len("QAF-RESULT "):])
                    if "error" in res:
                        return None, f"{last_phase}: {res['error']}"
                    return res, ""
        except TimeoutError:
            self.stop()
            return None, f"hang: {last_phase} did not finish in {STEP_TIMEOUT_S} s"
        except (EOFError, BrokenPipeError):
            rc = self.proc.wait()
            with open(self.log.name, errors="replace") as f:
                f.seek(log_start)
                tail = [line for line in f.read().splitlines() if line.strip()][-1:]
            reason = describe_exit(last_phase, rc, "".join(tail))
            self.stop()
            return None, reason


class Outcome:
    PASS, FAIL, OUT_OF_SCOPE, KNOWN = "pass", "fail", "out", "known"

    def __init__(self, test, status, detail="", reason=None, reference_only=False):
        self.test, self.status, self.detail = test, status, detail
        self.reason = reason              # key of REASONS when OUT_OF_SCOPE
        self.reference_only = reference_only


def test_one(args, test, test_dir, work_root, worker):
    """Runs one statically in-scope test; returns an Outcome."""
    work = os.path.join(work_root, test)
    model = os.path.join(test_dir, "model.onnx")

    if args.import_only:
        os.makedirs(work, exist_ok=True)
        out = os.path.join(work, "model.mlir")
        rc, _, err = run_cmd([args.qaf_translate, "--import-onnx", model, "-o", out])
        _save(work, "qaf-translate.stderr", err)
        if rc != 0:
            return Outcome(test, Outcome.FAIL, describe_exit("qaf-translate", rc, err))
        if not os.path.isfile(out) or os.path.getsize(out) == 0:
            return Outcome(test, Outcome.FAIL, "qaf-translate exited 0 but wrote no output")
        return Outcome(test, Outcome.PASS)

    # Compiled mode: the reference outputs alone are the oracle.
    if args.compile:
        return Outcome(test, Outcome.PASS) if args.list_scope else compile_one(args, test, test_dir, work)
    res, why = worker.run("oracle", test_dir)
    if res is None:
        # A crash or time-out of ORT on the original (or an error of this
        # script) is not a verdict on the model: fail rather than skip.
        return Outcome(test, Outcome.FAIL, f"onnxruntime oracle on the original: {why}")
    if not res["ok"]:
        return Outcome(test, Outcome.OUT_OF_SCOPE, res["detail"], reason=res["reason"])
    if args.list_scope:
        return Outcome(test, Outcome.PASS)

    os.makedirs(work, exist_ok=True)
    exported = os.path.join(work, "exported.onnx")
    rc, _, err = run_cmd([args.qaf_translate, "--import-onnx", model, "--export-onnx", "-o", exported])
    _save(work, "qaf-translate.stderr", err)
    if rc != 0:
        return Outcome(test, Outcome.FAIL, describe_exit("qaf-translate", rc, err))
    if not os.path.isfile(exported):
        return Outcome(test, Outcome.FAIL, "qaf-translate exited 0 but wrote no output")

    res, why = worker.run("check", test_dir, exported)
    if res is None:
        return Outcome(test, Outcome.FAIL, why)
    if not res["ok"]:
        return Outcome(test, Outcome.FAIL, res["detail"], reference_only=res["reference_ok"])
    return Outcome(test, Outcome.PASS)


# ----------------------------------------------------------------------------
# --compile: qaf-compile + qaf-run against the reference outputs.
# ----------------------------------------------------------------------------

def compile_tolerance(dtype):
    """(rtol, atol) for an expected output of this numpy dtype."""
    if dtype.name in ("float16", "bfloat16"):
        return 1e-3, 1e-3
    if dtype.name == "float64":
        return 1e-7, 1e-12
    return REF_RTOL, REF_ATOL


def output_file_name(name, taken):
    """The file qaf-run writes for output `name` (tools/qaf-run getOutputFileName)."""
    base = "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "_" for c in name)
    if not base or base[0] == ".":
        base = "output" + base
    chosen, suffix = base, 1
    while chosen in taken:
        chosen, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(chosen)
    return chosen + ".npy"


def compile_one(args, test, test_dir, work):
    os.makedirs(work, exist_ok=True)
    model_path = os.path.join(test_dir, "model.onnx")
    art = os.path.join(work, "art")
    compile_cmd = [args.qaf_compile, model_path, "-o", art, f"--target={args.target}"]
    if args.target == "cuda":
        compile_cmd.append(f"--cuda-arch={args.cuda_arch}")
    rc, _, err = run_cmd(compile_cmd, timeout=COMPILE_TIMEOUT_S)
    _save(work, "qaf-compile.stderr", err)
    if rc != 0:
        return Outcome(test, Outcome.FAIL, describe_exit("qaf-compile", rc, err, COMPILE_TIMEOUT_S))
    if args.no_run:
        problem = check_library(args, os.path.join(art, "model.so"))
        return Outcome(test, Outcome.FAIL, problem) if problem else Outcome(test, Outcome.PASS)
    try:
        with open(os.path.join(art, "manifest.json")) as f:
            entry = json.load(f)["entry_points"][0]
    except Exception as e:  # noqa: BLE001
        return Outcome(test, Outcome.FAIL, f"qaf-compile exited 0 but the manifest is unusable: {e}")

    model = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    in_types = declared_elem_types([vi for vi in model.graph.input if vi.name not in inits])
    out_types = declared_elem_types(model.graph.output)
    taken = set()
    out_files = [output_file_name(o["name"], taken) for o in entry["outputs"]]

    for k, ds in enumerate(numbered(test_dir, "test_data_set_")):
        set_name = os.path.basename(ds)
        cmd = [args.qaf_run, "infer", art]
        cmd.append("--device=cuda:0" if args.target == "cuda" else "--threads=1")
        for i, f in enumerate(numbered(ds, "input_")):
            # Old generators stored bfloat16 data as UINT16 tensors: relabel.
            if i < len(in_types) and in_types[i] == T.BFLOAT16:
                tp = onnx.load_tensor(f)
                if tp.data_type == T.UINT16:
                    tp.data_type = T.BFLOAT16
                    f = os.path.join(work, f"{set_name}_input_{i}.pb")
                    onnx.save_tensor(tp, f)
            cmd.append(f"--input={f}")
        out_dir = os.path.join(work, f"out_{k}")
        cmd.append(f"--output-dir={out_dir}")
        rc, _, err = run_cmd(cmd, timeout=STEP_TIMEOUT_S)
        _save(work, f"qaf-run_{k}.stderr", err)
        if rc != 0:
            return Outcome(test, Outcome.FAIL, f"{set_name}: " + describe_exit("qaf-run", rc, err))

        ref_files = numbered(ds, "output_")
        if len(ref_files) != len(out_files):
            return Outcome(test, Outcome.FAIL, f"{set_name}: {len(out_files)} outputs, "
                                               f"expected {len(ref_files)}")
        for i, (ref, name) in enumerate(zip(ref_files, out_files)):
            declared = out_types[i] if i < len(out_types) else T.UNDEFINED
            expected = load_pb(ref, declared)[0]
            try:
                got = np.load(os.path.join(out_dir, name))
            except Exception as e:  # noqa: BLE001
                return Outcome(test, Outcome.FAIL, f"{set_name} output {i}: cannot read {name}: "
                                                   f"{first_line(str(e))}")
            rtol, atol = compile_tolerance(expected.dtype)
            if expected.dtype.name == "bfloat16" and got.dtype == np.float32:
                expected = expected.astype(np.float32)  # exact; qaf-run widens bfloat16
            diff = compare(got, expected, rtol, atol)
            if diff:
                return Outcome(test, Outcome.FAIL, f"{set_name} output {i}: {diff}")
    return Outcome(test, Outcome.PASS)


# ctest counts this exit status as skipped (SKIP_RETURN_CODE), never passed.
SKIP_CODE = 77


def cuda_device_available(qaf_run):
    """Whether qaf's CUDA runtime answers for device 0 (the `cuda-device`
    feature of the tests)."""
    rc, _, _ = run_cmd([qaf_run, "info", "--device", "cuda:0"])
    return rc == 0


def check_library(args, library):
    """None when `library` exists and leaves undefined only what its target's
    runtime provides (cuda: the mgpu* functions; always libc/libm), else why not."""
    if not os.path.isfile(library):
        return f"qaf-compile exited 0 but wrote no {os.path.basename(library)}"
    rc, out, err = run_cmd(["nm", "-u", "-D", library])
    if rc != 0:
        return describe_exit("nm", rc, err)
    unexpected = []
    for line in out.splitlines():
        kind, _, name = line.strip().partition(" ")
        name = name.strip()
        if kind == "w" or "@GLIBC" in name or (args.target == "cuda" and name.startswith("mgpu")):
            continue
        unexpected.append(name)
    if unexpected:
        return f"{os.path.basename(library)} has undefined symbols besides mgpu*/libc/libm: " + \
            ", ".join(sorted(unexpected)[:8])
    return None


def read_expected_failures(path):
    """{test name: reason} from `name  # reason` lines."""
    known = {}
    with open(path) as f:
        for line in f:
            name, _, reason = line.partition("#")
            name = name.strip()
            if name:
                known[name] = reason.strip() or "no reason given"
    return known


def _save(folder, name, text):
    if text:
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)


def supported_ops(qaf):
    rc, out, err = run_cmd([qaf, "--list-onnx-ops"])
    if rc != 0:
        sys.exit(f"error: {describe_exit(qaf + ' --list-onnx-ops', rc, err)}")
    ops = {line.strip() for line in out.splitlines() if line.strip()}
    # `ai.onnx.Add` is the same op as `Add`.
    return {op[len("ai.onnx."):] if op.startswith("ai.onnx.") else op for op in ops}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qaf-translate", default="qaf-translate", help="path of the tool under test")
    ap.add_argument("--data-set", choices=sorted(DATA_SETS), default="onnx",
                    help="which node tests: " + "; ".join(f"{k}: {v}" for k, v in DATA_SETS.items())
                    + " (default onnx)")
    ap.add_argument("--tests-dir",
                    help="folder of node test folders, instead of --data-set's (which then "
                         "only names the counts that apply)")
    ap.add_argument("--filter", metavar="REGEX", help="only tests whose folder name matches (re.search)")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="tests run in parallel (default 2)")
    ap.add_argument("--keep", metavar="DIR", help="keep each test's outputs in DIR/<test>/")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--list-scope", action="store_true",
                      help="print which tests are in scope and why the others are not (runs ORT, not qaf)")
    mode.add_argument("--import-only", action="store_true",
                      help="only check that `qaf-translate --import-onnx` succeeds; the ORT oracle is not consulted")
    ap.add_argument("--compile", action="store_true",
                    help="compile each test with qaf-compile and run it with qaf-run instead of the round trip")
    ap.add_argument("--qaf-compile", default="qaf-compile", help="path of qaf-compile (--compile)")
    ap.add_argument("--qaf-run", default="qaf-run", help="path of qaf-run (--compile)")
    ap.add_argument("--target", default="cpu", choices=["cpu", "cuda"],
                    help="qaf-compile --target (--compile; default cpu)")
    ap.add_argument("--cuda-arch", default="sm_80", help="qaf-compile --cuda-arch (--target=cuda)")
    ap.add_argument("--no-run", action="store_true",
                    help="(--compile) compile and check the library's undefined symbols, "
                         "without running (a CUDA target on a machine without a GPU)")
    ap.add_argument("--expected-failures", metavar="FILE",
                    help="known failures, one test name a line with a `# reason` comment")
    ap.add_argument("--expected-counts", metavar="FILE",
                    help="JSON file of the counts each data set and mode must give "
                         "(see the module docstring)")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print passes and skips")
    ap.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._worker:
        return worker_loop()

    if (args.target != "cpu" or args.no_run) and not args.compile:
        ap.error("--target and --no-run go with --compile")
    if args.compile and args.import_only:
        ap.error("--compile and --import-only exclude each other")
    if args.expected_counts and (args.import_only or args.list_scope):
        ap.error("--expected-counts needs a run of the round trip or of --compile")
    if args.target == "cuda" and not args.no_run and not cuda_device_available(args.qaf_run):
        print("skipped: no CUDA device (qaf-run info --device cuda:0 failed); "
              "--no-run compiles without one")
        return SKIP_CODE
    known = read_expected_failures(args.expected_failures) if args.expected_failures else {}
    if not args.tests_dir:
        args.tests_dir = DATA_SETS[args.data_set]

    start = time.monotonic()
    if not os.path.isdir(args.tests_dir):
        sys.exit(f"error: no such folder: {args.tests_dir}")
    ops = supported_ops(args.qaf_translate)
    tests = sorted(t for t in os.listdir(args.tests_dir)
                   if os.path.isfile(os.path.join(args.tests_dir, t, "model.onnx")))
    if args.filter:
        rx = re.compile(args.filter)
        tests = [t for t in tests if rx.search(t)]

    outcomes, candidates = [], []
    for t in tests:
        r = static_scope(os.path.join(args.tests_dir, t), ops)
        if not r and args.compile:
            r = entry_scope(os.path.join(args.tests_dir, t))
        if r:
            outcomes.append(Outcome(t, Outcome.OUT_OF_SCOPE, r[1], reason=r[0]))
        else:
            candidates.append(t)

    # Scratch holds the workers' stderr logs, and the per-test outputs unless --keep.
    scratch = tempfile.TemporaryDirectory(prefix="qaf-node-tests-")
    work_root = os.path.abspath(args.keep) if args.keep else scratch.name
    os.makedirs(work_root, exist_ok=True)
    # One ORT worker per pool thread, created on the thread's first test.
    local, workers, lock = threading.local(), [], threading.Lock()

    def job(test):
        if not hasattr(local, "worker"):
            local.worker = Worker(scratch.name)
            with lock:
                workers.append(local.worker)
        return test_one(args, test, os.path.join(args.tests_dir, test), work_root, local.worker)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes += list(pool.map(job, candidates))
    finally:
        for w in workers:
            w.stop()
        scratch.cleanup()
    outcomes.sort(key=lambda o: o.test)
    if not args.list_scope:
        apply_expected_failures(outcomes, known, bool(args.filter))
    return report(args, outcomes, ops, time.monotonic() - start)


def apply_expected_failures(outcomes, known, filtered):
    """Turns listed failures into KNOWN, and listed passes into failures."""
    seen = set()
    for o in outcomes:
        if o.test not in known:
            continue
        seen.add(o.test)
        if o.status == Outcome.FAIL:
            o.status, o.detail = Outcome.KNOWN, f"known failure ({known[o.test]}): {o.detail}"
        elif o.status == Outcome.PASS:
            o.status = Outcome.FAIL
            o.detail = (f"unexpectedly passed: listed as a known failure ({known[o.test]}); "
                        f"remove it from the expected-failures file")
        else:
            print(f"note: {o.test} is listed as a known failure but is out of scope "
                  f"({REASONS[o.reason]})")
    for name in [] if filtered else sorted(set(known) - seen):
        print(f"note: {name} is listed as a known failure but was not considered")


def report(args, outcomes, ops, elapsed):
    in_scope = [o for o in outcomes if o.status != Outcome.OUT_OF_SCOPE]
    passed = [o for o in in_scope if o.status == Outcome.PASS]
    failed = [o for o in in_scope if o.status == Outcome.FAIL]
    known = [o for o in in_scope if o.status == Outcome.KNOWN]
    skipped = {}
    for o in outcomes:
        if o.status == Outcome.OUT_OF_SCOPE:
            skipped.setdefault(o.reason, []).append(o)

    if args.list_scope:
        for o in outcomes:
            if o.status == Outcome.OUT_OF_SCOPE:
                print(f"out   {o.test}: {REASONS[o.reason]}" + (f": {o.detail}" if o.detail else ""))
            elif o.status == Outcome.FAIL:
                print(f"FAIL  {o.test}: {o.detail}")
            else:
                print(f"in    {o.test}")
    else:
        for o in outcomes:
            if o.status == Outcome.FAIL:
                print(f"FAIL {o.test}: {o.detail}")
            elif o.status == Outcome.KNOWN:
                print(f"XFAIL {o.test}: {o.detail}")
            elif args.verbose and o.status == Outcome.PASS:
                print(f"ok   {o.test}")
            elif args.verbose and o.reason in ("ort", "ort_differs"):
                print(f"skip {o.test}: {REASONS[o.reason]}: {o.detail}")

    print()
    print(f"qaf-translate lists {len(ops)} ONNX op types; {len(outcomes)} node tests considered")
    if args.list_scope:
        print(f"in scope: {len(in_scope)}")
    else:
        print(f"in scope: {len(in_scope)}, passed: {len(passed)}, failed: {len(failed)}")
        if args.expected_failures or known:
            print(f"known failures: {len(known)}")
        ref_only = sum(1 for o in failed if o.reference_only)
        if ref_only:
            print(f"  {ref_only} of the failures match the reference outputs but not "
                  f"onnxruntime's outputs on the original model")
    for key, text in REASONS.items():
        if key in skipped:
            print(f"out of scope: {len(skipped[key])}: {text}")
    if args.import_only:
        print("(--import-only: import checked only; onnxruntime was not consulted for scope)")
    print(f"time: {elapsed:.1f} s with --jobs {args.jobs}")
    if args.list_scope:
        return 1 if failed else 0
    counts_ok = True
    if args.expected_counts:
        counts = {
            "considered": len(outcomes),
            "in scope": len(in_scope),
            "passed": len(passed),
            "known failures": len(known),
            "out of scope": {key: len(skipped[key]) for key in REASONS if key in skipped},
        }
        counts_ok = check_counts(args, counts)
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if failed or not in_scope or not counts_ok else 0


def run_mode(args):
    """The key of the committed counts: round-trip, compile (cpu, run),
    compile-cuda, compile-cuda-no-run, ..."""
    if not args.compile:
        return "round-trip"
    return "compile" + ("" if args.target == "cpu" else "-" + args.target) + \
        ("-no-run" if args.no_run else "")


def check_counts(args, counts):
    """Compares `counts` with the committed ones; prints the differences."""
    mode = run_mode(args)
    if args.filter:
        print(f"note: --filter given: the counts of {args.expected_counts} are not checked")
        return True
    with open(args.expected_counts) as f:
        committed = json.load(f)
    expected = committed.get(args.data_set, {}).get(mode)
    found = json.dumps({args.data_set: {mode: counts}}, indent=2)
    if expected is None:
        print(f"COUNTS: {args.expected_counts} has no counts for data set '{args.data_set}', "
              f"mode '{mode}'; this run found:\n{found}")
        return False
    flat_expected, flat_found = flatten_counts(expected), flatten_counts(counts)
    diffs = [f"{key}: {flat_found.get(key, 0)}, expected {flat_expected.get(key, 0)}"
             for key in sorted(set(flat_expected) | set(flat_found))
             if flat_found.get(key, 0) != flat_expected.get(key, 0)]
    if not diffs:
        print(f"counts match {os.path.basename(args.expected_counts)} "
              f"({args.data_set}, {mode}, onnx {onnx.__version__})")
        return True
    print(f"COUNTS differ from {args.expected_counts} ({args.data_set}, {mode}; "
          f"onnx {onnx.__version__}):")
    for d in diffs:
        print(f"  {d}")
    print("A test left the scope, stopped passing or was added. If the change is intended "
          "(an op added, a failure fixed), update the counts; this run found:\n" + found)
    return False


def flatten_counts(counts):
    """{"out of scope": {"op": 3}} -> {"out of scope: op": 3}."""
    flat = {}
    for key, value in counts.items():
        if isinstance(value, dict):
            flat.update({f"{key}: {k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


if __name__ == "__main__":
    sys.exit(main())
