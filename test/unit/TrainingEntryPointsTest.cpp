//===- TrainingEntryPointsTest.cpp - the training convention, the log -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/TrainingEntryPoints.h"
#include "qaf/Runtime/TrainingLog.h"

#include "RuntimeTestSupport.h"

#include <cmath>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

TensorSpec spec(StringRef name, DType dtype, std::vector<ManifestDim> shape) {
  return {name.str(), dtype, std::move(shape)};
}

const ManifestDim kBatch = ManifestDim::getNamed("batch");
const ManifestDim kSeq = ManifestDim::getNamed("seq");

/// A manifest with infer (logits over 32 tokens), train_step and
/// eval_step as the convention asks, ids of `idType`.
Manifest makeManifest(DType idType = DType::Int64) {
  Manifest manifest;
  TensorSpec ids = spec("input_ids", idType, {kBatch, kSeq});
  TensorSpec labels = spec("labels", idType, {kBatch, kSeq});
  EntryPoint infer{"infer", "qaf_entry_infer", {}, {}, {ids}, {}};
  infer.outputs = {spec("logits", DType::Float32,
                        {kBatch, kSeq, ManifestDim::getStatic(32)})};
  EntryPoint train{"train_step", "qaf_entry_train_step", {}, {}, {}, {}};
  train.inputs = {ids, labels, spec("step", DType::Int64, {})};
  train.outputs = {spec("loss", DType::Float32, {})};
  EntryPoint eval{"eval_step", "qaf_entry_eval_step", {}, {}, {}, {}};
  eval.inputs = {ids, labels};
  eval.outputs = {spec("loss_sum", DType::Float32, {}),
                  spec("token_count", DType::Int64, {})};
  manifest.entryPoints = {infer, train, eval};
  return manifest;
}

std::string checkError(const Manifest &manifest, StringRef name,
                       int64_t batch = 2, int64_t seqLen = 8) {
  Expected<TrainingEntryPoint> entry =
      checkTrainingEntryPoint(manifest, name, batch, seqLen);
  return entry ? "<ok>" : toString(entry.takeError());
}

constexpr StringLiteral kPrefix =
    "does not follow qaf-run's training convention "
    "(include/qaf/Runtime/TrainingEntryPoints.h): ";

TEST(TrainingEntryPointsTest, AcceptsTheConvention) {
  Manifest manifest = makeManifest(DType::Int32);
  Expected<TrainingEntryPoint> train =
      checkTrainingEntryPoint(manifest, "train_step", 3, 100);
  ASSERT_TRUE(static_cast<bool>(train)) << toString(train.takeError());
  EXPECT_EQ(train->entry, &manifest.entryPoints[1]);
  EXPECT_EQ(train->idType, DType::Int32);
  EXPECT_FALSE(train->takesLearningRate);
  EXPECT_FALSE(train->returnsLearningRate);
  EXPECT_EQ(checkError(manifest, "eval_step"), "<ok>");
  EXPECT_EQ(cantFail(getVocabularySize(manifest)), 32);

  manifest.entryPoints[1].inputs.push_back(
      spec("learning_rate", DType::Float32, {}));
  manifest.entryPoints[1].outputs.push_back(
      spec("learning_rate", DType::Float32, {}));
  train = checkTrainingEntryPoint(manifest, "train_step", 3, 100);
  ASSERT_TRUE(static_cast<bool>(train)) << toString(train.takeError());
  EXPECT_TRUE(train->takesLearningRate);
  EXPECT_TRUE(train->returnsLearningRate);
}

TEST(TrainingEntryPointsTest, AnInferenceArtifactHasNoTrainStep) {
  Manifest manifest = makeManifest();
  manifest.entryPoints.resize(1);
  EXPECT_EQ(checkError(manifest, "train_step"),
            "the artifact has no entry point 'train_step': compile with "
            "--emit=train (it has infer)");
}

TEST(TrainingEntryPointsTest, NamesWhatDiffers) {
  Manifest missing = makeManifest();
  missing.entryPoints[1].inputs.pop_back();
  EXPECT_EQ(checkError(missing, "train_step"),
            "entry point 'train_step' " + kPrefix.str() +
                "it has no input 'step' (its inputs: input_ids, labels)");

  Manifest extra = makeManifest();
  extra.entryPoints[2].inputs.push_back(
      spec("attention_mask", DType::Int64, {kBatch, kSeq}));
  EXPECT_EQ(checkError(extra, "eval_step"),
            "entry point 'eval_step' " + kPrefix.str() +
                "unexpected input 'attention_mask' int64[batch, seq]");

  Manifest wrongType = makeManifest();
  wrongType.entryPoints[1].outputs[0] =
      spec("loss", DType::Float32, {ManifestDim::getStatic(1)});
  EXPECT_EQ(checkError(wrongType, "train_step"),
            "entry point 'train_step' " + kPrefix.str() +
                "output 'loss' is float32[1], expected float32 of rank 0");

  Manifest mixed = makeManifest();
  mixed.entryPoints[2].inputs[1].dtype = DType::Int32;
  EXPECT_EQ(checkError(mixed, "eval_step"),
            "entry point 'eval_step': labels int32[batch, seq] differ from "
            "input_ids int64[batch, seq] (they must have the same dtype and "
            "shape)");
}

