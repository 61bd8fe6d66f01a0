//===- CPUCodegen.h - LLVM dialect -> shared library ------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_CPU_CPUCODEGEN_H
#define QAF_TARGET_CPU_CPUCODEGEN_H

#include "qaf/Target/TargetBackend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace qaf {

struct CPUTarget {
  /// An LLVM CPU name (`znver3`, `skylake-avx512`, `x86-64-v3`), or `native`
  /// for the host's CPU and features.
  std::string cpu = "native";
  /// Resolved by `resolveCPUTarget`.
  std::string triple;
  std::string features;
  /// LLVM optimization level, 0-3.
  unsigned optLevel = 3;
};

/// Resolves `native` (or checks a named CPU) into triple, CPU and features.
mlir::LogicalResult resolveCPUTarget(CPUTarget &target, mlir::Location loc);

/// Translates a module in the LLVM dialect to LLVM IR, adds the packed entry
/// wrappers `qaf_entry_<name>(void **args)`, the exported fingerprint and
/// the library's description of itself (`qaf_artifact_abi`), optimizes at
/// O3 for the target, and writes textual LLVM IR (`.ll`) or an object file.
mlir::LogicalResult emitCPUCode(mlir::ModuleOp module, const CPUTarget &target,
                                llvm::ArrayRef<EntryPointABI> entryPoints,
                                llvm::StringRef fingerprint,
                                llvm::StringRef libraryABI,
                                llvm::StringRef outputPath, bool emitLLVMIR,
                                mlir::TimingScope *timing = nullptr);

/// Links an object with qaf's CPU kernels and the OpenMP runtime into a
/// shared library (written atomically).
mlir::LogicalResult linkSharedLibrary(llvm::StringRef objectPath,
                                      llvm::StringRef outputPath,
                                      mlir::Location loc);

} // namespace qaf

#endif // QAF_TARGET_CPU_CPUCODEGEN_H
