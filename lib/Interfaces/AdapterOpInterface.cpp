//===- AdapterOpInterface.cpp - what every adapter op offers --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Interfaces/AdapterOpInterface.h"

#include "llvm/ADT/SetVector.h"

using namespace mlir;

#include "qaf/Interfaces/AdapterOpInterface.cpp.inc"

namespace qaf {

StringRef stringifyAdapterMerge(AdapterMerge merge) {
  switch (merge) {
  case AdapterMerge::CodesAndZeroPoints:
    return "codes-and-zero-points";
  case AdapterMerge::ZeroPoints:
    return "zero-points";
  case AdapterMerge::TrainedQuantizer:
    return "trained-quantizer";
  case AdapterMerge::LossyRequantize:
    return "lossy-requantize";
  }
  llvm_unreachable("unknown adapter merge kind");
}

bool isTrainableOperand(OpOperand &operand) {
  auto adapter = dyn_cast<AdapterOpInterface>(operand.getOwner());
  return adapter &&
         llvm::is_contained(adapter.getTrainableOperands(), operand.get());
}

SmallVector<Value> getTrainableValues(Operation *root) {
  llvm::SetVector<Value> trainable;
  root->walk([&](AdapterOpInterface adapter) {
    for (Value value : adapter.getTrainableOperands())
      trainable.insert(value);
  });
  return trainable.takeVector();
}

} // namespace qaf
