//===- Adapters.cpp - the adapter ops' algebra, and their lowering --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Each method's algebra exists here once, as the op's
// AdapterAlgebraOpInterface (external models: it needs this library's
// linalg builders); the lowering is one pattern over AdapterOpInterface,
// and gradients and merges call the same builders.
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

#include "qaf/Conversion/AdapterAlgebraInterfaceImpl.h"
#include "qaf/Interfaces/AdapterOpInterface.h"
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

/// B · A for factors of static shapes B [rows, r] and A [r, columns].
Value buildStaticFactorProduct(OpBuilder &b, Location loc, Value bFactor,
                               Value aFactor, Type accumulator) {
  int64_t rows = cast<RankedTensorType>(bFactor.getType()).getShape()[0];
  int64_t columns = cast<RankedTensorType>(aFactor.getType()).getShape()[1];
  return buildFactorProduct(b, loc, bFactor, aFactor,
                            {b.getIndexAttr(rows), b.getIndexAttr(columns)},
                            accumulator);
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

/// ΔW in the pooled coordinates: B · A, or QA-HiRA's M itself.
Value buildPooledDeltaW(OpBuilder &b, Location loc, PooledUpdate update) {
  if (!update.second)
    return update.first;
  return buildStaticFactorProduct(b, loc, update.second, update.first,
                                  b.getF32Type());
}

/// Δy through the rank-r hidden vector, never forming ΔW: x̄ · Aᵀ, then
/// · Bᵀ with the λ-fold repeat of output rows in B's row map.
Value buildPooledOutput(OpBuilder &b, Location loc, Value input,
                        PooledUpdate update, RankedTensorType resultType) {
  MLIRContext *context = b.getContext();
  auto firstType = cast<RankedTensorType>(update.first.getType());
  Value hidden = input;
  if (update.pool > 1)
    hidden = poolFeatures(b, loc, hidden, firstType.getShape()[1] * update.pool,
                          update.pool);
  AffineExpr rows = dimN(context).floorDiv(update.repeat);
  int64_t n = resultType.getShape().back();
  Value delta;
  if (!update.second) {
    delta = multiplyByTransposed(b, loc, hidden, update.first, n, rows,
                                 update.scale, resultType.getElementType());
  } else {
    hidden = multiplyByTransposed(b, loc, hidden, update.first,
                                  firstType.getShape()[0], dimN(context), 1.0,
                                  b.getF32Type());
    delta = multiplyByTransposed(b, loc, hidden, update.second, n, rows,
                                 update.scale, resultType.getElementType());
  }
  return castToTensorType(b, loc, delta, resultType);
}

//===----------------------------------------------------------------------===//
// LoTA-QAF
//===----------------------------------------------------------------------===//

/// ΔW = B_T · A_T [N, K]: integers in [−r, r].
Value buildDeltaW(OpBuilder &b, Location loc, LoTALinearOp,
                  LoTALinearOp::Adaptor adaptor) {
  return buildStaticFactorProduct(b, loc, adaptor.getB(), adaptor.getA(),
                                  b.getI32Type());
}

/// What a LoTA-QAF layer multiplies by, as a quantized weight with moved
/// codes (METHODS.md §1): Ŵ (int8 [N, K]) and z' = z − μ ([N, K/g], f32).
struct LoTAEffectiveWeight {
  Value moves, zeroPoints;
};

LoTAEffectiveWeight buildLoTAEffectiveWeight(OpBuilder &rw, Location loc,
                                             QuantFormatAttr format,
                                             double omegaValue, Value codes,
                                             Value baseZeroPoints,
                                             Value aFactor, Value bFactor) {
  int64_t bits = format.getBits(), group = format.getGroupSize();
  auto codesType = cast<RankedTensorType>(codes.getType());
  int64_t n = codesType.getShape()[0], rowBytes = codesType.getShape()[1];
  int64_t k = rowBytes * 8 / bits;
  float omega = static_cast<float>(omegaValue);
  float maxCode = static_cast<float>(format.getMaxCode());
  Type f32 = rw.getF32Type(), i8 = rw.getI8Type();

  // ΔW = B_T · A_T: integers in [−r, r].
  SmallVector<OpFoldResult> weightSizes = {rw.getIndexAttr(n),
                                           rw.getIndexAttr(k)};
  Value update =
      buildStaticFactorProduct(rw, loc, bFactor, aFactor, rw.getI32Type());

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
        Value down = arith::AndIOp::create(
            nb, nl,
            compare(arith::CmpFPredicate::OLT, delta,
                    f32Constant(nb, nl, -omega)),
            compare(arith::CmpFPredicate::OGT, code, f32Constant(nb, nl, 0.0)));
        auto i8Constant = [&](int64_t value) -> Value {
          return arith::ConstantOp::create(nb, nl,
                                           nb.getIntegerAttr(i8, value));
        };
        return arith::SelectOp::create(nb, nl, up, i8Constant(1),
                                       arith::SelectOp::create(nb, nl, down,
                                                               i8Constant(-1),
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
      rw, loc, {baseZeroPoints, remainderSums}, getDims(rw, loc, remainderSums),
      f32, [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value mean = arith::DivFOp::create(nb, nl, args[1],
                                           f32Constant(nb, nl, double(group)));
        Value shift =
            arith::DivFOp::create(nb, nl, mean, f32Constant(nb, nl, omega));
        Value zero = convertScalar(nb, nl, args[0], f32, false, false);
        return arith::SubFOp::create(nb, nl, zero, shift);
      });

  return {ternary, zeroPoints};
}

Value buildOutput(OpBuilder &rw, Location loc, LoTALinearOp op,
                  LoTALinearOp::Adaptor adaptor, RankedTensorType resultType) {
  QuantFormatAttr format = op.getFormat();
  int64_t n =
      cast<RankedTensorType>(adaptor.getCodes().getType()).getShape()[0];
  LoTAEffectiveWeight effective = buildLoTAEffectiveWeight(
      rw, loc, format, op.getOmega().convertToDouble(), adaptor.getCodes(),
      adaptor.getZeroPoints(), adaptor.getA(), adaptor.getB());

  // y = x · (s·((q + Ŵ) − z'))ᵀ, dequantized step by step (or by the
  // kernel, where the target has one).
  QuantizedWeight weight;
  weight.bits = format.getBits();
  weight.groupSize = format.getGroupSize();
  weight.codes = adaptor.getCodes();
  weight.scales = adaptor.getScales();
  weight.zeroPoints = effective.zeroPoints;
  weight.moves = effective.moves;
  Value product = buildQuantizedMatMul(rw, loc, adaptor.getInput(), n, weight,
                                       resultType.getElementType());
  return castToTensorType(rw, loc, product, resultType);
}

//===----------------------------------------------------------------------===//
// L4Q
//===----------------------------------------------------------------------===//

/// B · A [N, K] (α scales it inside the quantizer).
Value buildDeltaW(OpBuilder &b, Location loc, L4QLinearOp,
                  L4QLinearOp::Adaptor adaptor) {
  return buildStaticFactorProduct(b, loc, adaptor.getB(), adaptor.getA(),
                                  b.getF32Type());
}

/// L4Q's fake quantizer at one weight, in f32 (METHODS.md §2).
struct L4QQuantizer {
  double alpha, lowest, highest;

  explicit L4QQuantizer(L4QLinearOp op)
      : L4QQuantizer(op.getBits(), op.getAlpha().convertToDouble()) {}
  explicit L4QQuantizer(L4QQuantizeOp op)
      : L4QQuantizer(op.getBits(), op.getAlpha().convertToDouble()) {}
  L4QQuantizer(int64_t bits, double alpha)
      : alpha(alpha), lowest(-double(int64_t(1) << (bits - 1))),
        highest(double((int64_t(1) << (bits - 1)) - 1)) {}

  /// u = (W0ᵀ + α·B·A − β)/s from the scalars (w0, (B·A), s, β).
  Value normalize(OpBuilder &nb, Location nl, ValueRange args) const {
    Type f32 = nb.getF32Type();
    Value w0 = convertScalar(nb, nl, args[0], f32, false, false);
    Value scale = convertScalar(nb, nl, args[2], f32, false, false);
    Value offset = convertScalar(nb, nl, args[3], f32, false, false);
    Value combined = arith::AddFOp::create(
        nb, nl, w0,
        arith::MulFOp::create(nb, nl, f32Constant(nb, nl, alpha), args[1]));
    return arith::DivFOp::create(
        nb, nl, arith::SubFOp::create(nb, nl, combined, offset), scale);
  }

  /// w̃ = round(clamp(u, Q_N, Q_P)), half to even.
  Value round(OpBuilder &nb, Location nl, Value normalized) const {
    Value clamped = arith::MinimumFOp::create(
        nb, nl,
        arith::MaximumFOp::create(nb, nl, normalized,
                                  f32Constant(nb, nl, lowest)),
        f32Constant(nb, nl, highest));
    return math::RoundEvenOp::create(nb, nl, clamped);
  }
};

/// The operands of L4Q's quantizer, W0 [K, N], B·A [N, K], s and β [N, K/g],
/// and their maps over `loops` loops, of which `dn` and `dk` are (n, k).
struct L4QOperands {
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;
};

L4QOperands getL4QOperands(MLIRContext *context, Value weight, Value update,
                           Value scales, Value offsets, int64_t group,
                           unsigned loops, AffineExpr dn, AffineExpr dk) {
  auto map = [&](AffineExpr row, AffineExpr col) {
    return AffineMap::get(loops, 0, {row, col}, context);
  };
  return {{weight, update, scales, offsets},
          {map(dk, dn), map(dn, dk), map(dn, dk.floorDiv(group)),
           map(dn, dk.floorDiv(group))}};
}

Value buildOutput(OpBuilder &rw, Location loc, L4QLinearOp op,
                  L4QLinearOp::Adaptor adaptor, RankedTensorType resultType) {
  MLIRContext *context = rw.getContext();
  // W0 is [K, N] (ONNX MatMul layout).
  ArrayRef<int64_t> weightShape =
      cast<RankedTensorType>(adaptor.getWeight().getType()).getShape();
  int64_t k = weightShape[0], n = weightShape[1];
  int64_t group = static_cast<int64_t>(op.getGroupSize());
  Type f32 = rw.getF32Type();
  L4QQuantizer quantizer(op);

  // B·A [N, K].
  Value update = buildDeltaW(rw, loc, op, adaptor);

  // W_q = s·round(clamp((W0ᵀ + α·B·A − β)/s, Q_N, Q_P)) + β, [N, K], formed
  // once per call: quantizing inside the product would redo it for every
  // row of x, and the product of x with a stored W_qᵀ is the GEMM kernel's.
  L4QOperands operands = getL4QOperands(
      context, adaptor.getWeight(), update, adaptor.getScales(),
      adaptor.getOffsets(), group, 2, getAffineDimExpr(0, context),
      getAffineDimExpr(1, context));
  Value quantized = buildMappedElementwise(
      rw, loc, operands.values, operands.maps,
      getAsIndexOpFoldResult(context, {n, k}), f32,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value rounded =
            quantizer.round(nb, nl, quantizer.normalize(nb, nl, args));
        Value scale = convertScalar(nb, nl, args[2], f32, false, false);
        Value offset = convertScalar(nb, nl, args[3], f32, false, false);
        return arith::AddFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, scale, rounded), offset);
      });
  Value product = buildDequantizingMatMul(
      rw, loc, adaptor.getInput(), n, quantized,
      AffineMap::get(3, 0, {dimN(context), dimK(context)}, context),
      /*bias=*/Value(), "", resultType.getElementType(),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  return castToTensorType(rw, loc, product, resultType);
}

