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
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
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
cl::opt<std::string> cudaArch(
    "cuda-arch",
    cl::desc("--target=cuda: the GPU architecture (sm_80 default, sm_86, "
             "sm_89, sm_90, sm_90a)"),
    cl::init("sm_80"), cl::cat(category));
cl::opt<std::string> cudaMatmulPrecision(
    "cuda-matmul-precision",
    cl::desc("--target=cuda: tensor-core input precision of the dense "
             "matmuls, float accumulation (tf32 default, bf16)"),
    cl::init("tf32"), cl::cat(category));
cl::opt<std::string> cudaToolkit(
    "cuda-toolkit",
    cl::desc("--target=cuda: the CUDA toolkit whose ptxas and libdevice "
             "are used (default /usr/local/cuda)"),
    cl::init("/usr/local/cuda"), cl::cat(category));
enum class Int8Activations { None, File, All };
cl::opt<Int8Activations> int8Activations(
    "int8-activations",
    cl::desc("Round the activations of quantized layers to int8 as ONNX "
             "Runtime does at MatMulNBits accuracy_level 4 (per block of "
             "features, integer dot products on the CPU's AVX512-VNNI "
             "paths, decode and prefill; elsewhere the exact product)"),
    cl::values(clEnumValN(Int8Activations::None, "none",
                          "the exact float product (default)"),
               clEnumValN(Int8Activations::File, "file",
                          "the layers whose MatMulNBits asked for "
                          "accuracy_level 4 (ORT GenAI's CPU int4 files), as "
                          "ONNX Runtime runs the same file"),
               clEnumValN(Int8Activations::All, "all", "every layer")),
    cl::init(Int8Activations::None), cl::cat(category));
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
// Quantization-aware fine-tuning: --method quantizes and attaches adapters
// (METHODS.md), --emit=train adds the training steps. Each pass's every
// option stays reachable through the *-options strings, appended after
// the options these flags set.
cl::opt<std::string>
    method("method",
           cl::desc("Quantize and adapt the model: lota, lora, loftq, qalora, "
                    "qahira, qbara or l4q (default: neither)"),
           cl::value_desc("name"), cl::cat(category));
cl::opt<unsigned> bits("bits", cl::desc("Weight bits (default 4)"), cl::init(4),
                       cl::cat(category));
cl::opt<int64_t> groupSize("group-size",
                           cl::desc("Quantization group size (default 64)"),
                           cl::init(64), cl::cat(category));
cl::opt<int64_t> rank("rank", cl::desc("Adapter rank (default 16)"),
                      cl::init(16), cl::cat(category));
cl::opt<double> alpha("alpha", cl::desc("LoRA alpha (default 16)"),
                      cl::init(16.0), cl::cat(category));
cl::opt<double> omega("omega",
                      cl::desc("LoTA threshold (default 0: 0.75 * rank)"),
                      cl::init(0.0), cl::cat(category));
cl::opt<std::string> quantizeOptions(
    "quantize-options",
    cl::desc("More qaf-quantize-weights (or, for loftq, qaf-loftq-init) "
             "options, e.g. \"scheme=sym\""),
    cl::value_desc("options"), cl::cat(category));
cl::opt<std::string> adapterOptions(
    "adapter-options",
    cl::desc("More qaf-attach-adapters options, e.g. \"include=proj seed=1\""),
    cl::value_desc("options"), cl::cat(category));
enum class Emit { Infer, Train, Eval, ONNX, MLIRBytecode };
cl::opt<Emit> emit(
    "emit", cl::desc("What to write"),
    cl::values(clEnumValN(Emit::Infer, "infer",
                          "an artifact with the forward only (default)"),
               clEnumValN(Emit::Train, "train",
                          "an artifact with the forward, train_step and "
                          "eval_step (qaf-run train|eval)"),
               clEnumValN(Emit::Eval, "eval",
                          "an artifact with the forward and eval_step "
                          "(qaf-run eval), for any model: float, quantized, "
                          "adapted or merged"),
               clEnumValN(Emit::ONNX, "onnx",
                          "an ONNX model (-o model.onnx; quantized layers as "
                          "MatMulNBits, see --quantized-format)"),
               clEnumValN(Emit::MLIRBytecode, "mlirbc",
                          "the graph as MLIR bytecode, weights included")),
    cl::init(Emit::Infer), cl::cat(category));
