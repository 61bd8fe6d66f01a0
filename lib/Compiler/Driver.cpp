//===- Driver.cpp - the qaf-compile driver --------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Phases, in order: outline the weights (and write them), lower through the
// target's pipeline, emit code, link, and write the manifest last, so that a
// folder with a manifest is a complete artifact. Targets are known only
// through the TargetBackend interface.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/Driver.h"

#include "qaf/Compiler/ArtifactWriter.h"
#include "qaf/Compiler/CacheInPlace.h"
#include "qaf/Conversion/Pipelines.h"
#include "qaf/Export/ONNXExporter.h"
#include "qaf/Runtime/TrainingEntryPoints.h"
#include "qaf/Support/TemporaryFolder.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/Passes.h"
#include "qaf/passes/WeightAttrs.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

using namespace mlir;

namespace qaf {

namespace {

/// Runs `pm` on `module`, timed as `name` under `timing` (when not null),
/// and printed first when asked.
LogicalResult runPipeline(ModuleOp module, PassManager &pm, TimingScope *timing,
                          StringRef name, const CompileOptions &options) {
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  TimingScope scope = timing ? timing->nest(name) : TimingScope();
  if (timing)
    pm.enableTiming(scope);
  if (options.printPipelines) {
    pm.printAsTextualPipeline(llvm::errs());
    llvm::errs() << "\n";
  }
  pm.enableVerifier(options.verifyEachPass);
  if (failed(pm.run(module)))
    return failure();
  if (options.verifyEachPass)
    return success();
  TimingScope verifyScope = scope.nest("verify");
  return verify(module);
}

/// Writes IR for a phase that stops before code generation: bytecode when
/// the file name ends in .mlirbc (weights kept, so the file can be compiled
/// further), text otherwise (weights elided).
LogicalResult writeIR(ModuleOp module, const CompileOptions &options) {
  bool bytecode = options.bytecode ||
                  llvm::sys::path::extension(options.output) == ".mlirbc";
  return writeMlirFile(module, options.output, bytecode,
                       /*printWeights=*/false);
}

/// Writes the graph at phase ONNX: IR, or with `exportOnnx` an ONNX model
/// whose quantized layers are ONNX operators (the exporter knows only the
/// onnx dialect).
LogicalResult writeGraph(ModuleOp module, const CompileOptions &options) {
  if (!options.exportOnnx)
    return writeIR(module, options);
  PassManager pm(module->getContext());
  LowerQLinearToONNXPassOptions lowering;
  lowering.format = options.quantizedFormat;
  pm.addPass(createLowerQLinearToONNXPass(lowering));
  if (failed(runPipeline(module, pm, options.timing, "lower-qlinear", options)))
    return failure();
  return exportOnnxFile(module, options.output);
}

/// The phase a module is in. An imported graph has no artifact description;
/// every later phase has one (the outlining step attaches it), and the
/// entry point's form tells them apart.
FailureOr<Phase> detectPhase(ModuleOp module, StringRef entry,
                             bool hasDescription) {
  if (!hasDescription) {
    if (module.lookupSymbol<func::FuncOp>(onnx::kMainGraphName))
      return Phase::ONNX;
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
    return Phase::LLVM;
  auto func = dyn_cast<func::FuncOp>(entryOp);
  if (!func)
    return emitError(entryOp->getLoc())
           << "entry point @" << entry << " is not a function";
  auto isBuffer = [](Type type) { return isa<BaseMemRefType>(type); };
  if (llvm::any_of(func.getArgumentTypes(), isBuffer) ||
      llvm::any_of(func.getResultTypes(), isBuffer))
    return Phase::Loops;
  // Outlined graphs still hold onnx or qaf ops (a graph of qaf ops alone
  // has none of onnx's once its constants became arguments); the qaf
  // kernel ops and run-time checks are the lowering's output (a linalg
  // stage taken for an outlined one would lose its entry points' ties to
  // their arguments).
  bool hasGraphOps =
      module
          .walk([](Operation *op) {
            return isa_and_present<onnx::ONNXDialect, QAFDialect>(
                       op->getDialect()) &&
                           !isa<QLinearKernelOp, AdapterGradientsKernelOp,
                                AttentionKernelOp, CheckOp>(op)
                       ? WalkResult::interrupt()
                       : WalkResult::advance();
          })
          .wasInterrupted();
  return hasGraphOps ? Phase::Outlined : Phase::Linalg;
}

/// Outlines the weights of an imported graph (the target-neutral pipeline's
/// first stage) and attaches the artifact description (with the weight
/// values and the target it is compiled for) to the module; returns it.
FailureOr<ArtifactDescription> outlineWeights(ModuleOp module,
                                              const TargetBackend &target,
                                              const CompileOptions &options,
                                              TimingScope *timing) {
  PassManager pm(module->getContext());
  LinalgPipelineOptions outline;
  outline.from = Phase::ONNX;
  outline.to = Phase::Outlined;
  outline.entry = options.entry;
  outline.fuseAttention = target.fusesAttention();
  outline.int8Activations = options.int8Activations;
  buildLinalgPipeline(pm, outline);
  if (failed(runPipeline(module, pm, timing, "passes", options)))
    return failure();
  if (auto infer = module.lookupSymbol<func::FuncOp>(options.entry))
    writeCachesInPlace(infer);
  std::vector<std::string> entries = {options.entry};
  for (StringRef step : {training::kTrainStep, training::kEvalStep})
    if (module.lookupSymbol<func::FuncOp>(step))
      entries.push_back(step.str());
  FailureOr<ArtifactDescription> description =
      describeArtifact(module, entries);
  if (failed(description))
    return failure();
  target.describeTarget(*description);
  attachDescription(module, *description);
  stripWeightValues(module, *description);
  return description;
}

/// Each entry point of a stage on buffers returns one value per manifest
/// output that is not written into an input (a KV cache) or a parameter:
/// a library built from one that returns more would write past the
/// runtime's result slots.
LogicalResult checkReturnedOutputs(ModuleOp module,
                                   const ArtifactDescription &description) {
  for (const EntryPoint &entry : description.manifest.entryPoints) {
    auto func = module.lookupSymbol<func::FuncOp>(entry.name);
    if (!func)
      continue;
    size_t returned = llvm::count_if(entry.outputs, [](const TensorSpec &o) {
      return o.writtenInto.empty();
    });
    if (func.getNumResults() != returned)
      return emitError(func.getLoc())
             << "entry point @" << entry.name << " returns "
             << func.getNumResults() << " values, but its manifest has "
             << returned
             << " outputs it returns (the others are written into its "
                "inputs): the stage was lowered without its ties to its "
                "arguments; compile it from an earlier stage with "
                "qaf-compile --compile-to";
  }
  return success();
}

} // namespace

LogicalResult compile(ModuleOp module, TargetBackend &target,
                      const CompileOptions &options) {
  Location loc = module.getLoc();
  FailureOr<std::optional<ArtifactDescription>> attached =
      readDescription(module);
  if (failed(attached))
    return failure();
  FailureOr<Phase> inputPhase =
      detectPhase(module, options.entry, attached->has_value());
  if (failed(inputPhase))
    return failure();
  if (options.phase < *inputPhase)
    return emitError(loc) << "the input is already at phase '"
                          << getPhaseName(*inputPhase)
                          << "'; it cannot stop at the earlier phase '"
                          << getPhaseName(options.phase) << "'";
  bool runsGraphPipeline =
      *inputPhase == Phase::ONNX && !options.graphPipeline.empty();
  if (options.phase == *inputPhase && options.phase <= Phase::LLVM &&
      !runsGraphPipeline)
    return options.phase == Phase::ONNX ? writeGraph(module, options)
                                        : writeIR(module, options);

  if (failed(target.initialize(loc)))
    return failure();

  // The description travels on the module for the IR written at a phase;
  // this copy (its weight values are the same uniqued attributes) serves
  // the code generation below.
  std::optional<ArtifactDescription> description = std::move(*attached);
  if (!options.graphPipeline.empty() && *inputPhase != Phase::ONNX)
    return emitError(loc) << "quantizing, adapting and building training "
                             "steps take an imported graph, not a stage at "
                             "phase '"
                          << getPhaseName(*inputPhase) << "'";
  if (runsGraphPipeline) {
    // Anchored on the module, as the textual pipeline is.
    PassManager pm(module->getContext(), ModuleOp::getOperationName());
    std::string error;
    llvm::raw_string_ostream errorStream(error);
    if (failed(parsePassPipeline(options.graphPipeline, pm, errorStream)))
      return emitError(loc) << "bad graph pipeline '" << options.graphPipeline
                            << "': " << error;
    if (failed(runPipeline(module, pm, options.timing, "graph", options)))
      return failure();
    if (options.phase == Phase::ONNX)
      return writeGraph(module, options);
  }
  if (*inputPhase == Phase::ONNX) {
    TimingScope scope =
        options.timing ? options.timing->nest("outline") : TimingScope();
    FailureOr<ArtifactDescription> outlined = outlineWeights(
        module, target, options, options.timing ? &scope : nullptr);
    if (failed(outlined))
      return failure();
    description = std::move(*outlined);
    if (options.phase == Phase::Outlined)
      return writeIR(module, options);
  }
  // Stages on tensors get their entry points' ties by position (a linalg
  // stage qaf-opt lowered from an outlined one still names them); a stage
  // on buffers must already return exactly the manifest's outputs.
  if (*inputPhase <= Phase::Linalg)
    stripEntryPointAttributes(module, *description);
  else if (*inputPhase == Phase::Loops &&
           failed(checkReturnedOutputs(module, *description)))
    return failure();
  // Fail before the long part when the input's weights were elided: the
  // generated code records the weights' content hash (describeLibrary).
  if (options.phase >= Phase::LLVMIR &&
      failed(checkWeightValues(*description, loc)))
    return failure();

  PassManager pm(module->getContext());
  target.buildPipeline(pm, std::max(*inputPhase, Phase::Outlined),
                       std::min(options.phase, Phase::LLVM));
  if (failed(runPipeline(module, pm, options.timing, "pipeline", options)))
    return failure();
  if (options.phase <= Phase::LLVM)
    return writeIR(module, options);

  // Code generation: the description leaves the module here. A stage
  // resumed with other target options records the target it is compiled
  // for now.
  target.describeTarget(*description);
  module->removeAttr(kArtifactDescriptionAttr);

  SmallVector<EntryPointABI> entryPoints;
  for (const EntryPoint &entry : description->manifest.entryPoints)
    entryPoints.push_back(
        {entry.name, llvm::any_of(entry.outputs, [](const TensorSpec &output) {
           return output.writtenInto.empty();
         })});
  const std::string &fingerprint = description->manifest.fingerprint;
  FailureOr<std::string> libraryABI = describeLibrary(*description, loc);
  if (failed(libraryABI))
    return failure();
  if (options.phase == Phase::LLVMIR || options.phase == Phase::Object)
    return target.emit(module, entryPoints, fingerprint, *libraryABI,
                       options.phase, options.output, /*timing=*/nullptr);

  if (std::error_code ec = llvm::sys::fs::create_directories(options.output))
    return emitError(loc) << "cannot create the artifact folder '"
                          << options.output << "': " << ec.message();
  SmallString<256> libraryPath(options.output), manifestPath(options.output);
  // The object is linked into the library and removed: it is written in a
  // temporary folder (TemporaryFolder.h), so that a killed compile leaves
  // no litter in the artifact folder.
  llvm::Expected<std::unique_ptr<TemporaryFolder>> folder =
      TemporaryFolder::create(kCompileFolderPrefix);
  if (!folder)
    return emitError(loc) << llvm::toString(folder.takeError());
  std::string objectPath = (*folder)->file("model.o");
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
    if (failed(target.emit(module, entryPoints, fingerprint, *libraryABI,
                           Phase::Object, objectPath,
                           options.timing ? &scope : nullptr)))
      return failure();
  }
  TimingScope linkScope =
      options.timing ? options.timing->nest("link") : TimingScope();
  LogicalResult linked = target.link(objectPath, libraryPath, loc);
  if (failed(linked))
    return failure();
  return writeManifest(*description, manifestPath, loc);
}

} // namespace qaf
