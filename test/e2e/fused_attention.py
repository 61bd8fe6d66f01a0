"""Fused attention (issue 13): what qaf-fuse-attention makes of real
attention graphs, checked against ONNX Runtime on any machine.

For the tiny generated decoder (4 query heads on 2 key/value heads, a
causal mask, left padding through attention_mask), with and without
optimum's KV-cache interface:

1. The CUDA compile fuses every layer's attention: `qaf-compile
   --target=cuda --compile-to=loops` launches `qaf_attention` once per
   layer per entry point.
2. The fused graph's numbers: the CUDA target's outlined stage (where
   qaf-fuse-attention runs), its `qaf.kernel.attention` decomposed
   (`qaf-decompose-kernel-ops`: what a target without the kernel runs, and
   what the CUDA pipeline runs for head sizes over 128), compiled for the
   CPU: the logits match ONNX Runtime's on the same file at two sequence
   lengths (max abs difference < 1e-4).

The CUDA kernel itself is checked against numpy under the warp emulator
(test/Conversion/CUDA/Kernels/emulated-kernels.test) and on a GPU by
cuda_decoder.py --part=device. Exit status 0 when every check passed.
"""
import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
from e2e_support import max_abs_diff, ort_session, run, run_artifact  # noqa: E402

import gen_llama_onnx as gen  # noqa: E402

TOLERANCE = 1e-4


def check(ok, what, failures):
    print(f"{'ok' if ok else 'FAILED'}: {what}")
    if not ok:
        failures.append(what)


def fused_cpu_artifact(args, model, folder):
    """The model's attention fused as the CUDA target fuses it (its
    outlined stage), the fused op decomposed into its reference loops, and
    the rest compiled for the CPU; with the number of fused ops."""
    outlined = os.path.join(folder, "outlined.mlirbc")
    decomposed = os.path.join(folder, "decomposed.mlirbc")
    artifact = os.path.join(folder, "fused-cpu")
    run([args.qaf_compile, model, "--target=cuda", "--compile-to=outlined",
         "-o", outlined], 600)
    fused_ops = run([args.qaf_opt, outlined], 300).stdout.count("qaf.kernel.attention")
    run([args.qaf_opt, outlined, "--qaf-decompose-kernel-ops", "--emit-bytecode",
         "-o", decomposed], 300)
    run([args.qaf_compile, decomposed, "-o", artifact], 600)
    return artifact, fused_ops


def check_model(args, name, cfg, folder, failures):
    os.makedirs(folder, exist_ok=True)
    model = os.path.join(folder, "model.onnx")
    gen.save(cfg, model)

    loops = os.path.join(folder, "cuda-loops.mlir")
    run([args.qaf_compile, model, "--target=cuda", "--compile-to=loops", "-o", loops], 600)
    with open(loops) as f:
        launches = len(re.findall(r"gpu\.launch_func\s+@qaf_cuda_kernels::@qaf_attention\b",
                                  f.read()))
    check(launches == cfg.layers,
          f"{name}: the cuda compile launches qaf_attention {launches} times "
          f"({cfg.layers} layers)", failures)

    artifact, fused_ops = fused_cpu_artifact(args, model, folder)
    check(fused_ops == cfg.layers,
          f"{name}: qaf-fuse-attention made {fused_ops} qaf.kernel.attention "
          f"({cfg.layers} layers)", failures)
    session = ort_session(model)
    outputs = [o.name for o in session.get_outputs()]
    for batch, seq in ((1, 7), (3, 12)):
        feeds = gen.make_inputs(cfg, batch, seq)
        expected = dict(zip(outputs, session.run(None, feeds)))
        got, _, _ = run_artifact(args.qaf_run, artifact, feeds,
                                 os.path.join(folder, f"run-{batch}x{seq}"))
        difference = max_abs_diff(got["logits"], expected["logits"])
        check(difference < TOLERANCE,
              f"{name}: fused and decomposed, batch {batch} x {seq} tokens: logits "
              f"within {difference:.2e} of ONNX Runtime", failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--qaf-run", required=True)
    args = parser.parse_args()
    failures = []
    tiny = gen.PRESETS["tiny"]
    models = [("tiny", gen.LlamaConfig(**tiny)),
              ("tiny with past", gen.LlamaConfig(**tiny, with_past=True,
                                                 attention_mask=True))]
    with tempfile.TemporaryDirectory(prefix="qaf-fused-attention-") as tmp:
        for index, (name, cfg) in enumerate(models):
            check_model(args, name, cfg, os.path.join(tmp, str(index)), failures)
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
