//===- FuseElementwise.cpp - element-wise fusion that spares matmuls ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qaf {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Ops fusion must leave alone: named ops (matmul, transpose, ...) and any
/// generic that reduces (contractions, reductions) keep their identity.
bool mustStayIntact(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp)
    return false;
  return !isa<linalg::GenericOp>(op) || linalgOp.getNumReductionLoops() != 0;
}

/// A producer with several users would be recomputed inside each of them:
/// for the residual stream of a transformer that is every later layer
/// recomputing every earlier one.
bool canFuse(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  return producer && producer->hasOneUse() && !mustStayIntact(producer) &&
         !mustStayIntact(fusedOperand->getOwner());
}

struct FuseElementwisePass
    : qaf::impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, canFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, canFuse);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, &getContext());
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
