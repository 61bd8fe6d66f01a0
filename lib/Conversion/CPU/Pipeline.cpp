//===- Pipeline.cpp - onnx -> LLVM dialect for the host CPU ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qaf {

std::string getCPUPipeline(CPUPhase from, CPUPhase to) {
  // stages[i] takes a module from phase i - 1 to phase i.
  static const char *const stages[] = {
      // -> ONNX: nothing, it is where import ends.
      "",
      // -> Outlined
      "func.func(qaf-fold-weight-transposes),qaf-outline-weights",
      // -> Linalg: the shared lowering, then element-wise fusion so chains
      // (RMSNorm, SwiGLU, masks) become single loops.
      "qaf-convert-onnx-to-linalg,canonicalize,cse,"
      "func.func(qaf-fuse-elementwise,qaf-approximate-math),canonicalize,cse",
      // -> Loops: host ABI, buffers (function arguments keep an identity
      // layout: the runtime passes contiguous arrays), deallocation, GEMM
      // kernel calls, then loops with the parallel ones on OpenMP.
      "qaf-prepare-cpu-entry-points,"
      // Loops may yield new buffers when an in-place update would conflict
      // with a read (exclusive CumSum over a runtime axis does).
      "one-shot-bufferize{allow-return-allocs-from-loops "
      "bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "canonicalize,buffer-deallocation-pipeline,"
      "func.func(qaf-linalg-to-cpu-kernels,qaf-memref-copy-to-linalg),"
      "func.func(convert-linalg-to-parallel-loops),canonicalize,"
      // Threads take the outer dimensions, LLVM vectorizes the inner one.
      "func.func(qaf-sequential-inner-loops),"
      "qaf-outline-parallel-loops,convert-scf-to-openmp,canonicalize",
      // -> LLVM
      "func.func(qaf-expand-shape-to-reinterpret-cast),"
      "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
      "convert-openmp-to-llvm,convert-math-to-funcs,convert-math-to-llvm,"
      "convert-math-to-libm,"
      "convert-to-llvm,reconcile-unrealized-casts",
  };
  std::string pipeline;
  for (int stage = static_cast<int>(from) + 1; stage <= static_cast<int>(to);
       ++stage) {
    if (!pipeline.empty())
      pipeline += ",";
    pipeline += stages[stage];
  }
  return pipeline;
}

LogicalResult buildCPULoweringPipeline(OpPassManager &pm, CPUPhase from,
                                       CPUPhase to) {
  return parsePassPipeline(getCPUPipeline(from, to), pm);
}

void registerPipelines() {
  PassPipelineRegistration<>(
      "qaf-lower-to-cpu",
      "Lower an imported onnx model to the LLVM dialect for the host CPU "
      "(weights become entry point arguments)",
      [](OpPassManager &pm) {
        if (failed(buildCPULoweringPipeline(pm)))
          llvm::report_fatal_error("qaf-lower-to-cpu: bad pipeline");
      });
}

} // namespace qaf
