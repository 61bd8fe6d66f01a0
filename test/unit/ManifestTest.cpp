//===- ManifestTest.cpp - the artifact's manifest.json --------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Manifest.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/FormatVariadic.h"

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

constexpr StringLiteral kValidManifest = R"({
  "format": "qaf-artifact",
  "version": 1,
  "library": "model.so",
  "weights": "weights.safetensors",
  "fingerprint": "9f2c",
  "target": {"arch": "x86_64", "cpu": "znver3", "features": "+avx2,+fma"},
  "entry_points": [{
    "name": "infer",
    "symbol": "qaf_entry_infer",
    "weights": [{"name": "model.embed_tokens.weight", "dtype": "float32",
                 "shape": [256, 64]}],
    "inputs":  [{"name": "input_ids", "dtype": "int64",
                 "shape": ["batch", "sequence"]},
                {"name": "mask", "dtype": "bool", "shape": [null, 3]}],
    "outputs": [{"name": "logits", "dtype": "float32",
                 "shape": ["batch", "sequence", 256]}]
  }, {
    "name": "train_step",
    "symbol": "qaf_entry_train_step",
    "weights": [],
    "inputs": [],
    "outputs": [{"name": "loss", "dtype": "float32", "shape": []}]
  }]
})";

/// The error of parsing `json` ("" when it parses).
std::string parseError(StringRef json) {
  Expected<Manifest> manifest = parseManifest(json, "m.json");
  return messageOf(manifest);
}

/// kValidManifest with `from` replaced by `to` (which must occur).
std::string replaced(StringRef from, StringRef to) {
  std::string text = kValidManifest.str();
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  return text.replace(at, from.size(), to.str());
}

