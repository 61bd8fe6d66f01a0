//===- ONNXGradientModels.cpp - gradient rules of onnx ops ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// GradientOpInterface as external models of onnx ops (as Enzyme's
// *AutoDiffOpInterfaceImpl.cpp), so ONNXOps.td stays a copy of ONNX.
//
// Element-wise ops (the ONNX_Elementwise trait) share one model: the rule of
// each op gives the gradient of every operand in the result's shape
// (g * d result / d operand, element by element); for ops with the
// ONNX_MultidirectionalBroadcast trait, the model then sums each one over
// the dims its operand was broadcast along, the dims the lowering reads at
// index 0 (onnx::getBroadcastDims, shared by both).
//
//===----------------------------------------------------------------------===//

#include "ONNXGradientsNormalization.h"
#include "ONNXGraphBuilder.h"

#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

/// `gradient`, of the broadcast result's shape, summed over the dims along
/// which `operand` was broadcast and brought to the operand's rank.
Value sumToOperandShape(ONNXGraphBuilder &graph, Operation *op, Value gradient,
                        Value operand) {
  auto gradientType = dyn_cast<RankedTensorType>(gradient.getType());
  auto operandType = dyn_cast<RankedTensorType>(operand.getType());
  if (!gradientType || !operandType) {
    op->emitError("the gradient of a broadcasting op needs ranked operand "
                  "and result types");
    return {};
  }
  SmallVector<int64_t> broadcastDims =
      onnx::getBroadcastDims(operandType.getShape(), gradientType.getRank());
  if (broadcastDims.empty())
    return gradient;
  // keepdims=1: a stretched size-1 dim stays; the missing leading dims go
  // with the reshape below.
  Value summed = graph.create<onnx::ReduceSumOp>(
      {gradient, graph.createI64Vector(broadcastDims)});
  if (operandType.getRank() == gradientType.getRank())
    return summed;
  return graph.create<onnx::ReshapeOp>(
      {summed, graph.create<onnx::ShapeOp>({operand})});
}

template <typename OpTy>
using ElementwiseRule = SmallVector<Value> (*)(ONNXGraphBuilder &, OpTy,
                                               Value resultGradient);

/// The model of every element-wise op: `Rule` is the per-op part.
template <typename OpTy, ElementwiseRule<OpTy> Rule>
struct ElementwiseGradientModel
    : GradientOpInterface::ExternalModel<ElementwiseGradientModel<OpTy, Rule>,
                                         OpTy> {
  static_assert(OpTy::template hasTrait<onnx::OpTrait::Elementwise>(),
                "the element-wise rule is for ONNX_Elementwise ops");

  LogicalResult buildGradients(Operation *op, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    operandGradients.assign(op->getNumOperands(), Value());
    if (!resultGradients.front())
      return success();
    ONNXGraphBuilder graph(builder, op->getLoc());
    SmallVector<Value> local =
        Rule(graph, cast<OpTy>(op), resultGradients.front());
    bool broadcasts = op->hasTrait<onnx::OpTrait::MultidirectionalBroadcast>();
    auto differentiable = cast<GradientOpInterface>(op);
    for (auto [index, gradient] : llvm::enumerate(local)) {
      if (!gradient || !differentiable.isDifferentiableOperand(index))
        continue;
      Value operandGradient =
          broadcasts
              ? sumToOperandShape(graph, op, gradient, op->getOperand(index))
              : gradient;
      if (!operandGradient)
        return failure();
      operandGradients[index] = operandGradient;
    }
    return failure(graph.failed());
  }
};

//===----------------------------------------------------------------------===//
// The rules: the derivatives of C = f(A, B) or C = f(X), times the result
// gradient g
//===----------------------------------------------------------------------===//

SmallVector<Value> addRule(ONNXGraphBuilder &, onnx::AddOp, Value g) {
  return {g, g};
}

