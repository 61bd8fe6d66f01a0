//===- TokenDataTest.cpp - token files and the batch sampler --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/TokenData.h"

#include "qaf/Runtime/Npy.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/Endian.h"

#include <set>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

/// A flat token file built byte by byte from the README's layout.
std::string makeFlat(ArrayRef<uint32_t> ids, uint32_t width,
                     std::optional<uint64_t> count = std::nullopt) {
  std::string file = "QAFTOKEN";
  char word[8];
  support::endian::write32le(word, 1);
  file.append(word, 4);
  support::endian::write32le(word, width);
  file.append(word, 4);
  support::endian::write64le(word, count.value_or(ids.size()));
  file.append(word, 8);
  for (uint32_t id : ids) {
    if (width == 2)
      support::endian::write16le(word, id);
    else
      support::endian::write32le(word, id);
    file.append(word, width);
  }
  return file;
}

class TokenDataTest : public TempDirTest {
protected:
  std::string openError(StringRef path, int64_t vocabularySize) {
    Expected<TokenData> data = TokenData::open(path, vocabularySize);
    if (data)
      return "<opened>";
    return toString(data.takeError());
  }

  /// `count` ids 0, 1, 2, ... as a uint32 flat file.
  std::shared_ptr<const TokenData> counting(int64_t count) {
    std::vector<uint32_t> ids(count);
    for (int64_t i = 0; i < count; ++i)
      ids[i] = i;
    std::string path = pathOf("counting.bin");
    writeFile(path, makeFlat(ids, 4));
    Expected<TokenData> data = TokenData::open(path, count);
    EXPECT_TRUE(static_cast<bool>(data)) << toString(data.takeError());
    return std::make_shared<TokenData>(std::move(*data));
  }

  static std::vector<int64_t> values(const HostTensor &tensor) {
    std::vector<int64_t> result;
    for (int64_t i = 0; i < tensor.getNumElements(); ++i)
      result.push_back(
          tensor.getDType() == DType::Int32
              ? reinterpret_cast<const int32_t *>(tensor.getData())[i]
              : reinterpret_cast<const int64_t *>(tensor.getData())[i]);
    return result;
  }
};

TEST_F(TokenDataTest, ReadsFlatFilesOfBothWidths) {
  for (uint32_t width : {2u, 4u}) {
    std::string path = pathOf("ids.bin");
    writeFile(path, makeFlat({5, 0, 65535, 7}, width));
    Expected<TokenData> data = TokenData::open(path, 65536);
    ASSERT_TRUE(static_cast<bool>(data)) << toString(data.takeError());
    ASSERT_EQ(data->size(), 4);
    EXPECT_EQ((*data)[0], 5);
    EXPECT_EQ((*data)[1], 0);
    EXPECT_EQ((*data)[2], 65535);
    EXPECT_EQ((*data)[3], 7);
  }
}

TEST_F(TokenDataTest, WriteFlatProducesTheDocumentedBytes) {
  std::string path = pathOf("written.bin");
  ASSERT_FALSE(errorToBool(TokenData::writeFlat(path, {3, 1, 4}, 2)));
  EXPECT_EQ(readFile(path), makeFlat({3, 1, 4}, 2));
  EXPECT_EQ(toString(TokenData::writeFlat(path, {70000}, 2)),
            path + ": token 0 is id 70000, which does not fit in 2 bytes");
}

TEST_F(TokenDataTest, IdOutsideTheVocabularyNamesItsPosition) {
  std::string path = pathOf("bad.bin");
  writeFile(path, makeFlat({1, 2, 3, 8, 0}, 4));
  EXPECT_EQ(openError(path, 8),
            path + ": token 3 is id 8, outside the vocabulary [0, 8)");
  EXPECT_EQ(openError(path, 9), "<opened>");
}

TEST_F(TokenDataTest, NegativeIdInATwoDimensionalArrayNamesRowAndColumn) {
  std::string path = pathOf("negative.npy");
  HostTensor ids = HostTensor::allocate(DType::Int32, {2, 3});
  int32_t values[] = {0, 1, 2, 3, 4, -1};
  std::memcpy(ids.getMutableData(), values, sizeof(values));
  ASSERT_FALSE(errorToBool(writeNpyFile(path, ids)));
  EXPECT_EQ(openError(path, 8),
            path + ": [1, 2] is id -1, outside the vocabulary [0, 8)");
}