TEST(ManifestTest, ParsesTheDocumentedFormat) {
  Expected<Manifest> manifest = parseManifest(kValidManifest, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  EXPECT_EQ(manifest->library, "model.so");
  EXPECT_EQ(manifest->weights, "weights.safetensors");
  EXPECT_EQ(manifest->fingerprint, "9f2c");
  EXPECT_EQ(manifest->target.cpu, "znver3");
  ASSERT_EQ(manifest->entryPoints.size(), 2u);
  const EntryPoint *infer = manifest->findEntryPoint("infer");
  ASSERT_NE(infer, nullptr);
  EXPECT_EQ(infer->symbol, "qaf_entry_infer");
  ASSERT_EQ(infer->weights.size(), 1u);
  EXPECT_EQ(infer->weights[0].describe(), "float32[256, 64]");
  EXPECT_EQ(infer->weights[0].getStaticShape(),
            (std::vector<int64_t>{256, 64}));
  ASSERT_EQ(infer->inputs.size(), 2u);
  EXPECT_EQ(infer->inputs[0].describe(), "int64[batch, sequence]");
  EXPECT_TRUE(infer->inputs[0].shape[0].isNamed());
  EXPECT_EQ(infer->inputs[1].describe(), "bool[?, 3]");
  EXPECT_FALSE(infer->inputs[1].shape[0].isNamed());
  EXPECT_FALSE(infer->inputs[1].shape[0].isStatic());
  EXPECT_EQ(infer->outputs[0].describe(), "float32[batch, sequence, 256]");
  EXPECT_EQ(manifest->findEntryPoint("train_step")->outputs[0].describe(),
            "float32[]");
  EXPECT_EQ(manifest->findEntryPoint("eval_step"), nullptr);
}

TEST(ManifestTest, TargetIsOptional) {
  std::string text = replaced(
      R"("target": {"arch": "x86_64", "cpu": "znver3", "features": "+avx2,+fma"},)",
      "");
  Expected<Manifest> manifest = parseManifest(text, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  EXPECT_EQ(manifest->target.arch, "");
}

TEST(ManifestTest, ErrorsNameTheFileAndTheField) {
  EXPECT_EQ(parseError(replaced(R"("dtype": "bool")", R"("dtype": "float8")")),
            "m.json: entry_points[0].inputs[1].dtype: unknown dtype 'float8' "
            "(known: float32, float16, bfloat16, float64, int8, int16, int32, "
            "int64, uint8, uint16, uint32, uint64, bool)");
  EXPECT_EQ(parseError(
                replaced(R"("format": "qaf-artifact")", R"("format": "onnx")")),
            "m.json: format: expected 'qaf-artifact', found 'onnx'");
  EXPECT_EQ(parseError(replaced(R"("version": 1)", R"("version": 2)")),
            "m.json: version: version 2 is not supported (this runtime reads "
            "version 1)");
  EXPECT_EQ(parseError(replaced(R"("version": 1)", R"("version": "1")")),
            "m.json: version: expected an integer");
  EXPECT_EQ(parseError(replaced(R"("library": "model.so",)", "")),
            "m.json: library: missing");
  EXPECT_EQ(
      parseError(replaced(R"("fingerprint": "9f2c")", R"("fingerprint": "")")),
      "m.json: fingerprint: must not be empty");
  EXPECT_EQ(
      parseError(replaced(R"("symbol": "qaf_entry_infer")", R"("symbol": 7)")),
      "m.json: entry_points[0].symbol: expected a string");
  EXPECT_EQ(parseError(replaced(R"("shape": [null, 3])", R"("shape": [-2])")),
            "m.json: entry_points[0].inputs[1].shape[0]: negative dimension "
            "-2");
  EXPECT_EQ(parseError(replaced(R"("shape": [null, 3])", R"("shape": [1.5])")),
            "m.json: entry_points[0].inputs[1].shape[0]: expected an "
            "integer, a dimension name or null");
  EXPECT_EQ(parseError(replaced(R"("shape": [null, 3])", R"("shape": [""])")),
            "m.json: entry_points[0].inputs[1].shape[0]: a dimension name "
            "must not be empty");
  EXPECT_EQ(parseError(replaced(R"("shape": [null, 3])", R"("shape": 3)")),
            "m.json: entry_points[0].inputs[1].shape: expected an array");
  EXPECT_EQ(parseError(replaced(R"("name": "mask")", R"("name": "input_ids")")),
            "m.json: entry_points[0].inputs[1].name: duplicate name "
            "'input_ids'");
  EXPECT_EQ(
      parseError(replaced(R"("name": "train_step")", R"("name": "infer")")),
      "m.json: entry_points[1].name: duplicate entry point 'infer'");
  EXPECT_EQ(parseError(
                replaced(R"("shape": [256, 64])", R"("shape": ["vocab", 64])")),
            "m.json: entry_points[0].weights[0].shape: weight "
            "'model.embed_tokens.weight' has a dynamic dimension: "
            "float32[vocab, 64]");
  EXPECT_EQ(parseError(replaced(R"("outputs": [{"name": "loss")",
                                R"("outputz": [{"name": "loss")")),
            "m.json: entry_points[1].outputs: missing");
  EXPECT_EQ(parseError(R"({"format": "qaf-artifact", "version": 1, )"
                       R"("library": "a", "weights": "b", "fingerprint": "c", )"
                       R"("entry_points": []})"),
            "m.json: entry_points: the artifact has no entry point");
  EXPECT_EQ(parseError("[]"), "m.json: (top level): expected an object");
  EXPECT_EQ(parseError("{\"format\": "),
            "m.json: not valid JSON: [1:11, byte=11]: Unexpected EOF");
}

TEST(ManifestTest, MissingFileNamesIt) {
  Expected<Manifest> manifest = readManifestFile("/nonexistent/manifest.json");
  EXPECT_EQ(messageOf(manifest), "cannot read '/nonexistent/manifest.json': "
                                 "No such file or directory");
}

class ManifestFileTest : public TempDirTest {};

TEST_F(ManifestFileTest, WriteThenReadGivesTheSameManifest) {
  Expected<Manifest> manifest = parseManifest(kValidManifest, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  std::string path = pathOf("manifest.json");
  ASSERT_EQ(messageOf(writeManifestFile(path, *manifest)), "");
  Expected<Manifest> reread = readManifestFile(path);
  ASSERT_TRUE(bool(reread)) << toString(reread.takeError());
  EXPECT_EQ(formatv("{0}", toJSON(*reread)).str(),
            formatv("{0}", toJSON(*manifest)).str());
  EXPECT_EQ(reread->entryPoints[0].inputs[1].shape[0],
            ManifestDim::getUnnamed());
  EXPECT_EQ(reread->entryPoints[0].inputs[0].shape[1],
            ManifestDim::getNamed("sequence"));
}

TEST(ManifestTest, PrintsForPeople) {
  Expected<Manifest> manifest = parseManifest(kValidManifest, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  std::string text;
  raw_string_ostream os(text);
  printManifest(os, *manifest, /*verbose=*/true);
  EXPECT_EQ(text, "format: qaf-artifact version 1\n"
                  "library: model.so\n"
                  "weights: weights.safetensors\n"
                  "fingerprint: 9f2c\n"
                  "target: x86_64 znver3\n"
                  "target features: +avx2,+fma\n"
                  "entry point 'infer' (qaf_entry_infer):\n"
                  "  inputs:\n"
                  "    input_ids: int64[batch, sequence]\n"
                  "    mask: bool[?, 3]\n"
                  "  outputs:\n"
                  "    logits: float32[batch, sequence, 256]\n"
                  "  weights: 1 tensors, 16384 elements, 0.1 MiB\n"
                  "    model.embed_tokens.weight: float32[256, 64]\n"
                  "entry point 'train_step' (qaf_entry_train_step):\n"
                  "  inputs: none\n"
                  "  outputs:\n"
                  "    loss: float32[]\n"
                  "  weights: 0 tensors, 0 elements, 0.0 MiB\n");
}

TEST(ManifestTest, BriefFormCountsFeaturesAndOmitsWeightNames) {
  Expected<Manifest> manifest =
      parseManifest(replaced(R"("features": "+avx2,+fma")",
                             R"("features": "+avx2,-xop,+fma")"),
                    "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  std::string text;
  raw_string_ostream os(text);
  printManifest(os, *manifest, /*verbose=*/false);
  EXPECT_CONTAINS(text, "target: x86_64 znver3 (2 features enabled)\n");
  EXPECT_EQ(text.find("model.embed_tokens.weight"), std::string::npos);
}

} // namespace
