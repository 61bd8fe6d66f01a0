//===- CUDATargetBackend.h - the `cuda` target ------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// NVIDIA GPUs through MLIR's gpu dialect: qaf-lower-to-cuda
// (lib/Conversion/CUDA) makes host code in the LLVM dialect with the
// kernels' cubin embedded; this back end compiles the host code for this
// machine's CPU and links `model.so`, whose only undefined symbols are the
// mgpu* entry points (qaf's CUDA runtime, loaded first) and libc/libm.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_CUDA_CUDATARGETBACKEND_H
#define QAF_TARGET_CUDA_CUDATARGETBACKEND_H

#include "qaf/Conversion/CUDA/Pipeline.h"
#include "qaf/Target/TargetBackend.h"

namespace qaf {

class CUDATargetBackend : public TargetBackend {
public:
  explicit CUDATargetBackend(const TargetOptions &options);

  llvm::StringRef getName() const override { return "cuda"; }
  mlir::LogicalResult initialize(mlir::Location loc) override;
  void buildPipeline(mlir::OpPassManager &pm, Phase from,
                     Phase to) const override;
  mlir::LogicalResult
  emit(mlir::ModuleOp module, llvm::ArrayRef<EntryPointABI> entryPoints,
       llvm::StringRef fingerprint, llvm::StringRef libraryABI, Phase phase,
       llvm::StringRef outputPath, mlir::TimingScope *timing) const override;
  mlir::LogicalResult link(llvm::StringRef objectPath,
                           llvm::StringRef libraryPath,
                           mlir::Location loc) const override;
  void describeTarget(ArtifactDescription &description) const override;
  bool fusesAttention() const override;

private:
  TargetOptions options;
  /// Resolved by `initialize`.
  std::optional<CUDAArch> arch;
};

void registerCUDATargetBackend();

} // namespace qaf

#endif // QAF_TARGET_CUDA_CUDATARGETBACKEND_H
