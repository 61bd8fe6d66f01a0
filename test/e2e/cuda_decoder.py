"""The tiny generated decoder on the CUDA target (issue 13).

Compile half (`--part=compile`, any machine; no GPU needed):
1. `qaf-compile --target=cuda` builds the decoder's infer artifact and, for
   each method asked for (default: all seven), its --emit=train artifact
   (infer, train_step, eval_step). qaf-compile fails unless ptxas (CUDA 13)
   assembled every kernel.
2. Each `model.so` leaves undefined only the mgpu* functions of qaf's CUDA
   runtime and libc/libm (`nm -D --undefined-only`), and the manifest names
   the cuda target, its architecture, PTX ISA and matmul precision.

Device half (`--part=device`, needs a CUDA device: `qaf-run info --device
cuda:0` must succeed, else the script exits 77, which ctest counts as
skipped, never as passed):
3. infer's logits on random token ids match ONNX Runtime's on the ONNX file
   (tolerance for the matmul precision: tf32 rounds the matmul inputs to 10
   mantissa bits).
4. For each method, `qaf-run train` of the cuda artifact and of the cpu
   artifact compiled from the same model and options, over the same batches
   from the same parameters, end at the same parameters (float tensors
   within the tolerance; LoTA's int8 ternary factors may differ only where a
   threshold tie was broken otherwise, so their agreement is reported and
   must be at least 99 %), and `qaf-run eval` of each with its own
   checkpoint reports the same held-out loss (within the tolerance). A
   60-step LoRA run on the device lowers the held-out loss by clearly more
   than the precision's noise. For the lossless methods the merge of the
   device's checkpoint gives the cpu checkpoint's codes (identical for
   QA-LoRA, QA-HiRA and LoTA with the same ternary factors).
5. The tiny decoder with a KV cache: `qaf-run generate --device cuda:0`
   (prefill, then one token per call with the cache resident on the GPU)
   picks 16 greedy ids for each of 2 prompts, each ONNX Runtime's argmax
   on the whole sequence up to the tolerance.

Exit status 0 when every check passed; prints `N passed, F failed`.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from adapters_e2e import Checks, run  # noqa: E402
from e2e_support import SKIP_CODE  # noqa: E402
from training_support import read_safetensors  # noqa: E402

METHODS = ["lora", "loftq", "qalora", "qahira", "qbara", "l4q", "lota"]
TRAIN_FLAGS = {"lota": ["--rank=1"]}
DEFAULT_FLAGS = ["--rank=4", "--alpha=8"]
BITS, GROUP, SEQ, BATCH, STEPS = 4, 32, 16, 2, 6
GENERATED = 16
FINETUNE_STEPS = 60
# |cuda − reference| allowed, by matmul precision: the generic kernels
# compute in float32 (summation order aside); the tensor-core kernels round
# matmul inputs to tf32 (10 mantissa bits) or bf16 (7).
TOLERANCE = {"tf32": 2e-2, "bf16": 6e-2}


def decoder_config(gen):
    """The tiny decoder without an attention_mask input: qaf-run train and
    eval feed a train step token ids only."""
    return gen.LlamaConfig(**gen.PRESETS["tiny"], attention_mask=False)


def undefined_symbols(library):
    out = subprocess.run(["nm", "-D", "--undefined-only", library], capture_output=True,
                         text=True, check=True).stdout
    unexpected = []
    for line in out.splitlines():
        kind, _, name = line.strip().partition(" ")
        name = name.strip()
        if kind == "w" or "@GLIBC" in name or name.startswith("mgpu"):
            continue
        unexpected.append(name)
    return unexpected


def check_artifact(checks, artifact, what, arch, precision):
    library = os.path.join(artifact, "model.so")
    unexpected = undefined_symbols(library) if os.path.isfile(library) else ["(no model.so)"]
    checks.report(not unexpected, f"{what}: model.so's undefined symbols are mgpu* and "
                  f"libc/libm only" + (f" (also: {', '.join(unexpected[:8])})" if unexpected
                                       else ""))
    with open(os.path.join(artifact, "manifest.json")) as f:
        target = json.load(f)["target"]
    checks.report(target.get("kind") == "cuda" and target.get("arch") == arch and
                  target.get("binary") == "cubin" and bool(target.get("ptx_isa")) and
                  target.get("matmul_precision") == precision,
                  f"{what}: manifest target {target}")


def compile_artifacts(args, checks, folder, model):
    cuda = ["--target=cuda", f"--cuda-arch={args.cuda_arch}",
            f"--cuda-matmul-precision={args.precision}"]
    artifacts = {"infer": os.path.join(folder, "infer-cuda")}
    run([args.qaf_compile, model, *cuda, "-o", artifacts["infer"]], timeout=1200)
    check_artifact(checks, artifacts["infer"], "infer", args.cuda_arch, args.precision)
    for method in args.methods:
        flags = [f"--method={method}", f"--bits={BITS}", f"--group-size={GROUP}",
                 *TRAIN_FLAGS.get(method, DEFAULT_FLAGS), "--emit=train"]
        artifact = os.path.join(folder, f"{method}-cuda")
        try:
            run([args.qaf_compile, model, *flags, *cuda, "-o", artifact], timeout=1800)
        except Exception as e:  # noqa: BLE001
            checks.report(False, f"{method}: --emit=train for cuda: {str(e)[:2000]}")
            continue
        artifacts[method] = artifact
        check_artifact(checks, artifact, f"{method} (train)", args.cuda_arch, args.precision)
        if args.part == "device":
            run([args.qaf_compile, model, *flags, "--target=cpu", "-o",
                 os.path.join(folder, f"{method}-cpu")], timeout=1800)
    return artifacts


def device_available(qaf_run):
    return subprocess.run([qaf_run, "info", "--device", "cuda:0"], capture_output=True,
                          text=True).returncode == 0


def check_infer(args, checks, folder, model, artifact):
    import gen_llama_onnx as gen
    session = gen.ort_session(model)
    names = {i.name for i in session.get_inputs()}
    cfg = decoder_config(gen)
    feeds = {k: v for k, v in gen.make_inputs(cfg, 2, SEQ).items() if k in names}
    expected = session.run(None, feeds)[0]
    out = os.path.join(folder, "infer-out")
    command = [args.qaf_run, "infer", artifact, "--device", "cuda:0", "--output-dir", out]
    for name, value in feeds.items():
        path = os.path.join(folder, f"{name}.npy")
        np.save(path, value)
        command += ["--input", f"{name}={path}"]
    run(command, timeout=600)
    got = np.load(os.path.join(out, session.get_outputs()[0].name + ".npy"))
    diff = float(np.max(np.abs(got.astype(np.float64) - expected))) if got.shape == \
        expected.shape else float("inf")
    tolerance = TOLERANCE[args.precision]
    checks.report(diff <= tolerance, f"infer: cuda logits vs ONNX Runtime: max |diff| "
                  f"{diff:.3g} (tolerance {tolerance:g}, {args.precision})")


def generated_ids(args, artifact, prompt, device):
    """The token ids `qaf-run generate` prints (greedy), one list per row."""
    command = [args.qaf_run, "generate", artifact, "--prompt-ids", prompt,
               "--max-new-tokens", str(GENERATED)]
    command += ["--device", "cuda:0"] if device else ["--threads", "1"]
    out = run(command, timeout=600)
    return [line.split(":", 1)[1].split() for line in out.splitlines()
            if line.startswith("generated[")]


def check_generate(args, checks, folder):
    """KV-cache decoding on the device: the tiny decoder with optimum's
    cache interface (its caches written in place, resident on the GPU
    between the calls) generates greedily, and each id it picks is the
    argmax of ONNX Runtime's logits for the same sequence (run whole,
    without a cache) up to the matmul precision's tolerance: a near tie
    may go either way in tf32, a stale or misplaced cache may not."""
    import gen_llama_onnx as gen
    cfg = gen.LlamaConfig(**gen.PRESETS["tiny"], with_past=True, attention_mask=True)
    model = os.path.join(folder, "with-past.onnx")
    gen.save(cfg, model)
    artifact = os.path.join(folder, "with-past-cuda")
    run([args.qaf_compile, model, "--target=cuda", f"--cuda-arch={args.cuda_arch}",
         f"--cuda-matmul-precision={args.precision}", "-o", artifact], timeout=1200)
    prompts = np.random.default_rng(5).integers(0, cfg.vocab, (2, 9)).astype(np.int64)
    path = os.path.join(folder, "prompt.npy")
    np.save(path, prompts)
    rows = generated_ids(args, artifact, path, device=True)
    session = gen.ort_session(model)
    worst = 0.0 if len(rows) == len(prompts) else float("inf")
    for prompt, ids in zip(prompts, rows):
        ids = [int(i) for i in ids]
        if len(ids) != GENERATED:
            worst = float("inf")
            continue
        sequence = np.concatenate([prompt, ids[:-1]])[None, :]
        feeds = {"input_ids": sequence,
                 "attention_mask": np.ones_like(sequence),
                 "position_ids": np.arange(sequence.shape[1], dtype=np.int64)[None, :],
                 **gen.empty_past(cfg, 1)}
        logits = session.run(["logits"], feeds)[0][0]
        for step, chosen in enumerate(ids):
            row = logits[len(prompt) - 1 + step].astype(np.float64)
            worst = max(worst, float(row.max() - row[chosen]))
    tolerance = TOLERANCE[args.precision]
    checks.report(worst <= tolerance,
                  f"generate with the cache on the device: {GENERATED} greedy ids for "
                  f"each of {len(prompts)} prompts, each within {worst:.3g} of ONNX "
                  f"Runtime's best logit (tolerance {tolerance:g})")


def held_out_loss(args, artifact, held, ckpt, device):
    """ln(perplexity) of `qaf-run eval` on `held` with the newest checkpoint
    of folder `ckpt`, or the artifact's initial parameters when None."""
    command = [args.qaf_run, "eval", artifact, "--data", held, "--seq-len", str(SEQ),
               "--batch", str(BATCH)] + (["--ckpt", ckpt] if ckpt else [])
    command += ["--device", "cuda:0"] if device else ["--threads", "1"]
    out = run(command, timeout=600)
    match = re.search(r"perplexity: ([0-9.einf]+)", out)
    return float("nan") if not match else float(np.log(float(match.group(1))))


