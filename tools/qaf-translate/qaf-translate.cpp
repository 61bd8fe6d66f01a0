//===- qaf-translate.cpp - ONNX <-> MLIR ----------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// mlir-translate style: `--import-onnx` reads a model into the onnx dialect,
// `--export-onnx` writes one back; given both, a model is imported and
// exported in one process without an intermediate file.
//
//===----------------------------------------------------------------------===//

#include "qaf/Export/ONNXExporter.h"
#include "qaf/Import/ONNXImporter.h"
#include "qaf/InitAll.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/Passes.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace llvm;
using namespace mlir;

namespace {
cl::OptionCategory category("qaf-translate options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input file>"),
                               cl::Required, cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-': stdout)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::cat(category));
cl::opt<bool> importOnnx(
    "import-onnx",
    cl::desc("Read an ONNX model (.onnx; protobuf text: .textproto, .pbtxt, "
             ".onnxtxt) into the onnx dialect"),
    cl::cat(category));
cl::opt<bool> exportOnnx(
    "export-onnx",
    cl::desc("Write the onnx dialect as an ONNX model (input .mlir/.mlirbc, or "
             "the result of --import-onnx)"),
    cl::cat(category));
cl::opt<bool>
    listOnnxOps("list-onnx-ops",
                cl::desc("Print the supported ONNX op types and exit"),
                cl::cat(category));
cl::opt<bool> printSummary(
    "summary",
    cl::desc("Print a summary of the model (inputs, outputs, weights, "
             "operators) to stderr"),
    cl::cat(category));
cl::opt<std::string> quantizedFormat(
    "quantized-format",
    cl::desc("How --export-onnx writes qaf.qlinear layers: matmulnbits "
             "(com.microsoft, default) or dequantizelinear (opset 21)"),
    cl::init("matmulnbits"), cl::cat(category));
cl::opt<std::string> zeroPoints(
    "zero-points",
    cl::desc("MatMulNBits zero points: auto (default: none where all are "
             "ONNX Runtime's default, packed uint8 where all are integer "
             "codes, float where some are fractional), uint8 or float"),
    cl::init("auto"), cl::cat(category));
cl::opt<bool>
    emitBytecode("emit-bytecode",
                 cl::desc("Write MLIR bytecode instead of text (implied by an "
                          "output name ending in .mlirbc)"),
                 cl::cat(category));
cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print every weight in text output (large ones are elided by "
             "default)"),
    cl::cat(category));
cl::opt<bool>
    foldConstants("import-fold",
                  cl::desc("Fold constant shape computations while importing"),
                  cl::init(true), cl::cat(category));
cl::opt<qaf::OnnxExportOptions::ExternalData> externalData(
    "external-data", cl::desc("Where exported weights go"),
    cl::values(clEnumValN(qaf::OnnxExportOptions::ExternalData::Auto, "auto",
                          "a .data file when the input model had one, or "
                          "when over 2 GiB (default)"),
               clEnumValN(qaf::OnnxExportOptions::ExternalData::Always,
                          "always", "a .data file beside the model"),
               clEnumValN(qaf::OnnxExportOptions::ExternalData::Never, "never",
                          "inside the model")),
    cl::init(qaf::OnnxExportOptions::ExternalData::Auto), cl::cat(category));
cl::opt<unsigned> externalDataThreshold(
    "external-data-threshold",
    cl::desc("Tensors of fewer bytes stay inside the model"), cl::init(1024),
    cl::cat(category));
