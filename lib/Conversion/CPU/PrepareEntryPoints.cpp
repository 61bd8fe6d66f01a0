//===- PrepareEntryPoints.cpp - host calling convention of artifacts ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace qaf {
#define GEN_PASS_DEF_PREPARECPUENTRYPOINTSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct PrepareCPUEntryPointsPass
    : qaf::impl::PrepareCPUEntryPointsPassBase<PrepareCPUEntryPointsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
      storeTiedResults(func);
      func.walk([](func::ReturnOp ret) {
        OpBuilder builder(ret);
        llvm::SmallPtrSet<Operation *, 4> freshReturned;
        for (OpOperand &operand : ret->getOpOperands()) {
          auto type = dyn_cast<RankedTensorType>(operand.get().getType());
          if (!type)
            continue;
          // A result the function itself allocated, returned once, is
          // already the caller's own buffer (the logits: a 25 MB copy at
          // 128 tokens).
          Operation *allocation = getFreshAllocation(operand.get());
          if (allocation && freshReturned.insert(allocation).second)
            continue;
          auto copy = bufferization::AllocTensorOp::create(
              builder, ret.getLoc(), type, /*dynamicSizes=*/ValueRange(),
              /*copy=*/operand.get());
          operand.set(copy);
        }
      });
    }
  }

private:
  /// The `tensor.empty` whose new buffer `value` bufferizes into: followed
  /// through reshapes and through the destination of
  /// destination-style ops (a fill, a matmul, a kernel op writes into it);
  /// null for anything else (an argument, a constant, a slice, ...), whose
  /// buffer the caller must not receive.
  static Operation *getFreshAllocation(Value value) {
    while (Operation *producer = value.getDefiningOp()) {
      if (isa<tensor::EmptyOp>(producer))
        return producer;
      if (auto expand = dyn_cast<tensor::ExpandShapeOp>(producer))
        value = expand.getSrc();
      else if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(producer))
        value = collapse.getSrc();
      else if (auto writer = dyn_cast<DestinationStyleOpInterface>(producer);
               writer && writer.hasPureTensorSemantics())
        value = writer.getTiedOpOperand(cast<OpResult>(value))->get();
      else
        return nullptr;
    }
    return nullptr;
  }

  /// Stores each result tied to an argument (kUpdatesArgumentAttr: a
  /// training step's new parameter or optimizer state) into that argument's
  /// buffer, and drops the result: the step updates it in place, as the
  /// runtime's writable parameter buffers expect. The store is the last use
  /// of the argument, so one-shot bufferization writes it in place.
  static void storeTiedResults(func::FuncOp func) {
    llvm::BitVector tied(func.getNumResults());
    for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
      if (func.getResultAttr(i, qaf::kUpdatesArgumentAttr))
        tied.set(i);
    if (tied.none())
      return;
    func.walk([&](func::ReturnOp ret) {
      OpBuilder builder(ret);
      for (unsigned i : tied.set_bits()) {
        auto index =
            func.getResultAttrOfType<IntegerAttr>(i, qaf::kUpdatesArgumentAttr);
        Value destination = func.getArgument(index.getInt());
        bufferization::MaterializeInDestinationOp::create(
            builder, ret.getLoc(), destination.getType(), ret.getOperand(i),
            destination);
      }
      ret->eraseOperands(tied);
    });
    (void)func.eraseResults(tied);
  }
};

} // namespace
