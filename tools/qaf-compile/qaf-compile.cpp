//===- qaf-compile.cpp - compile a model to a runnable artifact -----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// iree-compile style: one command from an ONNX model (or any stage's .mlir /
// .mlirbc) to an artifact folder, with --compile-to= to stop at any phase.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/Driver.h"
#include "qaf/Import/ONNXImporter.h"
#include "qaf/InitAll.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/Target/Phase.h"
#include "qaf/Target/TargetBackend.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace mlir;

namespace {
cl::OptionCategory category("qaf-compile options");

cl::opt<std::string> inputPath(cl::Positional,
                               cl::desc("<model.onnx | stage.mlir | .mlirbc>"),
                               cl::Required, cl::cat(category));
cl::opt<std::string> outputPath(
    "o",
    cl::desc("Artifact folder (or the output file with --compile-to before "
             "'artifact'; '-' is stdout for IR)"),
    cl::value_desc("path"), cl::Required, cl::cat(category));
// The help texts of --target and --compile-to are written from the target
// registry and the phase table in main.
cl::opt<std::string> targetName("target", cl::init("cpu"),
                                cl::value_desc("name"), cl::cat(category));
cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to generate code for: 'native' (the host, default) or an "
                 "LLVM CPU name (x86-64-v3, skylake-avx512, znver3, ...)"),
        cl::init("native"), cl::cat(category));
cl::opt<unsigned> optLevel("opt-level",
                           cl::desc("LLVM optimization level (0-3, default 3)"),
                           cl::init(3), cl::cat(category));
cl::opt<std::string> compileTo("compile-to", cl::init("artifact"),
                               cl::value_desc("phase"), cl::cat(category));
cl::opt<std::string> entry("entry",
                           cl::desc("Name of the compiled entry point"),
                           cl::init("infer"), cl::cat(category));
enum class RuntimeChecks { On, Off };
cl::opt<RuntimeChecks> runtimeChecks(
    "runtime-checks",
    cl::desc("Run-time checks in the generated code (index bounds, sizes, "
             "allocations; a failure is an error the entry point returns)"),
    cl::values(clEnumValN(RuntimeChecks::On, "on", "checked (default)"),
               clEnumValN(RuntimeChecks::Off, "off",
                          "unchecked, to measure the checks' cost: a bad "
                          "input is undefined behaviour")),
    cl::init(RuntimeChecks::On), cl::cat(category));
cl::opt<bool> printPipelines("print-pipeline",
                             cl::desc("Print each pass pipeline it runs"),
                             cl::cat(category));
} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  qaf::registerAllPasses();
  qaf::registerAllTargetBackends();
  std::string targetHelp = "Target to generate code for (default cpu):";
  for (const qaf::TargetBackendInfo &info : qaf::getRegisteredTargetBackends())
    targetHelp += "\n  " + info.name + ": " + info.description;
  targetName.setDescription(targetHelp);
  std::string phaseHelp = "Stop after a phase (default artifact):";
  for (const qaf::PhaseInfo &info : qaf::getPhaseTable())
    phaseHelp += ("\n  " + info.name + ": " + info.description).str();
  compileTo.setDescription(phaseHelp);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "qaf compiler: ONNX model -> native artifact\n");

  std::optional<qaf::Phase> phase = qaf::parsePhase(compileTo);
  if (!phase) {
    errs() << "qaf-compile: unknown phase '" << compileTo << "' ("
           << qaf::getPhaseNameList() << ")\n";
    return 2;
  }
  const qaf::TargetBackendInfo *target = qaf::lookupTargetBackend(targetName);
  if (!target) {
    errs() << "qaf-compile: target '" << targetName
           << "' is not available yet (targets: "
           << qaf::getTargetBackendNameList() << ")\n";
    return 2;
  }
  if (optLevel > 3) {
    errs() << "qaf-compile: --opt-level=" << optLevel << ": must be 0 to 3\n";
    return 2;
  }

  qaf::installFatalErrorHandler("qaf-compile", inputPath);
  // An output of another phase than the input's would replace the model
  // (with weight-elided text, for text output). qaf-opt rewrites a stage in
  // place.
  if (Error error = qaf::checkOutputIsNotInput(outputPath, inputPath)) {
    errs() << "qaf-compile: " << toString(std::move(error)) << "\n";
    return 1;
  }
  DialectRegistry registry;
  qaf::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  qaf::ToolDiagnosticHandler diagnostics(&context, "qaf-compile");

  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  TimingScope timing = timingManager.getRootScope();

  StringRef extension = sys::path::extension(inputPath);
  OwningOpRef<ModuleOp> module;
  {
    TimingScope scope = timing.nest("import");
    module = (extension == ".mlir" || extension == ".mlirbc")
                 ? qaf::parseMlirFile(inputPath, &context)
                 : qaf::importOnnxFile(inputPath, &context);
  }
  if (!module)
    return 1;

  qaf::TargetOptions targetOptions;
  targetOptions.cpu = cpu;
  targetOptions.optLevel = optLevel;
  targetOptions.runtimeChecks = runtimeChecks == RuntimeChecks::On;
  std::unique_ptr<qaf::TargetBackend> backend = target->create(targetOptions);

  qaf::CompileOptions options;
  options.phase = *phase;
  options.entry = entry;
  options.output = outputPath;
  options.printPipelines = printPipelines;
  options.timing = &timing;
  return failed(qaf::compile(*module, *backend, options)) ? 1 : 0;
}
