//===- Quantization.cpp - onnx (de)quantization ops -> linalg -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// QuantizeLinear and DequantizeLinear are element-wise generics that read
// the scale and zero point per tensor, per axis or per block through their
// indexing maps (block = i floordiv block_size). The arithmetic is ONNX
// Runtime's: f32 throughout, x / scale rounded half to even, the zero point
// added in float, then clamped to the integer type's range (int2/int4
// included), and (x - zero_point) subtracted in integers before the scale.
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/APInt.h"

using namespace mlir;

namespace qaf {
namespace {

//===----------------------------------------------------------------------===//
// QuantizationUtils
//===----------------------------------------------------------------------===//

/// How a scale (and its zero point) maps onto x: one value, one per index
/// of `axis`, or one per `blockSize` indices of `axis` (a scale of x's
/// rank).
struct QuantizationLayout {
  enum class Kind { PerTensor, PerAxis, Blocked } kind;
  int64_t axis = 0;
  int64_t blockSize = 0;
};

FailureOr<QuantizationLayout>
getQuantizationLayout(ConversionPatternRewriter &rw, Operation *op,
                      RankedTensorType xType, Value scale, int64_t axis,
                      int64_t blockSize) {
  auto scaleType = cast<RankedTensorType>(scale.getType());
  QuantizationLayout layout;
  if (scaleType.hasStaticShape() && scaleType.getNumElements() == 1 &&
      blockSize == 0) {
    layout.kind = QuantizationLayout::Kind::PerTensor;
    return layout;
  }
  layout.axis = normalizeAxis(axis, xType.getRank());
  layout.blockSize = blockSize;
  layout.kind = blockSize > 0 ? QuantizationLayout::Kind::Blocked
                              : QuantizationLayout::Kind::PerAxis;
  if (layout.kind == QuantizationLayout::Kind::PerAxis &&
      scaleType.getRank() != 1)
    return reportUnsupported(rw, op, "a per-axis scale must be 1-D");
  if (layout.kind == QuantizationLayout::Kind::Blocked &&
      scaleType.getRank() != xType.getRank())
    return reportUnsupported(rw, op, "a blocked scale must have the rank of x");
  return layout;
}

/// The indexing map of a scale or zero point of type `type` under `layout`
/// in an element-wise loop nest of `rank` dims.
AffineMap getParameterMap(const QuantizationLayout &layout, ShapedType type,
                          int64_t rank, MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  switch (layout.kind) {
  case QuantizationLayout::Kind::PerTensor:
    exprs.assign(type.getRank(), getAffineConstantExpr(0, context));
    break;
  case QuantizationLayout::Kind::PerAxis:
    exprs.push_back(getAffineDimExpr(layout.axis, context));
    break;
  case QuantizationLayout::Kind::Blocked:
    for (int64_t i = 0; i < rank; ++i) {
      AffineExpr dim = getAffineDimExpr(i, context);
      exprs.push_back(i == layout.axis ? dim.floorDiv(layout.blockSize) : dim);
    }
    break;
  }
  return AffineMap::get(rank, 0, exprs, context);
}

/// The operands of an element-wise quantize/dequantize over `x`: x, its
/// scale and its zero point (when given), with their indexing maps.
struct QuantizationOperands {
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  bool hasZeroPoint = false;
};

/// The QuantizationOperands of `x` with `scale` and `zeroPoint` (null when
/// omitted) along `axis` in blocks of `blockSize` (the op's attributes); an
/// unsupported scale layout is reported on `op`.
FailureOr<QuantizationOperands>
collectQuantizationOperands(ConversionPatternRewriter &rw, Operation *op,
                            Value x, Value scale, Value zeroPoint, int64_t axis,
                            int64_t blockSize) {
  auto xType = cast<RankedTensorType>(x.getType());
  FailureOr<QuantizationLayout> layout =
      getQuantizationLayout(rw, op, xType, scale, axis, blockSize);
  if (failed(layout))
    return failure();
  int64_t rank = xType.getRank();
  MLIRContext *context = rw.getContext();
  QuantizationOperands result;
  result.operands.assign({x, scale});
  result.maps.assign(
      {AffineMap::getMultiDimIdentityMap(rank, context),
       getParameterMap(*layout, cast<ShapedType>(scale.getType()), rank,
                       context)});
  if (!zeroPoint)
    return result;
  result.hasZeroPoint = true;
  result.operands.push_back(zeroPoint);
  result.maps.push_back(getParameterMap(
      *layout, cast<ShapedType>(zeroPoint.getType()), rank, context));
  return result;
}

/// `round_half_to_even(x / scale) + zeroPoint`, clamped to the range of the
/// integer type of `width` bits and `isUnsigned`, converted to it. `x`,
/// `scale` and `zeroPoint` are f32.
Value quantizeScalar(OpBuilder &b, Location loc, Value x, Value scale,
                     Value zeroPoint, IntegerType to, bool isUnsigned) {
  Type f32 = b.getF32Type();
  unsigned width = to.getWidth();
  APInt low =
      isUnsigned ? APInt::getMinValue(width) : APInt::getSignedMinValue(width);
  APInt high =
      isUnsigned ? APInt::getMaxValue(width) : APInt::getSignedMaxValue(width);
  // (Each side converts on its own: a common uint64_t would wrap -128.)
  double lowValue = isUnsigned ? static_cast<double>(low.getZExtValue())
                               : static_cast<double>(low.getSExtValue());
  double highValue = isUnsigned ? static_cast<double>(high.getZExtValue())
                                : static_cast<double>(high.getSExtValue());
  Value quotient = arith::DivFOp::create(b, loc, x, scale);
  Value rounded = math::RoundEvenOp::create(b, loc, quotient);
  Value shifted = arith::AddFOp::create(b, loc, rounded, zeroPoint);
  // Clamp in float (NaN becomes the low bound, as maxnum ignores it), then
  // convert: the value is integral and in range, so the cast is exact.
  Value clamped = arith::MinNumFOp::create(
      b, loc,
      arith::MaxNumFOp::create(b, loc, shifted,
                               createScalarConstant(b, loc, f32, lowValue)),
      createScalarConstant(b, loc, f32, highValue));
  if (isUnsigned)
    return arith::FPToUIOp::create(b, loc, to, clamped);
  return arith::FPToSIOp::create(b, loc, to, clamped);
}

/// Fails (reported) for element types the lowering has no arithmetic for.
LogicalResult checkIntegerType(ConversionPatternRewriter &rw, Operation *op,
                               Type type, StringRef what) {
  if (isa<IntegerType>(type) && !type.isInteger(1))
    return success();
  std::string message;
  llvm::raw_string_ostream os(message);
  os << what << " of element type " << type
     << " is not supported (integer types only: float8 has no CPU lowering "
        "yet)";
  return reportUnsupported(rw, op, message);
}

//===----------------------------------------------------------------------===//
// QuantizeLinear, DequantizeLinear
//===----------------------------------------------------------------------===//

struct QuantizeLinearLowering : LinalgLoweringPattern<onnx::QuantizeLinearOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::QuantizeLinearOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Type resultElement = resultType.getElementType();
    if (failed(checkIntegerType(rw, op, resultElement, "an output")))
      return failure();
    FailureOr<QuantizationOperands> quantization = collectQuantizationOperands(
        rw, op, adaptor.getX(), adaptor.getYScale(),
        isNoValue(op.getYZeroPoint()) ? Value() : adaptor.getYZeroPoint(),
        static_cast<int64_t>(op.getAxis()),
        static_cast<int64_t>(op.getBlockSize()));
    if (failed(quantization))
      return failure();
    bool hasZeroPoint = quantization->hasZeroPoint;
    bool isUnsigned = isUnsignedElementType(op.getY().getType());
    Type f32 = rw.getF32Type();
    auto to = cast<IntegerType>(resultElement);
    Value result = buildMappedElementwise(
        rw, loc, quantization->operands, quantization->maps,
        getDims(rw, loc, adaptor.getX()), resultElement,
        [&](OpBuilder &b, Location l, ValueRange scalars) {
          Value x = convertScalar(b, l, scalars[0], f32, false, false);
          Value scale = convertScalar(b, l, scalars[1], f32, false, false);
          Value zeroPoint = hasZeroPoint ? convertScalar(b, l, scalars[2], f32,
                                                         isUnsigned, false)
                                         : createScalarConstant(b, l, f32, 0.0);
          return quantizeScalar(b, l, x, scale, zeroPoint, to, isUnsigned);
        });
    return LoweredValues{result};
  }
};

