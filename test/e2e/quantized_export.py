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
within logits_tolerance (128 float32 roundings of the largest logit) for two
batch sizes and sequence lengths.

Both sides of that comparison run qaf's codes, so a quantizer bug would pass
it; four checks do not trust them: qaf's logits match (same tolerance) ONNX
Runtime on the float model whose quantized weights numpy replaced by its
own round-to-nearest of METHODS.md §0 (numpy_rtn); the exported weights
(DequantizeLinear form) lie within half a quantization step of the float
weights, the step computed from the float weights alone; for asymmetric
2/4/8 bits the MatMulNBits initializers (packed codes, scales, packed zero
points) equal ONNX Runtime's own quantizer's wherever the two rules agree;
and qaf's quantized logits stay within a per-bit-width bound of the float
model's (ONNX Runtime on the original model). The model is
gen_llama_onnx.TEST_INIT_STD's (attention far from uniform).

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
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "quant"))
from ort_quantizer_oracle import ORT_NBITS, unpack_low_first  # noqa: E402

# qaf against ONNX Runtime on the same codes: both dequantize the same
# numbers and sum them in different orders. Measured max |qaf - ORT| /
# max |logits| over CONFIGS, EXPORTS and SHAPES: 1.2e-6 to 3.2e-6 (10 to 27
# float32 epsilons); 128 epsilons is a margin of 4.7 over the worst.
TOLERANCE_EPSILONS = 128
# The quantized model against the float one (ONNX Runtime on the original
# model): max |quantized - float| / max |float logits|, per bit width,
# measured over CONFIGS and SHAPES (8 bits: 0.028-0.106; 4 bits: 0.52-0.77;
# 3 bits: 0.97-0.99; 2 bits: 1.24-1.34) times 1.5. The test model's sharp
# attention amplifies weight errors, so below 8 bits this bound only catches
# a quantizer that is far off; the tight checks are the per-weight bound of
# rounding_bound_problems (theory, half a step) and numpy_rtn's model.
FLOAT_BOUNDS = {8: 0.16, 4: 1.15, 3: 1.5, 2: 2.0}
# Fewer groups than this compared with ONNX Runtime's quantizer is a failure
# (the rules agree on nearly every group of normal weights).
MIN_COMPARED_FRACTION = 0.9
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


def logits_tolerance(expected):
    """Max abs difference allowed between two runs of the same quantized
    model: TOLERANCE_EPSILONS float32 roundings of the largest logit."""
    return TOLERANCE_EPSILONS * float(np.finfo(np.float32).eps) * float(np.max(np.abs(expected)))


