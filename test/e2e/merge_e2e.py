#!/usr/bin/env python3
"""Lossless merge end to end: train, merge, compare, export.

1. For LoTA-QAF, QA-LoRA, QA-HiRA and L4Q (4-bit, groups of 32) on the tiny
   decoder: `qaf-compile --emit=train`, `qaf-run train` on the memorisation
   data of training_e2e.py, then `qaf-compile --merge <ckpt> --emit=infer`.
   The merged artifact's logits are compared with the adapted artifact's
   (`qaf-run infer --ckpt`) on the same tokens:
     - LoTA-QAF: bit-identical. Both run qaf's quantized-matmul kernel on the
       same codes q + Ŵ, scales and zero points z − μ (the adapted one forms
       them per call, the merged one reads them).
     - QA-LoRA, QA-HiRA, L4Q: equal to float rounding (max abs difference
       < 1e-4). The adapted graph adds a float Δy (QA-*) or multiplies by a
       dense fake-quantized weight (L4Q); the merged one runs the kernel.
   Merged codes are in range, scales (and QA-* codes) byte-identical to the
   quantized base's, LoTA's report counts its moved codes, and the
   held-out perplexity `qaf-run eval` prints for the merged model
   (`--merge --emit=eval`) equals the adapted model's: the same digits for
   LoTA-QAF, QA-LoRA and QA-HiRA (whose eval_step computes the merged zero
   points itself), to 1e-4 for L4Q; numpy's from the merged logits agrees.
2. The merged ONNX file (`--emit=onnx`) passes onnx.checker's full check,
   runs in ONNX Runtime and matches qaf's merged model (max abs logit
   difference < 1e-4, or 2e-5 of the largest logit: float32 rounding in
   another summation order) for 2/3/4 bits and groups of 32/64/128 (QA-LoRA with
   a written checkpoint: fractional zero points, MatMulNBits' float path).
3. LoRA is refused without --allow-lossy; with it the report carries the
   weight error.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from adapters_e2e import Checks, run  # noqa: E402
from training_e2e import SEQ, BATCH, held_out_loss, read_safetensors, write_tokens  # noqa: E402

GENERATOR = os.path.join(HERE, "..", "..", "scripts", "gen_llama_onnx.py")
WRITE_SAFETENSORS = os.path.join(HERE, "..", "passes", "Inputs", "write_safetensors.py")

# variant -> (method, bits, qaf-compile flags, --train-options, steps,
# bit-identical logits, perplexity to the printed digits). QA-LoRA, QA-HiRA
# and L4Q: the adapted model's eval_step evaluates them in their merged form
# (qaf-build-training folds the update into the zero points, or packs L4Q's
# trained codes, as the merge does), so the printed perplexities agree to
# the last digit while the forward's logits (float Δy added, or L4Q's
# fake-quantized float weight) agree to rounding. L4Q runs at 3 bits too,
# where its codes straddle bytes when packed.
# LoTA: rank 4 with ω = 1.5, so that |B_T·A_T| ≥ 2 (two aligned non-zeros)
# moves a code: with the default ω = 0.75·r codes flip only once t-SignSGD
# has densified the factors, far beyond a test's budget.
METHODS = {
    "lota": ("lota", 4, ["--rank=4", "--omega=1.5"], "", 40, True, True),
    "qalora": ("qalora", 4, ["--rank=4", "--alpha=16"], "lr=1e-2 weight-decay=0", 20, False,
               True),
    "qahira": ("qahira", 4, ["--alpha=1"], "lr=1e-2 weight-decay=0", 20, False, True),
    "l4q": ("l4q", 4, ["--rank=4", "--alpha=16"], "lr=1e-3 weight-decay=0", 20, False, True),
    "l4q-3bit": ("l4q", 3, ["--rank=4", "--alpha=16"], "lr=1e-3 weight-decay=0", 20, False,
                 True),
}


def read_onnx_initializers(path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    return model, {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def qaf_logits(tools, artifact, ids_path, folder, ckpt=None):
    out = os.path.join(folder, "out")
    command = [tools.qaf_run, "infer", artifact, "--input", f"input_ids={ids_path}",
               "--output-dir", out, "--threads", "1"]
    if ckpt:
        command += ["--ckpt", ckpt]
    run(command)
    return np.load(os.path.join(out, "logits.npy"))


def perplexity(logits, labels):
    """exp of the mean cross entropy of `labels` under `logits`."""
    logits = logits.astype(np.float64)
    top = logits.max(-1, keepdims=True)
    logz = np.log(np.exp(logits - top).sum(-1)) + top[..., 0]
    picked = np.take_along_axis(logits, labels[..., None], -1)[..., 0]
    return math.exp(float(np.mean(logz - picked)))


def unpack_codes(packed, bits):
    per_byte = 8 // bits
    flat = packed.reshape(-1)
    codes = [(flat >> (bits * i)) & ((1 << bits) - 1) for i in range(per_byte)]
    return np.stack(codes, -1).reshape(-1)


def ort_logits(path, ids):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input_ids": ids})[0]


def check_onnx(checks, path, label):
    import onnx
    onnx.checker.check_model(path, full_check=True)
    checks.report(True, f"{label}: onnx.checker full check passes")


def base_onnx(tools, folder, onnx_path, bits, group):
    """The quantized model without adapters, exported: the base whose scales
    (and codes) the merge must leave byte-identical."""
    mlir = os.path.join(folder, f"base-{bits}-{group}.mlirbc")
    quantized = os.path.join(folder, f"base-{bits}-{group}-q.mlirbc")
    exported = os.path.join(folder, f"base-{bits}-{group}.onnx")
    run([tools.qaf_translate, "--import-onnx", onnx_path, "-o", mlir])
    run([tools.qaf_opt, mlir, f"--qaf-quantize-weights=bits={bits} group-size={group}",
         "-o", quantized])
    run([tools.qaf_translate, quantized, "--export-onnx", "--zero-points=float", "-o",
         exported])
    return read_onnx_initializers(exported)[1]


def check_method(tools, checks, folder, onnx_path, variant, train, held, base, ids, ids_path):
    method, bits, flags, train_options, steps, identical, same_digits = METHODS[variant]
    common = [f"--method={method}", f"--bits={bits}", "--group-size=32", *flags]
    artifact = os.path.join(folder, variant)
    start = time.time()
    run([tools.qaf_compile, onnx_path, *common, "--emit=train",
         f"--train-options=total-steps={steps} {train_options}", "-o", artifact], timeout=600)
    ckpt = os.path.join(folder, variant + "-ckpt")
    run([tools.qaf_run, "train", artifact, "--data", train, "--batch", str(BATCH), "--seq-len",
         str(SEQ), "--seed", "3", "--threads", "1", "--steps", str(steps), "--ckpt-dir", ckpt])
    trained_seconds = time.time() - start
    adapted = qaf_logits(tools, artifact, ids_path, folder, ckpt)
    adapted_ppl = math.exp(held_out_loss(tools, artifact, held, ckpt))

    before = {p: open(p, "rb").read() for p in (onnx_path, os.path.join(ckpt, "latest"))}
    merged_dir = os.path.join(folder, variant + "-merged")
    start = time.time()
    run([tools.qaf_compile, onnx_path, *common, "--merge", ckpt, "--emit=infer", "-o",
         merged_dir], timeout=600)
    merged_onnx = os.path.join(folder, variant + "-merged.onnx")
    run([tools.qaf_compile, onnx_path, *common, "--merge", ckpt, "--emit=onnx", "-o",
         merged_onnx], timeout=600)
    merge_seconds = time.time() - start
    checks.report(all(open(p, "rb").read() == data for p, data in before.items()),
                  f"{variant}: trained {steps} steps ({trained_seconds:.0f} s), merged and "
                  f"exported ({merge_seconds:.0f} s); the model and checkpoint are unchanged")
    merged = qaf_logits(tools, merged_dir, ids_path, folder)
    difference = float(np.max(np.abs(merged.astype(np.float64) - adapted)))
    if identical:
        checks.report(np.array_equal(merged.view(np.uint32), adapted.view(np.uint32)),
                      f"{variant}: merged logits are bit-identical to the adapted model's "
                      f"(both on qaf's quantized-matmul kernel; max abs diff {difference:.3g})")
    else:
        checks.report(difference < 1e-4,
                      f"{variant}: merged logits equal the adapted model's to float rounding "
                      f"(max abs diff {difference:.3g} < 1e-4; adapted = float adapter path, "
                      "merged = qaf kernel)")

    # Perplexity: `qaf-run eval` on the adapted model (its training
    # artifact and checkpoint) and on the merged one (`--merge --emit=eval`:
    # an eval_step without parameters). With bit-identical logits the
    # printed perplexities are the same digits. The merged one is checked
    # once more against numpy's from the merged logits on eval's windows
    # (SEQ + 1 tokens each: SEQ inputs, the next SEQ as labels).
    merged_eval = os.path.join(folder, variant + "-merged-eval")
    run([tools.qaf_compile, onnx_path, *common, "--merge", ckpt, "--emit=eval", "-o",
         merged_eval], timeout=600)
    merged_ppl = math.exp(held_out_loss(tools, merged_eval, held))
    if same_digits:
        same = f"{merged_ppl:.6f}" == f"{adapted_ppl:.6f}"
    else:
        same = abs(merged_ppl - adapted_ppl) <= 1e-4 * adapted_ppl
    checks.report(same, f"{variant}: held-out perplexity (qaf-run eval) merged "
                  f"{merged_ppl:.6f} = adapted {adapted_ppl:.6f}"
                  + (" to the printed digits" if same_digits else " (relative 1e-4)"))
    held_ids = np.load(held).astype(np.int64)
    windows = len(held_ids) // (SEQ + 1)
    held_windows = held_ids[:windows * (SEQ + 1)].reshape(windows, SEQ + 1)
    held_path = os.path.join(folder, "held_windows.npy")
    np.save(held_path, held_windows[:, :SEQ].copy())
    numpy_ppl = perplexity(qaf_logits(tools, merged_dir, held_path, folder),
                           held_windows[:, 1:])
    checks.report(abs(numpy_ppl - merged_ppl) <= 1e-5 * merged_ppl,
                  f"{variant}: the merged model's qaf-run eval perplexity {merged_ppl:.6f} "
                  f"= numpy's from its logits {numpy_ppl:.6f}")

    check_onnx(checks, merged_onnx, f"{variant} merged.onnx")
    model, weights = read_onnx_initializers(merged_onnx)
    layers = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    # Scales are trained by L4Q, left alone by the others.
    same_scales = all(np.array_equal(weights[n.input[2]].view(np.uint32).reshape(-1),
                                     base[n.input[2]].view(np.uint32).reshape(-1))
                      for n in layers)
    checks.report(len(layers) == 7 and (same_scales or method == "l4q"),
                  f"{variant}: {len(layers)} MatMulNBits layers"
                  + ("" if method == "l4q" else ", scales byte-identical to the base's"))
    if method in ("qalora", "qahira"):
        same_codes = all(np.array_equal(weights[n.input[1]], base[n.input[1]]) for n in layers)
        checks.report(same_codes, f"{variant}: codes byte-identical to the base's")
    ort_difference = float(np.max(np.abs(ort_logits(merged_onnx, ids) - merged)))
    checks.report(ort_difference < 1e-4,
                  f"{variant}: ONNX Runtime runs merged.onnx like qaf's merged model "
                  f"(max abs diff {ort_difference:.3g})")

    report = json.load(open(merged_onnx + ".merge.json"))
    if method == "lota":
        moved = report["codes_moved"]
        per_layer = {layer["name"].split(".")[-2]: layer["codes_moved"]
                     for layer in report["layers"]}
        initial = read_safetensors(os.path.join(artifact, "parameters.safetensors"))
        trained = read_safetensors(os.path.join(ckpt, open(os.path.join(ckpt, "latest"))
                                                .read().strip()))
        flipped = sum(int(np.count_nonzero(initial[n] != trained[n]))
                      for n in initial if initial[n].dtype == np.int8 and n in trained)
        checks.report(moved > 0, f"lota: {moved} codes moved by the merge over "
                      f"{len(report['layers'])} layers (per projection: {per_layer}); "
                      f"{flipped} ternary entries changed in training")
        # The codes that moved are exactly where the merged codes differ,
        # each by one (q' − q = Ŵ).
        steps = [unpack_codes(weights[n.input[1]], 4).astype(int)
                 - unpack_codes(base[n.input[1]], 4).astype(int) for n in layers]
        differing = sum(int(np.count_nonzero(step)) for step in steps)
        largest = max(int(np.abs(step).max()) for step in steps)
        checks.report(differing == moved and largest == 1,
                      f"lota: merged codes differ from the base's in {differing} places (the "
                      f"moved codes the report counts), each by at most {largest}")
    checks.report(report["layers_merged"] == len(layers),
                  f"{variant}: the report lists {report['layers_merged']} merged layers")


def check_exports(tools, checks, folder):
    """2/3/4 bits x groups 32/64/128: merged QA-LoRA exports run in ORT."""
    wide = os.path.join(folder, "wide.onnx")
    run([sys.executable, GENERATOR, "--preset", "tiny", "--hidden", "128", "--intermediate",
         "256", "--layers", "1", "--no-attention-mask", "--init-std", "0.25", "-o", wide])
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 256, (2, 12)).astype(np.int64)
    ids_path = os.path.join(folder, "wide_ids.npy")
    np.save(ids_path, ids)
    worst = 0.0
    for bits in (2, 3, 4):
        for group in (32, 64, 128):
            common = [f"--method=qalora", f"--bits={bits}", f"--group-size={group}", "--rank=4"]
            stage = os.path.join(folder, f"wide-{bits}-{group}.mlirbc")
            run([tools.qaf_compile, wide, *common, "--compile-to=onnx", "-o", stage])
            # A trained checkpoint played by random factors: its names and
            # shapes are the model's.
            out = run([tools.qaf_opt, stage, "--mlir-elide-resource-strings-if-larger=1"])
            specs = []
            for name, dims in re.findall(r"dense_resource<([\w./]+\.qalora_[AB])> : "
                                         r"tensor<([\dx]+)xf32>", out):
                spec = f"{name}:F32:{dims}:random"
                if spec not in specs:
                    specs.append(spec)
            ckpt = os.path.join(folder, f"wide-{bits}-{group}.safetensors")
            run([sys.executable, WRITE_SAFETENSORS, ckpt, *specs])
            merged_dir = os.path.join(folder, f"wide-{bits}-{group}")
            merged_onnx = merged_dir + ".onnx"
            run([tools.qaf_compile, wide, *common, "--merge", ckpt, "--emit=infer", "-o",
                 merged_dir])
            run([tools.qaf_compile, wide, *common, "--merge", ckpt, "--emit=onnx", "-o",
                 merged_onnx])
            import onnx
            onnx.checker.check_model(merged_onnx, full_check=True)
            model, weights = read_onnx_initializers(merged_onnx)
            layers = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
            fractional = all(weights[n.input[3]].dtype == np.float32 for n in layers)
            stored_bits = 4 if bits == 3 else bits
            in_range = all(unpack_codes(weights[n.input[1]], stored_bits).max() < 2 ** bits
                           for n in layers)
            qaf = qaf_logits(tools, merged_dir, ids_path, folder)
            reference = ort_logits(merged_onnx, ids)
            difference = float(np.max(np.abs(reference - qaf)))
            worst = max(worst, difference)
            # Two float32 runtimes summing in different orders: a length-K
            # dot product may differ by ~K·2⁻²⁴ of its magnitude (Higham
            # 3.1), here ~1.5e-5 for K = 256. Random merged factors make the
            # logits reach ~10, so the bound is relative to their size.
            tolerance = max(1e-4, 2e-5 * float(np.max(np.abs(reference))))
            size = os.path.getsize(merged_onnx)
            weights_count = sum(int(n.attribute[[a.name for a in n.attribute].index("K")].i)
                                * int(n.attribute[[a.name for a in n.attribute].index("N")].i)
                                for n in layers)
            checks.report(len(layers) == 7 and fractional and in_range
                          and difference < tolerance,
                          f"{bits}-bit, groups of {group}: {len(layers)} MatMulNBits with "
                          f"float zero points, codes < {2 ** bits}, ORT vs qaf max abs diff "
                          f"{difference:.3g} (< {tolerance:.3g}); {size} bytes for "
                          f"{weights_count} quantized "
                          "weights and the float embeddings/head")
    return worst


def check_lossy(tools, checks, folder, onnx_path):
    common = ["--method=lora", "--bits=4", "--group-size=32", "--rank=4"]
    stage = os.path.join(folder, "lora.mlirbc")
    run([tools.qaf_compile, onnx_path, *common, "--compile-to=onnx", "-o", stage])
    out = run([tools.qaf_opt, stage, "--mlir-elide-resource-strings-if-larger=1"])
    specs = sorted({f"{name}:F32:{dims}:random" for name, dims in re.findall(
        r"dense_resource<([\w./]+\.lora_[AB])> : tensor<([\dx]+)xf32>", out)})
    ckpt = os.path.join(folder, "lora.safetensors")
    run([sys.executable, WRITE_SAFETENSORS, ckpt, *specs])
    output = os.path.join(folder, "lora-merged.onnx")
    refused = subprocess.run([tools.qaf_compile, onnx_path, *common, "--merge", ckpt,
                              "--emit=onnx", "-o", output], capture_output=True, text=True)
    checks.report(refused.returncode != 0 and "allow-lossy" in refused.stderr
                  and not os.path.exists(output),
                  "lora: refused without --allow-lossy: "
                  + refused.stderr.strip().splitlines()[0][:160])
    run([tools.qaf_compile, onnx_path, *common, "--merge", ckpt, "--allow-lossy", "--emit=onnx",
         "-o", output])
    report = json.load(open(output + ".merge.json"))
    overall = report.get("lossy_overall", {})
    checks.report(overall.get("max_relative_error", 0) > 0 and all(
        layer["merge"] == "lossy-requantize" and "max_relative_error" in layer
        for layer in report["layers"]),
        f"lora --allow-lossy: merged, max relative weight error "
        f"{overall.get('max_relative_error', 0):.3g}, mean "
        f"{overall.get('mean_relative_error', 0):.3g}, per layer in the report")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for tool in ("qaf-compile", "qaf-run", "qaf-opt", "qaf-translate"):
        parser.add_argument(f"--{tool}", required=True)
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="variants (METHODS) to train and merge ('' for none)")
    parser.add_argument("--exports", action=argparse.BooleanOptionalAction, default=True,
                        help="the 2/3/4-bit x 32/64/128 ONNX Runtime sweep and the lossy merge")
    tools = parser.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="qaf-merge-e2e-") as folder:
        onnx_path = os.path.join(folder, "tiny.onnx")
        # One decoder layer: seven adapted projections, and a train_step
        # that compiles in half the time of two layers'.
        run([sys.executable, GENERATOR, "--preset", "tiny", "--layers", "1",
             "--no-attention-mask", "--init-std", "0.25", "-o", onnx_path])
        train, held = write_tokens(folder)
        ids = np.load(held)[:2 * SEQ].reshape(2, SEQ).astype(np.int64)
        ids_path = os.path.join(folder, "ids.npy")
        np.save(ids_path, ids)
        base = base_onnx(tools, folder, onnx_path, 4, 32)
        for variant in filter(None, tools.methods.split(",")):
            try:
                check_method(tools, checks, folder, onnx_path, variant, train, held, base, ids,
                             ids_path)
            except (RuntimeError, subprocess.TimeoutExpired, KeyError, OSError) as error:
                checks.report(False, f"{variant}: {error}")
        try:
            if tools.exports:
                check_lossy(tools, checks, folder, onnx_path)
                check_exports(tools, checks, folder)
        except (RuntimeError, subprocess.TimeoutExpired, KeyError, OSError) as error:
            checks.report(False, f"exports: {error}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
