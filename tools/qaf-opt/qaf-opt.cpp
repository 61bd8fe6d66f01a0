//===- qaf-opt.cpp - mlir-opt for qaf's dialects and passes ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

namespace qaf::test {
void registerTestAdapterInterfacePass();
} // namespace qaf::test

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  qaf::registerAllDialects(registry);
  qaf::registerAllPasses();
  qaf::test::registerTestAdapterInterfacePass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qaf optimizer driver\n", registry));
}