SmallVector<Value> subRule(ONNXGraphBuilder &graph, onnx::SubOp, Value g) {
  return {g, graph.create<onnx::NegOp>({g})};
}

SmallVector<Value> mulRule(ONNXGraphBuilder &graph, onnx::MulOp op, Value g) {
  return {graph.create<onnx::MulOp>({g, op.getB()}),
          graph.create<onnx::MulOp>({g, op.getA()})};
}

/// dC/dB = -A / B^2 = -C / B: the quotient the forward pass computed.
SmallVector<Value> divRule(ONNXGraphBuilder &graph, onnx::DivOp op, Value g) {
  Value quotientGradient = graph.create<onnx::MulOp>({g, op.getC()});
  return {graph.create<onnx::DivOp>({g, op.getB()}),
          graph.create<onnx::NegOp>(
              {graph.create<onnx::DivOp>({quotientGradient, op.getB()})})};
}

SmallVector<Value> negRule(ONNXGraphBuilder &graph, onnx::NegOp, Value g) {
  return {graph.create<onnx::NegOp>({g})};
}

// Unary functions whose derivative is a function of their result C: no
// constant is needed, so the rules hold for every float element type.

SmallVector<Value> expRule(ONNXGraphBuilder &graph, onnx::ExpOp op, Value g) {
  return {graph.create<onnx::MulOp>({g, op.getOutput()})};
}

/// d sqrt(x) = 1 / (2 C).
SmallVector<Value> sqrtRule(ONNXGraphBuilder &graph, onnx::SqrtOp op, Value g) {
  Value c = op.getY();
  return {graph.create<onnx::DivOp>({g, graph.create<onnx::AddOp>({c, c})})};
}

/// d (1 / x) = -C^2.
SmallVector<Value> reciprocalRule(ONNXGraphBuilder &graph,
                                  onnx::ReciprocalOp op, Value g) {
  Value c = op.getY();
  return {graph.create<onnx::NegOp>(
      {graph.create<onnx::MulOp>({graph.create<onnx::MulOp>({g, c}), c})})};
}

/// d tanh(x) = 1 - C^2: g - (g C) C.
SmallVector<Value> tanhRule(ONNXGraphBuilder &graph, onnx::TanhOp op, Value g) {
  Value c = op.getOutput();
  return {graph.create<onnx::SubOp>(
      {g, graph.create<onnx::MulOp>({graph.create<onnx::MulOp>({g, c}), c})})};
}

/// d sigmoid(x) = C (1 - C) = C - C^2.
SmallVector<Value> sigmoidRule(ONNXGraphBuilder &graph, onnx::SigmoidOp op,
                               Value g) {
  Value c = op.getY();
  return {graph.create<onnx::MulOp>(
      {g, graph.create<onnx::SubOp>({c, graph.create<onnx::MulOp>({c, c})})})};
}

template <typename OpTy, ElementwiseRule<OpTy> Rule>
void attachElementwiseModel(MLIRContext *context) {
  OpTy::template attachInterface<ElementwiseGradientModel<OpTy, Rule>>(
      *context);
}

} // namespace

void registerONNXGradientModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, onnx::ONNXDialect *) {
    attachElementwiseModel<onnx::AddOp, addRule>(context);
    attachElementwiseModel<onnx::SubOp, subRule>(context);
    attachElementwiseModel<onnx::MulOp, mulRule>(context);
    attachElementwiseModel<onnx::DivOp, divRule>(context);
    attachElementwiseModel<onnx::NegOp, negRule>(context);
    attachElementwiseModel<onnx::ExpOp, expRule>(context);
    attachElementwiseModel<onnx::SqrtOp, sqrtRule>(context);
    attachElementwiseModel<onnx::ReciprocalOp, reciprocalRule>(context);
    attachElementwiseModel<onnx::TanhOp, tanhRule>(context);
    attachElementwiseModel<onnx::SigmoidOp, sigmoidRule>(context);
  });
  registerONNXNormalizationGradientModels(registry);
}

} // namespace qaf
