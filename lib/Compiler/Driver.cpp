//===- Driver.cpp - the qaf-compile driver --------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Phases, in order: outline the weights (and write them), lower through the
// CPU pipeline, emit code, link, and write the manifest last, so that a
// folder with a manifest is a complete artifact.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/Driver.h"

#include "qaf/Compiler/ArtifactWriter.h"
#include "qaf/Conversion/Pipelines.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace qaf {

std::optional<CompilePhase> parseCompilePhase(StringRef name) {
  return llvm::StringSwitch<std::optional<CompilePhase>>(name)
      .Case("onnx", CompilePhase::ONNX)
      .Case("outlined", CompilePhase::Outlined)
      .Case("linalg", CompilePhase::Linalg)
      .Case("loops", CompilePhase::Loops)
      .Case("llvm", CompilePhase::LLVM)
      .Case("llvm-ir", CompilePhase::LLVMIR)
      .Case("object", CompilePhase::Object)
      .Case("artifact", CompilePhase::Artifact)
      .Default(std::nullopt);
}

namespace {

/// Runs the CPU pipeline from one phase to another.
LogicalResult runPipeline(ModuleOp module, CPUPhase from, CPUPhase to,
                          const CompileOptions &options) {
  PassManager pm(module->getContext());
  if (failed(buildCPULoweringPipeline(pm, from, to)))
    return emitError(module.getLoc()) << "cannot build the CPU pipeline";
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  TimingScope scope =
      options.timing ? options.timing->nest("pipeline") : TimingScope();
  if (options.timing)
    pm.enableTiming(scope);
  if (options.printPipelines) {
    pm.printAsTextualPipeline(llvm::errs());
    llvm::errs() << "\n";
  }
  return pm.run(module);
}

/// Writes IR for a phase that stops before code generation.
LogicalResult writeIR(ModuleOp module, const CompileOptions &options) {
  return writeMlirFile(module, options.output, /*bytecode=*/false,
                       /*printWeights=*/false);
}

} // namespace

LogicalResult compileForCPU(ModuleOp module, const CompileOptions &options) {
  Location loc = module.getLoc();
  if (options.phase == CompilePhase::ONNX)
    return writeIR(module, options);

  CPUTarget target = options.target;
  if (failed(resolveCPUTarget(target, loc)))
    return failure();

  // Outline the weights; they are described and written before the IR
  // forgets where they came from.
  {
    PassManager pm(module->getContext());
    std::string pipeline =
        "func.func(qaf-fold-weight-transposes),qaf-outline-weights{entry=" +
        options.entry + "}";
    if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module)))
      return failure();
  }
  FailureOr<ArtifactDescription> description =
      describeEntryPoint(module, options.entry, target);
  if (failed(description))
    return failure();

  bool writesArtifact = options.phase == CompilePhase::Artifact;
  if (writesArtifact) {
    if (std::error_code ec = llvm::sys::fs::create_directories(options.output))
      return emitError(loc) << "cannot create the artifact folder '"
                            << options.output << "': " << ec.message();
    SmallString<256> weightsPath(options.output);
    llvm::sys::path::append(weightsPath, description->weightsFile);
    TimingScope scope =
        options.timing ? options.timing->nest("write-weights") : TimingScope();
    if (failed(writeWeights(module, options.entry, *description, weightsPath)))
      return failure();
  }
  stripWeightValues(module, options.entry);
  if (options.phase == CompilePhase::Outlined)
    return writeIR(module, options);
  stripEntryPointAttributes(module, options.entry);

  static const std::pair<CompilePhase, CPUPhase> irPhases[] = {
      {CompilePhase::Linalg, CPUPhase::Linalg},
      {CompilePhase::Loops, CPUPhase::Loops},
      {CompilePhase::LLVM, CPUPhase::LLVM},
  };
  for (auto [phase, cpuPhase] : irPhases) {
    if (options.phase == phase)
      return failure(
          failed(runPipeline(module, CPUPhase::Outlined, cpuPhase, options)) ||
          failed(writeIR(module, options)));
  }
  if (failed(runPipeline(module, CPUPhase::Outlined, CPUPhase::LLVM, options)))
    return failure();

  SmallVector<EntryPointABI> entryPoints = {
      {options.entry, !description->outputs.empty()}};
  if (options.phase == CompilePhase::LLVMIR ||
      options.phase == CompilePhase::Object)
    return emitCPUCode(module, target, entryPoints, description->fingerprint,
                       options.output, options.phase == CompilePhase::LLVMIR);

  SmallString<256> objectPath(options.output), libraryPath(options.output),
      manifestPath(options.output);
  llvm::sys::path::append(objectPath, "model.o");
  llvm::sys::path::append(libraryPath, description->libraryFile);
  llvm::sys::path::append(manifestPath, "manifest.json");
  {
    TimingScope scope =
        options.timing ? options.timing->nest("llvm-codegen") : TimingScope();
    if (failed(emitCPUCode(
            module, target, entryPoints, description->fingerprint, objectPath,
            /*emitLLVMIR=*/false, options.timing ? &scope : nullptr)))
      return failure();
  }
  TimingScope linkScope =
      options.timing ? options.timing->nest("link") : TimingScope();
  LogicalResult linked = linkSharedLibrary(objectPath, libraryPath, loc);
  llvm::sys::fs::remove(objectPath);
  if (failed(linked))
    return failure();
  return writeManifest(*description, manifestPath, loc);
}

} // namespace qaf
