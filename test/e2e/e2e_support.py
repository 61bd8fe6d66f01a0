"""Helpers shared by the end-to-end tests of test/e2e that were added for
issue 15 (thread determinism, large external data, contrib ops, the
135M-shaped decoder, forced kernel paths): running the qaf tools, compiling
an ONNX model and running the artifact on numpy inputs.

ctest treats exit status SKIP_CODE as "skipped" (SKIP_RETURN_CODE in
test/CMakeLists.txt), so a test that cannot run here says why and is counted
as skipped, never as passed.
"""
import os
import subprocess

import numpy as np

SKIP_CODE = 77


class ToolError(RuntimeError):
    pass


def run(command, timeout, env=None):
    """Runs `command`; raises ToolError with its stderr when it fails."""
    result = subprocess.run([str(c) for c in command], capture_output=True,
                            text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise ToolError(f"{' '.join(str(c) for c in command)} failed "
                        f"({result.returncode}):\n{result.stderr.strip()[:3000]}")
    return result


def compile_model(qaf_compile, model, artifact, extra=(), timeout=600):
    run([qaf_compile, model, "-o", artifact, *extra], timeout=timeout)


def run_artifact(qaf_run, artifact, feeds, folder, threads=None, env=None,
                 timeout=300):
    """Runs `qaf-run infer` on `feeds` (name -> array, bound by name) and
    returns (outputs by name, raw .npy bytes by name, the finished process)."""
    os.makedirs(folder, exist_ok=True)
    out_dir = os.path.join(folder, "outputs")
    command = [qaf_run, "infer", artifact, "--output-dir", out_dir]
    if threads is not None:
        command.append(f"--threads={threads}")
    for name, value in feeds.items():
        path = os.path.join(folder, f"{name}.npy")
        np.save(path, value)
        command += ["--input", f"{name}={path}"]
    result = run(command, timeout=timeout, env=env)
    arrays, raw = {}, {}
    for entry in sorted(os.listdir(out_dir)):
        if entry.endswith(".npy"):
            path = os.path.join(out_dir, entry)
            with open(path, "rb") as f:
                raw[entry[:-4]] = f.read()
            arrays[entry[:-4]] = np.load(path)
    return arrays, raw, result


def ort_session(model, threads=1):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(model, options,
                                providers=["CPUExecutionProvider"])


def max_abs_diff(actual, expected):
    return float(np.max(np.abs(actual.astype(np.float64) -
                               expected.astype(np.float64)))) if actual.size else 0.0


def build_tiny_artifacts(args, tmp):
    """Writes the tiny generated decoder to tmp/model.onnx and compiles it
    twice: as it is ("float") and with 4-bit asymmetric group-32 weights
    ("int4"). `args` holds the tool paths (qaf_translate, qaf_opt,
    qaf_compile). Returns (config, model path, {kind: artifact folder})."""
    import gen_llama_onnx as gen  # scripts/, on the callers' sys.path
    cfg = gen.LlamaConfig(**gen.PRESETS["tiny"])
    model = os.path.join(tmp, "model.onnx")
    gen.save(cfg, model)
    artifacts = {"float": os.path.join(tmp, "float"),
                 "int4": os.path.join(tmp, "int4")}
    compile_model(args.qaf_compile, model, artifacts["float"])
    imported = os.path.join(tmp, "imported.mlirbc")
    quantized = os.path.join(tmp, "quantized.mlirbc")
    run([args.qaf_translate, "--import-onnx", model, "-o", imported],
        timeout=300)
    run([args.qaf_opt, imported, "--emit-bytecode", "-o", quantized,
         "--qaf-quantize-weights=bits=4 group-size=32 scheme=asym"],
        timeout=300)
    compile_model(args.qaf_compile, quantized, artifacts["int4"])
    return cfg, model, artifacts