LOSSLESS = {"lota", "qalora", "qahira", "l4q"}


def merged_codes(args, folder, method, checkpoint, kind):
    """The uint8 initializers (packed codes) of the model merged with
    `checkpoint` (qaf-compile --merge --emit=onnx), by name."""
    import onnx
    from onnx import numpy_helper
    model = os.path.join(folder, "model.onnx")
    merged = os.path.join(folder, f"{method}-{kind}-merged.onnx")
    run([args.qaf_compile, model, f"--method={method}", f"--bits={BITS}",
         f"--group-size={GROUP}", *TRAIN_FLAGS.get(method, DEFAULT_FLAGS),
         "--merge", checkpoint, "--emit=onnx", "-o", merged], timeout=1200)
    return {t.name: numpy_helper.to_array(t)
            for t in onnx.load(merged).graph.initializer if t.data_type == onnx.TensorProto.UINT8}


def check_merged_codes(args, checks, folder, method, finals, factors_agree):
    """The lossless merge of the device's checkpoint gives the cpu
    checkpoint's integer codes: identical where the method leaves the codes
    alone (QA-LoRA, QA-HiRA) or the trained integer factors agree (LoTA);
    L4Q's codes round float parameters the precision moves, so 99 % agree."""
    cpu = merged_codes(args, folder, method, finals["cpu"], "cpu")
    cuda = merged_codes(args, folder, method, finals["cuda"], "cuda")
    same = sum(int(np.sum(cuda[n] == v)) for n, v in cpu.items() if n in cuda and
               cuda[n].shape == v.shape)
    total = sum(v.size for v in cpu.values())
    agreement = same / total if total else 0.0
    exact = method in ("qalora", "qahira") or (method == "lota" and factors_agree)
    checks.report(bool(cpu) and set(cpu) == set(cuda) and
                  (agreement == 1.0 if exact else agreement >= 0.99),
                  f"{method}: merged codes of the device's checkpoint vs the cpu's: "
                  f"{agreement:.4%} identical ({'all' if exact else '99 %'} required)")


