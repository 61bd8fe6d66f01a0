#!/usr/bin/env python3
"""Adapters on the generated Llama-style decoder, end to end.

1. Every adapter starts as a no-op: after `--qaf-quantize-weights`, each of
   `--qaf-attach-adapters=method=lota|lora|qalora|qahira|qbara` gives a
   compiled model whose logits equal the quantized model's bit for bit,
   and holds one adapter op per quantized layer (counted in the IR: a pass
   that attached nothing would pass the bit-identity check trivially).
2. L4Q with its initialisation (B = 0, offsets 0) computes symmetric RTN
   with the init scale: compared with ONNX Runtime running the float model
   whose linear weights numpy replaced by s·round(clamp(W/s)).
3. LoftQ (`--qaf-loftq-init`, NF4) lands closer to the float model's logits
   (ONNX Runtime) than plain NF4 quantization of the same layers.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx as gen  # noqa: E402

SHAPES = [(1, 6), (2, 13)]
GROUP = 32
# method -> (--qaf-attach-adapters options, the op it attaches).
ADAPTERS = {
    "lota": ("method=lota rank=8", "lota_linear"),
    "lora": ("method=lora rank=4 alpha=8", "lora"),
    "qalora": ("method=qalora rank=4 alpha=8", "qalora"),
    "qahira": ("method=qahira repeat-out=2 alpha=2", "qahira"),
    "qbara": ("method=qbara rank=4 pool=2 alpha=8", "qbara"),
}


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def report(self, ok, text):
        print(f"{'ok  ' if ok else 'FAIL'} {text}")
        self.passed += bool(ok)
        self.failed += not ok


def run(command, timeout=300):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stderr.strip()[:2000]}")
    return result.stdout


class Model:
    """The generated model, its inputs, and helpers to run qaf's tools."""

    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.cfg = gen.LlamaConfig(**gen.PRESETS["tiny"])
        self.onnx = os.path.join(tmp, "model.onnx")
        gen.save(self.cfg, self.onnx)
        self.mlir = os.path.join(tmp, "model.mlirbc")
        run([args.qaf_translate, "--import-onnx", self.onnx, "-o", self.mlir])
        session = gen.ort_session(self.onnx)
        names = {i.name for i in session.get_inputs()}
        self.feeds = [{k: v for k, v in gen.make_inputs(self.cfg, b, s).items() if k in names}
                      for b, s in SHAPES]
        self.float_logits = [session.run(None, feeds)[0] for feeds in self.feeds]

    def op_count(self, source, op):
        """How many `qaf.<op>` ops the module at `source` holds."""
        return len(re.findall(rf"= qaf\.{op} ", run([self.args.qaf_opt, source])))

    def transform(self, source, name, pipeline):
        out = os.path.join(self.tmp, name + ".mlirbc")
        run([self.args.qaf_opt, source, "--emit-bytecode", "-o", out, pipeline])
        return out

    def logits(self, source, name):
        artifact = os.path.join(self.tmp, name + "-cpu")
        run([self.args.qaf_compile, source, "-o", artifact])
        results = []
        for i, feeds in enumerate(self.feeds):
            out = os.path.join(self.tmp, f"{name}-out{i}")
            command = [self.args.qaf_run, "infer", artifact, "--output-dir", out]
            for key, value in feeds.items():
                path = os.path.join(self.tmp, f"{name}-{key}{i}.npy")
                np.save(path, value)
                command += ["--input", f"{key}={path}"]
            run(command, timeout=120)
            results.append(np.load(os.path.join(out, "logits.npy")))
        return results


