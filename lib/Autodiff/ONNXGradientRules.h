//===- ONNXGradientRules.h - gradient rules shared by op groups -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The gradient rules of the onnx ops live in one file per group of ops
// (ONNXGradientModels.cpp: element-wise; ONNXGradientsMath.cpp: MatMul,
// reductions, Softmax, ...; ONNXGradientsShape.cpp: data movement). This
// header declares each group's registration; the broadcast reduction they
// share is in ElementwiseGradientModel.h.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H
#define QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H

#include "ElementwiseGradientModel.h"

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace qaf {

/// Attaches the rules of MatMul, Gemm, the reductions, Softmax, ...
/// (ONNXGradientsMath.cpp).
void registerONNXMathGradientModels(mlir::DialectRegistry &registry);

/// Attaches the rules of the data-movement ops (Transpose, Reshape, Concat,
/// Slice, Gather, Where, ...) and the no-gradient models of the ops that
/// make constants and shapes (ONNXGradientsShape.cpp).
void registerONNXShapeGradientModels(mlir::MLIRContext *context);

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H