/// What a user wants to know about an imported model at a glance.
void summarizeModel(ModuleOp module, raw_ostream &os) {
  namespace ox = qaf::onnx;
  auto func = module.lookupSymbol<func::FuncOp>(ox::kMainGraphName);
  if (!func)
    return;
  os << "model";
  if (auto producer = module->getAttrOfType<StringAttr>(ox::kProducerNameAttr))
    os << " from '" << producer.getValue() << "'";
  if (auto opsets = module->getAttrOfType<DictionaryAttr>(ox::kOpsetImportAttr))
    for (NamedAttribute opset : opsets)
      os << ", " << opset.getName().getValue() << " opset "
         << cast<IntegerAttr>(opset.getValue()).getInt();
  os << "\n";
  auto printValue = [&](StringAttr name, ArrayAttr dimParams, Type type) {
    os << "  " << (name ? name.getValue() : StringRef("?")) << ": " << type;
    if (dimParams) {
      os << " (";
      llvm::interleaveComma(dimParams, os, [&](Attribute param) {
        StringRef text = cast<StringAttr>(param).getValue();
        os << (text.empty() ? StringRef("-") : text);
      });
      os << ")";
    }
    os << "\n";
  };
  os << "inputs:\n";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    printValue(func.getArgAttrOfType<StringAttr>(i, ox::kValueNameAttr),
               func.getArgAttrOfType<ArrayAttr>(i, ox::kDimParamsAttr),
               func.getArgumentTypes()[i]);
  os << "outputs:\n";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    printValue(func.getResultAttrOfType<StringAttr>(i, ox::kValueNameAttr),
               func.getResultAttrOfType<ArrayAttr>(i, ox::kDimParamsAttr),
               func.getResultTypes()[i]);
  uint64_t constants = 0, elements = 0, bytes = 0;
  std::map<std::string, unsigned> opCounts;
  func.walk([&](Operation *op) {
    if (auto constant = dyn_cast<ox::ConstantOp>(op)) {
      auto type = cast<ShapedType>(constant.getValue().getType());
      ++constants;
      elements += type.getNumElements();
      bytes += type.getNumElements() *
               llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      return;
    }
    if (isa<ox::NoValueOp, func::FuncOp, func::ReturnOp>(op))
      return;
    ++opCounts[op->getName().getStringRef().drop_front(5).str()];
  });
  os << "weights: " << constants << " tensors, " << elements << " elements, "
     << format("%.1f", bytes / 1e6) << " MB\n";
  unsigned total = 0;
  for (auto &[name, count] : opCounts)
    total += count;
  os << "operators: " << total << " nodes\n";
  for (auto &[name, count] : opCounts)
    os << "  " << name << " " << count << "\n";
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // --list-onnx-ops needs no input file.
  for (int i = 1; i < argc; ++i)
    if (StringRef(argv[i]) == "--list-onnx-ops" ||
        StringRef(argv[i]) == "-list-onnx-ops") {
      MLIRContext context;
      for (const std::string &op : qaf::getSupportedOnnxOps(&context))
        outs() << op << "\n";
      return 0;
    }
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "qaf ONNX <-> MLIR translator\n");

  if (!importOnnx && !exportOnnx) {
    errs() << "qaf-translate: pass --import-onnx, --export-onnx or both\n";
    return 2;
  }
  qaf::installFatalErrorHandler("qaf-translate", inputPath);
  // Every mode changes the format, so an output over the input would
  // destroy the model; an export also writes `<output>.data`.
  SmallVector<std::string, 2> outputFiles = {outputPath};
  if (exportOnnx && outputPath != "-")
    outputFiles.push_back(outputPath + ".data");
  for (const std::string &output : outputFiles)
    if (Error error = qaf::checkOutputIsNotInput(output, inputPath)) {
      errs() << "qaf-translate: " << toString(std::move(error)) << "\n";
      return 1;
    }
  DialectRegistry registry;
  qaf::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A model's problems are told by node name; an IR dump of the op would
  // only repeat it in a form users do not know.
  context.printOpOnDiagnostic(false);
  qaf::ToolDiagnosticHandler diagnostics(&context, "qaf-translate");

  OwningOpRef<ModuleOp> module;
  if (importOnnx) {
    qaf::OnnxImportOptions options;
    options.foldConstants = foldConstants;
    module = qaf::importOnnxFile(inputPath, &context, options);
  } else {
    module = qaf::parseMlirFile(inputPath, &context);
  }
  if (!module)
    return 1;
  if (printSummary)
    summarizeModel(*module, errs());

  if (exportOnnx) {
    if (outputPath == "-") {
      errs() << "qaf-translate: --export-onnx needs an output file (-o)\n";
      return 2;
    }
    // Quantized layers become ONNX operators first; the exporter itself
    // only knows the onnx dialect.
    bool hasQuantizedLayers =
        module->walk([](qaf::QLinearOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (hasQuantizedLayers) {
      PassManager pm(&context);
      qaf::LowerQLinearToONNXPassOptions lowering;
      lowering.format = quantizedFormat;
      lowering.zeroPointForm = zeroPoints;
      pm.addPass(qaf::createLowerQLinearToONNXPass(lowering));
      if (failed(pm.run(*module)))
        return 1;
    }
    qaf::OnnxExportOptions options;
    options.externalData = externalData;
    options.externalDataThreshold = externalDataThreshold;
    return failed(qaf::exportOnnxFile(*module, outputPath, options)) ? 1 : 0;
  }
  bool bytecode = emitBytecode || sys::path::extension(outputPath) == ".mlirbc";
  return failed(qaf::writeMlirFile(*module, outputPath, bytecode, printWeights))
             ? 1
             : 0;
}