TEST_F(TokenDataTest, ReadsEveryIntegerNpyDType) {
  for (DType dtype :
       {DType::Int32, DType::Int64, DType::UInt16, DType::UInt32}) {
    std::string path = pathOf("ids.npy");
    HostTensor ids = HostTensor::allocate(dtype, {3});
    for (int64_t i = 0; i < 3; ++i) {
      char *element = ids.getMutableData() + i * getDTypeSize(dtype);
      int64_t value = 10 * (i + 1);
      std::memcpy(element, &value, getDTypeSize(dtype)); // little-endian
    }
    ASSERT_FALSE(errorToBool(writeNpyFile(path, ids)));
    Expected<TokenData> data = TokenData::open(path, 100);
    ASSERT_TRUE(static_cast<bool>(data))
        << getDTypeName(dtype).str() << ": " << toString(data.takeError());
    EXPECT_EQ((*data)[0], 10);
    EXPECT_EQ((*data)[2], 30) << getDTypeName(dtype).str();
  }
}

TEST_F(TokenDataTest, RefusesOtherNpyDTypesAndRanks) {
  std::string path = pathOf("floats.npy");
  ASSERT_FALSE(errorToBool(
      writeNpyFile(path, HostTensor::allocate(DType::Float32, {4}))));
  EXPECT_EQ(openError(path, 8),
            path + ": token ids are float32, expected int32, int64, uint16 "
                   "or uint32");
  ASSERT_FALSE(errorToBool(
      writeNpyFile(path, HostTensor::allocate(DType::Int32, {1, 2, 2}))));
  EXPECT_EQ(openError(path, 8), path + ": token ids have shape [1, 2, 2], "
                                       "expected one or two dimensions");
}

TEST_F(TokenDataTest, MalformedFlatFiles) {
  std::string path = pathOf("bad.bin");
  writeFile(path, makeFlat({1, 2, 3}, 4, /*count=*/5));
  EXPECT_EQ(openError(path, 8),
            path + ": the header says 5 ids of 4 bytes, but 12 bytes follow "
                   "it (truncated or corrupt)");
  writeFile(path, makeFlat({1}, 3));
  EXPECT_EQ(openError(path, 8),
            path + ": 3 bytes per id is not supported (2: uint16, 4: uint32)");
  writeFile(path, "hello, world, not tokens");
  EXPECT_EQ(openError(path, 8).substr(0, path.size() + 25),
            path + ": not a qaf token file (n");
  EXPECT_EQ(openError(pathOf("absent.bin"), 8),
            "cannot read '" + pathOf("absent.bin") +
                "': No such file or directory");
}

TEST_F(TokenDataTest, FileShorterThanOneBatchIsRefused) {
  // Batch 2 of 4 tokens + 1 label needs 10 tokens.
  std::shared_ptr<const TokenData> data = counting(9);
  Expected<BatchSampler> sampler =
      BatchSampler::create(data, 2, 4, WindowOrder::Sequential, 0);
  ASSERT_FALSE(static_cast<bool>(sampler));
  EXPECT_EQ(toString(sampler.takeError()),
            pathOf("counting.bin") +
                ": 9 tokens are fewer than one batch needs (batch 2 x "
                "(sequence length 4 + 1) = 10)");
  EXPECT_TRUE(static_cast<bool>(
      BatchSampler::create(counting(10), 2, 4, WindowOrder::Sequential, 0)));
}

