//===- TrainingLog.h - training progress and the JSONL log ------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// What `qaf-run train` reports per step: on a terminal one progress line
// redrawn in place (step, bar, loss, tokens/s, ETA), otherwise one plain
// line per step; and, with `--log FILE`, one JSON object per line
//   {"step": 12, "loss": 2.5, "learning_rate": 0.0001,
//    "tokens_per_second": 1500.2, "elapsed_seconds": 3.1}
// (`learning_rate` null when the artifact does not report it, `loss` null
// when it was not finite). Lines are appended and flushed as they are
// written, so a resumed run continues the same log; a step logged after the
// last checkpoint of a killed run appears again after the resume (the
// `step` field tells them apart).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_TRAININGLOG_H
#define QAF_RUNTIME_TRAININGLOG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace qaf {

struct StepRecord {
  int64_t step = 0;
  double loss = 0;
  std::optional<double> learningRate;
  double tokensPerSecond = 0;
  /// Since this process started training.
  double elapsedSeconds = 0;
};

/// `1h02m03s`, `4m05s`, `6s`.
std::string formatDuration(double seconds);

/// One JSONL line (without the newline) for `record`.
std::string formatStepRecordJSON(const StepRecord &record);

class TrainingLog {
public:
  /// Reports to `progress` (a progress bar when it is a terminal) and, when
  /// `jsonlPath` is not empty, appends to that file (created if missing).
  /// Steps run from `firstStep` to `totalSteps` (the ETA's basis).
  static llvm::Expected<std::unique_ptr<TrainingLog>>
  create(llvm::raw_ostream &progress, llvm::StringRef jsonlPath,
         int64_t firstStep, int64_t totalSteps);
  ~TrainingLog();

  void record(const StepRecord &record);
  /// A message between steps (a checkpoint saved): ends a progress line
  /// first.
  void note(llvm::StringRef message);
  /// Ends the progress line.
  void finish();

private:
  TrainingLog(llvm::raw_ostream &progress) : progress(progress) {}

  llvm::raw_ostream &progress;
  bool terminal = false;
  /// Whether a redrawn progress line is on the screen.
  bool lineOpen = false;
  int64_t firstStep = 0, totalSteps = 0;
  std::unique_ptr<llvm::raw_fd_ostream> jsonl;
  std::string jsonlPath;
};

} // namespace qaf

#endif // QAF_RUNTIME_TRAININGLOG_H
