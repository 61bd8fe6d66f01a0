//===- QAFTrainingOps.cpp - checks of the optimizer ops -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Types and single attribute ranges are ODS constraints (QAFTrainingOps.td);
// what is left here relates attributes to each other.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

using namespace mlir;
using namespace qaf;

namespace {

/// A moment decay rate β must lie in [0, 1) (β = 1 would divide the bias
/// correction by zero).
LogicalResult verifyDecayRate(Operation *op, StringRef name, double beta) {
  if (beta >= 0 && beta < 1)
    return success();
  return op->emitOpError() << name << " must lie in [0, 1), not " << beta;
}

} // namespace

LogicalResult AdamWUpdateOp::verify() {
  if (getSchedule() != "constant" && getSchedule() != "cosine")
    return emitOpError("schedule must be 'constant' or 'cosine', not '")
           << getSchedule() << "'";
  if (failed(verifyDecayRate(*this, "beta1", getBeta1().convertToDouble())) ||
      failed(verifyDecayRate(*this, "beta2", getBeta2().convertToDouble())))
    return failure();
  if (getLr().isNegative())
    return emitOpError("lr must not be negative");
  if (getWeightDecay().isNegative())
    return emitOpError("weight_decay must not be negative");
  if (getWarmupSteps() > getTotalSteps())
    return emitOpError("warmup_steps (")
           << getWarmupSteps() << ") exceeds total_steps (" << getTotalSteps()
           << ")";
  return success();
}
