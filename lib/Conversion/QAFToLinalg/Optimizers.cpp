//===- Optimizers.cpp - qaf optimizer updates to linalg -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The per-step scalars (learning rate, bias corrections, t-SignSGD's
// quantile level) are computed once from the step in f64; the per-element
// updates are element-wise linalg.generic ops. t-SignSGD's quantile is an
// exact selection without a sort: a radix select over the bit patterns of
// |g| (for floats ≥ 0 their order as unsigned integers is their numeric
// order), four 256-bin histograms, each over the entries that share the
// bytes chosen so far.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace qaf {
namespace {

Value f64Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(value));
}

/// The 1-based step as an f64 scalar.
Value getStepAsF64(OpBuilder &b, Location loc, Value stepTensor) {
  Value step = extractScalar(b, loc, stepTensor);
  return arith::SIToFPOp::create(b, loc, b.getF64Type(), step);
}

/// Hugging Face's schedule factor f(s) for s = t − 1 completed steps (see
/// qaf.adamw_update's description).
Value buildScheduleFactor(OpBuilder &b, Location loc, AdamWUpdateOp op,
                          Value step) {
  double warmup = static_cast<double>(op.getWarmupSteps());
  double total = static_cast<double>(op.getTotalSteps());
  Value done = arith::SubFOp::create(b, loc, step, f64Constant(b, loc, 1.0));
  Value one = f64Constant(b, loc, 1.0);
  Value warmupFactor = arith::DivFOp::create(
      b, loc, done, f64Constant(b, loc, std::max(1.0, warmup)));
  Value inWarmup = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                         done, f64Constant(b, loc, warmup));
  Value after = one;
  if (op.getSchedule() == "cosine") {
    Value progress = arith::DivFOp::create(
        b, loc,
        arith::SubFOp::create(b, loc, done, f64Constant(b, loc, warmup)),
        f64Constant(b, loc, std::max(1.0, total - warmup)));
    progress = arith::MinimumFOp::create(b, loc, progress, one);
    Value cosine = math::CosOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, progress,
                              f64Constant(b, loc, llvm::numbers::pi)));
    after = arith::MulFOp::create(b, loc, f64Constant(b, loc, 0.5),
                                  arith::AddFOp::create(b, loc, one, cosine));
    after = arith::MaximumFOp::create(b, loc, after, f64Constant(b, loc, 0.0));
  }
  return arith::SelectOp::create(b, loc, inWarmup, warmupFactor, after);
}

/// A scalar f64 truncated to the parameters' element type.
Value toElementType(OpBuilder &b, Location loc, Value value, Type element) {
  if (element.isF64())
    return value;
  return arith::TruncFOp::create(b, loc, element, value);
}

struct AdamWUpdateLowering : OpConversionPattern<AdamWUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AdamWUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto type = dyn_cast_or_null<RankedTensorType>(
        getTypeConverter()->convertType(op.getParam().getType()));
    if (!type)
      return rw.notifyMatchFailure(op, "the parameter type does not convert");
    Type element = type.getElementType();
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();

    Value step = getStepAsF64(rw, loc, adaptor.getStep());
    Value rate = arith::MulFOp::create(
        rw, loc, f64Constant(rw, loc, op.getLr().convertToDouble()),
        buildScheduleFactor(rw, loc, op, step));
    Value one = f64Constant(rw, loc, 1.0);
    auto biasCorrection = [&](double beta) {
      return arith::SubFOp::create(
          rw, loc, one,
          math::PowFOp::create(rw, loc, f64Constant(rw, loc, beta), step));
    };
    Value decay = toElementType(
        rw, loc,
        arith::SubFOp::create(
            rw, loc, one,
            arith::MulFOp::create(
                rw, loc, rate,
                f64Constant(rw, loc, op.getWeightDecay().convertToDouble()))),
        element);
    Value stepSize = toElementType(
        rw, loc, arith::DivFOp::create(rw, loc, rate, biasCorrection(beta1)),
        element);
    Value correction2Sqrt = toElementType(
        rw, loc, math::SqrtOp::create(rw, loc, biasCorrection(beta2)), element);
    auto constant = [&](double value) {
      return arith::ConstantOp::create(rw, loc,
                                       rw.getFloatAttr(element, value));
    };
    Value beta1Value = constant(beta1), rest1 = constant(1 - beta1);
    Value beta2Value = constant(beta2), rest2 = constant(1 - beta2);
    Value eps = constant(op.getEps().convertToDouble());

    SmallVector<OpFoldResult> dims = getDims(rw, loc, adaptor.getParam());
    Value expAvg = buildElementwise(
        rw, loc, {adaptor.getExpAvg(), adaptor.getGrad()}, dims, element,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          return arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, beta1Value, s[0]),
              arith::MulFOp::create(b, l, rest1, s[1]));
        });
    Value expAvgSq = buildElementwise(
        rw, loc, {adaptor.getExpAvgSq(), adaptor.getGrad()}, dims, element,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          Value square = arith::MulFOp::create(b, l, s[1], s[1]);
          return arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, beta2Value, s[0]),
              arith::MulFOp::create(b, l, rest2, square));
        });
    // PyTorch's order: decay p first, then p −= stepSize·m / (sqrt(v)/c2 + ε).
    Value param = buildElementwise(
        rw, loc, {adaptor.getParam(), expAvg, expAvgSq}, dims, element,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          Value decayed = arith::MulFOp::create(b, l, s[0], decay);
          Value denominator = arith::AddFOp::create(
              b, l,
              arith::DivFOp::create(b, l, math::SqrtOp::create(b, l, s[2]),
                                    correction2Sqrt),
              eps);
          Value delta = arith::DivFOp::create(
              b, l, arith::MulFOp::create(b, l, stepSize, s[1]), denominator);
          return arith::SubFOp::create(b, l, decayed, delta);
        });
    rw.replaceOp(op, {param, expAvg, expAvgSq});
    return success();
  }
};