def ort_quantizer_problems(graph, float_weights, bits, group):
    """The exported MatMulNBits initializers (packed codes, scales, packed
    uint8 zero points) against ONNX Runtime's own quantizer
    (quantize_matmul_<bits>bits, asymmetric) on the float weights, on the
    groups where the two rules agree (see test/quant/ort_quantizer_oracle.py:
    the group's range contains 0, -min/s is no .5 tie, and codes whose w/s is
    within 1e-3 of a .5 tie are left out). Returns (problems, compared
    groups, groups)."""
    initializers = {t.name: t for t in graph.initializer}
    q_max = (1 << bits) - 1
    per_byte = 8 // bits
    problems, compared, total = [], 0, 0
    for node in graph.node:
        if node.op_type != "MatMulNBits":
            continue
        weight = float_weights[node.input[1].removesuffix(".qcodes")]
        k, n = weight.shape
        blocks = k // group
        packed = np.zeros((n, blocks, group * bits // 8), np.uint8)
        ort_zero_points = np.zeros((n, -(-blocks // per_byte)), np.uint8)
        ort_scales = np.zeros((n, blocks), np.float32)
        ORT_NBITS[bits](packed, np.ascontiguousarray(weight), ort_scales, ort_zero_points,
                        group, n, k, False)
        ort_codes = unpack_low_first(packed.reshape(n, -1), bits, k)
        ort_zeros = unpack_low_first(ort_zero_points, bits, blocks)
        tensor = lambda suffix: numpy_helper.to_array(initializers[node.input[1].removesuffix(
            ".qcodes") + suffix])
        codes = unpack_low_first(tensor(".qcodes").reshape(n, -1), bits, k)
        scales = tensor(".scales").reshape(n, blocks)
        zeros = unpack_low_first(numpy_helper.to_array(initializers[node.input[3]]), bits, blocks)
        for row in range(n):
            for blk in range(blocks):
                total += 1
                w = weight[blk * group:(blk + 1) * group, row]
                lo, hi = w.min(), w.max()
                scale = (hi - lo) / np.float32(q_max)
                if not (lo <= 0 <= hi and lo < hi) or (-lo / scale) % 1 == 0.5:
                    continue
                compared += 1
                where = f"{node.name} row {row} group {blk}"
                if scales[row, blk] != ort_scales[row, blk]:
                    problems.append(f"{where}: scale {scales[row, blk]!r} vs ORT's "
                                    f"{ort_scales[row, blk]!r}")
                if zeros[row, blk] != ort_zeros[row, blk]:
                    problems.append(f"{where}: zero point {zeros[row, blk]} vs ORT's "
                                    f"{ort_zeros[row, blk]}")
                x = w.astype(np.float64) / np.float64(scale)
                clear = np.abs(x - np.floor(x) - 0.5) > 1e-3
                columns = slice(blk * group, (blk + 1) * group)
                bad = np.nonzero(clear & (codes[row, columns] != ort_codes[row, columns]))[0]
                if bad.size:
                    problems.append(f"{where}: {bad.size} codes differ from ORT's (first at "
                                    f"{bad[0]}: {codes[row, columns][bad[0]]} vs "
                                    f"{ort_codes[row, columns][bad[0]]})")
    return problems, compared, total


def rounding_bound_problems(graph, float_weights, bits, group, scheme):
    """Every weight of the exported DequantizeLinear form against the float
    weight it came from: round to nearest on a grid of step s misses by at
    most s/2, with s from the float group alone (METHODS.md §0): asym
    s = (max - min) / (2^bits - 1) (the grid's ends lie within s/2 of min
    and max because z is rounded), sym s = max |w| / (2^(bits-1) - 1).
    Independent of the scales qaf chose. Returns (problems, worst error / s)."""
    initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    problems, worst = [], 0.0
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in initializers:
            continue
        codes, scales, zeros = (initializers[name].astype(np.float64) for name in node.input[:3])
        weight = float_weights[node.input[0].removesuffix(".qcodes_kn")].astype(np.float64)
        k, n = weight.shape
        groups = weight.reshape(k // group, group, n)
        if scheme == "asym":
            step = (groups.max(1) - groups.min(1)) / ((1 << bits) - 1)
        else:
            step = np.abs(groups).max(1) / ((1 << (bits - 1)) - 1)
        dequantized = (codes.reshape(k // group, group, n) - zeros[:, None, :]) * scales[:, None, :]
        error = np.abs(dequantized - groups) / step[:, None, :]
        worst = max(worst, float(error.max()))
        # Float rounding of s, w/s and the dequantization: a few ulps.
        if error.max() > 0.5 * (1 + 1e-5):
            blk, i, col = np.unravel_index(np.argmax(error), error.shape)
            problems.append(f"{node.name}: weight [{blk * group + i}, {col}] is "
                            f"{error.max():.3g} steps from the float weight (at most 0.5)")
    return problems, worst


def numpy_rtn(weight, bits, group, scheme):
    """METHODS.md §0's round-to-nearest of a [K, N] MatMul weight, groups of
    `group` inputs per output, in float32 like the rule: asym s = (max -
    min) / q_max (at least max |w| * 2^-20), z = round(-min / s), q =
    clamp(round(w / s) + z, 0, q_max); sym s = max |w| / (2^(bits-1) - 1),
    z = 2^(bits-1). np.round rounds half to even, as the rule does. Returns
    the dequantized weight s * (q - z), [K, N]."""
    k, n = weight.shape
    w = np.ascontiguousarray(weight.T).reshape(n, k // group, group).astype(np.float32)
    q_max = np.float32((1 << bits) - 1)
    absmax = np.abs(w).max(-1, keepdims=True)
    if scheme == "asym":
        lo, hi = w.min(-1, keepdims=True), w.max(-1, keepdims=True)
        scale = np.maximum((hi - lo) / q_max, absmax * np.float32(2.0 ** -20))
        zero = np.round(-lo / scale)
    else:
        zero = np.float32(1 << (bits - 1))
        scale = absmax / (zero - np.float32(1))
    scale = np.where(scale == 0, np.float32(1), scale)
    codes = np.clip(np.round(w / scale) + zero, 0, q_max)
    return (scale * (codes - zero)).astype(np.float32).reshape(n, k).T


def rtn_reference_model(model, folder, quantized_weights, bits, group, scheme):
    """The float model with numpy_rtn's weights in place of the quantized
    ones: an oracle for qaf's quantized logits that shares nothing with qaf."""
    proto = onnx.load(model)
    for init in proto.graph.initializer:
        if init.name in quantized_weights:
            init.CopyFrom(numpy_helper.from_array(
                numpy_rtn(numpy_helper.to_array(init), bits, group, scheme), init.name))
    path = os.path.join(folder, "numpy-rtn.onnx")
    onnx.save(proto, path)
    return path


def check_config(args, tmp, cfg, model, bits, group, scheme, float_logits):
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
    float_weights = gen.load_weights(model)
    # qaf's logits, once per shape: the oracle for them is ONNX Runtime on
    # each exported file.
    names = {i.name for i in onnx.load(model, load_external_data=False).graph.input}
    inputs = {shape: {k: v for k, v in gen.make_inputs(cfg, *shape).items() if k in names}
              for shape in SHAPES}
    qaf = {(batch, seq): qaf_logits(args, artifact, folder, feeds, f"{batch}x{seq}")
           for (batch, seq), feeds in inputs.items()}
    passed = failed = 0
    quantized_weights = set()  # the float weights qaf quantized, from the export
    # Against the float model: a quantizer far off its rule fails here even
    # when the exported model reproduces its codes.
    for shape, actual in qaf.items():
        reference = float_logits[shape]
        error = float(np.max(np.abs(actual - reference))) / float(np.max(np.abs(reference)))
        ok = error <= FLOAT_BOUNDS[bits]
        print(f"{'ok  ' if ok else 'FAIL'} {name} batch={shape[0]} seq={shape[1]}: "
              f"max |qaf - float model| / max |float logits| = {error:.3g} "
              f"(bound {FLOAT_BOUNDS[bits]:.3g} at {bits} bits)")
        passed += ok
        failed += not ok
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
        if fmt == "dequantizelinear":
            mismatches, worst = rounding_bound_problems(graph, float_weights, bits, group, scheme)
            problems += mismatches
            print(f"{'ok  ' if not mismatches else 'FAIL'} {name} {form}: every weight within "
                  f"half a step of the float weight (worst {worst:.3g} steps)")
            quantized_weights = {node.input[0].removesuffix(".qcodes_kn") for node in graph.node
                                 if node.op_type == "DequantizeLinear"}
        if not problems and zero_points == "uint8" and scheme == "asym" and bits in ORT_NBITS:
            mismatches, compared, total = ort_quantizer_problems(graph, float_weights, bits,
                                                                 group)
            problems += mismatches
            if compared < MIN_COMPARED_FRACTION * total:
                problems.append(f"only {compared}/{total} groups compared with ONNX Runtime's "
                                f"quantizer")
            print(f"{'ok  ' if not mismatches else 'FAIL'} {name} {form}: initializers "
                  f"against ONNX Runtime's quantizer on {compared}/{total} groups")
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
            tolerance = logits_tolerance(expected)
            ok = actual.shape == expected.shape and diff <= tolerance
            note = ""
            if default is not None:
                note = (f" (ORT default int8 accuracy level: "
                        f"{float(np.max(np.abs(actual - default.run(None, feeds)[0]))):.3g})")
            print(f"{'ok  ' if ok else 'FAIL'} {name} {form} batch={batch} seq={seq}: "
                  f"max |qaf - onnxruntime| = {diff:.3g} (tolerance {tolerance:.3g}){note}")
            passed += ok
            failed += not ok
    # The float model quantized by numpy (METHODS.md §0), run by ONNX
    # Runtime, against qaf's logits: same tolerance as against the exports.
    session = ort_session(rtn_reference_model(model, folder, quantized_weights, bits, group,
                                              scheme))
    for (batch, seq), feeds in inputs.items():
        expected = session.run(None, feeds)[0]
        diff = float(np.max(np.abs(qaf[(batch, seq)] - expected)))
        tolerance = logits_tolerance(expected)
        ok = diff <= tolerance and len(quantized_weights) > 0
        print(f"{'ok  ' if ok else 'FAIL'} {name} batch={batch} seq={seq}: max |qaf - "
              f"float model with numpy's RTN weights ({len(quantized_weights)} layers)| = "
              f"{diff:.3g} (tolerance {tolerance:.3g})")
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
        cfg = gen.LlamaConfig(**{**gen.PRESETS["tiny"], "init_std": gen.TEST_INIT_STD})
        model = os.path.join(tmp, "model.onnx")
        gen.save(cfg, model)
        names = {i.name for i in onnx.load(model, load_external_data=False).graph.input}
        session = gen.ort_session(model)
        float_logits = {shape: session.run(None, {k: v for k, v in gen.make_inputs(
            cfg, *shape).items() if k in names})[0] for shape in SHAPES}
        for bits, group, scheme in CONFIGS:
            try:
                p, f = check_config(args, tmp, cfg, model, bits, group, scheme, float_logits)
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
