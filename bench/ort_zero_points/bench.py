#!/usr/bin/env python3
"""ONNX Runtime's MatMulNBits on the file qaf exports, with each zero-point form.

One linear layer x [M, 576] · W [576, 1536] (SmolLM-135M's up projection) is
generated, imported, quantized to int4 with groups of 64 (`qaf-opt
--qaf-quantize-weights`) and exported as MatMulNBits (`qaf-translate
--export-onnx --zero-points=...`) three ways:
  float: asymmetric RTN, --zero-points=float (qaf's only form before);
  uint8: asymmetric RTN, --zero-points=auto (packed uint8 zero points);
  none:  symmetric RTN, --zero-points=auto (no zero-point input).
Each file's zero-point input is checked to be that form, and the float and
uint8 files must compute the same outputs (same weights, two encodings).
ONNX Runtime then runs each file at M = 1 and M = 128 with --threads intra-op
threads; the rounds interleave the forms so that load on the machine falls on
all of them alike. The time per call is the fastest round's (on a shared
machine the least disturbed one), with the median over the rounds beside it.
Prints a Markdown report.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402

K, N, BITS, GROUP = 576, 1536, 4, 64
ROWS = [1, 128]
# (form, --qaf-quantize-weights scheme, --zero-points)
FORMS = [("float", "asym", "float"), ("uint8", "asym", "auto"), ("none", "sym", "auto")]


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.strip()}")


def layer_model(path):
    weight = np.random.default_rng(0).standard_normal((K, N)).astype(np.float32) * 0.05
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", N])],
        [numpy_helper.from_array(weight, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.save(model, path)


def zero_point_form(path):
    """uint8, float or none: the zero-point input of the file's MatMulNBits."""
    model = onnx.load(path)
    (node,) = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    if len(node.input) < 4 or not node.input[3]:
        return "none"
    (tensor,) = [t for t in model.graph.initializer if t.name == node.input[3]]
    return {TensorProto.UINT8: "uint8", TensorProto.FLOAT: "float"}.get(tensor.data_type, "?")


def export(args, tmp):
    source = os.path.join(tmp, "layer.onnx")
    layer_model(source)
    imported = os.path.join(tmp, "layer.mlirbc")
    run([args.qaf_translate, "--import-onnx", source, "-o", imported])
    files = {}
    for form, scheme, zero_points in FORMS:
        quantized = os.path.join(tmp, f"{scheme}.mlirbc")
        if not os.path.exists(quantized):
            # The layer is the model's output: `include` selects it anyway.
            run([args.qaf_opt, imported, "--emit-bytecode", "-o", quantized,
                 f"--qaf-quantize-weights=bits={BITS} group-size={GROUP} "
                 f"scheme={scheme} include=^w$"])
        path = os.path.join(tmp, f"{form}.onnx")
        run([args.qaf_translate, "--export-onnx", quantized,
             f"--zero-points={zero_points}", "-o", path])
        found = zero_point_form(path)
        if found != form:
            sys.exit(f"{path}: MatMulNBits has {found} zero points, expected {form}")
        files[form] = path
    return files


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def time_calls(sess, x, seconds):
    """Seconds per call, over as many calls as fit in `seconds` (at least 3)."""
    calls, start = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        sess.run(None, {"x": x})
        calls += 1
    return (time.perf_counter() - start) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-translate", required=True)
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--round-time", type=float, default=0.2,
                        help="seconds per form and M in each round")
    parser.add_argument("--command", default="bash bench/ort_zero_points/run.sh",
                        help="the command named in the report")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    inputs = {m: rng.standard_normal((m, K)).astype(np.float32) for m in ROWS}
    with tempfile.TemporaryDirectory(prefix="qaf-ort-zero-points-") as tmp:
        files = export(args, tmp)
        sessions = {form: session(path, args.threads) for form, path in files.items()}
        for m, x in inputs.items():
            float_y = sessions["float"].run(None, {"x": x})[0]
            uint8_y = sessions["uint8"].run(None, {"x": x})[0]
            diff = float(np.max(np.abs(float_y - uint8_y)))
            if diff > 1e-4:
                sys.exit(f"float and uint8 zero points disagree at M = {m}: {diff:.3g}")
        load_before = os.getloadavg()[0]
        times = {(form, m): [] for form in files for m in ROWS}
        for _ in range(args.rounds):
            for m, x in inputs.items():
                for form, sess in sessions.items():
                    times[(form, m)].append(time_calls(sess, x, args.round_time))
    load_after = os.getloadavg()[0]
    median = {key: statistics.median(values) * 1e6 for key, values in times.items()}
    low = {key: min(values) * 1e6 for key, values in times.items()}
    print("# ONNX Runtime MatMulNBits: zero-point forms of qaf's export\n")
    print(f"Written by `{args.command}` (bench/ort_zero_points/bench.py). One "
          f"{N}×{K} linear layer (N × K: SmolLM-135M's up projection), int4, "
          f"groups of {GROUP}, exported by qaf with each `--zero-points` form and "
          f"run by ONNX Runtime {ort.__version__} (CPU, {args.threads} intra-op "
          f"threads, default session options). Time per call: the fastest of "
          f"{args.rounds} interleaved rounds of {args.round_time} s each "
          f"[the median round]; the ratios divide the fastest rounds' times. "
          f"The float and uint8 files hold the same asymmetric "
          f"weights (their outputs are checked to agree); none is the symmetric "
          f"quantization of the same matrix.\n")
    print(f"Machine: {common.machine()}; load average (1 min) {load_before:.1f} "
          f"before the rounds, {load_after:.1f} after (other work on the machine "
          f"slows every form; the ratios are the finding). Commit: "
          f"{common.commit()}. Date: "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n")
    header = " | ".join(f"M = {m} (µs)" for m in ROWS)
    ratios = " | ".join(f"vs float, M = {m}" for m in ROWS)
    print(f"| zero points | how qaf writes them | {header} | {ratios} |")
    print("| --- | --- |" + " ---: |" * (2 * len(ROWS)))
    how = {"float": "`--zero-points=float`, asym",
           "uint8": "`--zero-points=auto` (or `uint8`), asym",
           "none": "`--zero-points=auto`, sym (all 8)"}
    for form in files:
        cells = " | ".join(f"{low[(form, m)]:.0f} [{median[(form, m)]:.0f}]" for m in ROWS)
        speedups = " | ".join(f"{low[('float', m)] / low[(form, m)]:.1f}×" for m in ROWS)
        print(f"| {form} | {how[form]} | {cells} | {speedups} |")


if __name__ == "__main__":
    main()
