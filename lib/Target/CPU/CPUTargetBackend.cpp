//===- CPUTargetBackend.cpp - the `cpu` target ----------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/CPU/CPUTargetBackend.h"

#include "qaf/Compiler/ArtifactWriter.h"
#include "qaf/Conversion/Pipelines.h"

#include "llvm/TargetParser/Triple.h"

using namespace mlir;

namespace qaf {

CPUTargetBackend::CPUTargetBackend(const TargetOptions &options)
    : runtimeChecks(options.runtimeChecks) {
  target.cpu = options.cpu;
  target.optLevel = options.optLevel;
}

LogicalResult CPUTargetBackend::initialize(Location loc) {
  return resolveCPUTarget(target, loc);
}

void CPUTargetBackend::buildPipeline(OpPassManager &pm, Phase from,
                                     Phase to) const {
  CPUPipelineOptions options;
  options.from = from;
  options.to = to;
  options.runtimeChecks = runtimeChecks;
  buildCPUPipeline(pm, options);
}

LogicalResult
CPUTargetBackend::emit(ModuleOp module, ArrayRef<EntryPointABI> entryPoints,
                       StringRef fingerprint, StringRef libraryABI, Phase phase,
                       StringRef outputPath, TimingScope *timing) const {
  assert((phase == Phase::LLVMIR || phase == Phase::Object) &&
         "code generation writes LLVM IR or an object");
  return emitCPUCode(module, target, entryPoints, fingerprint, libraryABI,
                     outputPath,
                     /*emitLLVMIR=*/phase == Phase::LLVMIR, timing);
}

LogicalResult CPUTargetBackend::link(StringRef objectPath,
                                     StringRef libraryPath,
                                     Location loc) const {
  return linkSharedLibrary(objectPath, libraryPath, loc);
}

void CPUTargetBackend::describeTarget(ArtifactDescription &description) const {
  // The whole record: a stage compiled for another target leaves nothing
  // of it (a cuda stage's PTX ISA and matmul precision).
  TargetDescription &record = description.manifest.target;
  record = TargetDescription();
  record.kind = TargetKind::CPU;
  record.binary = BinaryKind::SharedLibrary;
  record.triple = target.triple;
  record.cpu = target.cpu;
  record.features = target.features;
  record.arch = llvm::Triple(target.triple).getArchName().str();
}

void registerCPUTargetBackend() {
  registerTargetBackend(
      "cpu",
      "this machine's CPU or an LLVM CPU model (--cpu): OpenMP loops, "
      "qaf's GEMM kernels",
      [](const TargetOptions &options) {
        return std::make_unique<CPUTargetBackend>(options);
      });
}

} // namespace qaf
