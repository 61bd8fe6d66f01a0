# lit configuration of qaf's FileCheck tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "qaf"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".textproto", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qaf_obj_root, "test")
# Folders that hold inputs or non-lit tests.
config.excludes = ["Inputs", "onnx_backend", "e2e", "fuzz", "unit", "CMakeLists.txt",
                   "lit.cfg.py", "lit.site.cfg.py"]

# Captured FileCheck variables must not leak across CHECK-LABELs.
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["qaf-opt", "qaf-translate", "qaf-compile", "qaf-run"], [config.qaf_tools_dir])
# lit predefines %python as the Python running lit (Debian's, without
# numpy when lit is started directly); the project's oracle Python wins.
config.substitutions = [(key, value) for key, value in config.substitutions
                        if key != "%python"]
config.substitutions.append(("%python", config.python_executable))
# The C compiler of the build, for tests that build small shared libraries.
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%qaf_src_root", config.qaf_src_root))
config.substitutions.append(("%qaf_tools_dir", config.qaf_tools_dir))
config.substitutions.append(
    ("%qaf_lib_dir", os.path.join(config.qaf_obj_root, "lib")))
config.substitutions.append(
    ("%llvm_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir),
                                   "lib")))

# `REQUIRES: cuda-device`: a CUDA GPU answers (qaf-run's own question, with
# the driver the tests would use); tests that need one are UNSUPPORTED, not
# passed, elsewhere. `REQUIRES: cuda-toolkit`: ptxas assembles PTX.
import subprocess

try:
    _cuda_probe = subprocess.run(
        [os.path.join(config.qaf_tools_dir, "qaf-run"), "info", "--device",
         "cuda:0"], capture_output=True, timeout=120)
    if _cuda_probe.returncode == 0:
        config.available_features.add("cuda-device")
except (OSError, subprocess.TimeoutExpired):
    pass
_ptxas = os.path.join(os.environ.get("CUDA_PATH", "/usr/local/cuda"), "bin",
                      "ptxas")
if os.access(_ptxas, os.X_OK):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", _ptxas))
# MLIR's C runner utilities (printI64, ...), for tests that run lowered IR
# with mlir-runner.
config.substitutions.append(("%mlir_c_runner_utils", os.path.join(
    config.llvm_tools_dir, "..", "lib", "libmlir_c_runner_utils.so")))
