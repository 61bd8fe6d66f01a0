//===- ElementwiseGradientModel.h - the model of element-wise ops -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Element-wise ops (the ONNX_Elementwise trait) share one GradientOpInterface
// model: the rule of each op gives the gradient of every operand in the
// result's shape (g * d result / d operand, element by element); for ops
// with the ONNX_MultidirectionalBroadcast trait, the model then sums each one
// over the dims its operand was broadcast along, the dims the lowering reads
// at index 0 (onnx::getBroadcastDims, shared by both). The rules live in one
// file per group of ops (ONNXGradientModels.cpp, ONNXGradientsMath.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_ELEMENTWISEGRADIENTMODEL_H
#define QAF_LIB_AUTODIFF_ELEMENTWISEGRADIENTMODEL_H

#include "ONNXGraphBuilder.h"

#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

namespace qaf {

/// `gradient`, of the broadcast result's shape, summed over the dims along
/// which `operand` was broadcast and brought to the operand's rank. A dim
/// the gradient already has at size 1 needs no sum.
inline mlir::Value sumToOperandShape(ONNXGraphBuilder &graph,
                                     mlir::Operation *op, mlir::Value gradient,
                                     mlir::Value operand) {
  if (!gradient) // An earlier op failed; the builder has said why.
    return {};
  auto gradientType =
      mlir::dyn_cast<mlir::RankedTensorType>(gradient.getType());
  auto operandType = mlir::dyn_cast<mlir::RankedTensorType>(operand.getType());
  if (!gradientType || !operandType) {
    op->emitOpError("the gradient of a broadcasting op needs ranked operand "
                    "and result types");
    return {};
  }
  llvm::SmallVector<int64_t> broadcastDims =
      llvm::to_vector(llvm::make_filter_range(
          onnx::getBroadcastDims(operandType.getShape(),
                                 gradientType.getRank()),
          [&](int64_t dim) { return gradientType.getDimSize(dim) != 1; }));
  if (operandType.getRank() == gradientType.getRank() && broadcastDims.empty())
    return gradient;
  // keepdims=1: a stretched size-1 dim stays; the missing leading dims go
  // with the reshape below.
  mlir::Value summed =
      broadcastDims.empty()
          ? gradient
          : graph.create<onnx::ReduceSumOp>(
                {gradient, graph.createI64Vector(broadcastDims)});
  if (operandType.getRank() == gradientType.getRank())
    return summed;
  return graph.create<onnx::ReshapeOp>(
      {summed, graph.create<onnx::ShapeOp>({operand})});
}

/// Reports on `op` that its rule could not be built, after an emitted op
/// failed shape inference (which reported on that op): names the op whose
/// gradient it was.
inline mlir::LogicalResult checkRuleBuilt(ONNXGraphBuilder &graph,
                                          mlir::Operation *op) {
  if (!graph.failed())
    return mlir::success();
  return op->emitOpError("has a gradient rule that could not be built");
}

/// Whether any operand of `op` carries a gradient: a rule builds nothing
/// for an op that has none (integer arithmetic, say).
inline bool hasDifferentiableOperand(GradientOpInterface op) {
  return llvm::any_of(llvm::seq(op->getNumOperands()), [&](unsigned i) {
    return op.isDifferentiableOperand(i);
  });
}

template <typename OpTy>
using ElementwiseRule = llvm::SmallVector<mlir::Value> (*)(ONNXGraphBuilder &,
                                                           OpTy, mlir::Value);

/// The model of every element-wise op: `Rule` is the per-op part.
template <typename OpTy, ElementwiseRule<OpTy> Rule>
struct ElementwiseGradientModel
    : GradientOpInterface::ExternalModel<ElementwiseGradientModel<OpTy, Rule>,
                                         OpTy> {
  static_assert(OpTy::template hasTrait<onnx::OpTrait::Elementwise>(),
                "the element-wise rule is for ONNX_Elementwise ops");

  mlir::LogicalResult
  buildGradients(mlir::Operation *op, mlir::OpBuilder &builder,
                 llvm::ArrayRef<mlir::Value> resultGradients,
                 llvm::SmallVectorImpl<mlir::Value> &operandGradients) const {
    operandGradients.assign(op->getNumOperands(), mlir::Value());
    auto differentiable = mlir::cast<GradientOpInterface>(op);
    if (!resultGradients.front() || !hasDifferentiableOperand(differentiable))
      return mlir::success();
    ONNXGraphBuilder graph(builder, op->getLoc());
    llvm::SmallVector<mlir::Value> local =
        Rule(graph, mlir::cast<OpTy>(op), resultGradients.front());
    bool broadcasts = op->hasTrait<onnx::OpTrait::MultidirectionalBroadcast>();
    for (auto [index, gradient] : llvm::enumerate(local)) {
      if (!gradient || !differentiable.isDifferentiableOperand(index))
        continue;
      mlir::Value operandGradient =
          broadcasts
              ? sumToOperandShape(graph, op, gradient, op->getOperand(index))
              : gradient;
      if (!operandGradient)
        return graph.failed() ? checkRuleBuilt(graph, op) : mlir::failure();
      operandGradients[index] = operandGradient;
    }
    return checkRuleBuilt(graph, op);
  }
};

template <typename OpTy, ElementwiseRule<OpTy> Rule>
void attachElementwiseModel(mlir::MLIRContext *context) {
  OpTy::template attachInterface<ElementwiseGradientModel<OpTy, Rule>>(
      *context);
}

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_ELEMENTWISEGRADIENTMODEL_H
