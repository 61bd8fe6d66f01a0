//===- CPUTargetBackend.h - the `cpu` target --------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_TARGET_CPU_CPUTARGETBACKEND_H
#define QAF_TARGET_CPU_CPUTARGETBACKEND_H

#include "qaf/Target/CPU/CPUCodegen.h"
#include "qaf/Target/TargetBackend.h"

namespace qaf {

/// The host CPU (x86-64): the CPU pipeline (qaf-lower-to-cpu), LLVM code
/// generation for the CPU model in the options, and a link with qaf's CPU
/// kernels and the OpenMP runtime into `model.so`.
class CPUTargetBackend : public TargetBackend {
public:
  explicit CPUTargetBackend(const TargetOptions &options);

  llvm::StringRef getName() const override { return "cpu"; }
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

private:
  /// Resolved by `initialize`.
  CPUTarget target;
  bool runtimeChecks;
};

/// Registers the `cpu` target.
void registerCPUTargetBackend();

} // namespace qaf

#endif // QAF_TARGET_CPU_CPUTARGETBACKEND_H
