//===- UnshareFillDestinations.cpp - a fill per destination-style writer --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace qaf {
#define GEN_PASS_DEF_UNSHAREFILLDESTINATIONSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct UnshareFillDestinationsPass
    : qaf::impl::UnshareFillDestinationsPassBase<UnshareFillDestinationsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() &&
          fill.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      auto empty =
          fill.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>();
      // The destination operands that read this fill, each taken once; other
      // uses (an input, a return) keep the original.
      SmallVector<OpOperand *> destinations;
      for (OpOperand &use : fill.getResult(0).getUses()) {
        auto writer = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (writer && writer.isDpsInit(&use) &&
            use.getOwner()->getBlock() == fill->getBlock())
          destinations.push_back(&use);
      }
      for (OpOperand *destination : destinations) {
        Operation *writer = destination->getOwner();
        OpBuilder builder(writer);
        Operation *ownEmpty = builder.clone(*empty);
        IRMapping mapping;
        mapping.map(empty.getResult(), ownEmpty->getResult(0));
        Operation *ownFill = builder.clone(*fill, mapping);
        destination->set(ownFill->getResult(0));
      }
      if (fill->use_empty()) {
        fill->erase();
        if (empty->use_empty())
          empty->erase();
      }
    }
  }
};

} // namespace
