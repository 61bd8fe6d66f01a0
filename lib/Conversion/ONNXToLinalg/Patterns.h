//===- Patterns.h - onnx -> linalg pattern families -------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The lowering is split by op family, one file each; the pass
// (ONNXToLinalg.cpp) collects them all, and the qaf dialect's
// (../QAFToLinalg).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_ONNXTOLINALG_PATTERNS_H
#define QAF_LIB_CONVERSION_ONNXTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {

/// Tensor types with signless element types (`ui8` -> `i8`); everything
/// else unchanged.
class ONNXToLinalgTypeConverter : public mlir::TypeConverter {
public:
  ONNXToLinalgTypeConverter();
};

/// Element-wise ops (unary, binary with broadcasting, Where, Cast, CastLike,
/// Clip, Max, Min, Gelu, IsNaN, comparisons, logic), Constant, Identity.
void populateElementwisePatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);

/// Reductions, Softmax, LogSoftmax, CumSum, LayerNormalization and the
/// SimplifiedLayerNormalization and com.microsoft
/// SkipSimplifiedLayerNormalization.
void populateNormalizationPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

/// The statistics of a softmax of `input` along `axis`, in the compute
/// type of its element type (getComputeType), without the axis: the max,
/// and the sum of exp(x - max). Softmax, LogSoftmax and
/// SoftmaxCrossEntropyLoss read them back.
struct SoftmaxStatistics {
  mlir::Value max, sumExp;
};
SoftmaxStatistics buildSoftmaxStatistics(mlir::OpBuilder &builder,
                                         mlir::Location loc, mlir::Value input,
                                         int64_t axis);

/// SoftmaxCrossEntropyLoss.
void populateLossPatterns(const mlir::TypeConverter &converter,
                          mlir::RewritePatternSet &patterns);

/// Shape and data movement: Transpose, Reshape, Flatten, Squeeze, Unsqueeze,
/// Concat, Split, Slice, Gather, GatherElements, GatherND, com.microsoft
/// GatherBlockQuantized, Expand, Tile, Shape, Size, ConstantOfShape, Range,
/// Trilu, ScatterND.
void populateDataMovementPatterns(const mlir::TypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);

/// MatMul, Gemm, MatMulInteger, com.microsoft MatMulNBits and
/// RotaryEmbedding.
void populateLinearAlgebraPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

/// com.microsoft GroupQueryAttention.
void populateAttentionPatterns(const mlir::TypeConverter &converter,
                               mlir::RewritePatternSet &patterns,
                               bool fuseAttention);

/// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear.
void populateQuantizationPatterns(const mlir::TypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_PATTERNS_H
