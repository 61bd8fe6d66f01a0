//===- DecomposeKernelOps.cpp - kernel ops as their linalg reference ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The reference is built by the same builder the lowering uses for layers
// no kernel computes (LinearAlgebraUtils' buildQuantizedContraction), so a
// target without the kernel runs exactly the loops it ran before kernel
// ops existed. The adapter gradients' reference is METHODS.md's algebra
// step by step: the dense Gw = gᵀ · x [N, K], D from it, then the two
// products with the factors (what the kernel computes tile by tile).
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringUtils.h"

#include "qaf/Conversion/Passes.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"

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

struct DecomposeKernelOpsPass
    : impl::DecomposeKernelOpsPassBase<DecomposeKernelOpsPass> {
  using DecomposeKernelOpsPassBase::DecomposeKernelOpsPassBase;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    WalkResult result = getOperation()->walk([&](QLinearKernelOp op) {
      // The kept ops are the target's kernels' (CUDA's), which read affine
      // codes: a NormalFloat layer's codebook lookup is decomposed.
      if (keepQLinear && !op.getCodebook())
        return WalkResult::advance();
      if (!op.hasPureTensorSemantics()) {
        op.emitOpError("is on buffers: decompose kernel ops before "
                       "bufferization");
        return WalkResult::interrupt();
      }
      QuantizedWeight weight;
      weight.codes = op.getCodes();
      weight.scales = op.getScales();
      weight.zeroPoints = op.getZeroPoints();
      weight.moves = op.getMoves();
      weight.codebook = op.getCodebook();
      weight.bits = static_cast<int64_t>(op.getBits());
      weight.groupSize = static_cast<int64_t>(op.getGroupSize());
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, buildQuantizedContraction(
                                 rewriter, op.getLoc(), op.getInput(), weight,
                                 op.getInit(), op.getTransposeWeight()));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    result = getOperation()->walk([&](AdapterGradientsKernelOp op) {
      if (!op.hasPureTensorSemantics()) {
        op.emitOpError("is on buffers: decompose kernel ops before "
                       "bufferization");
        return WalkResult::interrupt();
      }
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, buildAdapterGradients(rewriter, op.getLoc(), op));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace qaf