TEST(TrainingEntryPointsTest, StaticDimensionsFixTheRunsSizes) {
  Manifest manifest = makeManifest();
  for (TensorSpec &input : manifest.entryPoints[1].inputs)
    if (input.getRank() == 2)
      input.shape = {ManifestDim::getStatic(4), ManifestDim::getStatic(16)};
  EXPECT_EQ(checkError(manifest, "train_step", 4, 16), "<ok>");
  EXPECT_EQ(checkError(manifest, "train_step", 4, 8),
            "entry point 'train_step' takes input_ids int64[4, 16]: the "
            "sequence length (--seq-len) must be 16, not 8");
}

TEST(TrainingEntryPointsTest, TheVocabularyComesFromStaticLogits) {
  Manifest manifest = makeManifest();
  manifest.entryPoints[0].outputs[0].shape.back() = ManifestDim::getUnnamed();
  Expected<int64_t> size = getVocabularySize(manifest);
  ASSERT_FALSE(static_cast<bool>(size));
  EXPECT_EQ(toString(size.takeError()),
            "entry point 'infer' returns logits float32[batch, seq, ?]: the "
            "vocabulary size (its last dimension) is not static");
}

TEST(TrainingLogTest, FormatsDurationsAndRecords) {
  EXPECT_EQ(formatDuration(3723), "1h02m03s");
  EXPECT_EQ(formatDuration(65.4), "1m05s");
  EXPECT_EQ(formatDuration(4), "4s");
  EXPECT_EQ(formatDuration(NAN), "0s");
  StepRecord record;
  record.step = 12;
  record.loss = 2.5;
  record.learningRate = 0.125;
  record.tokensPerSecond = 1000;
  record.elapsedSeconds = 3;
  EXPECT_EQ(formatStepRecordJSON(record),
            R"({"step":12,"loss":2.5,"learning_rate":0.125,)"
            R"("tokens_per_second":1000,"elapsed_seconds":3})");
  // JSON has no NaN: a loss that is not finite, or no rate, is null.
  record.loss = NAN;
  record.learningRate.reset();
  EXPECT_EQ(formatStepRecordJSON(record),
            R"({"step":12,"loss":null,"learning_rate":null,)"
            R"("tokens_per_second":1000,"elapsed_seconds":3})");
}

/// A string stream that says it is a terminal.
class TerminalStream : public raw_string_ostream {
public:
  using raw_string_ostream::raw_string_ostream;
  bool is_displayed() const override { return true; }
};

TEST(TrainingLogTest, ATerminalGetsOneRedrawnLine) {
  std::string screen;
  TerminalStream os(screen);
  Expected<std::unique_ptr<TrainingLog>> log =
      TrainingLog::create(os, "", 0, 4);
  ASSERT_TRUE(static_cast<bool>(log)) << toString(log.takeError());
  StepRecord record;
  record.step = 1;
  record.loss = 2.25;
  record.learningRate = 0.001;
  record.tokensPerSecond = 512;
  record.elapsedSeconds = 10;
  (*log)->record(record);
  record.step = 2;
  record.elapsedSeconds = 20;
  (*log)->record(record);
  (*log)->note("checkpoint: c");
  // A quarter, then half of the 24-character bar; ETA: 10 s per step.
  EXPECT_EQ(screen,
            "\rstep 1/4 [######..................] loss 2.2500 lr 1.000e-03 "
            "512 tok/s ETA 30s\x1b[K"
            "\rstep 2/4 [############............] loss 2.2500 lr 1.000e-03 "
            "512 tok/s ETA 20s\x1b[K"
            "\ncheckpoint: c\n");
}

class TrainingLogFileTest : public TempDirTest {};

TEST_F(TrainingLogFileTest, PlainLinesAndAnAppendedLog) {
  std::string progress;
  raw_string_ostream os(progress);
  std::string path = pathOf("run.jsonl");
  for (int64_t step : {1, 2}) {
    Expected<std::unique_ptr<TrainingLog>> log =
        TrainingLog::create(os, path, step - 1, 2);
    ASSERT_TRUE(static_cast<bool>(log)) << toString(log.takeError());
    StepRecord record;
    record.step = step;
    record.loss = 1.5;
    record.tokensPerSecond = 10;
    record.elapsedSeconds = 2;
    (*log)->record(record);
    (*log)->note("checkpoint: x");
  }
  // The second log resumes after step 1. Each has done one step in 2 s:
  // after step 1 one step is left (2 s), after step 2 none.
  EXPECT_EQ(progress, "step 1/2 loss 1.500000 tokens/s 10.0 eta 2s\n"
                      "checkpoint: x\n"
                      "step 2/2 loss 1.500000 tokens/s 10.0 eta 0s\n"
                      "checkpoint: x\n");
  EXPECT_EQ(readFile(path),
            "{\"step\":1,\"loss\":1.5,\"learning_rate\":null,"
            "\"tokens_per_second\":10,\"elapsed_seconds\":2}\n"
            "{\"step\":2,\"loss\":1.5,\"learning_rate\":null,"
            "\"tokens_per_second\":10,\"elapsed_seconds\":2}\n");
}

} // namespace
