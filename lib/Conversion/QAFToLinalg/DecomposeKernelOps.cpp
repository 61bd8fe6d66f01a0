//===- DecomposeKernelOps.cpp - kernel ops as their linalg reference ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The reference is built by the same builder the lowering uses for layers
// no kernel computes (LinearAlgebraUtils' buildQuantizedContraction), so a
// target without the kernel runs exactly the loops it ran before kernel
// ops existed. The adapter gradients' reference is METHODS.md's algebra
// step by step: the dense Gw = gᵀ · x [N, K], D from it, then the two
// products with the factors (what the kernel computes tile by tile). The
// attention's is the chain it was fused from: scores, softmax, product.
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringUtils.h"

#include "qaf/Conversion/Passes.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace qaf {
#define GEN_PASS_DEF_DECOMPOSEKERNELOPSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace qaf {
namespace {

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// The reference of qaf.kernel.adapter_gradients (its verifier has checked
/// the operands): the op's results, each its init plus the gradient.
SmallVector<Value> buildAdapterGradients(OpBuilder &b, Location loc,
                                         AdapterGradientsKernelOp op) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  auto dim = [&](unsigned index) { return getAffineDimExpr(index, context); };
  auto map = [&](AffineExpr row, AffineExpr col) {
    return AffineMap::get(3, 0, {row, col}, context);
  };
  auto shape = [](Value value) {
    return cast<ShapedType>(value.getType()).getShape();
  };
  int64_t k = shape(op.getA())[1];
  int64_t n = shape(op.getB())[0];
  int64_t group = static_cast<int64_t>(op.getGroupSize());
  double coefficient = op.getCoefficient().convertToDouble();
  bool lota = op.isLoTA();
  auto asF32 = [&](OpBuilder &nb, Location nl, Value v) {
    return convertScalar(nb, nl, v, nb.getF32Type(), /*srcUnsigned=*/false,
                         /*dstUnsigned=*/false);
  };
  auto multiplyAdd = [&](OpBuilder &nb, Location nl, ValueRange args) {
    return arith::AddFOp::create(nb, nl, args[2],
                                 arith::MulFOp::create(nb, nl,
                                                       asF32(nb, nl, args[0]),
                                                       asF32(nb, nl, args[1])));
  };

  // Gw [N, K] = gᵀ · x: loops (n, k, m).
  SmallVector<OpFoldResult> weightSizes = {b.getIndexAttr(n),
                                           b.getIndexAttr(k)};
  Value weightGradient = buildContraction(
      b, loc, 0, {op.getOutputGradient(), op.getLayerInput()},
      {map(dim(2), dim(0)), map(dim(2), dim(1))},
      createFilled(b, loc, weightSizes, createZero(b, loc, f32)), multiplyAdd);

