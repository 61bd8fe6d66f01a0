//===- TestAdapterInterface.cpp - print what AdapterOpInterface says ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `qaf-test-adapter-interface` remarks, on each adapter op, the operand
// numbers of its input, base and trainable operands, whether it is
// additive, its merge kind and the type of the ΔW its algebra builds; on
// each function, which arguments qaf::getTrainableValues finds. The IR is
// left as it was.
//
//===----------------------------------------------------------------------===//

#include "qaf/Interfaces/AdapterOpInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVectorExtras.h"

using namespace mlir;

namespace qaf::test {
namespace {

/// Collects the ops a builder creates, so the pass can erase them again.
struct CreatedOps : OpBuilder::Listener {
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    ops.push_back(op);
  }
  SmallVector<Operation *> ops;
};

/// The operand numbers of `op` that hold one of `values`.
SmallVector<unsigned> getOperandNumbers(Operation *op, ArrayRef<Value> values) {
  SmallVector<unsigned> numbers;
  for (OpOperand &operand : op->getOpOperands())
    if (llvm::is_contained(values, operand.get()))
      numbers.push_back(operand.getOperandNumber());
  return numbers;
}

struct TestAdapterInterfacePass
    : PassWrapper<TestAdapterInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestAdapterInterfacePass)

  StringRef getArgument() const final { return "qaf-test-adapter-interface"; }
  StringRef getDescription() const final {
    return "Remark what AdapterOpInterface says about each adapter op";
  }

  // What the adapters' algebra builds.
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    math::MathDialect, tensor::TensorDialect>();
  }

  void runOnOperation() override {
    WalkResult walk = getOperation().walk([&](AdapterOpInterface adapter) {
      Operation *op = adapter.getOperation();
      SmallVector<unsigned> trainable;
      for (OpOperand &operand : op->getOpOperands())
        if (isTrainableOperand(operand))
          trainable.push_back(operand.getOperandNumber());
      InFlightDiagnostic remark = op->emitRemark();
      remark << "input "
             << getOperandNumbers(op, {adapter.getAdapterInput()}).front()
             << ", base [";
      llvm::interleaveComma(getOperandNumbers(op, adapter.getBaseOperands()),
                            remark);
      remark << "], trainable [";
      llvm::interleaveComma(trainable, remark);
      remark << "], " << (adapter.isAdditive() ? "additive" : "whole layer")
             << ", merge " << stringifyAdapterMerge(adapter.getMergeKind());

      CreatedOps created;
      OpBuilder builder(op->getContext(), &created);
      builder.setInsertionPoint(op);
      FailureOr<Value> deltaW =
          adapter.buildDeltaW(builder, op->getLoc(), op->getOperands());
      if (failed(deltaW)) {
        remark.abandon();
        op->emitError("the adapter's ΔW could not be built");
        return WalkResult::interrupt();
      }
      remark << ", delta W " << deltaW->getType();
      // Ops nested in a created op's region go with it.
      SmallVector<Operation *> topLevel =
          llvm::filter_to_vector(created.ops, [&](Operation *created) {
            return created->getBlock() == op->getBlock();
          });
      for (Operation *createdOp : llvm::reverse(topLevel))
        createdOp->erase();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    SmallVector<Value> trainable = getTrainableValues(getOperation());
    getOperation().walk([&](func::FuncOp function) {
      if (function.isExternal())
        return;
      SmallVector<unsigned> arguments;
      for (BlockArgument argument : function.getArguments())
        if (llvm::is_contained(trainable, argument))
          arguments.push_back(argument.getArgNumber());
      InFlightDiagnostic remark = function.emitRemark("trainable arguments [");
      llvm::interleaveComma(arguments, remark);
      remark << "]";
    });
  }
};

} // namespace

void registerTestAdapterInterfacePass() {
  PassRegistration<TestAdapterInterfacePass>();
}

} // namespace qaf::test
