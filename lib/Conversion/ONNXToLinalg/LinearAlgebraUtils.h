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
/// for zeros) and returns the result in `elementType`.
mlir::Value buildDequantizingMatMul(mlir::OpBuilder &b, mlir::Location loc,
                                    mlir::Value a, int64_t n,
                                    mlir::ValueRange weightInputs,
                                    llvm::ArrayRef<mlir::AffineMap> weightMaps,
                                    mlir::Value bias, llvm::StringRef biasName,
                                    mlir::Type elementType,
                                    ScalarBodyBuilder weightAt);

/// A group-quantized weight W [N, K] (static shapes): `codes` [N, K·bits/8]
/// bytes, a bit stream per row with the first code in the lowest bits, and
/// per-group `scales` [N, K/groupSize]; then either `zeroPoints`
/// [N, K/groupSize] and optional int8 `moves` [N, K] added to the codes
/// (LoTA-QAF's Ŵ), w = s·((q + move) − z), or a `codebook` (f32 [2^bits])
/// the codes index (the nf scheme), w = s·codebook[q].
struct QuantizedWeight {
  mlir::Value codes, scales, zeroPoints, moves, codebook;
  int64_t bits = 0, groupSize = 0;
  /// The product rounds x to int8 where the kernel can (see
  /// qaf.kernel.qlinear's int8_activations); the reference contraction and
  /// other targets stay exact.
  bool int8Activations = false;
};

/// y[..., N] = a[..., K] · Wᵀ, accumulated in f32 and returned in
/// `elementType`: a qaf.kernel.qlinear where the layer is one the kernel
/// computes (f32 throughout, zero points or a codebook, groups of whole
/// bytes), else the
/// reference contraction of buildQuantizedContraction. `transposed`
/// multiplies by W instead (a[..., N] · W -> [..., K], with `n` = K): the
/// input gradient of the layer.
mlir::Value buildQuantizedMatMul(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value a, int64_t n,
                                 const QuantizedWeight &weight,
                                 mlir::Type elementType,
                                 bool transposed = false);

/// init[m, n] + Σ_k x[m, k] · W[n, k] as a linalg.generic over loops
/// (m, n, k) for x [M, K] and init [M, N] f32 (`transposed`: Σ_k x[m, k] ·
/// W[k, n], for x [M, N] and init [M, K]): each step unpacks its code and
/// dequantizes it, no dequantized weight is formed. What
/// qaf.kernel.qlinear computes, and what qaf-decompose-kernel-ops replaces
/// it by.
mlir::Value buildQuantizedContraction(mlir::OpBuilder &b, mlir::Location loc,
                                      mlir::Value x,
                                      const QuantizedWeight &weight,
                                      mlir::Value init,
                                      bool transposed = false);

/// Rotary position embedding of one element, inside a linalg body: `x`, at
/// index `i` within its head, rotated by the angle of row `position` of the
/// cos/sin caches ([positions, rotaryDim / 2]). Pairs are (2j, 2j + 1) when
/// `interleaved`, else (j, j + rotaryDim / 2); the first of a pair becomes
/// x * cos - partner * sin, the second x * cos + partner * sin, and
/// elements from rotaryDim on pass through. `readPartner(index)` returns the
/// element of the same head at `index` (always within the head). The
/// RotaryEmbedding and GroupQueryAttention lowerings share it.
mlir::Value
buildRotaryElement(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                   mlir::Value i, mlir::Value position, mlir::Value cosCache,
                   mlir::Value sinCache, int64_t headSize, int64_t rotaryDim,
                   bool interleaved,
                   llvm::function_ref<mlir::Value(mlir::Value)> readPartner);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_LINEARALGEBRAUTILS_H