struct DequantizeLinearLowering
    : LinalgLoweringPattern<onnx::DequantizeLinearOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::DequantizeLinearOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    auto xType = cast<RankedTensorType>(adaptor.getX().getType());
    if (failed(checkIntegerType(rw, op, xType.getElementType(), "an input")))
      return failure();
    FailureOr<QuantizationOperands> quantization = collectQuantizationOperands(
        rw, op, adaptor.getX(), adaptor.getXScale(),
        isNoValue(op.getXZeroPoint()) ? Value() : adaptor.getXZeroPoint(),
        static_cast<int64_t>(op.getAxis()),
        static_cast<int64_t>(op.getBlockSize()));
    if (failed(quantization))
      return failure();
    bool hasZeroPoint = quantization->hasZeroPoint;
    bool isUnsigned = isUnsignedElementType(op.getX().getType());
    Type f32 = rw.getF32Type();
    // Wide enough for x - zero_point of every input type but int32 (whose
    // zero point must be 0, so no difference is formed).
    Type wide = rw.getI32Type();
    Type resultElement = resultType.getElementType();
    Value result = buildMappedElementwise(
        rw, loc, quantization->operands, quantization->maps,
        getDims(rw, loc, adaptor.getX()), resultElement,
        [&](OpBuilder &b, Location l, ValueRange scalars) {
          Value x = convertScalar(b, l, scalars[0], wide, isUnsigned, false);
          if (hasZeroPoint)
            x = arith::SubIOp::create(
                b, l, x,
                convertScalar(b, l, scalars[2], wide, isUnsigned, false));
          Value value = arith::SIToFPOp::create(b, l, f32, x);
          Value scale = convertScalar(b, l, scalars[1], f32, false, false);
          Value product = arith::MulFOp::create(b, l, value, scale);
          return convertScalar(b, l, product, resultElement, false, false);
        });
    return LoweredValues{result};
  }
};