cl::opt<std::string> mergeCheckpoint(
    "merge",
    cl::desc("Merge the adapters trained in this checkpoint folder (or "
             ".safetensors file) into the quantized layers; a JSON report "
             "is written to <output>.merge.json"),
    cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> allowLossy(
    "allow-lossy",
    cl::desc("--merge: merge LoRA, LoftQ and Q-BaRA by re-quantizing W + dW "
             "(their error is reported)"),
    cl::cat(category));
cl::opt<bool> keepAdapters(
    "keep-adapters",
    cl::desc("--merge: keep LoRA, LoftQ and Q-BaRA adapters as two float "
             "MatMuls"),
    cl::cat(category));
cl::opt<std::string> quantizedFormat(
    "quantized-format",
    cl::desc("--emit=onnx: matmulnbits (default; float zero points where "
             "they are fractional) or dequantizelinear (integer zero points "
             "only)"),
    cl::init("matmulnbits"), cl::cat(category));
cl::opt<std::string> trainOptions(
    "train-options",
    cl::desc("qaf-build-training options for --emit=train, e.g. \"lr=2e-4 "
             "schedule=cosine total-steps=1000 accumulate=4\""),
    cl::value_desc("options"), cl::cat(category));
cl::opt<bool> verifyEach(
    "verify-each",
    cl::desc("Verify the IR after every pass (by default: once after each "
             "pipeline)"),
    cl::cat(category));
cl::opt<bool> printPipelines("print-pipeline",
                             cl::desc("Print each pass pipeline it runs"),
                             cl::cat(category));
/// The merge's JSON report, beside the output: `<output>.merge.json`.
std::string getMergeReportPath() {
  return StringRef(outputPath.getValue()).rtrim("/").str() + ".merge.json";
}

/// The passes on the imported graph that --method and --emit ask for, as a
/// textual pipeline of module passes ("" for none), or an error.
Expected<std::string> buildGraphPipeline() {
  auto withExtra = [](std::string options, StringRef extra) {
    if (!extra.empty())
      options += " " + extra.str();
    return "{" + options + "}";
  };
  std::string quantization =
      formatv("bits={0} group-size={1}", bits.getValue(), groupSize.getValue())
          .str();
  std::string adapter =
      formatv("method={0} rank={1} alpha={2}", method.getValue(),
              rank.getValue(), alpha.getValue())
          .str();
  SmallVector<std::string> passes;
  if (method == "loftq") {
    passes.push_back(
        "qaf-loftq-init" +
        withExtra(formatv("rank={0} bits={1} group-size={2} alpha={3}",
                          rank.getValue(), bits.getValue(),
                          groupSize.getValue(), alpha.getValue())
                      .str(),
                  quantizeOptions));
  } else if (method == "l4q") {
    passes.push_back("qaf-attach-adapters" +
                     withExtra(adapter + " " + quantization, adapterOptions));
  } else if (method == "lota" || method == "lora" || method == "qalora" ||
             method == "qahira" || method == "qbara") {
    passes.push_back("qaf-quantize-weights" +
                     withExtra(quantization, quantizeOptions));
    if (method == "lota")
      adapter += formatv(" omega={0}", omega.getValue()).str();
    passes.push_back("qaf-attach-adapters" +
                     withExtra(adapter, adapterOptions));
  } else if (!method.empty()) {
    return createStringError("unknown method '" + method +
                             "' (lota, lora, loftq, qalora, qahira, qbara or "
                             "l4q)");
  }
  if (emit == Emit::Train) {
    if (method.empty())
      return createStringError("--emit=train needs --method (the adapters "
                               "are what it trains)");
    if (!mergeCheckpoint.empty())
      return createStringError("--merge removes the adapters that "
                               "--emit=train trains: choose one");
    passes.push_back("qaf-build-training" + withExtra("", trainOptions));
  }
  if (!mergeCheckpoint.empty()) {
    if (method.empty())
      return createStringError("--merge needs --method, --bits, --group-size "
                               "and --rank as the checkpoint was trained "
                               "with (they rebuild its adapters)");
    passes.push_back(
        formatv("qaf-merge-adapters{{checkpoint={0} allow-lossy={1} "
                "keep-adapters={2} report={3}}",
                mergeCheckpoint.getValue(), allowLossy.getValue(),
                keepAdapters.getValue(), getMergeReportPath())
            .str());
  } else if (allowLossy || keepAdapters) {
    return createStringError("--allow-lossy and --keep-adapters go with "
                             "--merge");
  }
  // After the merge: eval_step evaluates the merged model.
  if (emit == Emit::Eval)
    passes.push_back("qaf-build-training" +
                     withExtra("eval-only=true", trainOptions));
  return llvm::join(passes, ",");
}

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

  Expected<std::string> graphPipeline = buildGraphPipeline();
  if (!graphPipeline) {
    errs() << "qaf-compile: " << toString(graphPipeline.takeError()) << "\n";
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
  targetOptions.cudaArch = cudaArch;
  targetOptions.cudaMatmulPrecision = cudaMatmulPrecision;
  targetOptions.cudaToolkit = cudaToolkit;
  std::unique_ptr<qaf::TargetBackend> backend = target->create(targetOptions);

  qaf::CompileOptions options;
  options.int8Activations = int8Activations == Int8Activations::File  ? "file"
                            : int8Activations == Int8Activations::All ? "all"
                                                                      : "";
  // An ONNX model or graph bytecode is the graph itself, before outlining.
  bool writesGraph = emit == Emit::ONNX || emit == Emit::MLIRBytecode;
  options.phase = writesGraph ? qaf::Phase::ONNX : *phase;
  options.exportOnnx = emit == Emit::ONNX;
  options.bytecode = emit == Emit::MLIRBytecode;
  options.quantizedFormat = quantizedFormat;
  options.entry = entry;
  options.graphPipeline = *graphPipeline;
  options.output = outputPath;
  options.printPipelines = printPipelines;
  options.verifyEachPass = verifyEach;
  options.timing = &timing;
  return failed(qaf::compile(*module, *backend, options)) ? 1 : 0;
}
