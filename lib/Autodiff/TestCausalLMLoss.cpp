//===- TestCausalLMLoss.cpp - the causal-LM loss of a function, for tests -===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-test-causal-lm-loss` turns each function `(..., labels) -> logits`
// (logits (B, T, V), labels (B, T) its last argument) into one that returns
// buildCausalLMLoss(logits, labels) instead, so that a lit test can read
// the ops it builds and a numeric test can run them; `count=1` returns the
// token count instead of the loss.
//
//===----------------------------------------------------------------------===//

#include "qaf/Autodiff/CausalLMLoss.h"
#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

struct TestCausalLMLossPass
    : PassWrapper<TestCausalLMLossPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestCausalLMLossPass)

  TestCausalLMLossPass() = default;
  TestCausalLMLossPass(const TestCausalLMLossPass &other)
      : PassWrapper(other) {}

  StringRef getArgument() const final { return "qaf-test-causal-lm-loss"; }
  StringRef getDescription() const final {
    return "Replace the result of each function (..., labels) -> logits by "
           "the causal-LM loss of the logits against the labels (for tests)";
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<onnx::ONNXDialect>();
  }

  Option<std::string> reduction{*this, "reduction",
                                llvm::cl::desc("mean or sum"),
                                llvm::cl::init("mean")};
  Option<bool> count{*this, "count",
                     llvm::cl::desc("return the token count instead"),
                     llvm::cl::init(false)};

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      Block &body = func.getBody().front();
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      if (ret.getNumOperands() != 1 || body.getNumArguments() == 0) {
        func.emitError("qaf-test-causal-lm-loss expects a function "
                       "(..., labels) -> logits");
        return signalPassFailure();
      }
      OpBuilder builder(ret);
      FailureOr<CausalLMLoss> loss =
          buildCausalLMLoss(builder, func.getLoc(), ret.getOperand(0),
                            body.getArguments().back(), reduction);
      if (failed(loss))
        return signalPassFailure();
      Value result = count ? loss->tokenCount : loss->loss;
      ret->setOperands(result);
      func.setFunctionType(
          builder.getFunctionType(body.getArgumentTypes(), result.getType()));
    }
  }
};

} // namespace

void registerTestCausalLMLossPass() {
  PassRegistration<TestCausalLMLossPass>();
}

} // namespace qaf
