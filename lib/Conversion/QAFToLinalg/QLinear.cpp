//===- QLinear.cpp - qaf.qlinear to linalg --------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A quantized linear layer never forms its dequantized weight: it becomes a
// qaf.kernel.qlinear where the qaf_qlinear kernel computes the format, else
// a contraction that dequantizes each code inside its body
// (LinearAlgebraUtils' buildQuantizedMatMul decides, for LoTA-QAF too). Its
// input gradient, qaf.qlinear_transposed, is the same product with W
// untransposed (the kernel op's transpose_weight).
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace qaf {
namespace {

/// The weight of a qaf.qlinear or qaf.qlinear_transposed (its NF codebook
/// as a constant).
template <typename Adaptor>
QuantizedWeight getQuantizedWeight(OpBuilder &b, Location loc,
                                   QuantFormatAttr format, Adaptor adaptor) {
  QuantizedWeight weight;
  weight.bits = format.getBits();
  weight.groupSize = format.getGroupSize();
  weight.codes = adaptor.getCodes();
  weight.scales = adaptor.getScales();
  weight.zeroPoints = adaptor.getZeroPoints();
  if (format.getScheme() == QuantScheme::NormalFloat) {
    ArrayRef<float> values = quant::getNormalFloatCodebook(weight.bits);
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      b.getF32Type());
    weight.codebook =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, values));
  }
  return weight;
}

/// The zero points a layer reads: the [1, K / g] row itself when every
/// row is that one (qaf-share-zero-point-rows' onnx.Expand), which the
/// kernel reads with row stride 0, else the full [N, K / g] tensor.
template <typename OpTy>
Value getZeroPointsOperand(OpTy op, typename OpTy::Adaptor adaptor,
                           ConversionPatternRewriter &rw) {
  Value zeroPoints = op.getZeroPoints();
  auto expand = zeroPoints ? zeroPoints.template getDefiningOp<onnx::ExpandOp>()
                           : onnx::ExpandOp();
  if (!expand)
    return adaptor.getZeroPoints();
  auto rowType = dyn_cast<RankedTensorType>(expand.getInput().getType());
  auto fullType = cast<RankedTensorType>(zeroPoints.getType());
  if (!rowType || !rowType.hasStaticShape() || rowType.getRank() != 2 ||
      rowType.getDimSize(0) != 1 ||
      rowType.getDimSize(1) != fullType.getDimSize(1))
    return adaptor.getZeroPoints();
  return rw.getRemappedValue(expand.getInput());
}

/// qaf.qlinear (x · Wᵀ) and qaf.qlinear_transposed (g · W, with optional
/// moves): one builder, the product's orientation chosen by the op.
template <typename OpTy>
struct QuantizedProductLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> resultType =
        getRankedResultType(*this->getTypeConverter(), rw, op);
    if (failed(resultType))
      return failure();
    QuantizedWeight weight =
        getQuantizedWeight(rw, loc, op.getFormat(), adaptor);
    weight.zeroPoints = getZeroPointsOperand(op, adaptor, rw);
    constexpr bool transposed = std::is_same_v<OpTy, QLinearTransposedOp>;
    if constexpr (transposed)
      weight.moves = adaptor.getMoves();
    else
      weight.int8Activations = op->hasAttr(kInt8ActivationsAttr);
    Value product = buildQuantizedMatMul(
        rw, loc, adaptor.getInput(), resultType->getShape().back(), weight,
        resultType->getElementType(), transposed);
    rw.replaceOp(op, castToTensorType(rw, loc, product, *resultType));
    return success();
  }
};

} // namespace

void populateQLinearPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  patterns.add<QuantizedProductLowering<QLinearOp>,
               QuantizedProductLowering<QLinearTransposedOp>>(
      converter, patterns.getContext());
}

} // namespace qaf
