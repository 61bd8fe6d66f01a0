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
  "version": 2,
  "library": "model.so",
  "weights": "weights.safetensors",
  "parameters": "parameters.safetensors",
  "fingerprint": "9f2c",
  "target": {"kind": "cpu", "binary": "shared-library", "arch": "x86_64",
             "triple": "x86_64-unknown-linux-gnu", "cpu": "znver3",
             "features": "+avx2,+fma"},
  "entry_points": [{
    "name": "infer",
    "symbol": "qaf_entry_infer",
    "weights": [{"name": "model.embed_tokens.weight", "dtype": "float32",
                 "shape": [256, 64]}],
    "parameters": [{"name": "lora_A", "dtype": "float32", "shape": [4, 64]}],
    "inputs":  [{"name": "input_ids", "dtype": "int64",
                 "shape": ["batch", "sequence"]},
                {"name": "mask", "dtype": "bool", "shape": [null, 3]}],
    "outputs": [{"name": "logits", "dtype": "float32",
                 "shape": ["batch", "sequence", 256]}]
  }, {
    "name": "train_step",
    "symbol": "qaf_entry_train_step",
    "weights": [],
    "parameters": [{"name": "lora_A", "dtype": "float32", "shape": [4, 64]},
                   {"name": "adam_m", "dtype": "float32", "shape": [4, 64]}],
    "inputs": [],
    "outputs": [{"name": "loss", "dtype": "float32", "shape": []}]
  }]
})";

/// The target record of kValidManifest, to replace in the target tests.
constexpr StringLiteral kCPUTarget =
    R"("kind": "cpu", "binary": "shared-library", "arch": "x86_64",)";

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
  EXPECT_EQ(manifest->parameters, "parameters.safetensors");
  EXPECT_EQ(manifest->fingerprint, "9f2c");
  EXPECT_EQ(manifest->target.kind, TargetKind::CPU);
  EXPECT_EQ(manifest->target.binary, BinaryKind::SharedLibrary);
  EXPECT_EQ(manifest->target.triple, "x86_64-unknown-linux-gnu");
  EXPECT_EQ(manifest->target.cpu, "znver3");
  ASSERT_EQ(manifest->entryPoints.size(), 2u);
  EXPECT_EQ(manifest->listEntryPoints(), "infer, train_step");
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
  ASSERT_EQ(infer->parameters.size(), 1u);
  EXPECT_EQ(infer->parameters[0].describe(), "float32[4, 64]");
  const EntryPoint *train = manifest->findEntryPoint("train_step");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->outputs[0].describe(), "float32[]");
  ASSERT_EQ(train->parameters.size(), 2u);
  EXPECT_EQ(manifest->findEntryPoint("eval_step"), nullptr);
  // A parameter two entry points name is one buffer, listed once.
  std::vector<TensorSpec> parameters = manifest->getAllParameters();
  ASSERT_EQ(parameters.size(), 2u);
  EXPECT_EQ(parameters[0].name, "lora_A");
  EXPECT_EQ(parameters[1].name, "adam_m");
}

TEST(ManifestTest, TargetIsRequiredAndValidated) {
  Expected<Manifest> cuda = parseManifest(
      replaced(kCPUTarget,
               R"("kind": "cuda", "binary": "cubin", "arch": "sm_90a",)"),
      "m.json");
  ASSERT_TRUE(bool(cuda)) << toString(cuda.takeError());
  EXPECT_EQ(cuda->target.kind, TargetKind::CUDA);
  EXPECT_EQ(cuda->target.binary, BinaryKind::Cubin);
  EXPECT_EQ(cuda->target.arch, "sm_90a");
  // What the CUDA target records besides: the PTX ISA of its kernels and
  // its matmul precision, read and written back as they are.
  Expected<Manifest> recorded = parseManifest(
      replaced(kCPUTarget,
               R"("kind": "cuda", "binary": "cubin", "arch": "sm_80", )"
               R"("ptx_isa": "7.0", "matmul_precision": "bf16",)"),
      "m.json");
  ASSERT_TRUE(bool(recorded)) << toString(recorded.takeError());
  EXPECT_EQ(recorded->target.ptxISA, "7.0");
  EXPECT_EQ(recorded->target.matmulPrecision, "bf16");
  std::string written;
  raw_string_ostream os(written);
  json::OStream json(os);
  writeManifestJSON(json, *recorded);
  EXPECT_NE(written.find(R"("ptx_isa":"7.0","matmul_precision":"bf16")"),
            std::string::npos)
      << written;

  EXPECT_EQ(parseError(replaced(R"("kind": "cpu", )", "")),
            "m.json: target.kind: missing");
  EXPECT_EQ(parseError(replaced(R"("binary": "shared-library", )", "")),
            "m.json: target.binary: missing");
  EXPECT_EQ(parseError(replaced(R"("kind": "cpu")", R"("kind": "tpu")")),
            "m.json: target.kind: unknown target kind 'tpu' (known: cpu, "
            "cuda)");
  EXPECT_EQ(parseError(replaced(R"("binary": "shared-library")",
                                R"("binary": "wasm")")),
            "m.json: target.binary: unknown binary kind 'wasm' (known: "
            "shared-library, cubin, ptx, fatbin)");
  EXPECT_EQ(parseError(replaced(R"("binary": "shared-library")",
                                R"("binary": "cubin")")),
            "m.json: target.binary: a cpu target's code cannot be a cubin");
  EXPECT_EQ(parseError(replaced(
                kCPUTarget, R"("kind": "cuda", "binary": "shared-library",)")),
            "m.json: target.binary: a cuda target's code cannot be a "
            "shared-library");
  EXPECT_EQ(
      parseError(replaced(kCPUTarget, R"("kind": "cuda", "binary": "ptx",)")),
      "m.json: target.arch: missing: a cuda target names its GPU "
      "architecture (e.g. sm_90)");
  for (StringRef arch : {"x86_64", "sm_", "sm_9x", "compute_90"})
    EXPECT_EQ(
        parseError(replaced(kCPUTarget, (R"("kind": "cuda", "binary": "ptx", )"
                                         R"("arch": ")" +
                                         arch + "\",")
                                            .str())),
        ("m.json: target.arch: '" + arch +
         "' is not a CUDA architecture (expected sm_<version>, e.g. sm_90)")
            .str());
  size_t begin = kValidManifest.find(R"("target")");
  size_t end = kValidManifest.find(R"("entry_points")");
  std::string noTarget = kValidManifest.str();
  noTarget.erase(begin, end - begin);
  EXPECT_EQ(parseError(noTarget), "m.json: target: missing");
}

