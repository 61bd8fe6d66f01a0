//===- InitAll.cpp - register qaf's dialects and passes -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/InitAll.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void qaf::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<qaf::onnx::ONNXDialect, mlir::func::FuncDialect>();
}

void qaf::registerAllPasses() {
  // Upstream passes that are useful on onnx IR (canonicalize folds the
  // shape-computation chains, cse, symbol-dce, ...).
  mlir::registerTransformsPasses();
  qaf::registerPasses();
}
