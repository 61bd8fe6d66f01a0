//===- QAFAdapterOps.cpp - the adapter ops' AdapterOpInterface ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Which operands each method trains and how it merges: METHODS.md §7's
// table, one op at a time. The algebra (ΔW, the output) is the lowering's
// AdapterAlgebraOpInterface.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

using namespace mlir;

namespace qaf {

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

// LoRA (and LoftQ, which initialises it): Δy beside any base layer.
Value LoRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> LoRAOp::getBaseOperands() { return {}; }
SmallVector<Value> LoRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool LoRAOp::isAdditive() { return true; }
AdapterMerge LoRAOp::getMergeKind() { return AdapterMerge::LossyRequantize; }

// QA-LoRA: the update is constant over each group, a zero-point shift.
Value QALoRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QALoRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QALoRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool QALoRAOp::isAdditive() { return true; }
AdapterMerge QALoRAOp::getMergeKind() { return AdapterMerge::ZeroPoints; }

// QA-HiRA: one pooled high-rank factor, merged as QA-LoRA's.
Value QAHiRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QAHiRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QAHiRAOp::getTrainableOperands() { return {getM()}; }
bool QAHiRAOp::isAdditive() { return true; }
AdapterMerge QAHiRAOp::getMergeKind() { return AdapterMerge::ZeroPoints; }

// Q-BaRA: pooled input, repeated output; not constant over a group's
// input features, so the merge requantizes.
Value QBaRAOp::getAdapterInput() { return getInput(); }
SmallVector<Value> QBaRAOp::getBaseOperands() { return {}; }
SmallVector<Value> QBaRAOp::getTrainableOperands() { return {getA(), getB()}; }
bool QBaRAOp::isAdditive() { return true; }
AdapterMerge QBaRAOp::getMergeKind() { return AdapterMerge::LossyRequantize; }

} // namespace qaf
