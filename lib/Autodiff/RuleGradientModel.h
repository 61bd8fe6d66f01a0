//===- RuleGradientModel.h - the model of ops with one rule each -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The GradientOpInterface model that the math rules (ONNXGradientsMath.cpp)
// and the data-movement rules (ONNXGradientsShape.cpp) share: what happens
// around a rule (nothing to do without a result gradient, the rule's
// failures reported, gradients of operands that take none dropped) is
// written once here; a `Kind` says what differs between the two groups:
//
//   template <typename OpTy> using Rule = ...;  the per-op function type
//   static bool needsGradients(Operation *);  false: no operand gets one
//   static LogicalResult checkTypes(Operation *);  before the rule runs
//   template <typename OpTy, Rule<OpTy> rule>
//   static LogicalResult apply(OpBuilder &, OpTy, ArrayRef<Value> results,
//                              MutableArrayRef<Value> operands);
//                                  runs `rule`, reports what failed
//   static LogicalResult refine(Operation *, Value gradient, unsigned index);
//                                  each gradient kept, of operand `index`
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_RULEGRADIENTMODEL_H
#define QAF_LIB_AUTODIFF_RULEGRADIENTMODEL_H

#include "qaf/Interfaces/GradientOpInterface.h"

namespace qaf {

template <typename OpTy, typename Kind,
          typename Kind::template Rule<OpTy> PerOpRule>
struct RuleGradientModel : GradientOpInterface::ExternalModel<
                               RuleGradientModel<OpTy, Kind, PerOpRule>, OpTy> {
  mlir::LogicalResult
  buildGradients(mlir::Operation *op, mlir::OpBuilder &builder,
                 llvm::ArrayRef<mlir::Value> resultGradients,
                 llvm::SmallVectorImpl<mlir::Value> &operandGradients) const {
    operandGradients.assign(op->getNumOperands(), mlir::Value());
    if (llvm::all_of(resultGradients, [](mlir::Value g) { return !g; }) ||
        !Kind::needsGradients(op))
      return mlir::success();
    if (mlir::failed(Kind::checkTypes(op)) ||
        mlir::failed(Kind::template apply<OpTy, PerOpRule>(
            builder, mlir::cast<OpTy>(op), resultGradients, operandGradients)))
      return mlir::failure();
    auto differentiable = mlir::cast<GradientOpInterface>(op);
    for (auto [index, gradient] : llvm::enumerate(operandGradients)) {
      if (!gradient)
        continue;
      if (!differentiable.isDifferentiableOperand(index)) {
        gradient = mlir::Value();
        continue;
      }
      if (mlir::failed(Kind::refine(op, gradient, index)))
        return mlir::failure();
    }
    return mlir::success();
  }
};

template <typename OpTy, typename Kind,
          typename Kind::template Rule<OpTy> PerOpRule>
void attachRuleModel(mlir::MLIRContext *context) {
  OpTy::template attachInterface<RuleGradientModel<OpTy, Kind, PerOpRule>>(
      *context);
}

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_RULEGRADIENTMODEL_H
