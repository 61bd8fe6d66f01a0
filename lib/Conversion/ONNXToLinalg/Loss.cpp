//===- Loss.cpp - SoftmaxCrossEntropyLoss -> linalg -----------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The log-sum-exp of each (n, d...) column of scores is two reductions over
// the class dim (max, then sum of exp(x - max)); the loss of an element then
// reads one score, at its label, so nothing of the scores' size is
// materialised unless log_prob is used. f16/bf16 compute in f32.
//
//===----------------------------------------------------------------------===//

#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace qaf {
namespace {

/// The class dim of scores (N, C, d1, ...).
constexpr int64_t kClassDim = 1;

struct SoftmaxCrossEntropyLossLowering
    : LinalgLoweringPattern<onnx::SoftmaxCrossEntropyLossOp, ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(onnx::SoftmaxCrossEntropyLossOp op, OpAdaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value scores = adaptor.getScores();
    Value labels = adaptor.getLabels();
    Value weights = isNoValue(op.getWeights()) ? Value() : adaptor.getWeights();
    auto scoresType = cast<RankedTensorType>(scores.getType());
    int64_t rank = scoresType.getRank();
    Type elementType = scoresType.getElementType();
    if (rank < 2 || !isa<FloatType>(elementType))
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects float scores of rank "
                               ">= 2");
    Type accType = getComputeType(elementType);
    auto widen = [&](OpBuilder &b, Location nl, Value x) {
      return convertScalar(b, nl, x, accType, false, false);
    };
    Type labelType = cast<RankedTensorType>(labels.getType()).getElementType();
    std::optional<int64_t> ignoreIndex;
    if (std::optional<uint64_t> attr = op.getIgnoreIndex())
      ignoreIndex = static_cast<int64_t>(*attr);
    SmallVector<OpFoldResult> scoreDims = getDims(rewriter, loc, scores);
    Value classCount =
        getValueOrCreateConstantIndexOp(rewriter, loc, scoreDims[kClassDim]);

    checkLabels(rewriter, loc, labels, classCount, ignoreIndex);

    // log-sum-exp over the classes, as max + log(sum(exp(x - max))).
    SoftmaxStatistics statistics =
        buildSoftmaxStatistics(rewriter, loc, scores, kClassDim);
    Value max = statistics.max, sumExp = statistics.sumExp;
    Value logSumExp = buildElementwise(
        rewriter, loc, ValueRange{max, sumExp}, getDims(rewriter, loc, max),
        accType, [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          return arith::AddFOp::create(b, nl, args[0],
                                       math::LogOp::create(b, nl, args[1]));
        });

    // The weight of each element: 0 when ignored, weights[label] or 1.
    SmallVector<OpFoldResult> labelDims = getDims(rewriter, loc, labels);
    Value elementWeights = buildElementwise(
        rewriter, loc, labels, labelDims, accType,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value one = createScalarConstant(b, nl, accType, 1.0);
          Value weight = weights ? widen(b, nl,
                                         tensor::ExtractOp::create(
                                             b, nl, weights,
                                             ValueRange{toClassIndex(
                                                 b, nl, args[0], classCount)}))
                                 : one;
          if (!ignoreIndex)
            return weight;
          Value ignored = arith::CmpIOp::create(
              b, nl, arith::CmpIPredicate::eq, args[0],
              createScalarConstant(b, nl, labelType,
                                   static_cast<double>(*ignoreIndex)));
          return arith::SelectOp::create(
              b, nl, ignored, createScalarConstant(b, nl, accType, 0.0),
              weight);
        });
    // -log_prob[n, label, d...] * weight = (lse - x[n, label, d...]) * w.
    Value elementLosses = buildElementwise(
        rewriter, loc, ValueRange{labels, logSumExp, elementWeights}, labelDims,
        accType, [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          SmallVector<Value> position;
          for (int64_t dim = 0; dim < rank - 1; ++dim)
            position.push_back(linalg::IndexOp::create(b, nl, dim));
          position.insert(position.begin() + kClassDim,
                          toClassIndex(b, nl, args[0], classCount));
          Value score =
              widen(b, nl, tensor::ExtractOp::create(b, nl, scores, position));
          Value loss = arith::MulFOp::create(
              b, nl, arith::SubFOp::create(b, nl, args[1], score), args[2]);
          // An ignored element is 0 even where its score is not finite.
          return arith::SelectOp::create(
              b, nl,
              arith::CmpFOp::create(b, nl, arith::CmpFPredicate::OEQ, args[2],
                                    createScalarConstant(b, nl, accType, 0.0)),
              createScalarConstant(b, nl, accType, 0.0), loss);
        });

    Value output = reduceLosses(rewriter, loc, op.getReduction(), elementLosses,
                                elementWeights, elementType);
    Value logProb =
        op.getLogProb().use_empty()
            ? createEmptyTensor(rewriter, loc, scoreDims, elementType)
            : buildLogProb(rewriter, loc, scores, logSumExp, elementType,
                           context);
    return LoweredValues{
        castToTensorType(rewriter, loc, output, resultTypes[0]),
        castToTensorType(rewriter, loc, logProb, resultTypes[1])};
  }

