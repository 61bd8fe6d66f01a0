//===- TrainingLog.cpp - training progress and the JSONL log --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/TrainingLog.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <cmath>

using namespace llvm;

namespace qaf {

std::string formatDuration(double seconds) {
  int64_t total = std::isfinite(seconds) && seconds > 0
                      ? static_cast<int64_t>(std::llround(seconds))
                      : 0;
  int64_t hours = total / 3600, minutes = total / 60 % 60, rest = total % 60;
  if (hours)
    return formatv("{0}h{1:d2}m{2:d2}s", hours, minutes, rest).str();
  if (minutes)
    return formatv("{0}m{1:d2}s", minutes, rest).str();
  return formatv("{0}s", rest).str();
}

std::string formatStepRecordJSON(const StepRecord &record) {
  std::string text;
  raw_string_ostream os(text);
  json::OStream json(os);
  // JSON has no NaN or infinity.
  auto number = [&](StringRef key, std::optional<double> value) {
    if (value && std::isfinite(*value))
      json.attribute(key, *value);
    else
      json.attribute(key, nullptr);
  };
  json.object([&] {
    json.attribute("step", record.step);
    number("loss", record.loss);
    number("learning_rate", record.learningRate);
    number("tokens_per_second", record.tokensPerSecond);
    number("elapsed_seconds", record.elapsedSeconds);
  });
  return text;
}

Expected<std::unique_ptr<TrainingLog>>
TrainingLog::create(raw_ostream &progress, StringRef jsonlPath,
                    int64_t firstStep, int64_t totalSteps) {
  std::unique_ptr<TrainingLog> log(new TrainingLog(progress));
  log->terminal = progress.is_displayed();
  log->firstStep = firstStep;
  log->totalSteps = totalSteps;
  if (!jsonlPath.empty()) {
    std::error_code ec;
    log->jsonl =
        std::make_unique<raw_fd_ostream>(jsonlPath, ec, sys::fs::OF_Append);
    if (ec)
      return createStringError(ec, "cannot write log '%s': %s",
                               jsonlPath.str().c_str(), ec.message().c_str());
    log->jsonlPath = jsonlPath.str();
  }
  return log;
}

TrainingLog::~TrainingLog() { finish(); }

void TrainingLog::record(const StepRecord &record) {
  if (jsonl) {
    *jsonl << formatStepRecordJSON(record) << "\n";
    jsonl->flush();
  }
  int64_t done = record.step - firstStep;
  double eta =
      done > 0 ? record.elapsedSeconds / done * (totalSteps - record.step) : 0;
  std::string rate = record.learningRate
                         ? formatv(" lr {0:e3}", *record.learningRate).str()
                         : "";
  if (!terminal) {
    progress << formatv("step {0}/{1} loss {2:f6}{3} tokens/s {4:f1} eta {5}\n",
                        record.step, totalSteps, record.loss, rate,
                        record.tokensPerSecond, formatDuration(eta));
    progress.flush();
    return;
  }
  constexpr int kBarWidth = 24;
  int filled = totalSteps
                   ? static_cast<int>(kBarWidth * record.step / totalSteps)
                   : kBarWidth;
  std::string bar(filled, '#');
  bar.append(kBarWidth - filled, '.');
  // `\r` and clear-to-end-of-line redraw the one progress line.
  progress << formatv("\rstep {0}/{1} [{2}] loss {3:f4}{4} {5:f0} tok/s "
                      "ETA {6}\x1b[K",
                      record.step, totalSteps, bar, record.loss, rate,
                      record.tokensPerSecond, formatDuration(eta));
  progress.flush();
  lineOpen = true;
}

void TrainingLog::note(StringRef message) {
  finish();
  progress << message << "\n";
  progress.flush();
}

void TrainingLog::finish() {
  if (!lineOpen)
    return;
  progress << "\n";
  progress.flush();
  lineOpen = false;
}

} // namespace qaf
