//===- CausalLMLoss.h - the causal language-modelling loss ------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The loss a decoder is fine-tuned on, built as onnx ops so that the
// training pass (--qaf-build-training loss=causal-lm) differentiates it with
// the ops' GradientOpInterface rules like the rest of the forward.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_AUTODIFF_CAUSALLMLOSS_H
#define QAF_AUTODIFF_CAUSALLMLOSS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

namespace qaf {

/// The label of a position that is not trained on (padding, prompt tokens),
/// as Hugging Face writes it and PyTorch's cross_entropy ignores by default.
constexpr int64_t kIgnoredLabel = -100;

/// The causal-LM loss of a batch and the number of tokens it counts.
struct CausalLMLoss {
  /// 0-d, of the logits' element type: the mean ("mean") or the sum ("sum")
  /// of the token losses -log softmax(logits[b, t])[labels[b, t + 1]].
  mlir::Value loss;
  /// 0-d int64: the predicted positions whose label is not ignored (the
  /// divisor of the mean; eval_step's token count).
  mlir::Value tokenCount;
};

/// Builds, at the insertion point of `builder`, the causal-LM loss of
/// `logits` (B, T, V), float, against `labels` (B, T), int32/int64: the
/// token ids themselves, or Hugging Face labels (the ids with
/// `ignoreIndex` where a position is not trained on). Position t predicts
/// token t + 1, so logits[:, :-1] are scored against labels[:, 1:]
/// (Slice), transposed to (B, V, T - 1) because SoftmaxCrossEntropyLoss
/// takes the classes in dim 1 (as PyTorch's exporter writes it), with
/// `reduction` "mean" (train_step: the mean over the counted tokens) or
/// "sum" (eval_step: summed, to be divided by the total token count).
/// Every op is typed by shape inference; the onnx dialect must be loaded
/// (a pass that calls this declares it a dependent dialect). Fails with a
/// diagnostic at `loc` on logits or labels of another rank or element type.
mlir::FailureOr<CausalLMLoss>
buildCausalLMLoss(mlir::OpBuilder &builder, mlir::Location loc,
                  mlir::Value logits, mlir::Value labels,
                  llvm::StringRef reduction = "mean",
                  int64_t ignoreIndex = kIgnoredLabel);

/// Registers `qaf-test-causal-lm-loss`, which replaces the result of each
/// function `(..., labels) -> logits` by buildCausalLMLoss(logits, labels)
/// (for testing the helper).
void registerTestCausalLMLossPass();

} // namespace qaf

#endif // QAF_AUTODIFF_CAUSALLMLOSS_H