//===----------------------------------------------------------------------===//
// The algebra as each op's AdapterAlgebraOpInterface
//===----------------------------------------------------------------------===//

/// The additive adapters' ΔW and Δy, from their PooledUpdate.
template <typename OpTy>
Value buildDeltaW(OpBuilder &b, Location loc, OpTy op,
                  typename OpTy::Adaptor adaptor) {
  return buildPooledDeltaW(b, loc, getUpdate(op, adaptor));
}
template <typename OpTy>
Value buildOutput(OpBuilder &b, Location loc, OpTy op,
                  typename OpTy::Adaptor adaptor, RankedTensorType resultType) {
  return buildPooledOutput(b, loc, adaptor.getInput(), getUpdate(op, adaptor),
                           resultType);
}

template <typename OpTy>
struct AdapterAlgebraModel
    : AdapterAlgebraOpInterface::ExternalModel<AdapterAlgebraModel<OpTy>,
                                               OpTy> {
  FailureOr<Value> buildDeltaW(Operation *op, OpBuilder &builder, Location loc,
                               ValueRange operands) const {
    auto adapter = cast<OpTy>(op);
    return qaf::buildDeltaW(builder, loc, adapter,
                            typename OpTy::Adaptor(operands, adapter));
  }
  FailureOr<Value> buildOutput(Operation *op, OpBuilder &builder, Location loc,
                               ValueRange operands,
                               RankedTensorType resultType) const {
    auto adapter = cast<OpTy>(op);
    return qaf::buildOutput(builder, loc, adapter,
                            typename OpTy::Adaptor(operands, adapter),
                            resultType);
  }
};

