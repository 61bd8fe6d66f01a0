//===- QAFAdapterOps.cpp - the adapter ops' AdapterOpInterface ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Which operands each method trains and how it merges: METHODS.md §7's
// table, one op at a time, and each method's merge rule (its arithmetic is
// qaf/Quant/Merge.h's). The algebra (ΔW, the output) is the lowering's
// AdapterAlgebraOpInterface.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

using namespace mlir;

namespace qaf {

namespace {

/// The factor product B·A [rows, cols] of f32 factors B [rows, r] and
/// A [r, cols], accumulated in double.
std::vector<float> multiplyFactors(ArrayRef<float> b, ArrayRef<float> a,
                                   int64_t rows, int64_t cols) {
  int64_t rank = static_cast<int64_t>(a.size()) / cols;
  std::vector<float> product(rows * cols);
  for (int64_t o = 0; o < rows; ++o)
    for (int64_t i = 0; i < cols; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < rank; ++j)
        sum += static_cast<double>(b[o * rank + j]) * a[j * cols + i];
      product[o * cols + i] = static_cast<float>(sum);
    }
  return product;
}

/// A pooled update folds into zero points only when it pools exactly the
/// layer's quantization groups.
llvm::Error checkPoolsOverGroups(int64_t pool,
                                 const quant::QuantizedMatrix &layer) {
  if (layer.format.groupSize == pool)
    return llvm::Error::success();
  return llvm::createStringError(
      "the adapter pools groups of " + llvm::Twine(pool) +
      " inputs, the layer quantizes groups of " +
      llvm::Twine(layer.format.groupSize) + ": the update does not fold");
}

/// LoRA's and Q-BaRA's lossy merge: W + ΔW requantized.
llvm::Error requantizePooled(const AdapterMergeValues &values, int64_t pool,
                             double scale, quant::QuantizedMatrix &layer,
                             quant::MergeReport &report) {
  return quant::requantizeWithUpdate(
      layer,
      quant::densifyPooledUpdate(values.getTrainable<float>(0),
                                 values.getTrainable<float>(1), layer.rows,
                                 layer.cols, pool, scale),
      report);
}

} // namespace

// LoTA-QAF: the whole layer; codes move by the ternary update.
Value LoTALinearOp::getAdapterInput() { return getInput(); }
SmallVector<Value> LoTALinearOp::getBaseOperands() {
  return {getCodes(), getScales(), getZeroPoints()};
}
SmallVector<Value> LoTALinearOp::getTrainableOperands() {
  return {getA(), getB()};
}
bool LoTALinearOp::isAdditive() { return false; }
AdapterMerge LoTALinearOp::getMergeKind() {
  return AdapterMerge::CodesAndZeroPoints;
}
llvm::Error LoTALinearOp::mergeInto(const AdapterMergeValues &values,
                                    quant::QuantizedMatrix &layer,
                                    quant::MergeReport &report) {
  int64_t rank = cast<RankedTensorType>(getA().getType()).getShape()[0];
  return quant::mergeTernaryAdapter(
      layer, values.getTrainable<int8_t>(0), values.getTrainable<int8_t>(1),
      rank, static_cast<float>(getOmega().convertToDouble()), report);
}

// L4Q: the whole layer; the trained quantizer is the merged layer.
Value L4QLinearOp::getAdapterInput() { return getInput(); }
SmallVector<Value> L4QLinearOp::getBaseOperands() { return {getWeight()}; }
SmallVector<Value> L4QLinearOp::getTrainableOperands() {
  return {getA(), getB(), getScales(), getOffsets()};
}
bool L4QLinearOp::isAdditive() { return false; }
AdapterMerge L4QLinearOp::getMergeKind() {
  return AdapterMerge::TrainedQuantizer;
}
llvm::Error L4QLinearOp::mergeInto(const AdapterMergeValues &values,
                                   quant::QuantizedMatrix &layer,
                                   quant::MergeReport &) {
  int64_t rank = cast<RankedTensorType>(getA().getType()).getShape()[0];
  // W0 is [K, N], ONNX MatMul's layout.
  auto w0 = quant::MatrixView::transposed(
      reinterpret_cast<const float *>(values.base[0].data()), layer.rows,
      layer.cols);
  return quant::exportTrainedQuantizer(
      layer, w0, values.getTrainable<float>(0), values.getTrainable<float>(1),
      rank, static_cast<float>(getAlpha().convertToDouble()),
      values.getTrainable<float>(2), values.getTrainable<float>(3));
}

