//===- ONNXShapeHelpers.cpp - shape rules shared beyond the dialect -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"

#include <algorithm>

using namespace mlir;

namespace qaf::onnx {

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> lhs,
                                                    ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Shapes align at their last dimension; a missing leading dim acts as 1.
    int64_t a = i < lhs.size() ? lhs[lhs.size() - 1 - i] : 1;
    int64_t b = i < rhs.size() ? rhs[rhs.size() - 1 - i] : 1;
    int64_t &dim = result[rank - 1 - i];
    if (a == b || b == 1)
      dim = a;
    else if (a == 1)
      dim = b;
    else if (ShapedType::isDynamic(a))
      dim = b; // the dynamic one must be 1 or b at run time
    else if (ShapedType::isDynamic(b))
      dim = a;
    else
      return std::nullopt;
  }
  return result;
}

SmallVector<int64_t> getBroadcastDims(ArrayRef<int64_t> operandShape,
                                      int64_t resultRank) {
  int64_t leading = resultRank - static_cast<int64_t>(operandShape.size());
  SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, leading));
  for (auto [i, size] : llvm::enumerate(operandShape))
    if (size == 1)
      dims.push_back(leading + static_cast<int64_t>(i));
  return dims;
}

FailureOr<SmallVector<int64_t>>
normalizeAxes(ArrayRef<int64_t> axes, int64_t rank,
              function_ref<InFlightDiagnostic()> emitError) {
  SmallVector<int64_t> dims;
  for (int64_t axis : axes) {
    std::optional<int64_t> dim = normalizeAxis(axis, rank);
    if (!dim)
      return emitError() << "axis " << axis << " is out of range for rank "
                         << rank;
    dims.push_back(*dim);
  }
  llvm::sort(dims);
  dims.erase(llvm::unique(dims), dims.end());
  return dims;
}

SmallVector<int64_t> getReducedShape(ArrayRef<int64_t> shape,
                                     ArrayRef<int64_t> reducedDims,
                                     bool keepDims) {
  SmallVector<int64_t> result;
  for (auto [i, size] : llvm::enumerate(shape)) {
    if (!llvm::is_contained(reducedDims, static_cast<int64_t>(i)))
      result.push_back(size);
    else if (keepDims)
      result.push_back(1);
  }
  return result;
}

} // namespace qaf::onnx
