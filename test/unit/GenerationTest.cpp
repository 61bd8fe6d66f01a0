//===- GenerationTest.cpp - caches written in place, token sampling -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Generation.h"
#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/Manifest.h"

#include "RuntimeTestSupport.h"

#include <set>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

/// One layer's key cache, as qaf-compile describes a cache written in
/// place.
constexpr StringLiteral kCachedManifest = R"({
  "format": "qaf-artifact", "version": 2, "library": "model.so",
  "weights": "weights.safetensors", "fingerprint": "9f2c",
  "target": {"kind": "cpu", "binary": "shared-library"},
  "entry_points": [{
    "name": "infer", "symbol": "qaf_entry_infer", "weights": [],
    "parameters": [],
    "inputs": [{"name": "input_ids", "dtype": "int64",
                "shape": ["batch_size", "sequence_length"]},
               {"name": "past_key_values.0.key", "dtype": "float32",
                "shape": ["batch_size", 2, "past_sequence_length", 16]},
               {"name": "qaf.cache_length", "dtype": "int64", "shape": []}],
    "outputs": [{"name": "logits", "dtype": "float32",
                 "shape": ["batch_size", "sequence_length", 256]},
                {"name": "present.0.key", "dtype": "float32",
                 "shape": ["batch_size", 2,
                           "past_sequence_length + sequence_length", 16],
                 "written_into": "past_key_values.0.key"}]
  }]
})";

std::string replaced(StringRef from, StringRef to) {
  std::string text = kCachedManifest.str();
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  return text.replace(at, from.size(), to.str());
}

std::string parseError(StringRef json) {
  Expected<Manifest> manifest = parseManifest(json, "m.json");
  return messageOf(manifest);
}

TEST(CacheInPlaceManifestTest, ParsesAndWritesWrittenInto) {
  Expected<Manifest> manifest = parseManifest(kCachedManifest, "m.json");
  ASSERT_EQ(messageOf(manifest), "");
  const EntryPoint &entry = manifest->entryPoints.front();
  EXPECT_TRUE(entry.hasOutputsWrittenIntoInputs());
  EXPECT_EQ(entry.outputs[0].writtenInto, "");
  EXPECT_EQ(entry.outputs[1].writtenInto, "past_key_values.0.key");
  // Written and read back, the field survives; other outputs get none.
  std::string json;
  raw_string_ostream os(json);
  os << toJSON(*manifest);
  EXPECT_EQ(json.find("written_into"), json.rfind("written_into"));
  Expected<Manifest> again = parseManifest(json, "again.json");
  ASSERT_EQ(messageOf(again), "");
  EXPECT_EQ(again->entryPoints.front().outputs[1].writtenInto,
            "past_key_values.0.key");

  Expected<DecoderSignature> signature = findDecoderSignature(entry);
  ASSERT_EQ(messageOf(signature), "");
  EXPECT_TRUE(signature->cacheInPlace);
  ASSERT_EQ(signature->cache.size(), 1u);
  EXPECT_EQ(signature->cache[0].input, 1u);
  EXPECT_EQ(signature->cache[0].output, 1u);
  EXPECT_EQ(signature->vocabularySize, 256);
}

TEST(CacheInPlaceManifestTest, RefusesMalformedTies) {
  EXPECT_EQ(parseError(replaced(R"("written_into": "past_key_values.0.key")",
                                R"("written_into": "input_ids")")),
            "m.json: entry_points[0].outputs[1].written_into: 'input_ids' is "
            "not an input of the output's dtype and rank 4 [batch, heads, "
            "length, head size]");
  EXPECT_EQ(
      parseError(replaced(
          R"(,
               {"name": "qaf.cache_length", "dtype": "int64", "shape": []}],)",
          "],")),
      "m.json: entry_points[0].outputs[1].written_into: the entry point has "
      "no int64 scalar input 'qaf.cache_length' to say how long the past is");
  EXPECT_EQ(
      parseError(replaced(
          R"({"name": "qaf.cache_length", "dtype": "int64", "shape": []})",
          R"({"name": "qaf.cache_length", "dtype": "int64", "shape": [],
                    "written_into": "input_ids"})")),
      "m.json: entry_points[0].inputs[2].written_into: only an output "
      "is written into an input");
}

TEST(DimSymbolTest, SumsOfBoundNames) {
  DimBindings bindings;
  bindings["past_sequence_length"] = 4;
  bindings["sequence_length"] = 2;
  EXPECT_EQ(evaluateDimSymbol("sequence_length", bindings), 2);
  EXPECT_EQ(
      evaluateDimSymbol("past_sequence_length + sequence_length", bindings), 6);
  EXPECT_EQ(evaluateDimSymbol("past_sequence_length + 1", bindings), 5);
  EXPECT_EQ(evaluateDimSymbol("past_sequence_length + unknown", bindings),
            std::nullopt);
  EXPECT_EQ(evaluateDimSymbol("unknown", bindings), std::nullopt);
}

TEST(TokenSamplerTest, GreedyTakesTheFirstLargest) {
  TokenSampler sampler({});
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(sampler.next(logits), 1);
}

TEST(TokenSamplerTest, TopKAndTopPKeepOnlyTheMostLikely) {
  std::vector<float> logits = {0.0f, 2.0f, 1.9f, -5.0f, 1.8f};
  SamplingOptions topOne;
  topOne.temperature = 1;
  topOne.topK = 1;
  SamplingOptions tinyP;
  tinyP.temperature = 1;
  tinyP.topP = 1e-6;
  SamplingOptions topThree;
  topThree.temperature = 5;
  topThree.topK = 3;
  TokenSampler one(topOne), nucleus(tinyP), three(topThree);
  std::set<int64_t> drawn;
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(one.next(logits), 1);
    EXPECT_EQ(nucleus.next(logits), 1);
    drawn.insert(three.next(logits));
  }
  // A hot temperature over the three most likely draws each of them.
  EXPECT_EQ(drawn, (std::set<int64_t>{1, 2, 4}));
}

TEST(TokenSamplerTest, ASeedGivesTheSameDraws) {
  std::vector<float> logits(64);
  for (size_t i = 0; i < logits.size(); ++i)
    logits[i] = float(i % 7) * 0.3f;
  SamplingOptions options;
  options.temperature = 1.5;
  options.seed = 42;
  TokenSampler first(options), second(options);
  options.seed = 43;
  TokenSampler other(options);
  std::vector<int64_t> a, b, c;
  for (int i = 0; i < 32; ++i) {
    a.push_back(first.next(logits));
    b.push_back(second.next(logits));
    c.push_back(other.next(logits));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(TokenSamplerTest, OptionsAreChecked) {
  SamplingOptions options;
  options.temperature = -1;
  EXPECT_EQ(messageOf(checkSamplingOptions(options)),
            "--temperature -1: must be 0 (greedy) or positive");
  options = {};
  options.topP = 0;
  EXPECT_EQ(messageOf(checkSamplingOptions(options)),
            "--top-p 0: must be in (0, 1]");
  options = {};
  options.topK = -2;
  EXPECT_EQ(messageOf(checkSamplingOptions(options)),
            "--top-k -2: must be 0 (all tokens) or positive");
}

} // namespace
