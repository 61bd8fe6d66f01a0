//===- FuseElementwise.cpp - element-wise fusion that spares matmuls ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SmallBitVector.h"

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

/// A generic that reduces one operand (RMSNorm's sum of squares, a max).
bool isOneOperandReduction(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() != 0 &&
         generic.getNumDpsInputs() == 1;
}

/// A producer with several users would be recomputed inside each of them:
/// for the residual stream of a transformer that is every later layer
/// recomputing every earlier one. An element-wise producer of one input
/// also fuses into a reduction of one operand (the squares of RMSNorm are
/// then never stored), which stays a reduction of one operand: never a
/// contraction that a matmul kernel should have taken.
bool canFuse(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse() || mustStayIntact(producer))
    return false;
  Operation *consumer = fusedOperand->getOwner();
  if (!mustStayIntact(consumer))
    return true;
  auto elementwise = dyn_cast<linalg::GenericOp>(producer);
  return isOneOperandReduction(consumer) && elementwise &&
         elementwise.getNumDpsInputs() == 1;
}

//===----------------------------------------------------------------------===//
// Broadcast views
//
// The onnx lowering reads an operand whose dynamic size may be a run-time 1
// against a larger result through a `tensor.extract_slice` from offset 0 with
// stride 0 or 1 (a broadcast view; see broadcastDynamicDims). A view between
// two element-wise generics would keep them apart, so views move up through
// the element-wise producers they read (to the leaves of what fuses), and fold
// away where the sizes turn out to be the operand's own.
//===----------------------------------------------------------------------===//

/// A slice from offset 0 that keeps the source's rank: what a broadcast view
/// is (with any sizes and strides).
bool startsAtZero(tensor::ExtractSliceOp slice) {
  return slice.getType().getRank() == slice.getSourceType().getRank() &&
         llvm::all_of(slice.getMixedOffsets(), isZeroInteger);
}

/// A size as far as it resolves without analysis: a constant, a
/// (tensor, dim) pair followed through `tensor.dim`, destination-style ops
/// (a result has its init's sizes), casts, reshapes, slices and
/// `tensor.empty`, or an index value.
struct ResolvedSize {
  std::optional<int64_t> constant;
  Value value;
  int64_t dim = -1;
  bool operator==(const ResolvedSize &other) const {
    return constant == other.constant && value == other.value &&
           dim == other.dim;
  }
};

/// How many selects deep resolveSize looks: each one resolves both of its
/// sizes, and broadcasts chain them layer after layer.
constexpr int kMaxSelectDepth = 4;

ResolvedSize resolveDim(Value tensor, int64_t dim, int selectDepth = 0);

ResolvedSize resolveSize(OpFoldResult size, int selectDepth = 0) {
  if (std::optional<int64_t> constant = getConstantIntValue(size))
    return {constant, {}, -1};
  Value value = cast<Value>(size);
  if (auto dimOp = value.getDefiningOp<tensor::DimOp>())
    if (std::optional<int64_t> dim = dimOp.getConstantIndex())
      return resolveDim(dimOp.getSource(), *dim, selectDepth);
  // The broadcast of two sizes found equal.
  auto select = value.getDefiningOp<arith::SelectOp>();
  if (select && selectDepth < kMaxSelectDepth) {
    ResolvedSize whenTrue = resolveSize(select.getTrueValue(), selectDepth + 1);
    if (whenTrue == resolveSize(select.getFalseValue(), selectDepth + 1))
      return whenTrue;
  }
  return {std::nullopt, value, -1};
}

ResolvedSize resolveDim(Value tensor, int64_t dim, int selectDepth) {
  while (true) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(dim))
      return {type.getDimSize(dim), {}, -1};
    Operation *producer = tensor.getDefiningOp();
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(producer))
      return resolveSize(empty.getDynamicSize(dim), selectDepth);
    if (auto castOp = dyn_cast_or_null<tensor::CastOp>(producer)) {
      tensor = castOp.getSource();
      continue;
    }
    if (auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(producer))
      return resolveSize(expand.getMixedOutputShape()[dim], selectDepth);
    if (auto slice = dyn_cast_or_null<tensor::ExtractSliceOp>(producer);
        slice && startsAtZero(slice))
      return resolveSize(slice.getMixedSizes()[dim], selectDepth);
    if (auto destination =
            dyn_cast_or_null<DestinationStyleOpInterface>(producer)) {
      tensor = destination.getTiedOpOperand(cast<OpResult>(tensor))->get();
      continue;
    }
    return {std::nullopt, tensor, dim};
  }
}

/// True when `stride` is 1: a constant 1, or a broadcast view's stride
/// `select(a == b, 1, 0)` whose sizes `a` and `b` resolve to the same.
bool isUnitStride(OpFoldResult stride) {
  if (isConstantIntValue(stride, 1))
    return true;
  auto value = dyn_cast<Value>(stride);
  auto select = value ? value.getDefiningOp<arith::SelectOp>() : nullptr;
  if (!select || !matchPattern(select.getTrueValue(), m_One()))
    return false;
  auto compare = select.getCondition().getDefiningOp<arith::CmpIOp>();
  return compare && compare.getPredicate() == arith::CmpIPredicate::eq &&
         resolveSize(compare.getLhs()) == resolveSize(compare.getRhs());
}

