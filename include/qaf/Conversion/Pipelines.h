//===- Pipelines.h - qaf's lowering pipelines -------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_PIPELINES_H
#define QAF_CONVERSION_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace qaf {

/// Where the CPU pipeline can stop, in order (`qaf-compile --compile-to=`).
enum class CPUPhase {
  /// The onnx dialect as imported.
  ONNX,
  /// Weights outlined into entry point arguments, still onnx.
  Outlined,
  /// linalg/tensor/arith on tensors, fused.
  Linalg,
  /// Buffers, kernel calls and loops.
  Loops,
  /// The LLVM dialect.
  LLVM,
};

/// The passes that take a module at phase `from` to phase `to`, as a textual
/// pipeline nested under builtin.module.
std::string getCPUPipeline(CPUPhase from, CPUPhase to);

/// Adds onnx -> LLVM dialect for the host CPU: outline weights, convert to
/// linalg, fuse, bufferize, call the GEMM kernels, OpenMP loops, LLVM.
mlir::LogicalResult buildCPULoweringPipeline(mlir::OpPassManager &pm,
                                             CPUPhase from = CPUPhase::ONNX,
                                             CPUPhase to = CPUPhase::LLVM);

/// Registers `qaf-lower-to-cpu` with the pass registry.
void registerPipelines();

} // namespace qaf

#endif // QAF_CONVERSION_PIPELINES_H
