//===- AdapterOpInterface.h - what every adapter op offers ------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_INTERFACES_ADAPTEROPINTERFACE_H
#define QAF_INTERFACES_ADAPTEROPINTERFACE_H

#include "qaf/Quant/Merge.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace qaf {

/// How a trained adapter merges into the quantized weight (METHODS.md §7).
enum class AdapterMerge {
  /// LoTA-QAF, exact: the ternary update moves the integer codes and the
  /// remainder's group mean the zero points, q' = q + Ŵ, z' = z − μ.
  CodesAndZeroPoints,
  /// QA-LoRA, QA-HiRA, exact: the pooled update is constant over each
  /// group, so it folds into the float zero points.
  ZeroPoints,
  /// L4Q: nothing to merge; the trained codes, scales and offsets are the
  /// quantized layer.
  TrainedQuantizer,
  /// LoRA, LoftQ, Q-BaRA: W + ΔW is quantized again, with an error to
  /// report (or the adapter is kept beside the quantized layer).
  LossyRequantize,
};

/// The merge kind's name as the tests and diagnostics print it
/// ("codes-and-zero-points", "zero-points", "trained-quantizer",
/// "lossy-requantize").
llvm::StringRef stringifyAdapterMerge(AdapterMerge merge);

/// What an adapter's merge rule reads: the host bytes of the op's operands
/// (float and int8 tensors row-major, one element per byte for int8).
struct AdapterMergeValues {
  /// getBaseOperands(), in order (what L4Q's merge reads: W0 [K, N]).
  llvm::SmallVector<llvm::ArrayRef<char>> base;
  /// getTrainableOperands(), in order (their trained values).
  llvm::SmallVector<llvm::ArrayRef<char>> trainable;

  /// Trainable operand `index` as `T`s.
  template <typename T> llvm::ArrayRef<T> getTrainable(unsigned index) const {
    return {reinterpret_cast<const T *>(trainable[index].data()),
            trainable[index].size() / sizeof(T)};
  }
};

} // namespace qaf

#include "qaf/Interfaces/AdapterOpInterface.h.inc"

namespace qaf {

/// Whether `operand` feeds one of its adapter op's trainable parameters (a
/// value an adapter trains is trainable wherever that adapter reads it).
bool isTrainableOperand(mlir::OpOperand &operand);

/// The trainable parameters of every adapter op under `root` (`root`
/// included), each value once, in walk order.
llvm::SmallVector<mlir::Value> getTrainableValues(mlir::Operation *root);

} // namespace qaf

#endif // QAF_INTERFACES_ADAPTEROPINTERFACE_H