def check_training(args, checks, folder, method, cuda_artifact):
    cpu_artifact = os.path.join(folder, f"{method}-cpu")
    rng = np.random.default_rng(1)
    tokens = np.tile(rng.integers(0, 256, size=48), 32).astype(np.int32)
    train, held = os.path.join(folder, "train.npy"), os.path.join(folder, "held.npy")
    np.save(train, tokens)
    np.save(held, np.roll(tokens, 7))
    finals, losses = {}, {}
    for kind, artifact in (("cpu", cpu_artifact), ("cuda", cuda_artifact)):
        ckpt = os.path.join(folder, f"{method}-{kind}-ckpt")
        command = [args.qaf_run, "train", artifact, "--data", train, "--batch", str(BATCH),
                   "--seq-len", str(SEQ), "--seed", "3", "--steps", str(STEPS),
                   "--ckpt-dir", ckpt, "--ckpt-every", str(STEPS)]
        command += ["--device", "cuda:0"] if kind == "cuda" else ["--threads", "1"]
        run(command, timeout=1200)
        finals[kind] = sorted(glob.glob(os.path.join(ckpt, "step-*.safetensors")))[-1]
        losses[kind] = held_out_loss(args, artifact, held, ckpt, kind == "cuda")
    tolerance = TOLERANCE[args.precision]
    if method == "lora":
        # A short fine-tuning run on the device: 60 steps take the loss from
        # 5.556 to 5.521 in float32; a drop of 0.01 is ten times what tf32
        # rounding moves this loss.
        ckpt = os.path.join(folder, "lora-cuda-finetune")
        run([args.qaf_run, "train", cuda_artifact, "--data", train, "--batch", str(BATCH),
             "--seq-len", str(SEQ), "--seed", "3", "--steps", str(FINETUNE_STEPS),
             "--ckpt-dir", ckpt, "--ckpt-every", str(FINETUNE_STEPS),
             "--device", "cuda:0"], timeout=1200)
        initial = held_out_loss(args, cuda_artifact, held, None, True)
        tuned = held_out_loss(args, cuda_artifact, held, ckpt, True)
        checks.report(tuned < initial - 0.01,
                      f"lora: {FINETUNE_STEPS} steps on the device lower the held-out "
                      f"loss: {initial:.5f} -> {tuned:.5f}")
    checks.report(abs(losses["cuda"] - losses["cpu"]) <= tolerance,
                  f"{method}: held-out loss after {STEPS} steps: cuda {losses['cuda']:.5f}, "
                  f"cpu {losses['cpu']:.5f} (tolerance {tolerance:g})")
    cpu, cuda = read_safetensors(finals["cpu"]), read_safetensors(finals["cuda"])
    worst, agreement = 0.0, []
    for name, value in cpu.items():
        other = cuda.get(name)
        if other is None or other.shape != value.shape:
            worst = float("inf")
            continue
        if value.dtype == np.int8:
            agreement.append(float(np.mean(value == other)) if value.size else 1.0)
        else:
            worst = max(worst, float(np.max(np.abs(value.astype(np.float64) - other)))
                        if value.size else 0.0)
    if method in LOSSLESS:
        check_merged_codes(args, checks, folder, method, finals,
                           factors_agree=all(a == 1.0 for a in agreement))
    checks.report(worst <= tolerance and all(a >= 0.99 for a in agreement),
                  f"{method}: parameters after {STEPS} steps: max |cuda − cpu| {worst:.3g} "
                  f"(tolerance {tolerance:g})" +
                  (f", int8 factors agree on {min(agreement):.2%}" if agreement else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qaf-compile", required=True)
    ap.add_argument("--qaf-run", required=True)
    ap.add_argument("--part", choices=["compile", "device"], default="compile")
    ap.add_argument("--methods", default=",".join(METHODS),
                    help="comma-separated training methods (default: all seven)")
    ap.add_argument("--cuda-arch", default="sm_80")
    ap.add_argument("--precision", choices=sorted(TOLERANCE), default="tf32")
    ap.add_argument("--keep", help="keep the artifacts in this folder")
    args = ap.parse_args()
    args.methods = [m for m in args.methods.split(",") if m]
    if args.part == "device" and not device_available(args.qaf_run):
        print("skipped: no CUDA device (qaf-run info --device cuda:0 failed)")
        return SKIP_CODE

    import gen_llama_onnx as gen
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="qaf-cuda-decoder-") as scratch:
        folder = os.path.abspath(args.keep) if args.keep else scratch
        os.makedirs(folder, exist_ok=True)
        model = os.path.join(folder, "model.onnx")
        gen.save(decoder_config(gen), model)
        artifacts = compile_artifacts(args, checks, folder, model)
        if args.part == "device":
            check_infer(args, checks, folder, model, artifacts["infer"])
            check_generate(args, checks, folder)
            for method in args.methods:
                if method in artifacts:
                    check_training(args, checks, folder, method, artifacts[method])
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed or not checks.passed else 0


if __name__ == "__main__":
    sys.exit(main())
