//===- ONNXInferShapes.cpp - infer onnx result types over a module --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace qaf {
#define GEN_PASS_DEF_ONNXINFERSHAPESPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct ONNXInferShapesPass
    : qaf::impl::ONNXInferShapesPassBase<ONNXInferShapesPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(inferFunction(func)))
        return signalPassFailure();
    }
  }

  /// Infers every op of `func` in order (operands before their users, since
  /// the body is a DAG in program order), then makes the signature's result
  /// types those of the returned values.
  static LogicalResult inferFunction(func::FuncOp func) {
    WalkResult walk = func.walk([](Operation *op) {
      auto inferable = dyn_cast<qaf::onnx::ShapeInferenceOpInterface>(op);
      if (inferable && failed(inferable.inferShapes()))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();

    std::optional<SmallVector<Type>> resultTypes;
    for (Block &block : func.getBody()) {
      auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
      if (!ret)
        continue;
      SmallVector<Type> types(ret.getOperandTypes());
      if (resultTypes && *resultTypes != types)
        return ret.emitOpError("refined operand types differ from those of "
                               "another return of the function");
      resultTypes = std::move(types);
    }
    if (resultTypes)
      func.setFunctionType(FunctionType::get(
          func.getContext(), func.getArgumentTypes(), *resultTypes));
    return success();
  }
};

} // namespace
