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
# MLIR's C runner utilities (printI64, ...), for tests that run lowered IR
# with mlir-runner.
config.substitutions.append(("%mlir_c_runner_utils", os.path.join(
    config.llvm_tools_dir, "..", "lib", "libmlir_c_runner_utils.so")))