TEST_F(TokenDataTest, SequentialWindowsAndShiftedLabels) {
  // 3 windows of 3 + 1 tokens in 13 ids (the 13th is never used).
  Expected<BatchSampler> sampler =
      BatchSampler::create(counting(13), 2, 3, WindowOrder::Sequential, 0);
  ASSERT_TRUE(static_cast<bool>(sampler)) << toString(sampler.takeError());
  EXPECT_EQ(sampler->getNumWindows(), 3);
  TokenBatch first = sampler->next(DType::Int64);
  EXPECT_EQ(first.inputIds.getShape(), ArrayRef<int64_t>({2, 3}));
  EXPECT_EQ(values(first.inputIds), std::vector<int64_t>({0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(values(first.labels), std::vector<int64_t>({1, 2, 3, 5, 6, 7}));
  // The third window, then the next pass starts over.
  TokenBatch second = sampler->next(DType::Int32);
  EXPECT_EQ(second.inputIds.getDType(), DType::Int32);
  EXPECT_EQ(values(second.inputIds), std::vector<int64_t>({8, 9, 10, 0, 1, 2}));
  EXPECT_EQ(values(second.labels), std::vector<int64_t>({9, 10, 11, 1, 2, 3}));
  EXPECT_EQ(sampler->getState().pass, 1);
  EXPECT_EQ(sampler->getState().cursor, 1);
}

/// The windows (first ids / (seqLen + 1)) of `count` batches of one row.
std::vector<int64_t> drawWindows(BatchSampler &sampler, int count) {
  std::vector<int64_t> windows;
  for (int i = 0; i < count; ++i) {
    TokenBatch batch = sampler.next(DType::Int64);
    windows.push_back(
        reinterpret_cast<const int64_t *>(batch.inputIds.getData())[0] /
        (sampler.getSeqLen() + 1));
  }
  return windows;
}

TEST_F(TokenDataTest, ShuffledPassesArePermutationsFixedByTheSeed) {
  std::shared_ptr<const TokenData> data = counting(200);
  auto make = [&](uint64_t seed) {
    return cantFail(
        BatchSampler::create(data, 1, 1, WindowOrder::Shuffled, seed));
  };
  BatchSampler a = make(7), b = make(7), c = make(8);
  std::vector<int64_t> windowsA = drawWindows(a, 300);
  EXPECT_EQ(windowsA, drawWindows(b, 300));
  EXPECT_NE(windowsA, drawWindows(c, 300));
  // Each pass of 100 windows takes every window once, in a new order.
  std::vector<int64_t> pass1(windowsA.begin(), windowsA.begin() + 100);
  std::vector<int64_t> pass2(windowsA.begin() + 100, windowsA.begin() + 200);
  EXPECT_EQ(std::set<int64_t>(pass1.begin(), pass1.end()).size(), 100u);
  EXPECT_EQ(std::set<int64_t>(pass2.begin(), pass2.end()).size(), 100u);
  EXPECT_NE(pass1, pass2);
  std::vector<int64_t> inOrder(100);
  for (int i = 0; i < 100; ++i)
    inOrder[i] = i;
  EXPECT_NE(pass1, inOrder);
}

TEST_F(TokenDataTest, SavedStateResumesTheSameStream) {
  std::shared_ptr<const TokenData> data = counting(60);
  BatchSampler whole =
      cantFail(BatchSampler::create(data, 1, 2, WindowOrder::Shuffled, 3));
  // 20 windows; stop inside the second pass.
  drawWindows(whole, 27);
  SamplerState saved = whole.getState();
  Expected<SamplerState> parsed = SamplerState::parse(saved.str(), "state");
  ASSERT_TRUE(static_cast<bool>(parsed)) << toString(parsed.takeError());
  EXPECT_EQ(*parsed, saved);

  BatchSampler resumed =
      cantFail(BatchSampler::create(data, 1, 2, WindowOrder::Shuffled, 99));
  ASSERT_FALSE(errorToBool(resumed.setState(*parsed)));
  EXPECT_EQ(drawWindows(resumed, 40), drawWindows(whole, 40));
}

TEST_F(TokenDataTest, ForeignStatesAreRefused) {
  BatchSampler sampler = cantFail(
      BatchSampler::create(counting(12), 1, 2, WindowOrder::Shuffled, 0));
  SamplerState state;
  state.cursor = 5;
  EXPECT_EQ(toString(sampler.setState(state)),
            "the saved data position (window 5) is past the 4 windows of '" +
                pathOf("counting.bin") +
                "' at sequence length 2: another data file or sequence "
                "length?");
  Expected<SamplerState> garbage = SamplerState::parse("1 2 x", "ckpt");
  ASSERT_FALSE(static_cast<bool>(garbage));
  EXPECT_EQ(toString(garbage.takeError()),
            "ckpt: '1 2 x' is not a sampler state (pass, cursor and four "
            "generator words)");
}

TEST(TokenRNGTest, MatchesTheReferenceXoshiro256StarStar) {
  // State {1, 2, 3, 4}: the first outputs of the reference C code
  // (prng.di.unimi.it/xoshiro256starstar.c).
  TokenRNG rng;
  rng.state = {1, 2, 3, 4};
  EXPECT_EQ(rng.next(), 11520u);
  EXPECT_EQ(rng.next(), 0u);
  EXPECT_EQ(rng.next(), 1509978240u);
  EXPECT_EQ(rng.next(), 1215971899390074240u);
}

} // namespace
