//===- ONNXGraphBuilder.h - onnx ops typed by shape inference ---*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The gradient rules emit onnx ops without computing their result types:
// each op is built with a placeholder type and typed by its own
// `inferShapes`, as the importer does, so a rule never re-derives a shape
// rule (broadcasting, reductions) that shape inference already has.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_AUTODIFF_ONNXGRAPHBUILDER_H
#define QAF_LIB_AUTODIFF_ONNXGRAPHBUILDER_H

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"

namespace qaf {

/// Builds onnx ops at the insertion point of a builder, typed by shape
/// inference. The first failure (reported on the op, which is then erased)
/// sticks: later calls return null and `failed()` tells.
class ONNXGraphBuilder {
public:
  ONNXGraphBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : builder(builder), loc(loc) {}

  /// An `OpTy` on `operands` (none of them null) with `attributes`; its one
  /// result, or null after a failure.
  template <typename OpTy>
  mlir::Value create(mlir::ValueRange operands,
                     llvm::ArrayRef<mlir::NamedAttribute> attributes = {}) {
    if (hasFailed || llvm::is_contained(operands, mlir::Value())) {
      hasFailed = true;
      return {};
    }
    mlir::Type placeholder =
        mlir::UnrankedTensorType::get(builder.getF32Type());
    auto op = OpTy::create(builder, loc, mlir::TypeRange{placeholder}, operands,
                           attributes);
    if (mlir::failed(op.inferShapes())) {
      op->erase();
      hasFailed = true;
      return {};
    }
    return op->getResult(0);
  }

  /// A 1-D int64 `onnx.Constant` (axes, shapes).
  mlir::Value createI64Vector(llvm::ArrayRef<int64_t> values) {
    auto type = mlir::RankedTensorType::get(
        {static_cast<int64_t>(values.size())}, builder.getI64Type());
    return onnx::ConstantOp::create(
        builder, loc, type, mlir::DenseIntElementsAttr::get(type, values));
  }

  /// A 0-D `onnx.Constant` `value` of the float element type of `like`: it
  /// broadcasts against any tensor of that type (the constants of rules).
  mlir::Value createScalarLike(mlir::Value like, double value) {
    if (hasFailed || !like) {
      hasFailed = true;
      return {};
    }
    auto elementType =
        mlir::dyn_cast<mlir::FloatType>(mlir::getElementTypeOrSelf(like));
    if (!elementType) {
      mlir::emitError(loc) << "a gradient constant needs a float element "
                              "type, got "
                           << like.getType();
      hasFailed = true;
      return {};
    }
    auto type = mlir::RankedTensorType::get({}, elementType);
    return onnx::ConstantOp::create(
        builder, loc, type,
        mlir::DenseElementsAttr::get(type,
                                     builder.getFloatAttr(elementType, value)));
  }

  /// An omitted optional input (`onnx.NoValue`).
  mlir::Value createNoValue() {
    return onnx::NoValueOp::create(builder, loc, builder.getNoneType());
  }

  bool failed() const { return hasFailed; }

private:
  mlir::OpBuilder &builder;
  mlir::Location loc;
  bool hasFailed = false;
};

} // namespace qaf

#endif // QAF_LIB_AUTODIFF_ONNXGRAPHBUILDER_H
