//===- TestGradients.cpp - the reverse pass of a function, for tests ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-test-gradients` turns each function `(args) -> r` of onnx ops into
// `(args, seed) -> (r, dL/d arg...)` with L = sum(r * seed): it walks the
// body backwards (qaf::buildReverseMode, the walk the training step uses
// too), calling each op's GradientOpInterface rule. It exists to test the
// rules (a lit test for the emitted ops, a numeric one against finite
// differences).
//
//===----------------------------------------------------------------------===//

#include "qaf/Autodiff/ReverseMode.h"
#include "qaf/Interfaces/GradientOpInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

/// Appends the reverse pass to `func` (see the file comment).
LogicalResult appendReversePass(func::FuncOp func) {
  if (!func.getBody().hasOneBlock() || func.getNumResults() != 1)
    return func.emitError("qaf-test-gradients expects a function with one "
                          "block and one result");
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Value result = ret.getOperand(0);
  unsigned numArguments = body.getNumArguments();
  Value seed = body.addArgument(result.getType(), func.getLoc());

  // Float arguments are differentiated; an integer one too where a user's
  // rule declares it differentiable (LoTA-QAF's ternary factors, trained on
  // float gradients).
  auto isDifferentiated = [](BlockArgument argument) {
    if (isa<FloatType>(getElementTypeOrSelf(argument.getType())))
      return true;
    return llvm::any_of(argument.getUses(), [](OpOperand &use) {
      auto rule = dyn_cast<GradientOpInterface>(use.getOwner());
      return rule && rule.isDifferentiableOperand(use.getOperandNumber());
    });
  };
  SmallVector<Value> differentiated;
  for (BlockArgument argument : body.getArguments().take_front(numArguments))
    if (isDifferentiated(argument))
      differentiated.push_back(argument);
  OpBuilder builder(ret);
  FailureOr<SmallVector<Value>> gradients =
      buildReverseMode(builder, body, {{result, seed}}, differentiated);
  if (failed(gradients))
    return failure();

  SmallVector<Value> results = {result};
  for (auto [argument, gradient] :
       llvm::zip_equal(differentiated, *gradients)) {
    if (!gradient)
      return func.emitError()
             << "argument " << cast<BlockArgument>(argument).getArgNumber()
             << " gets no gradient";
    results.push_back(gradient);
  }
  ret->setOperands(results);
  func.setFunctionType(builder.getFunctionType(body.getArgumentTypes(),
                                               ValueRange(results).getTypes()));
  return success();
}

struct TestGradientsPass
    : PassWrapper<TestGradientsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestGradientsPass)

  StringRef getArgument() const final { return "qaf-test-gradients"; }
  StringRef getDescription() const final {
    return "Append to each function (args) -> r its reverse pass: "
           "(args, seed) -> (r, gradient of sum(r * seed) for each float "
           "argument), from the ops' GradientOpInterface rules (for tests)";
  }

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(appendReversePass(func)))
        return signalPassFailure();
  }
};

} // namespace

void registerTestGradientsPass() { PassRegistration<TestGradientsPass>(); }

} // namespace qaf
