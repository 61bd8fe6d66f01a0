//===- TrainingEntryPoints.h - what qaf-run expects of training code -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The calling convention of the entry points that `--qaf-build-training`
// generates (`qaf-compile --emit=train`) and `qaf-run train|eval` drives,
// in this one place. As for every
// entry point (docs/artifact-abi.md), the library receives the results,
// then the weights, then the parameters, then the inputs, each in manifest
// order; Artifact::run binds the weights and parameters itself.
//
// train_step
//   parameters  the trainable tensors and the optimizer state, any names and
//               shapes: updated in place (the compiled step stores each
//               result tied by `qaf.updates` into its parameter's buffer);
//               a checkpoint saves all of them.
//   inputs      input_ids      int32|int64 [batch, seq_len]
//               labels         the same dtype and shape: input_ids shifted
//                              by one (the next token of each position)
//               step           int64 []: the 1-based number of this update
//                              (AdamW's bias-correction t; 1 first)
//               learning_rate  float32 [] (optional): the rate to use, from
//                              `qaf-run train --lr`
//   outputs     loss           float32 []: the mean token loss of the batch
//               learning_rate  float32 [] (optional): the rate the compiled
//                              schedule used, for the log
// eval_step
//   parameters  any subset of train_step's (read only).
//   inputs      input_ids, labels as for train_step
//   outputs     loss_sum       float32|float64 []: the summed token loss
//               token_count    int32|int64 []: the tokens it sums over
//
// A dimension may be static (then --batch and --seq-len must equal it) or
// symbolic. The vocabulary size, against which token files are checked, is
// the last dimension of an entry point's `logits` output.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_TRAININGENTRYPOINTS_H
#define QAF_RUNTIME_TRAININGENTRYPOINTS_H

#include "qaf/Runtime/Manifest.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>

namespace qaf {

/// The names of the convention.
namespace training {
constexpr llvm::StringLiteral kTrainStep = "train_step";
constexpr llvm::StringLiteral kEvalStep = "eval_step";
constexpr llvm::StringLiteral kInputIds = "input_ids";
constexpr llvm::StringLiteral kLabels = "labels";
constexpr llvm::StringLiteral kStep = "step";
constexpr llvm::StringLiteral kLearningRate = "learning_rate";
constexpr llvm::StringLiteral kLoss = "loss";
constexpr llvm::StringLiteral kLossSum = "loss_sum";
constexpr llvm::StringLiteral kTokenCount = "token_count";
constexpr llvm::StringLiteral kLogits = "logits";
} // namespace training

/// A checked train_step or eval_step.
struct TrainingEntryPoint {
  const EntryPoint *entry = nullptr;
  /// The dtype of input_ids and labels.
  DType idType = DType::Int64;
  /// train_step: whether it takes, and whether it returns, learning_rate.
  bool takesLearningRate = false;
  bool returnsLearningRate = false;
};

/// Finds entry point `name` (training::kTrainStep or kEvalStep) and checks
/// it against the convention above and against the batch and sequence
/// length of the run. The errors say what differs: no such entry point (an
/// artifact compiled without --emit=train), a missing, extra or mistyped
/// input or output, a static dimension other than the run's.
llvm::Expected<TrainingEntryPoint>
checkTrainingEntryPoint(const Manifest &manifest, llvm::StringRef name,
                        int64_t batch, int64_t seqLen);

/// The vocabulary size: the static last dimension of the first `logits`
/// output of any entry point.
llvm::Expected<int64_t> getVocabularySize(const Manifest &manifest);

} // namespace qaf

#endif // QAF_RUNTIME_TRAININGENTRYPOINTS_H
