//===- Adapters.cpp - qaf adapter ops to linalg ---------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The formulas are ../shared/METHODS.md's. Every product is a contraction
// with the factor read in place (x · Aᵀ with A [r, K] needs no transpose);
// pooled inputs are reshaped views reduced along their last dim. LoTA-QAF
// materialises the ternary update Ŵ (int8) and the zero-point shift μ per
// call, never the dequantized weight: codes move by Ŵ inside the
// contraction, so with B_T = 0 it computes qaf.qlinear's arithmetic exactly.
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace qaf {
namespace {

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// Maps over loops (m, n, k) for a weight read at (n, k) or through `row`
/// and `col` expressions.
AffineMap weightMap(MLIRContext *context, AffineExpr row, AffineExpr col) {
  return AffineMap::get(3, 0, {row, col}, context);
}

AffineExpr dimN(MLIRContext *context) { return getAffineDimExpr(1, context); }
AffineExpr dimK(MLIRContext *context) { return getAffineDimExpr(2, context); }

/// a[..., K] · Wᵀ · scale for a stored weight W [N, K] read at
/// (row(n), k); `scale` 1 multiplies nothing.
Value multiplyByTransposed(OpBuilder &b, Location loc, Value a, Value weight,
                           int64_t n, AffineExpr row, double scale,
                           Type elementType) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  return buildDequantizingMatMul(
      b, loc, a, n, {weight}, {weightMap(context, row, dimK(context))},
      /*bias=*/Value(), "", elementType,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value w = convertScalar(nb, nl, args[0], f32, false, false);
        if (scale == 1.0)
          return w;
        return arith::MulFOp::create(nb, nl, w, f32Constant(nb, nl, scale));
      });
}

/// The mean of each run of `pool` consecutive features: [..., K] ->
/// [..., K / pool] (a view [..., K / pool, pool] reduced along its last
/// dim, then divided). K comes from the op's factors: the input's own last
/// dim may be dynamic (a Reshape's result), and is cast to K first.
Value poolFeatures(OpBuilder &b, Location loc, Value input, int64_t k,
                   int64_t pool) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  if (type.isDynamicDim(rank - 1)) {
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = k;
    input = tensor::CastOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), input);
  }
  SmallVector<OpFoldResult> sizes = getDims(b, loc, input);
  sizes.back() = b.getIndexAttr(k / pool);
  sizes.push_back(b.getIndexAttr(pool));
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank - 1; ++i)
    groups.push_back({i});
  groups.push_back({rank - 1, rank});
  Value view = expandShape(b, loc, input, groups, sizes);
  Type f32 = b.getF32Type();
  Value sums = buildReduction(
      b, loc, {view}, {rank}, createZero(b, loc, f32), /*keepDims=*/false,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value x = convertScalar(nb, nl, args[0], f32, false, false);
        return arith::AddFOp::create(nb, nl, args[1], x);
      });
  return buildElementwise(
      b, loc, {sums}, getDims(b, loc, sums), f32,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        return arith::DivFOp::create(nb, nl, args[0],
                                     f32Constant(nb, nl, double(pool)));
      });
}

/// The dense product B · A [N, K] of adapter factors B [N, r] and A [r, K]
/// (loops (n, k, j)), accumulated in `accumulator` (i32 for ternary int8
/// factors, f32 for float ones).
Value buildFactorProduct(OpBuilder &b, Location loc, Value bFactor,
                         Value aFactor, ArrayRef<OpFoldResult> sizes,
                         Type accumulator) {
  MLIRContext *context = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, context);
  AffineExpr d1 = getAffineDimExpr(1, context);
  AffineExpr d2 = getAffineDimExpr(2, context);
  bool isFloat = isa<FloatType>(accumulator);
  return buildContraction(
      b, loc, 0, {bFactor, aFactor},
      {weightMap(context, d0, d2), weightMap(context, d2, d1)},
      createFilled(b, loc, sizes, createZero(b, loc, accumulator)),
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value left = convertScalar(nb, nl, args[0], accumulator, false, false);
        Value right = convertScalar(nb, nl, args[1], accumulator, false, false);
        if (isFloat)
          return arith::AddFOp::create(
              nb, nl, args[2], arith::MulFOp::create(nb, nl, left, right));
        return arith::AddIOp::create(
            nb, nl, args[2], arith::MulIOp::create(nb, nl, left, right));
      });
}

