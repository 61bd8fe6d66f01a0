//===- CheckpointTest.cpp - training checkpoints --------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Checkpoint.h"

#include "RuntimeTestSupport.h"

#include <csignal>
#include <sys/resource.h>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

class CheckpointTest : public TempDirTest {
protected:
  /// A trainable factor, its optimizer moment and a counter, filled with
  /// values that depend on `seed`.
  static std::vector<NamedTensor> makeTensors(float seed, int64_t columns = 3) {
    std::vector<NamedTensor> tensors = {
        {"lora_A", HostTensor::allocate(DType::Float32, {2, columns})},
        {"lora_A.m", HostTensor::allocate(DType::Float32, {2, columns})},
        {"count", HostTensor::allocate(DType::Int64, {})}};
    for (int64_t i = 0; i < 2 * columns; ++i) {
      reinterpret_cast<float *>(tensors[0].tensor.getMutableData())[i] =
          seed + i;
      reinterpret_cast<float *>(tensors[1].tensor.getMutableData())[i] =
          seed * 0.5f - i;
    }
    *reinterpret_cast<int64_t *>(tensors[2].tensor.getMutableData()) =
        static_cast<int64_t>(seed);
    return tensors;
  }

  static CheckpointState makeState(int64_t step) {
    CheckpointState state;
    state.step = step;
    state.sampler.pass = 2;
    state.sampler.cursor = step;
    state.sampler.rng = {1, 2, 3, UINT64_MAX};
    return state;
  }

  static bool sameBytes(ArrayRef<NamedTensor> a, ArrayRef<NamedTensor> b) {
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].tensor.getBytes() != b[i].tensor.getBytes())
        return false;
    return true;
  }

  std::string save(ArrayRef<NamedTensor> tensors, int64_t step,
                   StringRef fingerprint = "model-1") {
    Expected<std::string> path =
        saveCheckpoint(pathOf("ckpt"), tensors, makeState(step), fingerprint);
    EXPECT_TRUE(static_cast<bool>(path)) << toString(path.takeError());
    return path ? *path : "";
  }

  std::string restoreError(ArrayRef<NamedTensor> into,
                           StringRef fingerprint = "model-1") {
    Expected<CheckpointState> state =
        restoreCheckpoint(pathOf("ckpt"), into, fingerprint);
    return state ? "<restored>" : toString(state.takeError());
  }

  std::vector<std::string> listCheckpointFolder() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (sys::fs::directory_iterator it(pathOf("ckpt"), ec), end;
         it != end && !ec; it.increment(ec))
      names.push_back(sys::path::filename(it->path()).str());
    llvm::sort(names);
    return names;
  }
};

TEST_F(CheckpointTest, RoundTripRestoresTensorsStepAndSampler) {
  std::vector<NamedTensor> saved = makeTensors(1.5f);
  std::string path = save(saved, 40);
  EXPECT_EQ(path, pathOf("ckpt/step-00000040.safetensors"));
  EXPECT_EQ(readFile(pathOf("ckpt/latest")), "step-00000040.safetensors\n");

  std::vector<NamedTensor> restored = makeTensors(0.0f);
  ASSERT_FALSE(sameBytes(saved, restored));
  Expected<CheckpointState> state =
      restoreCheckpoint(pathOf("ckpt"), restored, "model-1");
  ASSERT_TRUE(static_cast<bool>(state)) << toString(state.takeError());
  EXPECT_TRUE(sameBytes(saved, restored));
  EXPECT_EQ(state->step, 40);
  EXPECT_EQ(state->sampler, makeState(40).sampler);
}

TEST_F(CheckpointTest, KeepsTheNewestTwo) {
  save(makeTensors(1), 10);
  save(makeTensors(2), 20);
  save(makeTensors(3), 30);
  EXPECT_EQ(listCheckpointFolder(),
            std::vector<std::string>({"latest", "step-00000020.safetensors",
                                      "step-00000030.safetensors"}));
  std::vector<NamedTensor> restored = makeTensors(0);
  ASSERT_EQ(restoreError(restored), "<restored>");
  EXPECT_TRUE(sameBytes(restored, makeTensors(3)));
}

TEST_F(CheckpointTest, AnotherModelIsRefusedAndNothingChanges) {
  save(makeTensors(1), 10, "model-1");
  std::vector<NamedTensor> into = makeTensors(7);
  EXPECT_EQ(restoreError(into, "model-2"),
            pathOf("ckpt/step-00000010.safetensors") +
                ": the checkpoint belongs to the artifact with fingerprint "
                "'model-1', not to this one ('model-2'): another model or "
                "method");
  EXPECT_TRUE(sameBytes(into, makeTensors(7)));
}

