//===- LoweringPattern.h - base of the tensor -> linalg patterns -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Every onnx (and qaf) op lowering starts with the same preconditions: the
// results convert to tensor types (ranked ones for most patterns) and every
// operand that is given is a ranked tensor. They are checked here, once,
// with one wording; a pattern derives from LinalgLoweringPattern and writes
// only the per-op part, `lower`, which may then `cast` operand types to
// RankedTensorType. As torch-mlir's verifyLinalgCompatibleTypes and Triton's
// ElementwiseOpToLLVMBase.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGPATTERN_H
#define QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGPATTERN_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/SmallVector.h"

#include <type_traits>

namespace qaf {

/// What a pattern needs to know of its results before it lowers.
enum class ResultRank {
  /// Every result converts to a ranked tensor type (most patterns: they
  /// build `tensor.empty` of the result's rank).
  Ranked,
  /// Every result converts to a tensor type, ranked or not (patterns whose
  /// result rank follows from their operands and that cast at the end).
  Any,
};

/// The converted (signless) ranked type of result `index` of `op`; any other
/// type is reported on `op`, naming the result and its type.
mlir::FailureOr<mlir::RankedTensorType>
getRankedResultType(const mlir::TypeConverter &converter,
                    mlir::ConversionPatternRewriter &rewriter,
                    mlir::Operation *op, unsigned index = 0);

/// The lowering preconditions, for patterns that are not an
/// LinalgLoweringPattern (those matched by trait): every converted operand
/// in `operands` that is not an omitted optional input (`none`) is a ranked
/// tensor, and every result of `op` converts to a tensor type (a ranked one
/// for ResultRank::Ranked), appended to `resultTypes`. A failed check is
/// reported on `op`, naming the operand or result, its type and what was
/// expected.
mlir::LogicalResult checkLoweringPreconditions(
    const mlir::TypeConverter &converter,
    mlir::ConversionPatternRewriter &rewriter, mlir::Operation *op,
    mlir::ValueRange operands, ResultRank resultRank,
    llvm::SmallVectorImpl<mlir::TensorType> &resultTypes);

/// The values that replace an op's results, in result order.
using LoweredValues = llvm::SmallVector<mlir::Value>;

/// Replaces `op` by `values`, each cast (`tensor.cast`) to the converted
/// type of its result where only static information differs.
void replaceWithConvertedTypes(mlir::ConversionPatternRewriter &rewriter,
                               mlir::Operation *op, mlir::ValueRange values,
                               mlir::ArrayRef<mlir::TensorType> resultTypes);

/// Base of the patterns that lower one op to linalg/tensor ops: checks the
/// preconditions above, calls `lower` with the converted result types
/// (RankedTensorType, or TensorType for ResultRank::Any), and replaces the op
/// by what it returns, cast to those types.
template <typename OpTy, ResultRank Rank = ResultRank::Ranked>
class LinalgLoweringPattern : public mlir::OpConversionPattern<OpTy> {
public:
  using ResultType =
      std::conditional_t<Rank == ResultRank::Ranked, mlir::RankedTensorType,
                         mlir::TensorType>;
  using OpAdaptor = typename OpTy::Adaptor;
  using mlir::OpConversionPattern<OpTy>::OpConversionPattern;

  /// The per-op part: the values of the op's results. Every given operand
  /// of `adaptor` is a ranked tensor; `resultTypes` holds the converted type
  /// of each result. A failure must have been reported (reportUnsupported).
  virtual mlir::FailureOr<LoweredValues>
  lower(OpTy op, OpAdaptor adaptor, llvm::ArrayRef<ResultType> resultTypes,
        mlir::ConversionPatternRewriter &rewriter) const = 0;

  mlir::LogicalResult
  matchAndRewrite(OpTy op, OpAdaptor adaptor,
                  mlir::ConversionPatternRewriter &rewriter) const final {
    llvm::SmallVector<mlir::TensorType> tensorTypes;
    if (mlir::failed(checkLoweringPreconditions(
            *this->getTypeConverter(), rewriter, op, adaptor.getOperands(),
            Rank, tensorTypes)))
      return mlir::failure();
    llvm::SmallVector<ResultType> resultTypes;
    for (mlir::TensorType type : tensorTypes)
      resultTypes.push_back(mlir::cast<ResultType>(type));
    mlir::FailureOr<LoweredValues> values =
        lower(op, adaptor, resultTypes, rewriter);
    if (mlir::failed(values))
      return mlir::failure();
    replaceWithConvertedTypes(rewriter, op, *values, tensorTypes);
    return mlir::success();
  }
};

} // namespace qaf

#endif // QAF_LIB_CONVERSION_ONNXTOLINALG_LOWERINGPATTERN_H
