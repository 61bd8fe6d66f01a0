//===- FoldTransposesIntoMatmuls.cpp - read transposed operands in place --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A backward pass multiplies by transposes: the gradient of Y = X·W with
// respect to X is dY·Wᵀ, and onnx lowers a Transpose feeding a MatMul to a
// linalg.transpose that copies the whole operand (for a tied LM head, the
// 49152 x 576 embedding, every step). linalg.matmul and batch_matmul say
// how they read each operand in their indexing maps, and every target's
// kernels read the transposed forms in place, so the copy folds into the
// map.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qaf {
#define GEN_PASS_DEF_FOLDTRANSPOSESINTOMATMULSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// A transpose that swaps the last two dims and keeps any leading (batch)
/// dims in place: what a matmul map can absorb.
bool swapsLastTwoDims(linalg::TransposeOp transpose) {
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  int64_t rank = permutation.size();
  if (rank < 2)
    return false;
  for (int64_t d = 0; d < rank - 2; ++d)
    if (permutation[d] != d)
      return false;
  return permutation[rank - 2] == rank - 1 && permutation[rank - 1] == rank - 2;
}

/// The map with its last two results exchanged.
AffineMap swapLastTwoResults(AffineMap map) {
  SmallVector<AffineExpr> results(map.getResults());
  std::swap(results[results.size() - 2], results.back());
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

/// matmul(transpose(x), b) -> matmul(x, b) with A's map transposed, and the
/// same for B. Both operands fold in one rewrite.
template <typename MatmulOp>
struct FoldTransposedOperands : OpRewritePattern<MatmulOp> {
  using OpRewritePattern<MatmulOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<Value> inputs(op.getDpsInputs());
    bool changed = false;
    for (unsigned i = 0; i < 2; ++i) {
      auto transpose = inputs[i].template getDefiningOp<linalg::TransposeOp>();
      // The map must reach the swapped dims: a broadcast operand of lower
      // rank than the transpose's is left alone.
      if (!transpose || !swapsLastTwoDims(transpose) ||
          maps[i].getNumResults() != transpose.getPermutation().size())
        continue;
      inputs[i] = transpose.getInput();
      maps[i] = swapLastTwoResults(maps[i]);
      changed = true;
    }
    if (!changed)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op->setOperands(0, 2, inputs);
      op->setAttr("indexing_maps", rewriter.getAffineMapArrayAttr(maps));
    });
    return success();
  }
};

struct FoldTransposesIntoMatmulsPass
    : qaf::impl::FoldTransposesIntoMatmulsPassBase<
          FoldTransposesIntoMatmulsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldTransposedOperands<linalg::MatmulOp>,
                 FoldTransposedOperands<linalg::BatchMatmulOp>>(&getContext());
    // Transposes left without users go; nothing else is simplified.
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
