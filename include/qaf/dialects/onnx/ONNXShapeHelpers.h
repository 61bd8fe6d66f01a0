//===- ONNXShapeHelpers.h - shape rules shared beyond the dialect -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The shape rules that shape inference, the onnx -> linalg lowering and the
// gradient rules must agree on, on static shapes (ShapedType::kDynamic for
// an unknown size): axis normalisation, NumPy broadcasting, which dims an
// operand is broadcast along, and reductions. Each caller adds what it
// alone needs (run-time checks in the lowering, diagnostics in inference),
// as onnx-mlir's shape helpers serve both its inference and its lowering.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXSHAPEHELPERS_H
#define QAF_DIALECTS_ONNX_ONNXSHAPEHELPERS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace qaf::onnx {

/// Maps an ONNX axis in [-rank, rank) to [0, rank); nullopt when out of
/// range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// NumPy (multidirectional) broadcast of two shapes; a dynamic dim against a
/// static d != 1 gives d. Nullopt when two static dims are incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// The dims of a rank-`resultRank` broadcast result along which an operand
/// of shape `operandShape` is stretched: the leading dims it lacks and the
/// dims where its static size is 1. A dynamic size is not among them: the
/// lowering broadcasts a run-time 1 through a stride-0 view instead
/// (broadcastDynamicDims). The lowering reads such a dim at index 0; a
/// gradient sums over it.
llvm::SmallVector<int64_t>
getBroadcastDims(llvm::ArrayRef<int64_t> operandShape, int64_t resultRank);

/// The sorted, unique dims in [0, rank) that the ONNX `axes` (each in
/// [-rank, rank)) name. An axis out of range is reported with
/// `emitError() << "axis A is out of range for rank R"`.
mlir::FailureOr<llvm::SmallVector<int64_t>>
normalizeAxes(llvm::ArrayRef<int64_t> axes, int64_t rank,
              llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

/// `shape` with the sorted `reducedDims` removed, or set to 1 with
/// `keepDims`: the shape a reduction over them gives.
llvm::SmallVector<int64_t> getReducedShape(llvm::ArrayRef<int64_t> shape,
                                           llvm::ArrayRef<int64_t> reducedDims,
                                           bool keepDims);

} // namespace qaf::onnx

#endif // QAF_DIALECTS_ONNX_ONNXSHAPEHELPERS_H
