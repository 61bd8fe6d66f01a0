//===- TestGradients.cpp - the reverse pass of a function, for tests ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-test-gradients` turns each function `(args) -> r` of onnx ops into
// `(args, seed) -> (r, dL/d arg...)` with L = sum(r * seed): it walks the
// body backwards, calls each op's GradientOpInterface rule and adds up the
// gradients of values used more than once. It exists to test the rules (a
// lit test for the emitted ops, a numeric one against finite differences);
// the training step will use the same interface.
//
//===----------------------------------------------------------------------===//

#include "ONNXGraphBuilder.h"

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

  DenseMap<Value, Value> gradients;
  gradients[result] = seed;
  OpBuilder builder(ret);
  auto accumulate = [&](Value value, Value gradient) {
    Value &sum = gradients[value];
    if (!sum) {
      sum = gradient;
      return success();
    }
    ONNXGraphBuilder graph(builder, value.getLoc());
    sum = graph.create<onnx::AddOp>({sum, gradient});
    return failure(graph.failed());
  };

  SmallVector<Operation *> forward = llvm::map_to_vector(
      body.without_terminator(), [](Operation &op) { return &op; });
  for (Operation *op : llvm::reverse(forward)) {
    SmallVector<Value> resultGradients = llvm::map_to_vector(
        op->getResults(), [&](Value r) { return gradients.lookup(r); });
    // A constant (a weight, an exponent) is a leaf: nothing lies behind it.
    if (llvm::all_of(resultGradients, [](Value g) { return !g; }) ||
        op->hasTrait<OpTrait::ConstantLike>())
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule)
      return op->emitError() << "no gradient rule for '" << op->getName()
                             << "' on the path to the result";
    SmallVector<Value> operandGradients;
    if (failed(rule.buildGradients(builder, resultGradients, operandGradients)))
      return failure();
    for (auto [operand, gradient] :
         llvm::zip_equal(op->getOperands(), operandGradients))
      if (gradient && failed(accumulate(operand, gradient)))
        return failure();
  }

  SmallVector<Value> results = {result};
  // Every float argument has a gradient; an integer one has where a rule
  // gives it one (LoTA-QAF's ternary factors, trained on float gradients).
  for (unsigned i = 0; i < numArguments; ++i) {
    Value argument = body.getArgument(i);
    Value gradient = gradients.lookup(argument);
    bool isFloat = isa<FloatType>(getElementTypeOrSelf(argument.getType()));
    if (!gradient && isFloat)
      return func.emitError() << "argument " << i << " gets no gradient";
    if (gradient)
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
