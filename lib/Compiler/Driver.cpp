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

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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

/// Writes IR for a phase that stops before code generation: bytecode when
/// the file name ends in .mlirbc (weights kept, so the file can be compiled
/// further), text otherwise (weights elided).
LogicalResult writeIR(ModuleOp module, const CompileOptions &options) {
  bool bytecode = llvm::sys::path::extension(options.output) == ".mlirbc";
  return writeMlirFile(module, options.output, bytecode,
                       /*printWeights=*/false);
}

StringRef getPhaseName(CompilePhase phase) {
  static const char *const names[] = {"onnx", "outlined", "linalg", "loops",
                                      "llvm", "llvm-ir",  "object", "artifact"};
  return names[static_cast<int>(phase)];
}

/// The phase a module is in. An imported graph has no artifact description;
/// every later phase has one (the outlining step attaches it), and the
/// entry point's form tells them apart.
FailureOr<CompilePhase> detectPhase(ModuleOp module, StringRef entry,
                                    bool hasDescription) {
  if (!hasDescription) {
    if (module.lookupSymbol<func::FuncOp>(onnx::kMainGraphName))
      return CompilePhase::ONNX;
    return emitError(module.getLoc())
           << "the input is neither an imported ONNX graph (no @"
           << onnx::kMainGraphName << ") nor a stage written by qaf-compile "
           << "--compile-to (no '" << kArtifactDescriptionAttr
           << "' attribute)";
  }
  Operation *entryOp = module.lookupSymbol(entry);
  if (!entryOp)
    return emitError(module.getLoc()) << "no entry point @" << entry;
  if (isa<LLVM::LLVMFuncOp>(entryOp))
    return CompilePhase::LLVM;
  auto func = dyn_cast<func::FuncOp>(entryOp);
  if (!func)
    return emitError(entryOp->getLoc())
           << "entry point @" << entry << " is not a function";
  auto isBuffer = [](Type type) { return isa<BaseMemRefType>(type); };
  if (llvm::any_of(func.getArgumentTypes(), isBuffer) ||
      llvm::any_of(func.getResultTypes(), isBuffer))
    return CompilePhase::Loops;
  // Outlined graphs still hold onnx or qaf ops (a graph of qaf ops alone
  // has none of onnx's once its constants became arguments); the qaf
  // kernel ops are the lowering's output.
  bool hasGraphOps =
      module
          .walk([](Operation *op) {
            return isa_and_present<onnx::ONNXDialect, QAFDialect>(
                       op->getDialect()) &&
                           !isa<QLinearKernelOp>(op)
                       ? WalkResult::interrupt()
                       : WalkResult::advance();
          })
          .wasInterrupted();
  return hasGraphOps ? CompilePhase::Outlined : CompilePhase::Linalg;
}

/// Outlines the weights of an imported graph and attaches the artifact
/// description (with the weight values) to the module; returns it.
FailureOr<ArtifactDescription> outlineWeights(ModuleOp module,
                                              const CompileOptions &options,
                                              const CPUTarget &target) {
  PassManager pm(module->getContext());
  std::string pipeline =
      "func.func(qaf-fold-weight-transposes),qaf-outline-weights{entry=" +
      options.entry + "}";
  if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module)))
    return failure();
  FailureOr<ArtifactDescription> description =
      describeArtifact(module, {options.entry}, describeCPUTarget(target));
  if (failed(description))
    return failure();
  attachDescription(module, *description);
  stripWeightValues(module, *description);
  return description;
}

CPUPhase toCPUPhase(CompilePhase phase) {
  switch (phase) {
  case CompilePhase::ONNX:
    return CPUPhase::ONNX;
  case CompilePhase::Outlined:
    return CPUPhase::Outlined;
  case CompilePhase::Linalg:
    return CPUPhase::Linalg;
  case CompilePhase::Loops:
    return CPUPhase::Loops;
  default:
    return CPUPhase::LLVM;
  }
}

} // namespace

LogicalResult compileForCPU(ModuleOp module, const CompileOptions &options) {
  Location loc = module.getLoc();
  FailureOr<std::optional<ArtifactDescription>> attached =
      readDescription(module);
  if (failed(attached))
    return failure();
  FailureOr<CompilePhase> inputPhase =
      detectPhase(module, options.entry, attached->has_value());
  if (failed(inputPhase))
    return failure();
  if (options.phase < *inputPhase)
    return emitError(loc) << "the input is already at phase '"
                          << getPhaseName(*inputPhase)
                          << "'; it cannot stop at the earlier phase '"
                          << getPhaseName(options.phase) << "'";
  if (options.phase == *inputPhase && options.phase <= CompilePhase::LLVM)
    return writeIR(module, options);

  CPUTarget target = options.target;
  if (failed(resolveCPUTarget(target, loc)))
    return failure();

  // The description travels on the module for the IR written at a phase;
  // this copy (its weight values are the same uniqued attributes) serves
  // the code generation below.
  std::optional<ArtifactDescription> description = std::move(*attached);
  if (*inputPhase == CompilePhase::ONNX) {
    TimingScope scope =
        options.timing ? options.timing->nest("outline") : TimingScope();
    FailureOr<ArtifactDescription> outlined =
        outlineWeights(module, options, target);
    if (failed(outlined))
      return failure();
    description = std::move(*outlined);
    if (options.phase == CompilePhase::Outlined)
      return writeIR(module, options);
  }
  if (*inputPhase <= CompilePhase::Outlined)
    stripEntryPointAttributes(module, *description);
  // Fail before the long part when the input's weights were elided.
  if (options.phase == CompilePhase::Artifact &&
      failed(checkWeightValues(*description, loc)))
    return failure();

  CompilePhase lastIRPhase = std::min(options.phase, CompilePhase::LLVM);
  CPUPhase from = toCPUPhase(std::max(*inputPhase, CompilePhase::Outlined));
  if (failed(runPipeline(module, from, toCPUPhase(lastIRPhase), options)))
    return failure();
  if (options.phase <= CompilePhase::LLVM)
    return writeIR(module, options);

  // Code generation: the description leaves the module here.
  description->manifest.target = describeCPUTarget(target);
  module->removeAttr(kArtifactDescriptionAttr);

  SmallVector<EntryPointABI> entryPoints;
  for (const EntryPoint &entry : description->manifest.entryPoints)
    entryPoints.push_back({entry.name, !entry.outputs.empty()});
  const std::string &fingerprint = description->manifest.fingerprint;
  if (options.phase == CompilePhase::LLVMIR ||
      options.phase == CompilePhase::Object)
    return emitCPUCode(module, target, entryPoints, fingerprint, options.output,
                       options.phase == CompilePhase::LLVMIR);

  if (std::error_code ec = llvm::sys::fs::create_directories(options.output))
    return emitError(loc) << "cannot create the artifact folder '"
                          << options.output << "': " << ec.message();
  SmallString<256> objectPath(options.output), libraryPath(options.output),
      manifestPath(options.output);
  llvm::sys::path::append(objectPath, "model.o");
  llvm::sys::path::append(libraryPath, description->manifest.library);
  llvm::sys::path::append(manifestPath, "manifest.json");
  {
    TimingScope scope =
        options.timing ? options.timing->nest("write-weights") : TimingScope();
    if (failed(writeTensorFiles(*description, options.output, loc)))
      return failure();
  }
  {
    TimingScope scope =
        options.timing ? options.timing->nest("llvm-codegen") : TimingScope();
    if (failed(emitCPUCode(module, target, entryPoints, fingerprint, objectPath,
                           /*emitLLVMIR=*/false,
                           options.timing ? &scope : nullptr)))
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
