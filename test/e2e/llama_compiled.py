#!/usr/bin/env python3
"""Compiled Llama-style decoders against ONNX Runtime.

For each variant of the generated decoder (scripts/gen_llama_onnx.py), one
`qaf-compile` artifact runs two batch sizes and two sequence lengths with
`qaf-run` (dynamic dimensions, no recompiling); its logits must match ONNX
Runtime's on the original model within logits_tolerance (128 float32
roundings of the largest logit). Left-padded attention masks check the
masking path too. The models use gen_llama_onnx.TEST_INIT_STD, so attention
is far from uniform: each variant first checks that ONNX Runtime's logits
move by much more than the tolerance when the rotary sign is broken (the
Neg of rotate_half removed), i.e. that a position bug cannot pass. One
variant is also compiled in two steps through each intermediate phase
(`--compile-to=<phase> -o stage.mlirbc`, then `qaf-compile stage.mlirbc`),
so every stage's output is shown to compile to a working artifact.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402

# The logits are sums over 64-128 products through two layers of RMSNorm,
# softmax and SwiGLU; qaf and ONNX Runtime order (and vectorise) them
# differently, and sharp attention amplifies the rounding. Measured
# max |qaf - ORT| / max |logits| on these models: 0.8e-6 to 3.3e-6 (7 to 28
# float32 epsilons); ORT against gen_llama_onnx's numpy reference: up to
# 1.2e-6. 128 epsilons (about 1.5e-5 relative, 1.5e-4 absolute at logits of
# 10) is a margin of 4.5 over the worst measured, 7 times tighter than the
# old fixed 1e-3 on logits 14 times larger; a rotary sign error moves the
# logits by about max |logits| itself, some 7e4 tolerances.
TOLERANCE_EPSILONS = 128
# A position bug must move the logits by at least this many tolerances.
MIN_ROPE_SENSITIVITY = 1000
SHAPES = [(1, 5), (1, 17), (3, 5), (3, 17)]
VARIANTS = {
    "opset17": {},
    "opset18-tied-qkvbias": {"opset": 18, "tie_embeddings": True, "qkv_bias": True},
    "no-mask-mha": {"attention_mask": False, "kv_heads": 4},
}
# Phases a compilation can stop at and be resumed from (for "opset17").
RESUMED_PHASES = ["outlined", "linalg", "loops", "llvm"]


def run(command, timeout):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stderr.strip()[:2000]}")
    return result


def logits_tolerance(expected):
    """Max abs difference allowed: TOLERANCE_EPSILONS float32 roundings of
    the largest logit."""
    return TOLERANCE_EPSILONS * float(np.finfo(np.float32).eps) * float(np.max(np.abs(expected)))


def with_broken_rotary(model, out):
    """A copy of `model` whose rotate_half lacks its Neg (the rotary sign
    error of a wrong RoPE lowering)."""
    proto = onnx.load(model)
    broken = 0
    for node in proto.graph.node:
        if node.op_type == "Neg" and "self_attn" in node.name:
            node.op_type = "Identity"
            broken += 1
    if not broken:
        raise RuntimeError("no rotate_half Neg to break in the generated model")
    onnx.save(proto, out)
    return out


def check_position_sensitivity(cfg, model, folder, name):
    """ONNX Runtime's logits must move by MIN_ROPE_SENSITIVITY tolerances
    when the rotary sign is wrong: otherwise the model cannot catch position
    bugs (nearly uniform attention)."""
    session = gen.ort_session(model)
    broken = gen.ort_session(with_broken_rotary(model, os.path.join(folder, "broken-rope.onnx")))
    names = [i.name for i in session.get_inputs()]
    batch, seq = SHAPES[-1]
    feeds = {k: v for k, v in gen.make_inputs(cfg, batch, seq).items() if k in names}
    expected = session.run(None, feeds)[0]
    moved = float(np.max(np.abs(broken.run(None, feeds)[0] - expected)))
    ratio = moved / logits_tolerance(expected)
    ok = ratio >= MIN_ROPE_SENSITIVITY
    print(f"{'ok  ' if ok else 'FAIL'} {name}: a wrong rotary sign moves the logits by "
          f"{moved:.3g} = {ratio:.3g} tolerances (at least {MIN_ROPE_SENSITIVITY})")
    return ok


def check_variant(args, tmp, name, overrides, resume_from=None):
    cfg = gen.LlamaConfig(**{**gen.PRESETS["tiny"], "init_std": gen.TEST_INIT_STD, **overrides})
    folder = os.path.join(tmp, name if not resume_from else f"{name}-via-{resume_from}")
    os.makedirs(folder)
    model = os.path.join(folder, "model.onnx")
    gen.save(cfg, model)
    sensitive = resume_from is not None or check_position_sensitivity(cfg, model, folder, name)
    artifact = os.path.join(folder, "artifact")
    if resume_from:
        stage = os.path.join(folder, f"{resume_from}.mlirbc")
        run([args.qaf_compile, model, f"--compile-to={resume_from}", "-o", stage], timeout=300)
        run([args.qaf_compile, stage, "-o", artifact], timeout=300)
        name = f"{name} (via {resume_from}.mlirbc)"
    else:
        run([args.qaf_compile, model, "-o", artifact], timeout=300)
    session = gen.ort_session(model)
    input_names = [i.name for i in session.get_inputs()]
    failures = 0
    for batch, seq in SHAPES:
        feeds = gen.make_inputs(cfg, batch, seq)
        feeds = {k: v for k, v in feeds.items() if k in input_names}
        command = [args.qaf_run, "infer", artifact, "--output-dir",
                   os.path.join(folder, f"out_{batch}x{seq}")]
        for key, value in feeds.items():
            path = os.path.join(folder, f"{key}_{batch}x{seq}.npy")
            np.save(path, value)
            command += ["--input", f"{key}={path}"]
        run(command, timeout=120)
        expected = session.run(None, feeds)[0]
        actual = np.load(os.path.join(folder, f"out_{batch}x{seq}", "logits.npy"))
        if actual.shape != expected.shape:
            print(f"FAIL {name} batch={batch} seq={seq}: shape {actual.shape} != {expected.shape}")
            failures += 1
            continue
        diff = float(np.max(np.abs(actual - expected)))
        tolerance = logits_tolerance(expected)
        ok = diff <= tolerance
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name} batch={batch} seq={seq}: "
              f"max |logits - onnxruntime| = {diff:.3g} (tolerance {tolerance:.3g}, "
              f"max |logits| {float(np.max(np.abs(expected))):.3g})")
    if not sensitive:
        return len(SHAPES) - failures, failures + 1
    return len(SHAPES) - failures, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="qaf-llama-compiled-") as tmp:
        runs = [(name, overrides, None) for name, overrides in VARIANTS.items()]
        runs += [("opset17", VARIANTS["opset17"], phase) for phase in RESUMED_PHASES]
        for name, overrides, resume_from in runs:
            try:
                p, f = check_variant(args, tmp, name, overrides, resume_from)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"FAIL {name} (via {resume_from}): {error}")
                p, f = 0, len(SHAPES)
            passed += p
            failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