private:
  /// A label as an index into the class dim, clamped to 0 when outside
  /// [0, C) (ignored labels; others fail checkLabels first), so that no
  /// read leaves the tensor.
  static Value toClassIndex(OpBuilder &b, Location loc, Value label,
                            Value classCount) {
    Value index = arith::IndexCastOp::create(b, loc, b.getIndexType(), label);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value inRange = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, index, zero),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index,
                              classCount));
    return arith::SelectOp::create(b, loc, inRange, index, zero);
  }

  /// Every label is in [0, C) or ignore_index (ONNX Runtime fails with
  /// "Out of range value in index tensor" otherwise): one pass over the
  /// labels, then a run-time check.
  static void checkLabels(OpBuilder &b, Location loc, Value labels,
                          Value classCount,
                          std::optional<int64_t> ignoreIndex) {
    int64_t rank = cast<RankedTensorType>(labels.getType()).getRank();
    Type labelType = cast<RankedTensorType>(labels.getType()).getElementType();
    Value allValid = arith::ConstantIntOp::create(b, loc, 1, 1);
    Value valid = buildReduction(
        b, loc, labels, llvm::to_vector(llvm::seq<int64_t>(0, rank)), allValid,
        /*keepDims=*/false,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value label = args[0];
          Value index =
              arith::IndexCastOp::create(nb, nl, nb.getIndexType(), label);
          Value ok = arith::AndIOp::create(
              nb, nl,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, index,
                                    arith::ConstantIndexOp::create(nb, nl, 0)),
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, index,
                                    classCount));
          if (ignoreIndex)
            ok = arith::OrIOp::create(
                nb, nl, ok,
                arith::CmpIOp::create(
                    nb, nl, arith::CmpIPredicate::eq, label,
                    createScalarConstant(nb, nl, labelType,
                                         static_cast<double>(*ignoreIndex))));
          return arith::AndIOp::create(nb, nl, args[1], ok);
        });
    emitRuntimeCheck(b, loc, extractScalar(b, loc, valid),
                     "SoftmaxCrossEntropyLoss: a label is outside the classes "
                     "[0, {0}) and is not ignore_index",
                     {classCount});
  }

  /// The output for `reduction`: the element losses, their sum, or their
  /// sum over the sum of the element weights.
  static Value reduceLosses(OpBuilder &b, Location loc, StringRef reduction,
                            Value losses, Value weights, Type elementType) {
    auto narrow = [&](OpBuilder &nb, Location nl, Value value) {
      return convertScalar(nb, nl, value, elementType, false, false);
    };
    if (reduction == "none")
      return buildElementwise(
          b, loc, losses, getDims(b, loc, losses), elementType,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            return narrow(nb, nl, args[0]);
          });
    int64_t rank = cast<RankedTensorType>(losses.getType()).getRank();
    SmallVector<int64_t> allDims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    Type accType = cast<RankedTensorType>(losses.getType()).getElementType();
    auto total = [&](Value values) {
      return buildReduction(
          b, loc, values, allDims, createScalarConstant(b, loc, accType, 0.0),
          /*keepDims=*/false,
          [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
            return arith::AddFOp::create(nb, nl, args[1], args[0]);
          });
    };
    SmallVector<Value> totals = {total(losses)};
    if (reduction == "mean")
      totals.push_back(total(weights));
    return buildElementwise(
        b, loc, totals, {}, elementType,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value value =
              args.size() > 1
                  ? arith::DivFOp::create(nb, nl, args[0], args[1]).getResult()
                  : args[0];
          return narrow(nb, nl, value);
        });
  }

  /// log_softmax(scores) along the classes: x - lse.
  static Value buildLogProb(OpBuilder &b, Location loc, Value scores,
                            Value logSumExp, Type elementType,
                            MLIRContext *context) {
    int64_t rank = cast<RankedTensorType>(scores.getType()).getRank();
    Type accType = getComputeType(elementType);
    AffineMap reducedMap = getReducedIndexingMap(rank, {kClassDim}, context);
    return buildMappedElementwise(
        b, loc, ValueRange{scores, logSumExp},
        {AffineMap::getMultiDimIdentityMap(rank, context), reducedMap},
        getDims(b, loc, scores), elementType,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value x = convertScalar(nb, nl, args[0], accType, false, false);
          return convertScalar(nb, nl,
                               arith::SubFOp::create(nb, nl, x, args[1]),
                               elementType, false, false);
        });
  }
};

} // namespace

void populateLossPatterns(const TypeConverter &converter,
                          RewritePatternSet &patterns) {
  patterns.add<SoftmaxCrossEntropyLossLowering>(converter,
                                                patterns.getContext());
}

} // namespace qaf