/// q_t of qaf.tsignsgd_update's schedule, f64.
Value buildQuantileLevel(OpBuilder &b, Location loc, Value step,
                         int64_t totalSteps) {
  Value fraction = arith::DivFOp::create(
      b, loc, arith::SubFOp::create(b, loc, step, f64Constant(b, loc, 1.0)),
      f64Constant(b, loc, static_cast<double>(totalSteps)));
  fraction = arith::MinimumFOp::create(
      b, loc,
      arith::MaximumFOp::create(b, loc, fraction, f64Constant(b, loc, 0)),
      f64Constant(b, loc, 1.0));
  auto linear = [&](double from, double to, double start, double width) {
    Value along = arith::DivFOp::create(
        b, loc,
        arith::SubFOp::create(b, loc, fraction, f64Constant(b, loc, start)),
        f64Constant(b, loc, width));
    return arith::AddFOp::create(
        b, loc, f64Constant(b, loc, from),
        arith::MulFOp::create(b, loc, along, f64Constant(b, loc, to - from)));
  };
  Value early = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                      fraction, f64Constant(b, loc, 0.8));
  return arith::SelectOp::create(b, loc, early, linear(0.95, 0.999, 0.0, 0.8),
                                 linear(0.999, 0.9999, 0.8, 0.2));
}

/// The order statistic `rank` (0-based, index) of the non-negative floats
/// whose bit patterns `bits` (1-D i32 [n]) holds, as those bits: a radix
/// select, one byte per pass from the most significant.
Value buildRadixSelect(OpBuilder &b, Location loc, Value bits, int64_t n,
                       Value rank) {
  Type i32 = b.getI32Type();
  auto i32Constant = [&](int64_t value) {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, value));
  };
  auto indexConstant = [&](int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  auto histogramType = RankedTensorType::get({256}, i32);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(histogramType, b.getI32IntegerAttr(0)));
  Value prefix = i32Constant(0);
  Value remaining = rank;
  for (int64_t shift : {24, 16, 8, 0}) {
    // The bytes above `shift` chosen so far.
    uint32_t highMask = shift == 24 ? 0u : ~((uint32_t(1) << (shift + 8)) - 1u);
    Value mask = i32Constant(static_cast<int32_t>(highMask));
    Value shiftValue = i32Constant(shift);
    Value byteMask = i32Constant(255);
    auto countLoop = scf::ForOp::create(
        b, loc, indexConstant(0), indexConstant(n), indexConstant(1),
        ValueRange{zeros},
        [&](OpBuilder &lb, Location l, Value i, ValueRange args) {
          Value value = tensor::ExtractOp::create(lb, l, bits, i);
          Value matches = arith::CmpIOp::create(
              lb, l, arith::CmpIPredicate::eq,
              arith::AndIOp::create(lb, l, value, mask), prefix);
          Value bin = arith::IndexCastUIOp::create(
              lb, l, lb.getIndexType(),
              arith::AndIOp::create(
                  lb, l, arith::ShRUIOp::create(lb, l, value, shiftValue),
                  byteMask));
          Value count = tensor::ExtractOp::create(lb, l, args[0], bin);
          Value added = arith::AddIOp::create(
              lb, l, count, arith::ExtUIOp::create(lb, l, i32, matches));
          Value histogram =
              tensor::InsertOp::create(lb, l, added, args[0], bin);
          scf::YieldOp::create(lb, l, histogram);
        });
    Value histogram = countLoop.getResult(0);
    // The bin holding the `remaining`-th matching entry; 256 = not found yet.
    Value notFound = indexConstant(256);
    auto findLoop = scf::ForOp::create(
        b, loc, indexConstant(0), indexConstant(256), indexConstant(1),
        ValueRange{notFound, remaining},
        [&](OpBuilder &lb, Location l, Value bin, ValueRange args) {
          Value count = arith::IndexCastUIOp::create(
              lb, l, lb.getIndexType(),
              tensor::ExtractOp::create(lb, l, histogram, bin));
          Value searching = arith::CmpIOp::create(
              lb, l, arith::CmpIPredicate::eq, args[0], notFound);
          Value inBin = arith::AndIOp::create(
              lb, l, searching,
              arith::CmpIOp::create(lb, l, arith::CmpIPredicate::ult, args[1],
                                    count));
          Value chosen = arith::SelectOp::create(lb, l, inBin, bin, args[0]);
          Value skips = arith::AndIOp::create(
              lb, l, searching,
              arith::XOrIOp::create(
                  lb, l, inBin,
                  arith::ConstantOp::create(lb, l, lb.getBoolAttr(true))));
          Value left = arith::SelectOp::create(
              lb, l, skips, arith::SubIOp::create(lb, l, args[1], count),
              args[1]);
          scf::YieldOp::create(lb, l, ValueRange{chosen, left});
        });
    Value chosenBin =
        arith::IndexCastUIOp::create(b, loc, i32, findLoop.getResult(0));
    prefix = arith::OrIOp::create(
        b, loc, prefix, arith::ShLIOp::create(b, loc, chosenBin, shiftValue));
    remaining = findLoop.getResult(1);
  }
  return prefix;
}