template <typename OpTy>
FailureOr<RankedTensorType> getResultType(OpTy op,
                                          ConversionPatternRewriter &rw,
                                          const TypeConverter &converter) {
  return getRankedResultType(converter, rw, op);
}

//===----------------------------------------------------------------------===//
// LoRA, QA-LoRA, QA-HiRA, Q-BaRA: Δy
//===----------------------------------------------------------------------===//

/// The additive adapters share one form:
///   Δy[o] = scale · (B · A · Pool_p(x))[o / λ]
/// with A [r, K/p] and B [N/λ, r]; QA-HiRA has a single factor M in A's
/// place (no B).
struct PooledUpdate {
  Value first, second; // second is null for a single factor
  int64_t pool = 1, repeat = 1;
  double scale = 1.0;
};

PooledUpdate getUpdate(LoRAOp op, LoRAOp::Adaptor adaptor) {
  // Δy = scale · (x · Aᵀ) · Bᵀ.
  return {adaptor.getA(), adaptor.getB(), 1, 1,
          op.getScale().convertToDouble()};
}
PooledUpdate getUpdate(QALoRAOp op, QALoRAOp::Adaptor adaptor) {
  // x̄: the mean of each quantization group.
  return {adaptor.getA(), adaptor.getB(),
          static_cast<int64_t>(op.getGroupSize()), 1,
          op.getScale().convertToDouble()};
}
PooledUpdate getUpdate(QAHiRAOp op, QAHiRAOp::Adaptor adaptor) {
  return {adaptor.getM(), Value(), static_cast<int64_t>(op.getGroupSize()),
          static_cast<int64_t>(op.getRepeatOut()),
          op.getAlpha().convertToDouble()};
}
PooledUpdate getUpdate(QBaRAOp op, QBaRAOp::Adaptor adaptor) {
  int64_t pool = static_cast<int64_t>(op.getPool());
  return {adaptor.getA(), adaptor.getB(), pool, pool,
          op.getScale().convertToDouble()};
}

