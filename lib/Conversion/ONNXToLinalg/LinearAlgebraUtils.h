//===- LinearAlgebraUtils.h - builders shared by the linear lowerings -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Contractions, quantized-weight unpacking and the x · Wᵀ builder that
// MatMul/Gemm/MatMulNBits and the qaf linear and adapter ops share.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_ONNXTOLINALG_LINEARALGEBRAUTILS_H
#define QAF_LIB_CONVERSION_ONNXTOLINALG_LINEARALGEBRAUTILS_H

#include "LoweringUtils.h"

#include "qaf/Conversion/KernelTags.h"

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {

/// The type products of `elementType` accumulate in: f32 for narrower
/// floats (as ONNX Runtime's kernels do), else the type itself.
mlir::Type getAccumulatorType(mlir::Type elementType);

/// A tensor of `sizes` filled with `value`.
mlir::Value createFilled(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<mlir::OpFoldResult> sizes,
                         mlir::Value value);

mlir::Value createZero(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type);

/// Converts every element of `tensor` to the float type `to`.
mlir::Value convertTensor(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value tensor, mlir::Type to);

/// A run-time check that two sizes agree, dropped when both are static.
void checkSameSize(mlir::OpBuilder &b, mlir::Location loc, mlir::OpFoldResult x,
                   mlir::OpFoldResult y, const llvm::Twine &message);

/// Checks at run time that the dynamic dims of `operand` match `sizes`
/// (right-aligned); only its static size-1 dims broadcast.
void checkBroadcastsTo(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value operand,
                       llvm::ArrayRef<mlir::OpFoldResult> sizes,
                       llvm::StringRef what);

/// The broadcast batch dims of two matmul operands' batch sizes.
llvm::SmallVector<mlir::OpFoldResult>
broadcastBatchDims(mlir::OpBuilder &b, mlir::Location loc,
                   llvm::ArrayRef<mlir::OpFoldResult> lhs,
                   llvm::ArrayRef<mlir::OpFoldResult> rhs,
                   llvm::StringRef opName);

/// An operand's map over loops [batch..., m, n, k].
mlir::AffineMap getBatchedOperandMap(mlir::ShapedType type, int64_t batchRank,
                                     mlir::AffineExpr row,
                                     mlir::AffineExpr col);

/// A linalg.generic contraction over loops [batch..., m, n, k] into `init`
/// ([batch..., m, n]); `body(inputs..., accumulator)` returns the new
/// accumulator.
mlir::Value buildContraction(mlir::OpBuilder &b, mlir::Location loc,
                             int64_t batchRank, mlir::ValueRange inputs,
                             llvm::ArrayRef<mlir::AffineMap> inputMaps,
                             mlir::Value init, ScalarBodyBuilder body);

/// Bits [position·bits, (position + 1)·bits) of `byte` (any integer type),
/// as f32: one code of a packed quantized weight.
mlir::Value unpackCode(mlir::OpBuilder &b, mlir::Location loc, mlir::Value byte,
                       mlir::Value position, int64_t bits);

/// Code (row, column) of packed `bits`-bit codes ([rows, rowBytes] bytes,
/// a bit stream per row, first code in the lowest bits), as f32, read with
/// tensor.extract (for any width; 3-bit codes can straddle two bytes).
/// `firstByte`, when given, is the code's first byte already read (through
/// an indexing map); only the second is then extracted.
mlir::Value readPackedCode(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value codes, mlir::Value row,
                           mlir::Value column, int64_t bits, int64_t rowBytes,
                           mlir::Value firstByte = nullptr);

/// y[..., N] = a[..., K] · Wᵀ for a weight that is computed, not stored: a
/// contraction over loops (m, n, k) on `a` collapsed to [M, K], where
/// `weightAt(scalars)` returns W[n, k] in f32 from the `weightInputs` (read
/// through `weightMaps`, maps over (m, n, k); the body may also use
/// linalg.index). Accumulates in f32 from `bias` (broadcast to [M, N]; null
/// for zeros) and returns the result in `elementType`. `contractionAttrs`
/// are set on the contraction (a kernel tag, qaf/Conversion/KernelTags.h).
mlir::Value buildDequantizingMatMul(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, int64_t n,
    mlir::ValueRange weightInputs, llvm::ArrayRef<mlir::AffineMap> weightMaps,
    mlir::Value bias, llvm::StringRef biasName, mlir::Type elementType,
    ScalarBodyBuilder weightAt,
    llvm::ArrayRef<mlir::NamedAttribute> contractionAttrs = {});

/// The kQLinearKernelAttr tag (qaf/Conversion/KernelTags.h).
mlir::NamedAttribute getQLinearKernelTag(mlir::OpBuilder &b, int64_t bits,
                                         int64_t groupSize, bool moves);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_LINEARALGEBRAUTILS_H
