//===- GradientOpInterface.td - reverse-mode rules of ops --*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_INTERFACES_GRADIENTOPINTERFACE_TD
#define QAF_INTERFACES_GRADIENTOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::qaf";
  let description = [{
    The reverse-mode rule of an op, as Enzyme's `AutoDiffOpInterface`: given
    the gradients of the loss with respect to the op's results, build the
    ops that compute the gradients with respect to its operands. The rules
    emit `onnx` (and `qaf`) ops, so a training step is again a graph that
    shape inference, the lowering and the exporter understand.

    The `onnx` dialect stays a faithful copy of ONNX: its ops get the
    interface as external models (`qaf::registerONNXGradientModels`, in
    lib/Autodiff), never in ONNXOps.td.
  }];
  let methods = [
    InterfaceMethod<[{
        Whether operand `index` carries a gradient: data operands of a float
        element type do; shapes, axes, indices and integer data do not.
      }],
      "bool", "isDifferentiableOperand", (ins "unsigned":$index),
      /*methodBody=*/[{}], /*defaultImplementation=*/[{
        return ::llvm::isa<::mlir::FloatType>(::mlir::getElementTypeOrSelf(
            $_op->getOperand(index).getType()));
      }]>,
    InterfaceMethod<[{
        Builds, at the insertion point of `builder`, the gradients of the
        operands from `resultGradients` (one per result, in result order;
        null where a result gets no gradient). `operandGradients` receives
        one value per operand, each of its operand's type, null for operands
        that are not differentiable or get no gradient (an integer operand
        a rule declares differentiable, LoTA-QAF's ternary factors, gets a
        float tensor of its shape). Fails with a
        diagnostic on the op when the rule cannot be built (an unranked
        operand, say).
      }],
      "::mlir::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ArrayRef<::mlir::Value>":$resultGradients,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGradients)>,
  ];
}

#endif // QAF_INTERFACES_GRADIENTOPINTERFACE_TD
