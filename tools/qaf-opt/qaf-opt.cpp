//===- qaf-opt.cpp - mlir-opt for qaf's dialects and passes ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// mlir-opt with qaf's dialects and passes. An output file is written under a
// temporary name and renamed into place once complete, so `-o` may name the
// input: the input stays mapped (and intact) until the new file replaces
// it, and a failed run leaves the old file as it was.
//
//===----------------------------------------------------------------------===//

#include "qaf/InitAll.h"
#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/ToolSupport.h"

#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace qaf::test {
void registerTestAdapterInterfacePass();
} // namespace qaf::test

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::DialectRegistry registry;
  qaf::registerAllDialects(registry);
  qaf::registerAllPasses();
  qaf::test::registerTestAdapterInterfacePass();
  auto [inputPath, outputPath] = mlir::registerAndParseCLIOptions(
      argc, argv, "qaf optimizer driver\n", registry);
  qaf::installFatalErrorHandler("qaf-opt", inputPath);
  mlir::MlirOptMainConfig config =
      mlir::MlirOptMainConfig::createFromCLOptions();
  // Standard output and the listing options need no file of ours.
  if (outputPath == "-" || config.shouldShowDialects() ||
      config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputPath, outputPath, registry));

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputPath, &error);
  if (!input) {
    llvm::errs() << "qaf-opt: " << error << "\n";
    return 1;
  }
  auto output = qaf::AtomicFile::create(outputPath);
  if (!output) {
    llvm::errs() << "qaf-opt: " << llvm::toString(output.takeError()) << "\n";
    return 1;
  }
  // On failure the temporary is removed and the destination left alone.
  if (mlir::failed(mlir::MlirOptMain((*output)->os(), std::move(input),
                                     registry, config)))
    return 1;
  if (llvm::Error commitError = (*output)->commit()) {
    llvm::errs() << "qaf-opt: " << llvm::toString(std::move(commitError))
                 << "\n";
    return 1;
  }
  return 0;
}