/// A slice from offset 0 with stride 1 and the source's sizes is the source.
struct FoldWholeExtractSlice : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    Value source = slice.getSource();
    if (!startsAtZero(slice) ||
        !llvm::all_of(slice.getMixedStrides(), isUnitStride))
      return rewriter.notifyMatchFailure(slice, "not from 0 with stride 1");
    for (auto [dim, size] : llvm::enumerate(slice.getMixedSizes()))
      if (!(resolveSize(size) == resolveDim(source, dim)))
        return rewriter.notifyMatchFailure(slice, "a size is not the source's");
    if (slice.getType() == slice.getSourceType())
      rewriter.replaceOp(slice, source);
    else
      rewriter.replaceOpWithNewOp<tensor::CastOp>(slice, slice.getType(),
                                                  source);
    return success();
  }
};

/// The indexing map of an element-wise generic's input that a view can move
/// through: each result a loop dim (at most once) or the constant 0 of a
/// broadcast size-1 dim.
bool isBroadcastMap(AffineMap map) {
  llvm::SmallBitVector seen(map.getNumDims());
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (seen.test(dim.getPosition()))
        return false;
      seen.set(dim.getPosition());
      continue;
    }
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (!constant || constant.getValue() != 0)
      return false;
  }
  return true;
}

/// slice(generic(x, y)) -> generic(slice'(x), slice'(y)) for a slice from
/// offset 0 of an element-wise generic that only the slice reads: element
/// (i * stride) of the result is computed from element (i * stride) of each
/// input, so each input is viewed with the sizes and strides of the loop dims
/// it is indexed by. The generic then computes only what the slice keeps,
/// and fuses with the slice's consumer.
struct BubbleSliceThroughElementwise
    : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto generic = slice.getSource().getDefiningOp<linalg::GenericOp>();
    if (!generic || !generic->hasOneUse() || !startsAtZero(slice) ||
        generic.getNumDpsInits() != 1 ||
        generic.getNumLoops() != generic.getNumParallelLoops() ||
        !generic.getIndexingMapsArray().back().isIdentity() ||
        generic.hasIndexSemantics() ||
        generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0)))
      return rewriter.notifyMatchFailure(slice, "not an element-wise view");
    if (!llvm::all_of(generic.getDpsInputOperands(), [&](OpOperand *input) {
          return isa<RankedTensorType>(input->get().getType()) &&
                 isBroadcastMap(generic.getMatchingIndexingMap(input));
        }))
      return rewriter.notifyMatchFailure(slice, "an input is not broadcast");

    Location loc = slice.getLoc();
    SmallVector<OpFoldResult> loopSizes = slice.getMixedSizes();
    SmallVector<OpFoldResult> loopStrides = slice.getMixedStrides();
    SmallVector<Value> inputs;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(input);
      Value value = input->get();
      auto type = cast<RankedTensorType>(value.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes, strides;
      for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
        if (auto loopDim = dyn_cast<AffineDimExpr>(expr)) {
          sizes.push_back(loopSizes[loopDim.getPosition()]);
          strides.push_back(loopStrides[loopDim.getPosition()]);
        } else {
          sizes.push_back(tensor::getMixedSize(rewriter, loc, value, dim));
          strides.push_back(rewriter.getIndexAttr(1));
        }
      }
      inputs.push_back(tensor::ExtractSliceOp::create(rewriter, loc, value,
                                                      offsets, sizes, strides));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, loopSizes,
                                         slice.getType().getElementType());
    auto viewed = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
        generic.getIndexingMapsArray(), generic.getIteratorTypesArray());
    rewriter.inlineRegionBefore(generic.getRegion(), viewed.getRegion(),
                                viewed.getRegion().begin());
    rewriter.replaceOp(
        slice, castToType(rewriter, loc, viewed.getResult(0), slice.getType()));
    rewriter.eraseOp(generic);
    return success();
  }

private:
  static Value castToType(OpBuilder &builder, Location loc, Value value,
                          Type type) {
    if (value.getType() == type)
      return value;
    return tensor::CastOp::create(builder, loc, type, value);
  }
};

struct FuseElementwisePass
    : qaf::impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, canFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, canFuse);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    patterns.add<FoldWholeExtractSlice, BubbleSliceThroughElementwise>(
        &getContext());
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, &getContext());
    tensor::populateFoldTensorEmptyPatterns(patterns);
    // What decides whether a broadcast view is whole: sizes and strides that
    // fold to constants, sizes read back from the ops that made them.
    MLIRContext *context = &getContext();
    arith::SelectOp::getCanonicalizationPatterns(patterns, context);
    arith::CmpIOp::getCanonicalizationPatterns(patterns, context);
    tensor::DimOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, context);
    FrozenRewritePatternSet frozen(std::move(patterns));
    // Equal sizes computed twice are found equal once CSE merges them.
    IRRewriter rewriter(context);
    DominanceInfo dominance;
    bool changed = true;
    for (int round = 0; changed && round < 4; ++round) {
      if (failed(applyPatternsGreedily(getOperation(), frozen)))
        return signalPassFailure();
      eliminateCommonSubExpressions(rewriter, dominance, getOperation(),
                                    &changed);
    }
  }
};

} // namespace