struct TSignSGDUpdateLowering : OpConversionPattern<TSignSGDUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TSignSGDUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    auto gradType = dyn_cast<RankedTensorType>(adaptor.getGrad().getType());
    if (!gradType || !gradType.hasStaticShape())
      return rw.notifyMatchFailure(op, "needs a gradient of static shape");
    Type element = gradType.getElementType();
    int64_t n = gradType.getNumElements();
    Type i32 = rw.getI32Type();

    // |g| as f32 bits, flattened.
    SmallVector<OpFoldResult> dims = getDims(rw, loc, adaptor.getGrad());
    Value absBits = buildElementwise(
        rw, loc, {adaptor.getGrad()}, dims, i32,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          Value magnitude = math::AbsFOp::create(b, l, s[0]);
          if (!element.isF32())
            magnitude = arith::ExtFOp::create(b, l, b.getF32Type(), magnitude);
          return arith::BitcastOp::create(b, l, i32, magnitude);
        });
    Value flat = absBits;
    auto flatType = RankedTensorType::get({n}, i32);
    if (gradType.getRank() == 0)
      flat = tensor::ExpandShapeOp::create(rw, loc, flatType, absBits,
                                           ArrayRef<ReassociationIndices>{});
    else if (gradType.getRank() > 1)
      flat = tensor::CollapseShapeOp::create(
          rw, loc, flatType, absBits,
          ArrayRef<ReassociationIndices>{
              llvm::to_vector(llvm::seq<int64_t>(gradType.getRank()))});

    // rank = ⌊q·(n − 1)⌋.
    Value level = buildQuantileLevel(
        rw, loc, getStepAsF64(rw, loc, adaptor.getStep()), op.getTotalSteps());
    Value rankF = math::FloorOp::create(
        rw, loc,
        arith::MulFOp::create(
            rw, loc, level,
            f64Constant(rw, loc,
                        static_cast<double>(std::max<int64_t>(n - 1, 0)))));
    Value rank = arith::IndexCastOp::create(
        rw, loc, rw.getIndexType(),
        arith::FPToSIOp::create(rw, loc, rw.getI64Type(), rankF));
    Value quantileBits = buildRadixSelect(rw, loc, flat, n, rank);
    Value quantile =
        arith::BitcastOp::create(rw, loc, rw.getF32Type(), quantileBits);
    Value threshold = arith::MaximumFOp::create(
        rw, loc, quantile,
        arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(1e-9f)));

    Type i8 = rw.getI8Type();
    Value updated = buildElementwise(
        rw, loc, {adaptor.getParam(), adaptor.getGrad()}, dims, i8,
        [&](OpBuilder &b, Location l, ValueRange s) -> Value {
          Value g = s[1];
          if (!element.isF32())
            g = arith::ExtFOp::create(b, l, b.getF32Type(), g);
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          Value moves =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                    math::AbsFOp::create(b, l, g), threshold);
          Value positive =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, g, zero);
          auto i8Constant = [&](int64_t v) {
            return arith::ConstantOp::create(b, l, b.getIntegerAttr(i8, v));
          };
          // One level against the gradient's sign (|g| > 0 here).
          Value direction = arith::SelectOp::create(
              b, l, positive, i8Constant(1), i8Constant(-1));
          Value moved = arith::SubIOp::create(b, l, s[0], direction);
          Value clamped = arith::MaxSIOp::create(
              b, l, arith::MinSIOp::create(b, l, moved, i8Constant(1)),
              i8Constant(-1));
          return arith::SelectOp::create(b, l, moves, clamped, s[0]);
        });
    rw.replaceOp(op, updated);
    return success();
  }
};

} // namespace

void populateOptimizerPatterns(const TypeConverter &converter,
                               RewritePatternSet &patterns) {
  patterns.add<AdamWUpdateLowering, TSignSGDUpdateLowering>(
      converter, patterns.getContext());
}

} // namespace qaf
