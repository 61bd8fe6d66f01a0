//===- WeightAttrs.cpp - how weights are named and stored in IR -----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/WeightAttrs.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace qaf {

std::string getWeightName(Operation *op, StringRef fallback) {
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner))
        loc = inner;
  if (auto nameLoc = dyn_cast<NameLoc>(loc))
    return nameLoc.getName().str();
  // Text IR printed without debug info loses locations; a resource's key
  // still names its weight.
  if (auto constant = dyn_cast<onnx::ConstantOp>(op))
    if (auto resource =
            dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      return resource.getRawHandle().getKey().str();
  return fallback.str();
}

onnx::ConstantOp createWeightConstant(OpBuilder &builder, StringRef name,
                                      RankedTensorType type,
                                      AsmResourceBlob blob) {
  auto value = DenseResourceElementsAttr::get(type, name, std::move(blob));
  return onnx::ConstantOp::create(
      builder, NameLoc::get(builder.getStringAttr(name)), type, value);
}

} // namespace qaf