TEST_F(CheckpointTest, AnotherRankOrMethodIsRefused) {
  save(makeTensors(1), 10);
  std::string file = pathOf("ckpt/step-00000010.safetensors");
  std::vector<NamedTensor> otherRank = makeTensors(0, /*columns=*/4);
  EXPECT_EQ(restoreError(otherRank),
            file + ": tensor 'lora_A' is float32[2, 3] in the checkpoint, but "
                   "float32[2, 4] in the artifact: another method, rank or "
                   "shape");
  std::vector<NamedTensor> extra = makeTensors(0);
  extra.push_back({"lota_B", HostTensor::allocate(DType::Int8, {2})});
  EXPECT_EQ(restoreError(extra),
            file + ": the checkpoint has no tensor 'lota_B' (lota_B: "
                   "int8[2] in the artifact): another method or rank");
  std::vector<NamedTensor> fewer = makeTensors(0);
  fewer.pop_back();
  EXPECT_EQ(restoreError(fewer),
            file + ": the checkpoint has tensor 'count', which the artifact "
                   "does not: another method or rank");
}

TEST_F(CheckpointTest, MissingAndCorruptCheckpoints) {
  std::vector<NamedTensor> into = makeTensors(0);
  EXPECT_EQ(restoreError(into), "no checkpoint in '" + pathOf("ckpt") +
                                    "': cannot read '" + pathOf("ckpt/latest") +
                                    "': No such file or directory");

  std::string file = save(makeTensors(1), 10);
  std::string bytes = readFile(file);
  writeFile(file, bytes.substr(0, bytes.size() - 5));
  EXPECT_EQ(restoreError(into).substr(0, 11 + file.size()),
            "checkpoint " + file);
  EXPECT_NE(restoreError(into).find("truncated or corrupt"), std::string::npos)
      << restoreError(into);

  ASSERT_FALSE(sys::fs::remove(file));
  EXPECT_EQ(restoreError(into),
            "checkpoint cannot read '" + file + "': No such file or directory");

  writeFile(pathOf("ckpt/latest"), "../../etc/passwd\n");
  EXPECT_EQ(restoreError(into), pathOf("ckpt/latest") +
                                    ": '../../etc/passwd' is not the name of "
                                    "a checkpoint file (corrupt)");
}

TEST_F(CheckpointTest, AFailedWriteKeepsThePreviousCheckpoint) {
  std::vector<NamedTensor> first = makeTensors(1, /*columns=*/4);
  save(first, 10);
  // A disk that fills up: writes past 200 bytes fail (EFBIG) while the
  // next checkpoint (larger than that) is written.
  std::vector<NamedTensor> second = makeTensors(2, /*columns=*/64);
  ASSERT_GT(second[0].tensor.getNumBytes(), 200u);
  std::vector<NamedTensor> secondLayout = makeTensors(0, /*columns=*/4);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 200;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Expected<std::string> failed =
      saveCheckpoint(pathOf("ckpt"), second, makeState(20), "model-1");
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, oldHandler);

  ASSERT_FALSE(static_cast<bool>(failed));
  std::string message = toString(failed.takeError());
  EXPECT_TRUE(StringRef(message).starts_with(
      "checkpoint at step 20 not saved (the previous one is kept): cannot "
      "write '" +
      pathOf("ckpt/step-00000020.safetensors") + "'"))
      << message;
  // No temporary left, `latest` still names step 10, which restores whole.
  EXPECT_EQ(listCheckpointFolder(),
            std::vector<std::string>({"latest", "step-00000010.safetensors"}));
  Expected<CheckpointState> state =
      restoreCheckpoint(pathOf("ckpt"), secondLayout, "model-1");
  ASSERT_TRUE(static_cast<bool>(state)) << toString(state.takeError());
  EXPECT_EQ(state->step, 10);
  EXPECT_TRUE(sameBytes(secondLayout, first));
}

TEST_F(CheckpointTest, AKilledWriterLeavesTheLastGoodCheckpointReadable) {
  std::vector<NamedTensor> first = makeTensors(1);
  save(first, 10);
  // What a kill during the next save leaves: a partial temporary beside the
  // checkpoints (the rename never happened).
  writeFile(pathOf("ckpt/step-00000020.safetensors.tmp-a1b2c3"), "{\"lo");
  std::vector<NamedTensor> into = makeTensors(0);
  ASSERT_EQ(restoreError(into), "<restored>");
  EXPECT_TRUE(sameBytes(into, first));
  // The next save clears the leftover.
  save(makeTensors(2), 20);
  EXPECT_EQ(listCheckpointFolder(),
            std::vector<std::string>({"latest", "step-00000010.safetensors",
                                      "step-00000020.safetensors"}));
}

} // namespace