//===----------------------------------------------------------------------===//
// DynamicQuantizeLinear
//===----------------------------------------------------------------------===//

/// uint8 quantization with the range of x widened to include 0:
/// scale = (max - min) / 255 (1 when the range is empty), zero point =
/// round(clamp(-min / scale, 0, 255)), as ONNX Runtime computes them.
struct DynamicQuantizeLinearLowering
    : LinalgLoweringPattern<onnx::DynamicQuantizeLinearOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::DynamicQuantizeLinearOp op,
                                 OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    auto xType = cast<RankedTensorType>(x.getType());
    if (!xType.getElementType().isF32())
      return reportUnsupported(rw, op, "x must be a float32 tensor");
    Type f32 = rw.getF32Type();
    auto u8 = cast<IntegerType>(resultTypes[2].getElementType());
    SmallVector<int64_t> allDims =
        llvm::to_vector(llvm::seq<int64_t>(0, xType.getRank()));

    // The range of x: min and max reductions over every dim.
    auto reduce = [&](double init, bool isMax) {
      Value start = createScalarConstant(rw, loc, f32, init);
      Value reduced = buildReduction(
          rw, loc, {x}, allDims, start, false,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            if (isMax)
              return arith::MaxNumFOp::create(b, l, args[0], args[1]);
            return arith::MinNumFOp::create(b, l, args[0], args[1]);
          });
      return extractScalar(rw, loc, reduced);
    };
    Value zero = createScalarConstant(rw, loc, f32, 0.0);
    Value low = arith::MinNumFOp::create(
        rw, loc, reduce(std::numeric_limits<double>::infinity(), false), zero);
    Value high = arith::MaxNumFOp::create(
        rw, loc, reduce(-std::numeric_limits<double>::infinity(), true), zero);
    Value empty =
        arith::CmpFOp::create(rw, loc, arith::CmpFPredicate::OEQ, high, low);
    Value scale = arith::SelectOp::create(
        rw, loc, empty, createScalarConstant(rw, loc, f32, 1.0),
        arith::DivFOp::create(rw, loc,
                              arith::SubFOp::create(rw, loc, high, low),
                              createScalarConstant(rw, loc, f32, 255.0)));
    Value initialZero = arith::SubFOp::create(
        rw, loc, zero, arith::DivFOp::create(rw, loc, low, scale));
    Value clampedZero = arith::MinNumFOp::create(
        rw, loc, arith::MaxNumFOp::create(rw, loc, initialZero, zero),
        createScalarConstant(rw, loc, f32, 255.0));
    Value zeroPointFloat = math::RoundEvenOp::create(rw, loc, clampedZero);
    Value zeroPoint = arith::FPToUIOp::create(rw, loc, u8, zeroPointFloat);

    Value y =
        buildElementwise(rw, loc, {x}, getDims(rw, loc, x), u8,
                         [&](OpBuilder &b, Location l, ValueRange scalars) {
                           return quantizeScalar(b, l, scalars[0], scale,
                                                 zeroPointFloat, u8, true);
                         });
    Value scaleTensor =
        tensor::FromElementsOp::create(rw, loc, resultTypes[1], scale);
    Value zeroPointTensor =
        tensor::FromElementsOp::create(rw, loc, resultTypes[2], zeroPoint);
    return LoweredValues{y, scaleTensor, zeroPointTensor};
  }
};

} // namespace

void populateQuantizationPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns.add<DequantizeLinearLowering, DynamicQuantizeLinearLowering,
               QuantizeLinearLowering>(converter, patterns.getContext());
}

} // namespace qaf
