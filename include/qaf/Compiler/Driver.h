//===- Driver.h - the qaf-compile driver ------------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_COMPILER_DRIVER_H
#define QAF_COMPILER_DRIVER_H

#include "qaf/Compiler/CPUCodegen.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "mlir/Support/Timing.h"

#include <optional>
#include <string>

namespace qaf {

/// Where compilation stops (`--compile-to=`), in pipeline order.
enum class CompilePhase {
  ONNX,     ///< as imported
  Outlined, ///< weights outlined into entry point arguments
  Linalg,   ///< linalg on tensors
  Loops,    ///< buffers, kernel calls, OpenMP loops
  LLVM,     ///< the LLVM dialect
  LLVMIR,   ///< LLVM IR text (.ll)
  Object,   ///< an object file (.o)
  Artifact, ///< model.so + weights.safetensors + manifest.json
};

std::optional<CompilePhase> parseCompilePhase(llvm::StringRef name);

struct CompileOptions {
  CPUTarget target;
  CompilePhase phase = CompilePhase::Artifact;
  /// The entry point the graph becomes.
  std::string entry = "infer";
  /// An artifact folder for CompilePhase::Artifact, else the output file
  /// ("-" for stdout where text is written).
  std::string output;
  /// Print each pass pipeline before running it.
  bool printPipelines = false;
  /// Where the phases report their time (`--mlir-timing`); may be null.
  mlir::TimingScope *timing = nullptr;
};

/// Compiles an imported (onnx dialect) module for the CPU up to
/// `options.phase` and writes the result. Errors are diagnostics.
mlir::LogicalResult compileForCPU(mlir::ModuleOp module,
                                  const CompileOptions &options);

} // namespace qaf

#endif // QAF_COMPILER_DRIVER_H