def check_zero_init(model, checks):
    quantized = model.transform(model.mlir, "q4",
                                f"--qaf-quantize-weights=bits=4 group-size={GROUP}")
    base = model.logits(quantized, "q4")
    layers = model.op_count(quantized, "qlinear")
    for name, (options, op) in ADAPTERS.items():
        adapted = model.transform(quantized, name, f"--qaf-attach-adapters={options}")
        # Bit-identical logits prove nothing when no adapter was attached.
        attached = model.op_count(adapted, op)
        checks.report(layers > 0 and attached == layers,
                      f"{name}: {attached} qaf.{op} ops attached to the quantized model's "
                      f"{layers} qaf.qlinear layers")
        logits = model.logits(adapted, name)
        same = all(np.array_equal(a, b) for a, b in zip(logits, base))
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(logits, base))
        checks.report(same, f"{name}: zero-initialised adapter leaves the quantized "
                            f"model's logits bit-identical (max diff {worst:.3g})")


def fake_quantize_symmetric(weight, bits):
    """L4Q's forward with B = 0 and β = 0, weight [K, N] (MatMul layout)."""
    w = weight.T.astype(np.float64)  # [N, K]
    n, k = w.shape
    groups = w.reshape(n, k // GROUP, GROUP)
    low, high = 2.0 ** (bits - 1), 2.0 ** (bits - 1) - 1
    scale = np.maximum(-np.minimum(groups.min(-1), 0) / low, np.maximum(groups.max(-1), 0) / high)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32).astype(np.float64)
    u = groups / scale[..., None]
    assert np.all(u >= -low - 1e-6) and np.all(u <= high + 1e-6), "init clips"
    q = np.round(np.clip(u, -low, high)) * scale[..., None]
    return q.reshape(n, k).T.astype(np.float32)


def check_l4q(model, checks, bits=4):
    adapted = model.transform(model.mlir, "l4q",
                              f"--qaf-attach-adapters=method=l4q rank=4 bits={bits} "
                              f"group-size={GROUP}")
    logits = model.logits(adapted, "l4q")
    proto = onnx.load(model.onnx)
    linear = {n.input[1] for n in proto.graph.node if n.op_type == "MatMul"}
    for init in proto.graph.initializer:
        if init.name in linear and "lm_head" not in init.name:
            init.CopyFrom(numpy_helper.from_array(
                fake_quantize_symmetric(numpy_helper.to_array(init), bits), init.name))
    reference = os.path.join(model.tmp, "l4q-reference.onnx")
    onnx.save(proto, reference)
    session = gen.ort_session(reference)
    worst = max(float(np.max(np.abs(a - session.run(None, feeds)[0])))
                for a, feeds in zip(logits, model.feeds))
    checks.report(worst < 1e-4, f"l4q: initial forward equals symmetric RTN with the init "
                                f"scale (ONNX Runtime on numpy's weights), max diff {worst:.3g}")


def check_loftq(model, checks):
    nf4 = model.transform(model.mlir, "nf4",
                          f"--qaf-quantize-weights=bits=4 group-size={GROUP} scheme=nf")
    loftq = model.transform(model.mlir, "loftq",
                            f"--qaf-loftq-init=rank=8 iters=5 bits=4 group-size={GROUP} "
                            f"scheme=nf alpha=8")
    errors = {}
    for name, source in (("nf4", nf4), ("loftq", loftq)):
        logits = model.logits(source, name)
        errors[name] = float(np.mean([np.mean(np.abs(a - b))
                                      for a, b in zip(logits, model.float_logits)]))
    checks.report(errors["loftq"] < errors["nf4"],
                  f"loftq: mean |logits - float| {errors['loftq']:.4g} < plain NF4's "
                  f"{errors['nf4']:.4g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-translate", "qaf-opt", "qaf-compile", "qaf-run"):
        parser.add_argument(f"--{tool}", required=True)
    args = parser.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="qaf-adapters-") as tmp:
        try:
            model = Model(args, tmp)
            check_zero_init(model, checks)
            check_l4q(model, checks)
            check_loftq(model, checks)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            checks.report(False, str(error))
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed or not checks.passed else 0


if __name__ == "__main__":
    sys.exit(main())