  // Per-group views [N, K/g, g] and maps (n, k) -> (n, k / g).
  SmallVector<ReassociationIndices> split = {{0}, {1, 2}};
  SmallVector<OpFoldResult> grouped = {
      b.getIndexAttr(n), b.getIndexAttr(k / group), b.getIndexAttr(group)};
  auto perGroup = [&](Value value) {
    return expandShape(b, loc, value, split, grouped);
  };
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, context);
  AffineMap groupOf =
      AffineMap::get(2, 0,
                     {getAffineDimExpr(0, context),
                      getAffineDimExpr(1, context).floorDiv(group)},
                     context);

  SmallVector<Value> results;
  Value reduced; // D
  Value zero = createZero(b, loc, f32);
  if (lota) {
    // D = s⊙Gw + (1/ω)·P_g(s⊙Gw), with P_g(s⊙Gw) = s · Σ_group Gw / g.
    Value sums = buildReduction(
        b, loc, {perGroup(weightGradient)}, {2}, zero, /*keepDims=*/false,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return arith::AddFOp::create(nb, nl, args[1], args[0]);
        });
    reduced = buildMappedElementwise(
        b, loc, {weightGradient, op.getInputs()[2], sums},
        {identity, groupOf, groupOf}, weightSizes, f32,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value scaled = arith::MulFOp::create(nb, nl, args[1], args[0]);
          Value mean = arith::DivFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, args[1], args[2]),
              f32Constant(nb, nl, double(group)));
          return arith::AddFOp::create(
              nb, nl, scaled,
              arith::DivFOp::create(nb, nl, mean,
                                    f32Constant(nb, nl, coefficient)));
        });
  } else {
    // M = [Q_N ≤ u ≤ Q_P]; D = M⊙Gw (α goes with the factors).
    int64_t bits = static_cast<int64_t>(*op.getBits());
    double lowest = -double(int64_t(1) << (bits - 1));
    double highest = double((int64_t(1) << (bits - 1)) - 1);
    auto masked = [&](OpBuilder &nb, Location nl, Value gradient, Value u) {
      Value inRange = arith::AndIOp::create(
          nb, nl,
          arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGE, u,
                                f32Constant(nb, nl, lowest)),
          arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE, u,
                                f32Constant(nb, nl, highest)));
      return arith::SelectOp::create(nb, nl, inRange, gradient,
                                     f32Constant(nb, nl, 0.0));
    };
    Value u = op.getInputs()[2], codes = op.getInputs()[3];
    reduced = buildElementwise(
        b, loc, {weightGradient, u}, weightSizes, f32,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          return masked(nb, nl, args[0], args[1]);
        });
    // ∂s += Σ_group Gw⊙(w̃ − M⊙u), ∂β += Σ_group Gw⊙(1 − M).
    auto groupSum = [&](bool scales) {
      Value sums = buildReduction(
          b, loc, {perGroup(weightGradient), perGroup(u), perGroup(codes)}, {2},
          zero, /*keepDims=*/false,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            Value gradient = args[0];
            Value inside = masked(nb, nl, gradient, args[1]);
            Value term =
                scales ? arith::SubFOp::create(
                             nb, nl,
                             arith::MulFOp::create(nb, nl, gradient, args[2]),
                             arith::MulFOp::create(nb, nl, inside, args[1]))
                       : arith::SubFOp::create(nb, nl, gradient, inside);
            return arith::AddFOp::create(nb, nl, args[3], term);
          });
      Value init = op.getInits()[scales ? 2 : 3];
      return buildElementwise(
          b, loc, {init, sums}, getDims(b, loc, init), f32,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            return arith::AddFOp::create(nb, nl, args[0], args[1]);
          });
    };
    results.push_back(groupSum(true));
    results.push_back(groupSum(false));
  }

  // ∂A [r, K] += c · Bᵀ · D (loops (j, k, n)), ∂B [N, r] += c · D · Aᵀ
  // (loops (n, j, k)), with c = α for L4Q and 1 for LoTA-QAF.
  double factorScale = lota ? 1.0 : coefficient;
  auto scaledMultiplyAdd = [&](OpBuilder &nb, Location nl, ValueRange args) {
    Value product = arith::MulFOp::create(nb, nl, asF32(nb, nl, args[0]),
                                          asF32(nb, nl, args[1]));
    if (factorScale != 1.0)
      product = arith::MulFOp::create(nb, nl, f32Constant(nb, nl, factorScale),
                                      product);
    return arith::AddFOp::create(nb, nl, args[2], product);
  };
  Value gradientA = buildContraction(b, loc, 0, {op.getB(), reduced},
                                     {map(dim(2), dim(0)), map(dim(2), dim(1))},
                                     op.getInits()[0], scaledMultiplyAdd);
  Value gradientB = buildContraction(b, loc, 0, {reduced, op.getA()},
                                     {map(dim(0), dim(2)), map(dim(1), dim(2))},
                                     op.getInits()[1], scaledMultiplyAdd);
  results.insert(results.begin(), {gradientA, gradientB});
  return results;
}

