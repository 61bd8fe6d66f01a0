//===- LoweringPattern.cpp - the lowering preconditions, once -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringPattern.h"

#include "LoweringUtils.h"

using namespace mlir;

namespace qaf {

/// Reports that result `index` of `op` does not convert to `expected`.
static LogicalResult reportResultType(ConversionPatternRewriter &rewriter,
                                      Operation *op, unsigned index,
                                      StringRef expected) {
  std::string message;
  llvm::raw_string_ostream os(message);
  os << "'" << op->getName() << "' op result " << index << " has type '"
     << op->getResult(index).getType() << "'; expected " << expected
     << " (qaf lowers only ops whose result rank shape inference knows)";
  return reportUnsupported(rewriter, op, message);
}

FailureOr<RankedTensorType> getRankedResultType(const TypeConverter &converter,
                                                ConversionPatternRewriter &rw,
                                                Operation *op, unsigned index) {
  Type converted = converter.convertType(op->getResult(index).getType());
  auto type = dyn_cast_if_present<RankedTensorType>(converted);
  if (!type)
    return reportResultType(rw, op, index, "a ranked tensor");
  return type;
}

LogicalResult
checkLoweringPreconditions(const TypeConverter &converter,
                           ConversionPatternRewriter &rewriter, Operation *op,
                           ValueRange operands, ResultRank resultRank,
                           SmallVectorImpl<TensorType> &resultTypes) {
  for (auto [index, operand] : llvm::enumerate(operands)) {
    if (isNoValue(operand) || isa<RankedTensorType>(operand.getType()))
      continue;
    std::string message;
    llvm::raw_string_ostream os(message);
    os << "'" << op->getName() << "' op operand " << index << " has type '"
       << op->getOperand(index).getType()
       << "'; expected a ranked tensor (qaf lowers only ops whose operand "
          "ranks shape inference knows)";
    return reportUnsupported(rewriter, op, message);
  }
  for (unsigned index = 0, e = op->getNumResults(); index < e; ++index) {
    if (resultRank == ResultRank::Ranked) {
      FailureOr<RankedTensorType> type =
          getRankedResultType(converter, rewriter, op, index);
      if (failed(type))
        return failure();
      resultTypes.push_back(*type);
      continue;
    }
    Type converted = converter.convertType(op->getResult(index).getType());
    auto type = dyn_cast_if_present<TensorType>(converted);
    if (!type)
      return reportResultType(rewriter, op, index, "a tensor");
    resultTypes.push_back(type);
  }
  return success();
}

void replaceWithConvertedTypes(ConversionPatternRewriter &rewriter,
                               Operation *op, ValueRange values,
                               ArrayRef<TensorType> resultTypes) {
  SmallVector<Value> replacements;
  for (auto [value, type] : llvm::zip_equal(values, resultTypes))
    replacements.push_back(
        castToTensorType(rewriter, op->getLoc(), value, type));
  rewriter.replaceOp(op, replacements);
}

} // namespace qaf
