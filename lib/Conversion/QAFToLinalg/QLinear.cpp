//===- QLinear.cpp - qaf.qlinear to linalg --------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A quantized linear layer never forms its dequantized weight: it becomes a
// qaf.kernel.qlinear where the qaf_qlinear kernel computes the format, else
// a contraction that dequantizes each code inside its body
// (LinearAlgebraUtils' buildQuantizedMatMul decides, for LoTA-QAF too).
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace qaf {
namespace {

struct QLinearLowering : OpConversionPattern<QLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(QLinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    FailureOr<RankedTensorType> resultType =
        getRankedResultType(*getTypeConverter(), rw, op);
    if (failed(resultType))
      return failure();
    QuantFormatAttr format = op.getFormat();
    QuantizedWeight weight;
    weight.bits = format.getBits();
    weight.groupSize = format.getGroupSize();
    weight.codes = adaptor.getCodes();
    weight.scales = adaptor.getScales();
    weight.zeroPoints = adaptor.getZeroPoints();
    if (format.getScheme() == QuantScheme::NormalFloat) {
      ArrayRef<float> values = quant::getNormalFloatCodebook(weight.bits);
      auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                        rw.getF32Type());
      weight.codebook = arith::ConstantOp::create(
          rw, loc, DenseElementsAttr::get(type, values));
    }
    Value product = buildQuantizedMatMul(rw, loc, adaptor.getInput(),
                                         resultType->getShape().back(), weight,
                                         resultType->getElementType());
    rw.replaceOp(op, castToTensorType(rw, loc, product, *resultType));
    return success();
  }
};

} // namespace

void populateQLinearPatterns(const TypeConverter &converter,
                             RewritePatternSet &patterns) {
  patterns.add<QLinearLowering>(converter, patterns.getContext());
}

} // namespace qaf
