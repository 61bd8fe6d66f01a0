#!/usr/bin/env python3
"""ONNX Runtime contrib ops through the whole qaf path, against ONNX Runtime.

Each case is a one-node model built with onnx.helper: MatMulNBits,
RotaryEmbedding, GroupQueryAttention and SkipSimplifiedLayerNormalization
(domain com.microsoft)
and SimplifiedLayerNormalization (the default domain, where ONNX Runtime
registers it), several shapes and attributes each. Every model goes
ONNX -> `qaf-compile` -> `qaf-run`, and each output must match ONNX
Runtime's on the same model and inputs. (test/Conversion/ONNXToLinalg/
run_numeric.py checks the lowering alone through mlir-runner; this test
checks the importer, the CPU pipeline with its kernels and the runtime too.)

Exit status 0 when every case passed; prints `N passed, F failed`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e_support as support  # noqa: E402

MS = "com.microsoft"
# float32 against float32: sums of up to 128 products, or one normalisation.
RELATIVE_TOLERANCE = 2e-6


class Case:
    def __init__(self, name, node, inputs, outputs, initializers=(), compile_flags=()):
        self.name = name
        self.node = node
        self.inputs = inputs            # name -> array (graph inputs)
        self.outputs = outputs          # output names checked
        self.initializers = initializers
        self.compile_flags = list(compile_flags)  # for qaf-compile

    def model(self):
        def info(name, array):
            return helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(array.dtype),
                list(array.shape))
        graph = helper.make_graph(
            [self.node], self.name,
            [info(n, a) for n, a in self.inputs.items()],
            # Every output of these cases is float32.
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
             for o in self.outputs],
            initializer=[numpy_helper.from_array(a, n)
                         for n, a in self.initializers])
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)])
        model.ir_version = 10
        return model


def rng_for(name):
    return np.random.default_rng(sum(map(ord, name)))


# --------------------------------------------------------------- MatMulNBits

def pack_codes(codes, bits):
    """Codes (rows, count) -> bytes, the first code in the lowest bits; each
    row padded to whole bytes."""
    rows, count = codes.shape
    row_bytes = -(-count * bits // 8)
    packed = np.zeros((rows, row_bytes), dtype=np.uint8)
    for i in range(count):
        bit = i * bits
        packed[:, bit // 8] |= (codes[:, i].astype(np.uint16)
                                << (bit % 8)).astype(np.uint8)
    return packed


def matmulnbits_case(m_shape, k, n, bits, block, zero_points, bias=False, int8=False):
    """int8: accuracy_level 4 (ONNX Runtime rounds A to int8 per block of
    features), compiled with --int8-activations=file so that qaf does too."""
    name = (f"matmulnbits_{bits}bit_k{k}_n{n}_block{block}_"
            f"a{'x'.join(map(str, m_shape))}_zp-{zero_points}"
            f"{'_bias' if bias else ''}{'_int8' if int8 else ''}")
    rng = rng_for(name)
    blocks = -(-k // block)
    codes = rng.integers(0, 1 << bits, size=(n, blocks * block))
    b = pack_codes(codes.reshape(n * blocks, block), bits).reshape(
        n, blocks, block * bits // 8)
    scales = (rng.random(n * blocks, dtype=np.float32) * 0.1 + 0.01)
    inits = [("B", b), ("scales", scales.astype(np.float32))]
    inputs = ["A", "B", "scales"]
    if zero_points == "packed":
        zp = rng.integers(0, 1 << bits, size=(n, blocks))
        inits.append(("zero_points", pack_codes(zp, bits).reshape(-1)))
        inputs.append("zero_points")
    elif zero_points == "float":
        inits.append(("zero_points", (rng.random(n * blocks) * (1 << bits))
                      .astype(np.float32)))
        inputs.append("zero_points")
    if bias:
        inputs += [""] * (5 - len(inputs)) + ["bias"]
        inits.append(("bias", rng.standard_normal(n).astype(np.float32)))
    node = helper.make_node("MatMulNBits", inputs, ["Y"], domain=MS, K=k, N=n,
                            bits=bits, block_size=block,
                            **({"accuracy_level": 4} if int8 else {}))
    a = rng.standard_normal((*m_shape, k)).astype(np.float32)
    return Case(name, node, {"A": a}, ["Y"], inits,
                ["--int8-activations=file"] if int8 else [])


# ----------------------------------------------------------- RotaryEmbedding

def rotary_case(shape, heads, interleaved, rotary_dim=0, offset_ids=False):
    four_d = len(shape) == 4
    head = shape[3] if four_d else shape[2] // heads
    seq = shape[2] if four_d else shape[1]
    batch = shape[0]
    rot = rotary_dim or head
    name = (f"rotary_{'x'.join(map(str, shape))}_heads{heads}_"
            f"interleaved{interleaved}_rot{rot}"
            f"{'_offset' if offset_ids else ''}")
    rng = rng_for(name)
    max_seq = 32
    freqs = np.outer(np.arange(max_seq),
                     1.0 / 10000 ** (np.arange(0, rot, 2) / rot))
    inits = [("cos_cache", np.cos(freqs).astype(np.float32)),
             ("sin_cache", np.sin(freqs).astype(np.float32))]
    if offset_ids:
        positions = np.array([3], dtype=np.int64)
    else:
        positions = np.stack([rng.permutation(max_seq)[:seq]
                              for _ in range(batch)]).astype(np.int64)
    attrs = dict(interleaved=interleaved)
    if not four_d or rotary_dim:
        attrs["num_heads"] = heads
    if rotary_dim:
        attrs["rotary_embedding_dim"] = rotary_dim
    node = helper.make_node("RotaryEmbedding",
                            ["input", "position_ids", "cos_cache", "sin_cache"],
                            ["output"], domain=MS, **attrs)
    x = rng.standard_normal(shape).astype(np.float32)
    return Case(name, node, {"input": x, "position_ids": positions},
                ["output"], inits)


# ---------------------------------------------------- GroupQueryAttention

def group_query_attention_case(batch, sequence, past, seqlens, packed=False,
                               **attributes):
    """A prefill (past None) or a step with a past buffer, as ORT GenAI's
    models run it: num_heads 4, kv_num_heads 2, head size 16, rotary."""
    heads, kv_heads, head = 4, 2, 16
    total = max(seqlens) + 1
    name = (f"gqa_b{batch}_s{sequence}_past{past}"
            f"{'_packed' if packed else ''}"
            + "".join(f"_{k}{v}" for k, v in sorted(attributes.items())))
    rng = rng_for(name)
    f = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    freqs = np.outer(np.arange(32), 1.0 / 10000 ** (np.arange(0, head, 2) / head))
    inits = [("cos_cache", np.cos(freqs).astype(np.float32)),
             ("sin_cache", np.sin(freqs).astype(np.float32))]
    inputs = {}
    if packed:
        inputs["query"] = f(batch, sequence, (heads + 2 * kv_heads) * head)
        names = ["query", "", ""]
    else:
        inputs["query"] = f(batch, sequence, heads * head)
        inputs["key"] = f(batch, sequence, kv_heads * head)
        inputs["value"] = f(batch, sequence, kv_heads * head)
        names = ["query", "key", "value"]
    if past is None:
        names += ["", ""]
    else:
        inputs["past_key"] = f(batch, kv_heads, past, head)
        inputs["past_value"] = f(batch, kv_heads, past, head)
        names += ["past_key", "past_value"]
    inputs["seqlens_k"] = np.array(seqlens, np.int32)
    inputs["total_sequence_length"] = np.array(total, np.int32)
    node = helper.make_node(
        "GroupQueryAttention",
        names + ["seqlens_k", "total_sequence_length", "cos_cache",
                 "sin_cache"],
        ["output", "present_key", "present_value"], domain=MS,
        num_heads=heads, kv_num_heads=kv_heads, do_rotary=1, **attributes)
    return Case(name, node, inputs,
                ["output", "present_key", "present_value"], inits)


# ------------------------------------------------------------- RMS norms

def simplified_layernorm_case(shape, axis, epsilon):
    name = f"simplified_layernorm_{'x'.join(map(str, shape))}_axis{axis}"
    rng = rng_for(name)
    scale = (1 + 0.1 * rng.standard_normal(shape[axis:])).astype(np.float32)
    node = helper.make_node("SimplifiedLayerNormalization", ["X", "scale"],
                            ["Y", "inv_std_var"], axis=axis, epsilon=epsilon)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    return Case(name, node, {"X": x}, ["Y", "inv_std_var"], [("scale", scale)])


def skip_simplified_layernorm_case(shape, bias, epsilon):
    name = (f"skip_simplified_layernorm_{'x'.join(map(str, shape))}"
            f"{'_bias' if bias else ''}")
    rng = rng_for(name)
    hidden = shape[-1]
    inits = [("gamma", (1 + 0.1 * rng.standard_normal(hidden))
              .astype(np.float32))]
    inputs = ["input", "skip", "gamma"]
    if bias:
        inits.append(("bias", rng.standard_normal(hidden).astype(np.float32)))
        inputs.append("bias")
    node = helper.make_node("SkipSimplifiedLayerNormalization", inputs,
                            ["output", "", "", "sum"], domain=MS,
                            epsilon=epsilon)
    feeds = {"input": rng.standard_normal(shape).astype(np.float32),
             "skip": rng.standard_normal(shape).astype(np.float32)}
    return Case(name, node, feeds, ["output", "sum"], inits)


def cases():
    yield matmulnbits_case((1,), 64, 24, 4, 32, "packed")
    yield matmulnbits_case((3, 5), 128, 16, 4, 64, "none")
    yield matmulnbits_case((7,), 96, 8, 4, 32, "packed")   # 3 blocks: padded zp rows
    yield matmulnbits_case((2,), 64, 12, 8, 16, "packed")
    yield matmulnbits_case((4,), 64, 8, 2, 32, "packed")
    yield matmulnbits_case((2,), 128, 8, 4, 128, "float")
    yield matmulnbits_case((5,), 64, 20, 4, 16, "none", bias=True)
    yield matmulnbits_case((33,), 256, 40, 4, 32, "packed")  # the GEMM path
    # int8 activations: few rows (the decode kernel), groups of 32 (ORT
    # GenAI's), 64 and 128, no zero points (one shared row of 8) or packed
    # ones, K a multiple of 64 or not.
    yield matmulnbits_case((1,), 576, 100, 4, 32, "none", int8=True)
    yield matmulnbits_case((3,), 1536, 48, 4, 64, "packed", int8=True)
    yield matmulnbits_case((2,), 160, 24, 4, 32, "packed", int8=True)
    yield matmulnbits_case((1,), 256, 40, 4, 128, "none", int8=True)
    # ... and many rows (the int8 GEMM: blocks of 32 rows, 6 rows of W).
    yield matmulnbits_case((2, 20), 576, 100, 4, 32, "packed", int8=True)
    yield matmulnbits_case((45,), 1536, 64, 4, 64, "none", int8=True)
    yield matmulnbits_case((9,), 256, 40, 4, 128, "packed", int8=True)
    # 8-bit codes (a tied head's format), many rows: the GEMM with q - 128.
    yield matmulnbits_case((24,), 576, 64, 8, 64, "packed", int8=True)
    yield matmulnbits_case((3, 11), 256, 30, 8, 32, "none", int8=True)
    yield rotary_case((2, 5, 16), heads=2, interleaved=0)
    yield rotary_case((2, 5, 16), heads=2, interleaved=1)
    yield rotary_case((1, 3, 4, 8), heads=3, interleaved=0)
    yield rotary_case((1, 3, 4, 8), heads=3, interleaved=1)
    yield rotary_case((2, 6, 24), heads=3, interleaved=0, offset_ids=True)
    yield rotary_case((1, 4, 32), heads=2, interleaved=0, rotary_dim=8)
    yield group_query_attention_case(1, 6, None, [5], local_window_size=3)
    yield group_query_attention_case(1, 5, None, [4], packed=True,
                                     rotary_interleaved=1, softcap=20.0)
    yield group_query_attention_case(2, 1, 9, [9, 4], local_window_size=4)
    yield simplified_layernorm_case((2, 3, 8), -1, 1e-5)
    yield simplified_layernorm_case((2, 3, 8), 1, 1e-5)
    yield simplified_layernorm_case((1, 7, 64), 2, 1e-6)
    yield skip_simplified_layernorm_case((2, 3, 8), bias=False, epsilon=1e-6)
    yield skip_simplified_layernorm_case((2, 3, 8), bias=True, epsilon=1e-5)
    yield skip_simplified_layernorm_case((1, 5, 32), bias=True, epsilon=1e-6)


def check(args, tmp, case):
    folder = os.path.join(tmp, case.name)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    onnx.save_model(case.model(), path)
    expected = dict(zip(case.outputs,
                        support.ort_session(path).run(case.outputs, case.inputs)))
    artifact = os.path.join(folder, "artifact")
    support.compile_model(args.qaf_compile, path, artifact,
                          extra=case.compile_flags, timeout=300)
    actual, _, _ = support.run_artifact(args.qaf_run, artifact, case.inputs,
                                        os.path.join(folder, "run"))
    failures = []
    for name, want in expected.items():
        got = actual.get(name)
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            failures.append(f"{name}: got "
                            f"{None if got is None else (got.shape, got.dtype)}, "
                            f"expected {(want.shape, want.dtype)}")
            continue
        diff = support.max_abs_diff(got, want)
        tolerance = RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(want))))
        if not diff <= tolerance:
            failures.append(f"{name}: max |qaf - onnxruntime| = {diff:.3g} "
                            f"> {tolerance:.3g}")
        else:
            print(f"     {case.name} {name}: max |qaf - onnxruntime| = "
                  f"{diff:.3g}")
    if case.compile_flags and not failures:
        failures += check_not_exact(folder, case, actual)
    return failures


def check_not_exact(folder, case, actual):
    """An int8 case must differ from the exact product (ONNX Runtime on the
    model without accuracy_level) by far more than the bound: the rounding
    to int8 happened on both sides."""
    model = case.model()
    for attribute in list(model.graph.node[0].attribute):
        if attribute.name == "accuracy_level":
            model.graph.node[0].attribute.remove(attribute)
    path = os.path.join(folder, "exact.onnx")
    onnx.save_model(model, path)
    failures = []
    for name, exact in zip(case.outputs,
                           support.ort_session(path).run(case.outputs, case.inputs)):
        diff = support.max_abs_diff(actual[name], exact)
        tolerance = RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(exact))))
        if not diff > 10 * tolerance:
            failures.append(f"{name}: within {diff:.3g} of the exact product: "
                            "the activations were not rounded to int8")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("-k", dest="select", default="",
                        help="run only cases whose name contains this")
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-contrib-ops-") as tmp:
        for case in cases():
            if args.select not in case.name:
                continue
            try:
                failures = check(args, tmp, case)
            except (support.ToolError, OSError) as error:
                failures = [str(error)]
            except Exception as error:  # ONNX Runtime refusing the model
                failures = [f"{type(error).__name__}: {error}"]
            if failures:
                failed += 1
                print(f"FAIL {case.name}: " + "; ".join(failures))
            else:
                passed += 1
                print(f"ok   {case.name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
