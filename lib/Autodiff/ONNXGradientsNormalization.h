//===- ONNXGradientsNormalization.h - norm, RoPE, loss rules ----*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_ONNXGRADIENTSNORMALIZATION_H
#define QAF_LIB_AUTODIFF_ONNXGRADIENTSNORMALIZATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace qaf {

/// Attaches GradientOpInterface to LayerNormalization,
/// SimplifiedLayerNormalization, com.microsoft
/// SkipSimplifiedLayerNormalization and RotaryEmbedding, and
/// SoftmaxCrossEntropyLoss (called by registerONNXGradientModels).
void registerONNXNormalizationGradientModels(mlir::DialectRegistry &registry);

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_ONNXGRADIENTSNORMALIZATION_H