/// The reference of qaf.kernel.attention: the unfused chain, the scores
/// and their softmax as tensors of [B, H, S, T]. Key and value (and bias)
/// elements are read with tensor.extract at the indices the op's
/// broadcasting and head grouping give, which no affine map can state when
/// the sizes are dynamic.
Value buildAttention(OpBuilder &b, Location loc, AttentionKernelOp op) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  Value query = op.getQuery(), key = op.getKey(), value = op.getValue();
  Value bias = op.getBias();
  SmallVector<OpFoldResult> queryDims = getDims(b, loc, query);
  SmallVector<OpFoldResult> keyDims = getDims(b, loc, key);
  auto indexOf = [&](OpFoldResult size) {
    return getValueOrCreateConstantIndexOp(b, loc, size);
  };
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value oneIndex = arith::ConstantIndexOp::create(b, loc, 1);
  auto isOne = [&](Value tensor, int64_t dim) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                 tensor::DimOp::create(b, loc, tensor, dim),
                                 oneIndex);
  };
  // Query head h reads key/value head h / group.
  Value group = arith::DivUIOp::create(b, loc, indexOf(queryDims[1]),
                                       indexOf(keyDims[1]));
  Value keyBatchIsOne = isOne(key, 0), valueBatchIsOne = isOne(value, 0);
  SmallVector<Value, 4> biasDimIsOne;
  if (bias)
    for (int64_t dim = 0; dim < 4; ++dim)
      biasDimIsOne.push_back(isOne(bias, dim));
  auto pick = [](OpBuilder &nb, Location nl, Value broadcast, Value index,
                 Value zero) {
    return arith::SelectOp::create(nb, nl, broadcast, zero, index);
  };
  auto dims = [&](ArrayRef<unsigned> positions, unsigned count) {
    SmallVector<AffineExpr> exprs;
    for (unsigned position : positions)
      exprs.push_back(getAffineDimExpr(position, context));
    return AffineMap::get(count, 0, exprs, context);
  };
  using utils::IteratorType;
  SmallVector<IteratorType> withReduction(4, IteratorType::parallel);
  withReduction.push_back(IteratorType::reduction);

  // init[b, h, s, x] + Σ_y lhs[b, h, s, y] · kv[b', h / group, ., .] over
  // loops (b, h, s, x, y), kv read at (loop `position`, loop `column`).
  auto contractWithKV = [&](Value lhs, Value kv, Value kvBatchIsOne, Value init,
                            unsigned position, unsigned column) {
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{lhs}, ValueRange{init},
               ArrayRef<AffineMap>{dims({0, 1, 2, 4}, 5),
                                   dims({0, 1, 2, 3}, 5)},
               withReduction,
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 Value batchIndex = linalg::IndexOp::create(nb, nl, 0);
                 Value head = linalg::IndexOp::create(nb, nl, 1);
                 Value element = tensor::ExtractOp::create(
                     nb, nl, kv,
                     ValueRange{
                         pick(nb, nl, kvBatchIsOne, batchIndex, zeroIndex),
                         arith::DivUIOp::create(nb, nl, head, group),
                         linalg::IndexOp::create(nb, nl, position),
                         linalg::IndexOp::create(nb, nl, column)});
                 Value sum = arith::AddFOp::create(
                     nb, nl, args[1],
                     arith::MulFOp::create(nb, nl, args[0], element));
                 linalg::YieldOp::create(nb, nl, sum);
               })
        .getResult(0);
  };

  // scores [B, H, S, T] = scale · Σ_d q · k + bias: loops (b, h, s, t, d).
  SmallVector<OpFoldResult> scoreDims = {queryDims[0], queryDims[1],
                                         queryDims[2], keyDims[2]};
  Value zero = createZero(b, loc, f32);
  Value products =
      contractWithKV(query, key, keyBatchIsOne,
                     createFilled(b, loc, scoreDims, zero), /*position=*/3,
                     /*column=*/4);
  double scale = op.getScale().convertToDouble();
  Value scores = buildElementwise(
      b, loc, {products}, scoreDims, f32,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value scaled = args[0];
        if (scale != 1.0)
          scaled =
              arith::MulFOp::create(nb, nl, scaled, f32Constant(nb, nl, scale));
        if (!bias)
          return scaled;
        SmallVector<Value, 4> indices;
        for (int64_t dim = 0; dim < 4; ++dim)
          indices.push_back(pick(nb, nl, biasDimIsOne[dim],
                                 linalg::IndexOp::create(nb, nl, dim),
                                 zeroIndex));
        Value element = tensor::ExtractOp::create(nb, nl, bias, indices);
        return arith::AddFOp::create(nb, nl, scaled, element);
      });

  // The softmax over t, as the ONNX operator's lowering computes it.
  Value lowest = f32Constant(b, loc, -std::numeric_limits<double>::infinity());
  Value maxima = buildReduction(
      b, loc, {scores}, {3}, lowest, /*keepDims=*/false,
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        return arith::MaximumFOp::create(nb, nl, args[1], args[0]);
      });
  Value sums = buildReduction(
      b, loc, {scores, maxima}, {3}, zero, /*keepDims=*/false,
      [](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value shifted = arith::SubFOp::create(nb, nl, args[0], args[1]);
        return arith::AddFOp::create(nb, nl, args[2],
                                     math::ExpOp::create(nb, nl, shifted));
      });
  AffineMap rowMap = dims({0, 1, 2}, 4);
  Value probabilities = buildMappedElementwise(
      b, loc, {scores, maxima, sums},
      {AffineMap::getMultiDimIdentityMap(4, context), rowMap, rowMap},
      scoreDims, f32,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value shifted = arith::SubFOp::create(nb, nl, args[0], args[1]);
        Value p = arith::DivFOp::create(
            nb, nl, math::ExpOp::create(nb, nl, shifted), args[2]);
        if (!op.getZeroNanRows())
          return p;
        // Where(IsNaN(p), 0, p).
        Value isNaN =
            arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNO, p, p);
        return arith::SelectOp::create(nb, nl, isNaN, zero, p);
      });

  // init [B, H, S, E] = Σ_t p · v: loops (b, h, s, e, t).
  Value init = linalg::FillOp::create(b, loc, zero, op.getInit()).getResult(0);
  return contractWithKV(probabilities, value, valueBatchIsOne, init,
                        /*position=*/4, /*column=*/3);
}