//===----------------------------------------------------------------------===//
// The lowering: one pattern over the interface
//===----------------------------------------------------------------------===//

struct AdapterLowering : OpInterfaceConversionPattern<AdapterOpInterface> {
  using OpInterfaceConversionPattern::OpInterfaceConversionPattern;
  LogicalResult matchAndRewrite(AdapterOpInterface op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rw) const override {
    FailureOr<RankedTensorType> type =
        getRankedResultType(*getTypeConverter(), rw, op);
    if (failed(type))
      return failure();
    FailureOr<Value> output = op.buildOutput(rw, op.getLoc(), operands, *type);
    if (failed(output))
      return failure();
    rw.replaceOp(op, *output);
    return success();
  }
};

/// qaf.lota_update: the Ŵ and z − μ that qaf.lota_linear multiplies by.
struct LoTAUpdateLowering : OpConversionPattern<LoTAUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LoTAUpdateOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    LoTAEffectiveWeight effective = buildLoTAEffectiveWeight(
        rw, loc, op.getFormat(), op.getOmega().convertToDouble(),
        adaptor.getCodes(), adaptor.getZeroPoints(), adaptor.getA(),
        adaptor.getB());
    Type zeroPointsType =
        getTypeConverter()->convertType(op.getMovedZeroPoints().getType());
    if (!zeroPointsType)
      return rw.notifyMatchFailure(op, "unconvertible zero points");
    rw.replaceOp(op, {effective.moves,
                      castToTensorType(
                          rw, loc,
                          convertTensor(rw, loc, effective.zeroPoints,
                                        getElementTypeOrSelf(zeroPointsType)),
                          zeroPointsType)});
    return success();
  }
};

