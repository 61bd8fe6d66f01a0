//===- ONNXDialect.cpp - the onnx dialect ---------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qaf::onnx;

#include "qaf/dialects/onnx/ONNXOpsDialect.cpp.inc"

#include "qaf/dialects/onnx/ONNXInterfaces.cpp.inc"

void ONNXDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qaf/dialects/onnx/ONNXOps.cpp.inc"
      >();
}

Operation *ONNXDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  if (isa<NoneType>(type))
    return NoValueOp::create(builder, loc, builder.getNoneType());
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

//===----------------------------------------------------------------------===//
// NoValueOp, ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult NoValueOp::fold(FoldAdaptor) { return UnitAttr::get(getContext()); }

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ")
           << getValue().getType() << " differs from result type "
           << getOutput().getType();
  return success();
}

LogicalResult ConstantOp::inferShapes() {
  getOperation()->getResult(0).setType(getValue().getType());
  return success();
}

#define GET_OP_CLASSES
#include "qaf/dialects/onnx/ONNXOps.cpp.inc"