// LoRA (and LoftQ, which initialises it): Δy beside any base layer.
Value LoRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> LoRAOp::getBaseOperands() { return {}; }
SmallVector<Value> LoRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool LoRAOp::isAdditive() { return true; }
AdapterMerge LoRAOp::getMergeKind() { return AdapterMerge::LossyRequantize; }
llvm::Error LoRAOp::mergeInto(const AdapterMergeValues &values,
                              quant::QuantizedMatrix &layer,
                              quant::MergeReport &report) {
  return requantizePooled(values, 1, getScale().convertToDouble(), layer,
                          report);
}
llvm::Error LoRAOp::getFloatFactors(const AdapterMergeValues &values, int64_t n,
                                    int64_t k, std::vector<float> &first,
                                    std::vector<float> &second) {
  quant::unpoolFactors(values.getTrainable<float>(0),
                       values.getTrainable<float>(1), n, k, 1,
                       getScale().convertToDouble(), first, second);
  return llvm::Error::success();
}

// QA-LoRA: the update is constant over each group, a zero-point shift.
Value QALoRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QALoRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QALoRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool QALoRAOp::isAdditive() { return true; }
AdapterMerge QALoRAOp::getMergeKind() { return AdapterMerge::ZeroPoints; }
llvm::Error QALoRAOp::mergeInto(const AdapterMergeValues &values,
                                quant::QuantizedMatrix &layer,
                                quant::MergeReport &report) {
  if (llvm::Error error = checkPoolsOverGroups(getGroupSize(), layer))
    return error;
  int64_t groups = layer.cols / layer.format.groupSize;
  // B·A [N, K/g], one value per (row, group).
  std::vector<float> update =
      multiplyFactors(values.getTrainable<float>(1),
                      values.getTrainable<float>(0), layer.rows, groups);
  return quant::absorbIntoZeroPoints(layer, update, 1,
                                     getScale().convertToDouble(), report);
}

// QA-HiRA: one pooled high-rank factor, merged as QA-LoRA's.
Value QAHiRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QAHiRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QAHiRAOp::getTrainableOperands() { return {getM()}; }
bool QAHiRAOp::isAdditive() { return true; }
AdapterMerge QAHiRAOp::getMergeKind() { return AdapterMerge::ZeroPoints; }
llvm::Error QAHiRAOp::mergeInto(const AdapterMergeValues &values,
                                quant::QuantizedMatrix &layer,
                                quant::MergeReport &report) {
  if (llvm::Error error = checkPoolsOverGroups(getGroupSize(), layer))
    return error;
  return quant::absorbIntoZeroPoints(layer, values.getTrainable<float>(0),
                                     static_cast<int64_t>(getRepeatOut()),
                                     getAlpha().convertToDouble(), report);
}

// Q-BaRA: pooled input, repeated output; not constant over a group's
// input features, so the merge requantizes.
Value QBaRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QBaRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QBaRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool QBaRAOp::isAdditive() { return true; }
AdapterMerge QBaRAOp::getMergeKind() { return AdapterMerge::LossyRequantize; }
llvm::Error QBaRAOp::mergeInto(const AdapterMergeValues &values,
                               quant::QuantizedMatrix &layer,
                               quant::MergeReport &report) {
  return requantizePooled(values, static_cast<int64_t>(getPool()),
                          getScale().convertToDouble(), layer, report);
}
llvm::Error QBaRAOp::getFloatFactors(const AdapterMergeValues &values,
                                     int64_t n, int64_t k,
                                     std::vector<float> &first,
                                     std::vector<float> &second) {
  quant::unpoolFactors(values.getTrainable<float>(0),
                       values.getTrainable<float>(1), n, k,
                       static_cast<int64_t>(getPool()),
                       getScale().convertToDouble(), first, second);
  return llvm::Error::success();
}

} // namespace qaf
