//===- ONNXOpsUtils.h - helpers shared by onnx verifiers, folds, inference ===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Internal to the onnx dialect library: the rules that shape inference, the
// verifiers and the folders must agree on (Slice/Shape/Range arithmetic,
// reading int64 operands) live here once; axis normalisation, NumPy
// broadcasting and the other rules the lowering shares too are in
// ONNXShapeHelpers.h.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXOPSUTILS_H
#define QAF_DIALECTS_ONNX_ONNXOPSUTILS_H

#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace qaf::onnx {

/// Largest number of elements a folder materialises (or that the integer
/// readers below accept): shape vectors and axes are tiny, weights are not,
/// and a fold must never duplicate a weight.
constexpr int64_t kMaxFoldElements = 1024;

/// The values of a constant integer operand (any integer element type;
/// unsigned and i1 values are zero-extended, the others sign-extended), or
/// nullopt when the operand is not a constant (or has more than
/// kMaxFoldElements elements).
std::optional<llvm::SmallVector<int64_t>>
getConstantIntValues(mlir::Value value);

/// One element of a 0-D or 1-D integer "shape tensor" (a Reshape shape, a
/// Slice bound, ...): a known value or, when unknown, possibly the run-time
/// size of dimension `dim` of the tensor `source` (read with Shape).
struct ShapeTensorEntry {
  std::optional<int64_t> value;
  mlir::Value source;
  int64_t dim = -1;

  bool isKnown() const { return value.has_value(); }
};

/// The elements of a shape tensor, looking through what exporters emit
/// around dynamic dimensions: Constant, Shape (static dims of its input are
/// known, dynamic ones become symbolic entries), Concat, Gather, Slice,
/// Squeeze/Unsqueeze/Reshape/Identity, integer Cast, Add/Sub/Mul/Div, and
/// the Equal/Where pair in front of Expand.
/// Nullopt when even the number of elements is unknown.
std::optional<llvm::SmallVector<ShapeTensorEntry>>
getShapeTensorEntries(mlir::Value value);

/// getShapeTensorEntries without the symbols, for shapes and counts: unknown
/// elements are ShapedType::kDynamic (INT64_MIN, which no shape or count
/// can be).
std::optional<llvm::SmallVector<int64_t>>
getShapeTensorValues(mlir::Value value);

/// The elements ONNX Slice selects along an axis of static size `dim`: the
/// first index and the count, after the spec's negative-index and clamping
/// rules. `step` must be nonzero.
struct SliceRange {
  int64_t start;
  int64_t size;
};
SliceRange computeSliceRange(int64_t start, int64_t end, int64_t step,
                             int64_t dim);

/// The [first, last) dimensions ONNX Shape returns for `start`/`end` on a
/// tensor of rank `rank` (negative values count from the back, then clamp).
std::pair<int64_t, int64_t>
computeShapeOpRange(int64_t start, std::optional<int64_t> end, int64_t rank);

/// The number of elements of ONNX Range(start, limit, delta) for scalar
/// constants of one int or float element type, as ONNX Runtime computes it:
/// max(ceil((limit - start) / delta), 0). Nullopt when delta is zero or the
/// attributes are not int/float scalars.
std::optional<int64_t> computeRangeLength(mlir::Attribute start,
                                          mlir::Attribute limit,
                                          mlir::Attribute delta);

/// computeRangeLength for integer values known otherwise (shape arithmetic).
std::optional<int64_t> computeRangeLength(int64_t start, int64_t limit,
                                          int64_t delta);

/// The product of `dims`, or ShapedType::kDynamic if any is dynamic.
int64_t getProductOrDynamic(llvm::ArrayRef<int64_t> dims);

} // namespace qaf::onnx

#endif // QAF_DIALECTS_ONNX_ONNXOPSUTILS_H
