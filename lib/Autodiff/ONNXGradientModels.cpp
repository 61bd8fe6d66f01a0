//===- ONNXGradientModels.cpp - gradient rules of onnx ops ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// GradientOpInterface as external models of onnx ops (as Enzyme's
// *AutoDiffOpInterfaceImpl.cpp), so ONNXOps.td stays a copy of ONNX.
//
// Element-wise ops share one model (ElementwiseGradientModel.h); the rules of
// the other groups of ops are in their own files, registered from here.
//
//===----------------------------------------------------------------------===//

#include "ONNXGradientRules.h"
#include "ONNXGradientsNormalization.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

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

} // namespace

void registerONNXGradientModels(DialectRegistry &registry) {
  registerONNXMathGradientModels(registry);
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
    registerONNXShapeGradientModels(context);
  });
  registerONNXNormalizationGradientModels(registry);
}

} // namespace qaf