template <typename OpTy>
struct PooledUpdateLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    FailureOr<RankedTensorType> type =
        getResultType(op, rw, *this->getTypeConverter());
    if (failed(type))
      return failure();
    MLIRContext *context = rw.getContext();
    Location loc = op.getLoc();
    PooledUpdate update = getUpdate(op, adaptor);
    auto firstType = cast<RankedTensorType>(update.first.getType());
    Value hidden = adaptor.getInput();
    if (update.pool > 1)
      hidden = poolFeatures(rw, loc, hidden,
                            firstType.getShape()[1] * update.pool, update.pool);
    // The λ-fold repeat of output rows is the last factor's row map.
    AffineExpr rows = dimN(context).floorDiv(update.repeat);
    int64_t n = type->getShape().back();
    Value delta;
    if (!update.second) {
      delta = multiplyByTransposed(rw, loc, hidden, update.first, n, rows,
                                   update.scale, type->getElementType());
    } else {
      hidden = multiplyByTransposed(rw, loc, hidden, update.first,
                                    firstType.getShape()[0], dimN(context), 1.0,
                                    rw.getF32Type());
      delta = multiplyByTransposed(rw, loc, hidden, update.second, n, rows,
                                   update.scale, type->getElementType());
    }
    rw.replaceOp(op, castToTensorType(rw, loc, delta, *type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// LoTA-QAF
//===----------------------------------------------------------------------===//

struct LoTALinearLowering : OpConversionPattern<LoTALinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LoTALinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    FailureOr<RankedTensorType> type =
        getResultType(op, rw, *getTypeConverter());
    if (failed(type))
      return failure();
    Location loc = op.getLoc();
    QuantFormatAttr format = op.getFormat();
    int64_t bits = format.getBits(), group = format.getGroupSize();
    auto codesType = cast<RankedTensorType>(adaptor.getCodes().getType());
    int64_t n = codesType.getShape()[0], rowBytes = codesType.getShape()[1];
    int64_t k = rowBytes * 8 / bits;
    float omega = static_cast<float>(op.getOmega().convertToDouble());
    float maxCode = static_cast<float>(format.getMaxCode());
    Type f32 = rw.getF32Type(), i32 = rw.getI32Type(), i8 = rw.getI8Type();
    Value codes = adaptor.getCodes();

    // ΔW = B_T · A_T: integers in [−r, r].
    SmallVector<OpFoldResult> weightSizes = {rw.getIndexAttr(n),
                                             rw.getIndexAttr(k)};
    Value update = buildFactorProduct(rw, loc, adaptor.getB(), adaptor.getA(),
                                      weightSizes, i32);

    // Ŵ = +1 where ΔW > ω and the code can go up, −1 where ΔW < −ω and it
    // can go down, else 0 (so q + Ŵ stays in [0, q_max]).
    Value ternary = buildElementwise(
        rw, loc, {update}, weightSizes, i8,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value row = linalg::IndexOp::create(nb, nl, 0);
          Value col = linalg::IndexOp::create(nb, nl, 1);
          Value code = readPackedCode(nb, nl, codes, row, col, bits, rowBytes);
          Value delta = arith::SIToFPOp::create(nb, nl, f32, args[0]);
          auto compare = [&](arith::CmpFPredicate predicate, Value x,
                             Value y) -> Value {
            return arith::CmpFOp::create(nb, nl, predicate, x, y);
          };
          Value up =
              arith::AndIOp::create(nb, nl,
                                    compare(arith::CmpFPredicate::OGT, delta,
                                            f32Constant(nb, nl, omega)),
                                    compare(arith::CmpFPredicate::OLT, code,
                                            f32Constant(nb, nl, maxCode)));
          Value down =
              arith::AndIOp::create(nb, nl,
                                    compare(arith::CmpFPredicate::OLT, delta,
                                            f32Constant(nb, nl, -omega)),
                                    compare(arith::CmpFPredicate::OGT, code,
                                            f32Constant(nb, nl, 0.0)));
          auto i8Constant = [&](int64_t value) -> Value {
            return arith::ConstantOp::create(nb, nl,
                                             nb.getIntegerAttr(i8, value));
          };
          return arith::SelectOp::create(
              nb, nl, up, i8Constant(1),
              arith::SelectOp::create(nb, nl, down, i8Constant(-1),
                                      i8Constant(0)));
        });

    // μ[n, G] = mean over the group of R = ΔW − ω·Ŵ, divided by ω; the
    // zero point moves by it: z' = z − μ.
    SmallVector<OpFoldResult> grouped = {
        rw.getIndexAttr(n), rw.getIndexAttr(k / group), rw.getIndexAttr(group)};
    SmallVector<ReassociationIndices> split = {{0}, {1, 2}};
    Value remainderSums = buildReduction(
        rw, loc,
        {expandShape(rw, loc, update, split, grouped),
         expandShape(rw, loc, ternary, split, grouped)},
        {2}, createZero(rw, loc, f32), /*keepDims=*/false,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value delta = arith::SIToFPOp::create(nb, nl, f32, args[0]);
          Value moved = arith::SIToFPOp::create(nb, nl, f32, args[1]);
          Value remainder = arith::SubFOp::create(
              nb, nl, delta,
              arith::MulFOp::create(nb, nl, f32Constant(nb, nl, omega), moved));
          return arith::AddFOp::create(nb, nl, args[2], remainder);
        });
    Value zeroPoints = buildElementwise(
        rw, loc, {adaptor.getZeroPoints(), remainderSums},
        getDims(rw, loc, remainderSums), f32,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value mean = arith::DivFOp::create(
              nb, nl, args[1], f32Constant(nb, nl, double(group)));
          Value shift =
              arith::DivFOp::create(nb, nl, mean, f32Constant(nb, nl, omega));
          Value zero = convertScalar(nb, nl, args[0], f32, false, false);
          return arith::SubFOp::create(nb, nl, zero, shift);
        });

    // y = x · (s·((q + Ŵ) − z'))ᵀ, dequantized step by step.
    QuantizedWeight weight;
    weight.bits = bits;
    weight.groupSize = group;
    weight.codes = codes;
    weight.scales = adaptor.getScales();
    weight.zeroPoints = zeroPoints;
    weight.moves = ternary;
    Value product = buildQuantizedMatMul(rw, loc, adaptor.getInput(), n, weight,
                                         type->getElementType());
    rw.replaceOp(op, castToTensorType(rw, loc, product, *type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// L4Q
//===----------------------------------------------------------------------===//

struct L4QLinearLowering : OpConversionPattern<L4QLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(L4QLinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    FailureOr<RankedTensorType> type =
        getResultType(op, rw, *getTypeConverter());
    if (failed(type))
      return failure();
    MLIRContext *context = rw.getContext();
    Location loc = op.getLoc();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    int64_t k = weightType.getShape()[0], n = weightType.getShape()[1];
    int64_t group = static_cast<int64_t>(op.getGroupSize());
    int64_t bits = static_cast<int64_t>(op.getBits());
    double lowest = -double(int64_t(1) << (bits - 1));
    double highest = double((int64_t(1) << (bits - 1)) - 1);
    Type f32 = rw.getF32Type();

    // B·A [N, K].
    Value update =
        buildFactorProduct(rw, loc, adaptor.getB(), adaptor.getA(),
                           {rw.getIndexAttr(n), rw.getIndexAttr(k)}, f32);

    // W_q = s·round(clamp((W0ᵀ + α·B·A − β)/s, Q_N, Q_P)) + β.
    AffineExpr dn = dimN(context), dk = dimK(context);
    double alpha = op.getAlpha().convertToDouble();
    Value product = buildDequantizingMatMul(
        rw, loc, adaptor.getInput(), n,
        {adaptor.getWeight(), update, adaptor.getScales(),
         adaptor.getOffsets()},
        {weightMap(context, dk, dn), weightMap(context, dn, dk),
         weightMap(context, dn, dk.floorDiv(group)),
         weightMap(context, dn, dk.floorDiv(group))},
        /*bias=*/Value(), "", type->getElementType(),
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value w0 = convertScalar(nb, nl, args[0], f32, false, false);
          Value scale = convertScalar(nb, nl, args[2], f32, false, false);
          Value offset = convertScalar(nb, nl, args[3], f32, false, false);
          Value combined = arith::AddFOp::create(
              nb, nl, w0,
              arith::MulFOp::create(nb, nl, f32Constant(nb, nl, alpha),
                                    args[1]));
          Value scaled = arith::DivFOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, combined, offset), scale);
          Value clamped = arith::MinimumFOp::create(
              nb, nl,
              arith::MaximumFOp::create(nb, nl, scaled,
                                        f32Constant(nb, nl, lowest)),
              f32Constant(nb, nl, highest));
          Value rounded = math::RoundEvenOp::create(nb, nl, clamped);
          return arith::AddFOp::create(
              nb, nl, arith::MulFOp::create(nb, nl, scale, rounded), offset);
        });
    rw.replaceOp(op, castToTensorType(rw, loc, product, *type));
    return success();
  }
};

} // namespace

void populateAdapterPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  patterns.add<PooledUpdateLowering<LoRAOp>, PooledUpdateLowering<QALoRAOp>,
               PooledUpdateLowering<QAHiRAOp>, PooledUpdateLowering<QBaRAOp>,
               LoTALinearLowering, L4QLinearLowering>(converter,
                                                      patterns.getContext());
}

} // namespace qaf
