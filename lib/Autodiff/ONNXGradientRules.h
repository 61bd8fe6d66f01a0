//===- ONNXGradientRules.h - gradient rules shared by op groups -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The gradient rules of the onnx ops live in one file per group of ops
// (ONNXGradientModels.cpp: element-wise; ONNXGradientsShape.cpp: data
// movement). This header is what the groups share: the broadcast reduction
// and the registration of each group's external models.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H
#define QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H

#include "ONNXGraphBuilder.h"

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace qaf {

/// `gradient`, of the broadcast result's shape, summed over the dims along
/// which `operand` was broadcast and brought to the operand's rank. Reports
/// on `op` and returns null when a type is unranked.
mlir::Value sumToOperandShape(ONNXGraphBuilder &graph, mlir::Operation *op,
                              mlir::Value gradient, mlir::Value operand);

/// Attaches the rules of the data-movement ops (Transpose, Reshape, Concat,
/// Slice, Gather, Where, ...) and the no-gradient models of the ops that
/// make constants and shapes (ONNXGradientsShape.cpp).
void registerONNXShapeGradientModels(mlir::MLIRContext *context);

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_ONNXGRADIENTRULES_H