TEST(ManifestTest, ParametersAreOneBufferPerName) {
  EXPECT_EQ(parseError(replaced(
                R"({"name": "lora_A", "dtype": "float32", "shape": [4, 64]},
                   {"name": "adam_m")",
                R"({"name": "lora_A", "dtype": "float32", "shape": [4, 32]},
                   {"name": "adam_m")")),
            "m.json: entry_points[1].parameters[0]: parameter 'lora_A' is "
            "float32[4, 32] here but float32[4, 64] in entry point 'infer' "
            "(entry points share a parameter's buffer)");
  EXPECT_EQ(parseError(replaced(R"("name": "adam_m")",
                                R"("name": "model.embed_tokens.weight")")),
            "m.json: entry_points[1].parameters[1].name: "
            "'model.embed_tokens.weight' is a parameter here but a weight of "
            "entry point 'infer'");
  EXPECT_EQ(
      parseError(replaced(R"("parameters": "parameters.safetensors",)", "")),
      "m.json: parameters: missing: entry points have parameters, which "
      "need a parameters file");
  EXPECT_EQ(parseError(replaced(R"("shape": [4, 64]},
                   {"name": "adam_m")",
                                R"("shape": ["rank", 64]},
                   {"name": "adam_m")")),
            "m.json: entry_points[1].parameters[0].shape: parameter 'lora_A' "
            "has a dynamic dimension: float32[rank, 64]");
  EXPECT_EQ(
      parseError(replaced(
          R"("parameters": [{"name": "lora_A", "dtype": "float32", "shape": [4, 64]}],)",
          R"("parameters": 3,)")),
      "m.json: entry_points[0].parameters: expected an array");
}

TEST(ManifestTest, InferOnlyArtifactsHaveNoParametersFile) {
  constexpr StringLiteral inferOnly =
      R"({"format": "qaf-artifact", "version": 2, "library": "model.so", )"
      R"("weights": "weights.safetensors", "fingerprint": "c", )"
      R"("target": {"kind": "cpu", "binary": "shared-library"}, )"
      R"("entry_points": [{"name": "infer", "symbol": "qaf_entry_infer", )"
      R"("weights": [], "parameters": [], "inputs": [], "outputs": []}]})";
  Expected<Manifest> manifest = parseManifest(inferOnly, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  EXPECT_EQ(manifest->parameters, "");
  EXPECT_TRUE(manifest->getAllParameters().empty());
  // Written without a parameters file.
  json::Value written = toJSON(*manifest);
  EXPECT_EQ(written.getAsObject()->get("parameters"), nullptr);
  // A file named with no parameter to hold is refused.
  std::string named = inferOnly.str();
  named.insert(named.find(R"("fingerprint")"),
               R"("parameters": "p.safetensors", )");
  EXPECT_EQ(parseError(named), "m.json: parameters: names a file, but no "
                               "entry point has parameters");
}

TEST(ManifestTest, ErrorsNameTheFileAndTheField) {
  EXPECT_EQ(parseError(replaced(R"("dtype": "bool")", R"("dtype": "float8")")),
            "m.json: entry_points[0].inputs[1].dtype: unknown dtype 'float8' "
            "(known: float32, float16, bfloat16, float64, int8, int16, int32, "
            "int64, uint8, uint16, uint32, uint64, bool)");
  EXPECT_EQ(parseError(
                replaced(R"("format": "qaf-artifact")", R"("format": "onnx")")),
            "m.json: format: expected 'qaf-artifact', found 'onnx'");
  // Version 1 (before parameters and target kinds) is refused clearly.
  EXPECT_EQ(parseError(replaced(R"("version": 2)", R"("version": 1)")),
            "m.json: version: version 1 is not supported (this runtime reads "
            "version 2): recompile the model with this qaf-compile");
  EXPECT_EQ(parseError(replaced(R"("version": 2)", R"("version": 3)")),
            "m.json: version: version 3 is not supported (this runtime reads "
            "version 2): recompile the model with this qaf-compile");
  EXPECT_EQ(parseError(replaced(R"("version": 2)", R"("version": "2")")),
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
  EXPECT_EQ(parseError(replaced(
                R"("name": "train_step",
    "symbol": "qaf_entry_train_step")",
                R"("name": "infer",
    "symbol": "qaf_entry_infer")")),
            "m.json: entry_points[1].name: duplicate entry point 'infer'");
  // The runtime calls an entry point's symbol: only `qaf_entry_<name>`.
  EXPECT_EQ(parseError(replaced(R"("symbol": "qaf_entry_train_step")",
                                R"("symbol": "free")")),
            "m.json: entry_points[1].symbol: 'free' is not the symbol of entry "
            "point 'train_step' (expected 'qaf_entry_train_step')");
  EXPECT_EQ(parseError(replaced(R"("library": "model.so")",
                                R"("library": "../other/model.so")")),
            "m.json: library: '../other/model.so' is outside the artifact "
            "folder (a file of the artifact is a relative path without '..')");
  EXPECT_EQ(parseError(
                replaced(R"("shape": [256, 64])", R"("shape": ["vocab", 64])")),
            "m.json: entry_points[0].weights[0].shape: weight "
            "'model.embed_tokens.weight' has a dynamic dimension: "
            "float32[vocab, 64]");
  EXPECT_EQ(parseError(replaced(R"("outputs": [{"name": "loss")",
                                R"("outputz": [{"name": "loss")")),
            "m.json: entry_points[1].outputs: missing");
  EXPECT_EQ(parseError(R"({"format": "qaf-artifact", "version": 2, )"
                       R"("library": "a", "weights": "b", "fingerprint": "c", )"
                       R"("target": {"kind": "cpu", )"
                       R"("binary": "shared-library"}, "entry_points": []})"),
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
  // People read the file: fields in the documented order, not sorted.
  std::string text = readFile(path);
  EXPECT_EQ(text.substr(0, text.find("\n  \"fingerprint\"")),
            "{\n"
            "  \"format\": \"qaf-artifact\",\n"
            "  \"version\": 2,\n"
            "  \"library\": \"model.so\",\n"
            "  \"weights\": \"weights.safetensors\",\n"
            "  \"parameters\": \"parameters.safetensors\",");
}

TEST(ManifestTest, PrintsForPeople) {
  Expected<Manifest> manifest = parseManifest(kValidManifest, "m.json");
  ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
  std::string text;
  raw_string_ostream os(text);
  printManifest(os, *manifest, /*verbose=*/true);
  EXPECT_EQ(text, "format: qaf-artifact version 2\n"
                  "library: model.so\n"
                  "weights: weights.safetensors\n"
                  "parameters: parameters.safetensors\n"
                  "fingerprint: 9f2c\n"
                  "target: cpu shared-library x86_64-unknown-linux-gnu "
                  "znver3\n"
                  "target features: +avx2,+fma\n"
                  "entry point 'infer' (qaf_entry_infer):\n"
                  "  inputs:\n"
                  "    input_ids: int64[batch, sequence]\n"
                  "    mask: bool[?, 3]\n"
                  "  outputs:\n"
                  "    logits: float32[batch, sequence, 256]\n"
                  "  weights: 1 tensors, 16384 elements, 0.1 MiB\n"
                  "    model.embed_tokens.weight: float32[256, 64]\n"
                  "  parameters: 1 tensors, 256 elements, 0.0 MiB\n"
                  "    lora_A: float32[4, 64]\n"
                  "entry point 'train_step' (qaf_entry_train_step):\n"
                  "  inputs: none\n"
                  "  outputs:\n"
                  "    loss: float32[]\n"
                  "  weights: 0 tensors, 0 elements, 0.0 MiB\n"
                  "  parameters: 2 tensors, 512 elements, 0.0 MiB\n"
                  "    lora_A: float32[4, 64]\n"
                  "    adam_m: float32[4, 64]\n");
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
  EXPECT_CONTAINS(text, "target: cpu shared-library x86_64-unknown-linux-gnu "
                        "znver3 (2 features enabled)\n");
  EXPECT_EQ(text.find("model.embed_tokens.weight"), std::string::npos);
}

} // namespace
