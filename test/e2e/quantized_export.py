#!/usr/bin/env python3
"""Quantized models: qaf's compiled CPU output against ONNX Runtime running
qaf's exported ONNX model.

For each (bits, group size, scheme) the generated Llama-style decoder is
imported, quantized (`qaf-opt --qaf-quantize-weights`), compiled
(`qaf-compile`) and exported in both quantized forms (`qaf-translate
--export-onnx --quantized-format=matmulnbits|dequantizelinear`), MatMulNBits
with each choice of `--zero-points` (auto, uint8, float). The exported model
must pass onnx.checker, its MatMulNBits nodes must carry the zero points the
choice implies for the scheme (uint8 packed like the codes, none, or float;
see expected_zero_points), and ONNX Runtime's logits must match qaf-run's
within 1e-3 (max abs) for two batch sizes and sequence lengths.

ONNX Runtime fuses 4-bit DequantizeLinear + MatMul into MatMulNBits and, by
default, runs that with int8 activations (session option
session.qdq_matmulnbits_accuracy_level = 4); the check runs at float
accuracy (level 0), and the default level's difference is printed too.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402

TOLERANCE = 1e-3
SHAPES = [(1, 7), (2, 19)]
# (4, 64, asym): one group per row in the attention projections (K = 64), so
# each row of packed 4-bit zero points is padded to a whole byte.
CONFIGS = [(4, 32, "asym"), (4, 64, "sym"), (4, 64, "asym"), (3, 32, "asym"),
           (2, 32, "asym"), (8, 64, "asym"), (8, 32, "sym")]
# (--quantized-format, --zero-points); DequantizeLinear has one form.
EXPORTS = [("matmulnbits", "auto"), ("matmulnbits", "uint8"),
           ("matmulnbits", "float"), ("dequantizelinear", None)]


def run(command, timeout=300):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stderr.strip()[:2000]}")
    return result


def ort_session(model, accuracy_level=None):
    options = ort.SessionOptions()
    if accuracy_level is not None:
        options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level",
                                         str(accuracy_level))
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def qaf_logits(args, artifact, folder, feeds, tag):
    command = [args.qaf_run, "infer", artifact, "--output-dir", os.path.join(folder, tag)]
    for key, value in feeds.items():
        path = os.path.join(folder, f"{key}_{tag}.npy")
        np.save(path, value)
        command += ["--input", f"{key}={path}"]
    run(command, timeout=120)
    return np.load(os.path.join(folder, tag, "logits.npy"))


def expected_zero_points(bits, scheme, choice):
    """The zero-point input of every MatMulNBits: "uint8", "float" or "none".
    RTN zero points are integer codes, all 2^(bits - 1) when symmetric;
    ONNX Runtime's default is 2^(stored bits - 1) (3-bit codes are stored in
    4 bits), and it takes float zero points only for 2 and 4 bits."""
    stored = 4 if bits == 3 else bits
    if choice == "float" and bits != 8:
        return "float"
    if choice == "auto" and scheme == "sym" and bits == stored:
        return "none"
    return "uint8"


def zero_point_problems(graph, expected):
    """How the MatMulNBits nodes' zero points differ from `expected`."""
    initializers = {t.name: t for t in graph.initializer}
    problems = []
    for node in graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: a.i for a in node.attribute}
        name = node.input[3] if len(node.input) > 3 else ""
        if not name:
            found = "none"
        else:
            tensor = initializers[name]
            found = {onnx.TensorProto.UINT8: "uint8",
                     onnx.TensorProto.FLOAT: "float"}.get(tensor.data_type, "?")
            # Packed uint8: one row of ceil(blocks * bits / 8) bytes per output.
            blocks = -(-attrs["K"] // attrs["block_size"])
            row_bytes = -(-blocks * attrs.get("bits", 4) // 8)
            if found == "uint8" and list(tensor.dims) != [attrs["N"], row_bytes]:
                problems.append(f"{node.name}: uint8 zero points of shape "
                                f"{list(tensor.dims)}, not [{attrs['N']}, {row_bytes}]")
        if found != expected:
            problems.append(f"{node.name}: {found} zero points, expected {expected}")
    return problems


def check_config(args, tmp, cfg, model, bits, group, scheme):
    name = f"{bits}bit-g{group}-{scheme}"
    folder = os.path.join(tmp, name)
    os.makedirs(folder)
    imported = os.path.join(folder, "model.mlirbc")
    quantized = os.path.join(folder, "quantized.mlirbc")
    artifact = os.path.join(folder, "artifact")
    run([args.qaf_translate, "--import-onnx", model, "-o", imported])
    run([args.qaf_opt, imported, "--emit-bytecode", "-o", quantized,
         f"--qaf-quantize-weights=bits={bits} group-size={group} scheme={scheme}"])
    run([args.qaf_compile, quantized, "-o", artifact])
    # qaf's logits, once per shape: the oracle for them is ONNX Runtime on
    # each exported file.
    names = {i.name for i in onnx.load(model, load_external_data=False).graph.input}
    inputs = {shape: {k: v for k, v in gen.make_inputs(cfg, *shape).items() if k in names}
              for shape in SHAPES}
    qaf = {(batch, seq): qaf_logits(args, artifact, folder, feeds, f"{batch}x{seq}")
           for (batch, seq), feeds in inputs.items()}
    passed = failed = 0
    for fmt, zero_points in EXPORTS:
        form = fmt if zero_points is None else f"{fmt}-zp-{zero_points}"
        exported = os.path.join(folder, f"{form}.onnx")
        command = [args.qaf_translate, "--export-onnx", quantized,
                   f"--quantized-format={fmt}", "-o", exported]
        if zero_points is not None:
            command.append(f"--zero-points={zero_points}")
        run(command)
        onnx.checker.check_model(exported)
        graph = onnx.load(exported, load_external_data=False).graph
        expected_op = "MatMulNBits" if fmt == "matmulnbits" else "DequantizeLinear"
        problems = [] if expected_op in {n.op_type for n in graph.node} else [
            f"no {expected_op} node in the exported model"]
        if zero_points is not None:
            problems += zero_point_problems(
                graph, expected_zero_points(bits, scheme, zero_points))
        if problems:
            print(f"FAIL {name} {form}: " + "; ".join(problems[:3]))
            failed += 1
            continue
        session = ort_session(exported, 0 if fmt == "dequantizelinear" else None)
        default = ort_session(exported) if fmt == "dequantizelinear" else None
        for (batch, seq), feeds in inputs.items():
            actual = qaf[(batch, seq)]
            expected = session.run(None, feeds)[0]
            diff = float(np.max(np.abs(actual - expected)))
            ok = actual.shape == expected.shape and diff < TOLERANCE
            note = ""
            if default is not None:
                note = (f" (ORT default int8 accuracy level: "
                        f"{float(np.max(np.abs(actual - default.run(None, feeds)[0]))):.3g})")
            print(f"{'ok  ' if ok else 'FAIL'} {name} {form} batch={batch} seq={seq}: "
                  f"max |qaf - onnxruntime| = {diff:.3g}{note}")
            passed += ok
            failed += not ok
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-translate", "qaf-opt", "qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-quantized-export-") as tmp:
        cfg = gen.LlamaConfig(**gen.PRESETS["tiny"])
        model = os.path.join(tmp, "model.onnx")
        gen.save(cfg, model)
        for bits, group, scheme in CONFIGS:
            try:
                p, f = check_config(args, tmp, cfg, model, bits, group, scheme)
            except (RuntimeError, subprocess.TimeoutExpired,
                    onnx.checker.ValidationError) as error:
                print(f"FAIL {bits}bit-g{group}-{scheme}: {error}")
                p, f = 0, len(EXPORTS) * len(SHAPES)
            passed += p
            failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