struct DecomposeKernelOpsPass
    : impl::DecomposeKernelOpsPassBase<DecomposeKernelOpsPass> {
  using DecomposeKernelOpsPassBase::DecomposeKernelOpsPassBase;
  /// Replaces every op of type OpTy that `keep` does not keep by what
  /// `reference` builds for it; false (an error reported) when one is on
  /// buffers.
  template <typename OpTy, typename Keep, typename Reference>
  bool decompose(IRRewriter &rewriter, Keep keep, Reference reference) {
    WalkResult result = getOperation()->walk([&](OpTy op) {
      if (keep(op))
        return WalkResult::advance();
      if (!op.hasPureTensorSemantics()) {
        op.emitOpError("is on buffers: decompose kernel ops before "
                       "bufferization");
        return WalkResult::interrupt();
      }
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, reference(op));
      return WalkResult::advance();
    });
    return !result.wasInterrupted();
  }

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // The kept qlinear ops are the target's kernels' (CUDA's), which read
    // affine codes: a NormalFloat layer's codebook lookup is decomposed.
    bool decomposed =
        decompose<QLinearKernelOp>(
            rewriter,
            [&](QLinearKernelOp op) {
              return keepQLinear && !op.getCodebook();
            },
            [&](QLinearKernelOp op) {
              QuantizedWeight weight;
              weight.codes = op.getCodes();
              weight.scales = op.getScales();
              weight.zeroPoints = op.getZeroPoints();
              weight.moves = op.getMoves();
              weight.codebook = op.getCodebook();
              weight.bits = static_cast<int64_t>(op.getBits());
              weight.groupSize = static_cast<int64_t>(op.getGroupSize());
              return buildQuantizedContraction(
                  rewriter, op.getLoc(), op.getInput(), weight, op.getInit(),
                  op.getTransposeWeight());
            }) &&
        decompose<AttentionKernelOp>(
            rewriter,
            [&](AttentionKernelOp op) {
              return keepAttentionHeadSize > 0 &&
                     !op.getHeadSizeOutside(keepAttentionHeadSize);
            },
            [&](AttentionKernelOp op) {
              return buildAttention(rewriter, op.getLoc(), op);
            }) &&
        decompose<AdapterGradientsKernelOp>(
            rewriter, [](AdapterGradientsKernelOp) { return false; },
            [&](AdapterGradientsKernelOp op) {
              return buildAdapterGradients(rewriter, op.getLoc(), op);
            });
    if (!decomposed)
      signalPassFailure();
  }
};

} // namespace
} // namespace qaf