/// qaf.l4q_quantize: u and w̃ of L4Q's quantizer, [N, K] each.
struct L4QQuantizeLowering : OpConversionPattern<L4QQuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(L4QQuantizeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rw.getContext();
    auto resultType = dyn_cast_if_present<RankedTensorType>(
        getTypeConverter()->convertType(op.getCodes().getType()));
    if (!resultType)
      return rw.notifyMatchFailure(op, "unconvertible result type");
    L4QQuantizer quantizer(op);
    Value update = buildStaticFactorProduct(rw, loc, adaptor.getB(),
                                            adaptor.getA(), rw.getF32Type());
    L4QOperands operands = getL4QOperands(
        context, adaptor.getWeight(), update, adaptor.getScales(),
        adaptor.getOffsets(), static_cast<int64_t>(op.getGroupSize()), 2,
        getAffineDimExpr(0, context), getAffineDimExpr(1, context));
    SmallVector<OpFoldResult> sizes =
        getAsIndexOpFoldResult(context, resultType.getShape());
    Type elementType = resultType.getElementType();
    auto build = [&](bool rounded) {
      return buildMappedElementwise(
          rw, loc, operands.values, operands.maps, sizes, elementType,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            Value u = quantizer.normalize(nb, nl, args);
            return convertScalar(nb, nl,
                                 rounded ? quantizer.round(nb, nl, u) : u,
                                 elementType, false, false);
          });
    };
    rw.replaceOp(op, {build(false), build(true)});
    return success();
  }
};

/// qaf.adapter_gradients: the kernel op, accumulating into zeros.
struct AdapterGradientsLowering : OpConversionPattern<AdapterGradientsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AdapterGradientsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    SmallVector<Type> types;
    SmallVector<Value> inits;
    for (Type type : op.getResultTypes()) {
      auto tensorType = dyn_cast_if_present<RankedTensorType>(
          getTypeConverter()->convertType(type));
      if (!tensorType || !tensorType.hasStaticShape())
        return rw.notifyMatchFailure(op, "gradients of static shape");
      types.push_back(tensorType);
      inits.push_back(createFilled(
          rw, loc,
          getAsIndexOpFoldResult(rw.getContext(), tensorType.getShape()),
          createZero(rw, loc, tensorType.getElementType())));
    }
    rw.replaceOp(op, AdapterGradientsKernelOp::create(
                         rw, loc, types, adaptor.getInputs(), inits,
                         op.getMethodAttr(), op.getGroupSizeAttr(),
                         op.getCoefficientAttr(), op.getBitsAttr())
                         .getResults());
    return success();
  }
};

} // namespace

void populateAdapterPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  patterns.add<AdapterLowering>(converter, patterns.getContext());
  patterns
      .add<LoTAUpdateLowering, L4QQuantizeLowering, AdapterGradientsLowering>(
          converter, patterns.getContext());
}

void registerAdapterAlgebraExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, QAFDialect *) {
    LoTALinearOp::attachInterface<AdapterAlgebraModel<LoTALinearOp>>(*context);
    L4QLinearOp::attachInterface<AdapterAlgebraModel<L4QLinearOp>>(*context);
    LoRAOp::attachInterface<AdapterAlgebraModel<LoRAOp>>(*context);
    QALoRAOp::attachInterface<AdapterAlgebraModel<QALoRAOp>>(*context);
    QAHiRAOp::attachInterface<AdapterAlgebraModel<QAHiRAOp>>(*context);
    QBaRAOp::attachInterface<AdapterAlgebraModel<QBaRAOp>>(*context);
  });
}

} // namespace qaf
