//===- Checkpoint.h - training checkpoints ----------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A checkpoint folder holds `step-<N>.safetensors` files and a `latest`
// file naming the newest. Each checkpoint is one safetensors file: the
// trainable parameters and optimizer state (train_step's parameters) as
// tensors, and in `__metadata__` the artifact's fingerprint, the layout of
// those tensors (names, dtypes, shapes: another method or rank changes it),
// the step and the sampler's state (data position and generator).
//
// Saving writes the checkpoint under a temporary name, fsyncs and renames
// it (qaf::AtomicFile), and only then replaces `latest` the same way, so a
// kill or a full disk at any moment leaves `latest` naming a complete
// checkpoint. The previous checkpoint is kept beside the new one; older
// ones are removed.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_CHECKPOINT_H
#define QAF_RUNTIME_CHECKPOINT_H

#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/TokenData.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace qaf {

/// What a checkpoint records beside the tensors.
struct CheckpointState {
  /// Updates done: training resumes with update step + 1.
  int64_t step = 0;
  SamplerState sampler;
};

/// The name of the file naming the newest checkpoint.
constexpr llvm::StringLiteral kLatestCheckpointFile = "latest";

/// `float32[4, 8]` per tensor, `name: type` joined by `; `: what a
/// checkpoint must match besides the artifact's fingerprint.
std::string describeCheckpointLayout(llvm::ArrayRef<NamedTensor> tensors);

/// Saves `tensors` (their current bytes) and `state` as checkpoint
/// `step-<state.step>.safetensors` in `folder` (created if missing) and
/// points `latest` at it. Returns the checkpoint's path.
llvm::Expected<std::string> saveCheckpoint(llvm::StringRef folder,
                                           llvm::ArrayRef<NamedTensor> tensors,
                                           const CheckpointState &state,
                                           llvm::StringRef artifactFingerprint);

/// The path of the checkpoint `latest` names in `folder`; an error says
/// when there is none.
llvm::Expected<std::string> findLatestCheckpoint(llvm::StringRef folder);

/// Reads the newest checkpoint of `folder` into `tensors` (writable
/// buffers), after checking that it belongs to the artifact of
/// `artifactFingerprint` and holds exactly these tensors with their dtypes
/// and shapes; nothing is written when a check fails. The errors name the
/// file: missing, corrupt, of another model, or of another method, rank or
/// shape (naming the first tensor that differs).
llvm::Expected<CheckpointState>
restoreCheckpoint(llvm::StringRef folder, llvm::ArrayRef<NamedTensor> tensors,
                  llvm::StringRef artifactFingerprint);

} // namespace qaf

#endif // QAF_RUNTIME_CHECKPOINT_H
