//===- ArtifactTest.cpp - loading and running artifacts -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// End to end over a hand-written library (test/tools/Inputs/fake-model.c,
// compiled at test time) with a manifest, weights and parameters written by
// the runtime's own writers: load, target, fingerprint, weight and parameter
// checks, input checks, the call ABI, outputs, parameters updated in place,
// shared between entry points and saved, threads.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Artifact.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

//===----------------------------------------------------------------------===//
// Input checks
//===----------------------------------------------------------------------===//

EntryPoint makeEntryPoint() {
  EntryPoint entry;
  entry.name = "infer";
  entry.symbol = "qaf_entry_infer";
  entry.inputs = {
      {"ids",
       DType::Int64,
       {ManifestDim::getNamed("batch"), ManifestDim::getNamed("sequence")}},
      {"mask",
       DType::Bool,
       {ManifestDim::getNamed("batch"), ManifestDim::getUnnamed(),
        ManifestDim::getStatic(4)}},
  };
  return entry;
}

std::string checkInputs(ArrayRef<NamedTensor> inputs,
                        DimBindings *bindingsOut = nullptr) {
  DimBindings bindings;
  std::string message =
      messageOf(checkEntryPointInputs(makeEntryPoint(), inputs, bindings));
  if (bindingsOut)
    *bindingsOut = bindings;
  return message;
}

NamedTensor tensor(StringRef name, DType dtype, ArrayRef<int64_t> shape) {
  return {name.str(), HostTensor::allocate(dtype, shape)};
}

TEST(EntryPointInputsTest, AcceptsMatchingInputsInAnyOrderAndBindsDims) {
  DimBindings bindings;
  EXPECT_EQ(checkInputs({tensor("mask", DType::Bool, {2, 7, 4}),
                         tensor("ids", DType::Int64, {2, 5})},
                        &bindings),
            "");
  EXPECT_EQ(bindings.lookup("batch"), 2);
  EXPECT_EQ(bindings.lookup("sequence"), 5);
}

TEST(EntryPointInputsTest, ErrorsNameTheInputAndTheDimension) {
  NamedTensor ids = tensor("ids", DType::Int64, {2, 5});
  NamedTensor mask = tensor("mask", DType::Bool, {2, 1, 4});
  EXPECT_EQ(checkInputs({ids}),
            "missing input 'mask' (bool[batch, ?, 4]) of entry point 'infer'");
  EXPECT_EQ(checkInputs({ids, mask, tensor("extra", DType::Bool, {1})}),
            "unknown input 'extra': entry point 'infer' takes ids, mask");
  EXPECT_EQ(checkInputs({ids, mask, ids}), "input 'ids' is given twice");
  EXPECT_EQ(checkInputs({tensor("ids", DType::Int32, {2, 5}), mask}),
            "input 'ids': dtype int32, expected int64 (int64[batch, "
            "sequence])");
  EXPECT_EQ(checkInputs({tensor("ids", DType::Int64, {10}), mask}),
            "input 'ids': rank 1 (shape [10]), expected rank 2 "
            "(int64[batch, sequence])");
  EXPECT_EQ(checkInputs({ids, tensor("mask", DType::Bool, {2, 1, 3})}),
            "input 'mask': dimension 2 is 3, expected 4 (bool[batch, ?, 4], "
            "got shape [2, 1, 3])");
  EXPECT_EQ(checkInputs({ids, tensor("mask", DType::Bool, {3, 1, 4})}),
            "input 'mask': dimension 0 ('batch') is 3, but input 'ids' bound "
            "'batch' to 2");
}

//===----------------------------------------------------------------------===//
// End to end
//===----------------------------------------------------------------------===//

const std::vector<float> kWeight = {0.5f, -1, 2, 0};
/// The parameters' initial values (p, step); train_step's input g. Each
/// train step does p += g * w, step += 1, and returns sum(p).
const std::vector<float> kInitialP = {1, 2, 3, 4};
const std::vector<int64_t> kInitialStep = {0};
const std::vector<float> kGradient = {2, 1, -1, 3};

class ArtifactTest : public TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (!sys::fs::exists(QAF_TEST_C_COMPILER))
      GTEST_SKIP() << "no C compiler at " << QAF_TEST_C_COMPILER;
    Expected<Manifest> manifest = readManifestFile(QAF_TEST_FAKE_MANIFEST);
    ASSERT_TRUE(bool(manifest)) << toString(manifest.takeError());
    fakeManifest = *manifest;
  }

  /// Compiles the fake library into the artifact folder.
  void buildLibrary(StringRef fingerprint = "fake-0001") {
    std::string define = ("-DFAKE_FINGERPRINT=\"" + fingerprint + "\"").str();
    std::string output = pathOf("model.so");
    // A new file (new inode), so that dlopen cannot hand back a library an
    // earlier load of the same path left open.
    sys::fs::remove(output);
    StringRef args[] = {
        QAF_TEST_C_COMPILER,       "-shared", "-fPIC", define, "-o", output,
        QAF_TEST_FAKE_MODEL_SOURCE};
    std::string error;
    int status = sys::ExecuteAndWait(QAF_TEST_C_COMPILER, args, std::nullopt,
                                     {}, 0, 0, &error);
    ASSERT_EQ(status, 0) << "compiling the fake model failed: " << error;
  }

  void writeWeights(StringRef fingerprint = "fake-0001",
                    DType dtype = DType::Float32,
                    SmallVector<int64_t, 4> shape = {4}) {
    std::vector<SafeTensorsEntry> entries = {
        {"w", dtype, shape,
         bytesOf(kWeight).take_front(4 * getDTypeSize(dtype))}};
    ASSERT_EQ(
        messageOf(writeSafeTensors(pathOf("weights.safetensors"), entries,
                                   {{"qaf.fingerprint", fingerprint.str()}})),
        "");
  }

  /// Writes the parameters file at `path` (default: the artifact's).
  void writeParameters(StringRef fingerprint = "fake-0001",
                       const std::vector<float> &p = kInitialP,
                       std::string path = "") {
    std::vector<SafeTensorsEntry> entries = {
        {"p", DType::Float32, {4}, bytesOf(p)},
        {"step", DType::Int64, {}, bytesOf(kInitialStep)}};
    ASSERT_EQ(messageOf(writeSafeTensors(
                  path.empty() ? pathOf("parameters.safetensors") : path,
                  entries, {{"qaf.fingerprint", fingerprint.str()}})),
              "");
  }

  void writeManifest(const Manifest &manifest) {
    ASSERT_EQ(messageOf(writeManifestFile(pathOf("manifest.json"), manifest)),
              "");
  }

  void buildArtifact() {
    buildLibrary();
    writeWeights();
    writeParameters();
    writeManifest(fakeManifest);
  }

  std::string loadError(const ArtifactOptions &options = {}) {
    Expected<std::unique_ptr<Artifact>> artifact = Artifact::load(dir, options);
    return messageOf(artifact);
  }

  std::unique_ptr<Artifact> load(const ArtifactOptions &options = {}) {
    Expected<std::unique_ptr<Artifact>> artifact = Artifact::load(dir, options);
    EXPECT_TRUE(bool(artifact)) << toString(artifact.takeError());
    return artifact ? std::move(*artifact) : nullptr;
  }

  static HostTensor makeFloats(ArrayRef<int64_t> shape,
                               const std::vector<float> &values) {
    HostTensor tensor = HostTensor::allocate(DType::Float32, shape);
    std::memcpy(tensor.getMutableData(), values.data(), tensor.getNumBytes());
    return tensor;
  }

  static HostTensor makeInt64s(const std::vector<int64_t> &values) {
    HostTensor tensor =
        HostTensor::allocate(DType::Int64, {int64_t(values.size())});
    std::memcpy(tensor.getMutableData(), values.data(), tensor.getNumBytes());
    return tensor;
  }

  Manifest fakeManifest;
};

TEST_F(ArtifactTest, RunsTheEntryPointAndReturnsItsOutputs) {
  buildArtifact();
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  std::vector<float> x = {-3, -2, -1, 0, 1, 2, 3, 4};
  Expected<std::vector<NamedTensor>> outputs = artifact->run(
      "infer", {{"scale", makeInt64s({1, 2})}, {"x", makeFloats({2, 4}, x)}});
  ASSERT_TRUE(bool(outputs)) << toString(outputs.takeError());
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ((*outputs)[0].name, "y");
  EXPECT_EQ((*outputs)[0].tensor.describe(), "float32[2, 4]");
  std::vector<float> expected;
  for (int i = 0; i < 8; ++i)
    expected.push_back((x[i] + kWeight[i % 4]) * (i < 4 ? 1 : 2));
  EXPECT_EQ(valuesOf<float>((*outputs)[0].tensor.getBytes()), expected);
  EXPECT_EQ((*outputs)[1].name, "positive");
  EXPECT_EQ((*outputs)[1].tensor.describe(), "bool[2, 4]");
  std::vector<uint8_t> positive;
  for (float value : expected)
    positive.push_back(value > 0);
  EXPECT_EQ(valuesOf<uint8_t>((*outputs)[1].tensor.getBytes()), positive);

  // A strided result with an offset comes back row-major.
  outputs = artifact->run("transpose", {{"x", makeFloats({2, 4}, x)}});
  ASSERT_TRUE(bool(outputs)) << toString(outputs.takeError());
  EXPECT_EQ((*outputs)[0].tensor.describe(), "float32[4, 2]");
  EXPECT_EQ(valuesOf<float>((*outputs)[0].tensor.getBytes()),
            (std::vector<float>{-3, 1, -2, 2, -1, 3, 0, 4}));
}

TEST_F(ArtifactTest, MisalignedInputsAreCopiedBeforeTheCall) {
  buildArtifact();
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  // float32 data starting one byte into a buffer.
  auto storage = std::make_shared<std::vector<char>>(1 + 8 * 4);
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  std::memcpy(storage->data() + 1, x.data(), 32);
  HostTensor misaligned =
      HostTensor::borrow(DType::Float32, {2, 4}, storage->data() + 1, storage);
  Expected<std::vector<NamedTensor>> outputs =
      artifact->run("transpose", {{"x", misaligned}});
  ASSERT_TRUE(bool(outputs)) << toString(outputs.takeError());
  EXPECT_EQ(valuesOf<float>((*outputs)[0].tensor.getBytes()),
            (std::vector<float>{1, 5, 2, 6, 3, 7, 4, 8}));
}

TEST_F(ArtifactTest, RunReportsInputErrorsAndBrokenLibraries) {
  buildArtifact();
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  std::vector<float> x(8, 1);
  Expected<std::vector<NamedTensor>> outputs =
      artifact->run("infer", {{"x", makeFloats({2, 4}, x)}});
  EXPECT_EQ(messageOf(outputs),
            "missing input 'scale' (int64[batch]) of entry point 'infer'");
  outputs = artifact->run("infer", {{"x", makeFloats({2, 4}, x)},
                                    {"scale", makeInt64s({1, 2, 3})}});
  EXPECT_EQ(messageOf(outputs), "input 'scale': dimension 0 ('batch') is 3, "
                                "but input 'x' bound 'batch' to 2");
  outputs = artifact->run("generate", {});
  EXPECT_CONTAINS(messageOf(outputs),
                  "has no entry point 'generate' (it has infer, threads, "
                  "transpose, bad_shape, alias, train_step, eval_step)");
  outputs = artifact->run("bad_shape", {{"x", makeFloats({2, 4}, x)}});
  EXPECT_EQ(messageOf(outputs),
            "the library returned a shape its manifest does not allow: "
            "output 'y' of entry point 'bad_shape': dimension 1 is 5, "
            "expected 4 (float32[batch, 4], got shape [2, 5])");
  outputs = artifact->run("alias", {{"x", makeFloats({2, 4}, x)}});
  EXPECT_CONTAINS(messageOf(outputs),
                  "entry point 'alias' returned output 'y' in the memory of a "
                  "weight, parameter or input");
}

TEST_F(ArtifactTest, ThreadCountComesFromOptionsThenEnvironment) {
  buildArtifact();
  auto threadsOf = [&](const ArtifactOptions &options) -> int {
    std::unique_ptr<Artifact> artifact = load(options);
    if (!artifact)
      return -1;
    Expected<std::vector<NamedTensor>> outputs = artifact->run("threads", {});
    if (!outputs) {
      ADD_FAILURE() << toString(outputs.takeError());
      return -1;
    }
    EXPECT_EQ(artifact->getNumThreads(),
              valuesOf<int32_t>((*outputs)[0].tensor.getBytes())[0]);
    return valuesOf<int32_t>((*outputs)[0].tensor.getBytes())[0];
  };
  ArtifactOptions three;
  three.numThreads = 3;
  ::setenv("QAF_NUM_THREADS", "5", 1);
  EXPECT_EQ(threadsOf(three), 3);
  EXPECT_EQ(threadsOf({}), 5);
  ::setenv("QAF_NUM_THREADS", "many", 1);
  EXPECT_EQ(loadError(), "QAF_NUM_THREADS='many' is not a positive integer");
  ::unsetenv("QAF_NUM_THREADS");
  EXPECT_GE(threadsOf({}), 1);
  ArtifactOptions zero;
  zero.numThreads = 0;
  EXPECT_EQ(loadError(zero), "the thread count must be at least 1, not 0");
}

TEST_F(ArtifactTest, FingerprintsMustAgree) {
  buildArtifact();
  writeWeights("another-model");
  std::string message = loadError();
  EXPECT_CONTAINS(message, "was built for another model/weights");
  EXPECT_CONTAINS(message, "weights.safetensors' has 'another-model'");
  EXPECT_CONTAINS(message, "model.so' has 'fake-0001'");

  writeWeights();
  buildLibrary("another-model");
  message = loadError();
  EXPECT_CONTAINS(message, "was built for another model/weights");
  EXPECT_CONTAINS(message, "manifest.json' has 'fake-0001'");
  EXPECT_CONTAINS(message, "model.so' has 'another-model'");
}

TEST_F(ArtifactTest, WeightsMustMatchTheManifest) {
  buildArtifact();
  writeWeights("fake-0001", DType::Float16);
  EXPECT_CONTAINS(loadError(), "weights.safetensors: weight 'w' is "
                               "float16[4], but entry point 'infer' expects "
                               "float32[4]");
  writeWeights("fake-0001", DType::Float32, {2, 2});
  EXPECT_CONTAINS(loadError(), "weight 'w' is float32[2, 2], but entry point "
                               "'infer' expects float32[4]");
  Manifest renamed = fakeManifest;
  renamed.entryPoints[0].weights[0].name = "w2";
  writeWeights();
  writeManifest(renamed);
  // The library names its weights: a manifest that renames one is refused
  // before the weights file is searched for it.
  EXPECT_CONTAINS(loadError(), "model.so': entry point 'infer': the manifest "
                               "lists weights [w2: float32[4]], the library "
                               "takes weights [w: float32[4]]");
}

/// p after `steps` train steps, computed here.
std::vector<float> trainedP(int steps) {
  std::vector<float> p = kInitialP;
  for (int step = 0; step < steps; ++step)
    for (int j = 0; j < 4; ++j)
      p[j] += kGradient[j] * kWeight[j];
  return p;
}

/// eval_step's y = x + p for the rows of x.
std::vector<float> evalOutput(const std::vector<float> &x,
                              const std::vector<float> &p) {
  std::vector<float> y;
  for (size_t i = 0; i < x.size(); ++i)
    y.push_back(x[i] + p[i % 4]);
  return y;
}

TEST_F(ArtifactTest, TrainStepUpdatesWhatEvalStepReads) {
  buildArtifact();
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  std::vector<float> x = {-3, -2, -1, 0, 1, 2, 3, 4};
  auto evaluate = [&]() -> std::vector<float> {
    Expected<std::vector<NamedTensor>> outputs =
        artifact->run("eval_step", {{"x", makeFloats({2, 4}, x)}});
    if (!outputs) {
      ADD_FAILURE() << toString(outputs.takeError());
      return {};
    }
    return valuesOf<float>((*outputs)[0].tensor.getBytes());
  };
  EXPECT_EQ(evaluate(), evalOutput(x, kInitialP));

  for (int step = 1; step <= 2; ++step) {
    Expected<std::vector<NamedTensor>> loss =
        artifact->run("train_step", {{"g", makeFloats({4}, kGradient)}});
    ASSERT_TRUE(bool(loss)) << toString(loss.takeError());
    std::vector<float> p = trainedP(step);
    EXPECT_EQ(valuesOf<float>((*loss)[0].tensor.getBytes()),
              std::vector<float>{p[0] + p[1] + p[2] + p[3]});
    // One buffer: eval_step sees what train_step wrote.
    EXPECT_EQ(evaluate(), evalOutput(x, p));
    std::optional<HostTensor> buffer = artifact->getParameter("p");
    ASSERT_TRUE(buffer);
    EXPECT_TRUE(buffer->isWritable());
    EXPECT_EQ(valuesOf<float>(buffer->getBytes()), p);
    EXPECT_EQ(valuesOf<int64_t>(artifact->getParameter("step")->getBytes()),
              std::vector<int64_t>{step});
  }
  EXPECT_FALSE(artifact->getParameter("w"));
  // The artifact's file is untouched until saved.
  Expected<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::open(pathOf("parameters.safetensors"));
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ(valuesOf<float>((*file)->getBytes(*(*file)->lookup("p"))),
            kInitialP);
}

TEST_F(ArtifactTest, SavedParametersLoadBackWithTheFingerprint) {
  buildArtifact();
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  ASSERT_TRUE(
      bool(artifact->run("train_step", {{"g", makeFloats({4}, kGradient)}})));
  std::string saved = pathOf("checkpoint.safetensors");
  // Saving replaces an older file whole.
  writeFile(saved, "an older checkpoint");
  ASSERT_EQ(messageOf(artifact->saveParameters(saved)), "");

  Expected<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::open(saved);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ((*file)->getMetadata().at("qaf.fingerprint"), "fake-0001");
  ASSERT_EQ((*file)->getTensors().size(), 2u);
  EXPECT_EQ(valuesOf<float>((*file)->getBytes(*(*file)->lookup("p"))),
            trainedP(1));
  const SafeTensorInfo *step = (*file)->lookup("step");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->dtype, DType::Int64);
  EXPECT_TRUE(step->shape.empty());
  EXPECT_EQ(valuesOf<int64_t>((*file)->getBytes(*step)),
            std::vector<int64_t>{1});
  // No temporary file is left beside it.
  for (const std::string &name : listFolder())
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;

  // A fresh load starts from the artifact's file; loading the saved one
  // brings the trained values back.
  std::unique_ptr<Artifact> reloaded = load();
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(valuesOf<float>(reloaded->getParameter("p")->getBytes()),
            kInitialP);
  ASSERT_EQ(messageOf(reloaded->loadParameters(saved)), "");
  EXPECT_EQ(valuesOf<float>(reloaded->getParameter("p")->getBytes()),
            trainedP(1));
  std::vector<float> x(8, 1);
  Expected<std::vector<NamedTensor>> outputs =
      reloaded->run("eval_step", {{"x", makeFloats({2, 4}, x)}});
  ASSERT_TRUE(bool(outputs)) << toString(outputs.takeError());
  EXPECT_EQ(valuesOf<float>((*outputs)[0].tensor.getBytes()),
            evalOutput(x, trainedP(1)));

  // Parameters of another artifact, or incomplete ones, change nothing.
  std::string other = pathOf("other.safetensors");
  writeParameters("another-model", trainedP(3), other);
  EXPECT_EQ(messageOf(reloaded->loadParameters(other)),
            other +
                ": its parameters belong to the artifact with fingerprint "
                "'another-model', but artifact '" +
                dir.str().str() + "' has 'fake-0001'");
  ASSERT_EQ(messageOf(writeSafeTensors(
                other, {{"p", DType::Float32, {4}, bytesOf(trainedP(3))}},
                {{"qaf.fingerprint", "fake-0001"}})),
            "");
  EXPECT_EQ(messageOf(reloaded->loadParameters(other)),
            other + ": no tensor 'step' (a parameter of entry point "
                    "'train_step')");
  EXPECT_EQ(valuesOf<float>(reloaded->getParameter("p")->getBytes()),
            trainedP(1));
}

TEST_F(ArtifactTest, ParametersMustMatchTheManifest) {
  buildArtifact();
  writeParameters("another-model");
  std::string message = loadError();
  EXPECT_CONTAINS(message, "was built for another model/weights");
  EXPECT_CONTAINS(message, "parameters.safetensors' has 'another-model'");

  ASSERT_EQ(messageOf(writeSafeTensors(
                pathOf("parameters.safetensors"),
                {{"p", DType::Float32, {2, 2}, bytesOf(kInitialP)},
                 {"step", DType::Int64, {}, bytesOf(kInitialStep)}},
                {{"qaf.fingerprint", "fake-0001"}})),
            "");
  EXPECT_CONTAINS(loadError(), "parameters.safetensors: parameter 'p' is "
                               "float32[2, 2], but entry point 'train_step' "
                               "expects float32[4]");
  sys::fs::remove(pathOf("parameters.safetensors"));
  EXPECT_CONTAINS(loadError(),
                  "parameters.safetensors': No such file or directory");
}

TEST_F(ArtifactTest, AnArtifactWithoutParametersHasNothingToSave) {
  buildArtifact();
  Manifest inferOnly = fakeManifest;
  inferOnly.parameters.clear();
  llvm::erase_if(inferOnly.entryPoints, [](const EntryPoint &entry) {
    return !entry.parameters.empty();
  });
  writeManifest(inferOnly);
  sys::fs::remove(pathOf("parameters.safetensors"));
  std::unique_ptr<Artifact> artifact = load();
  ASSERT_TRUE(artifact);
  EXPECT_CONTAINS(messageOf(artifact->saveParameters(pathOf("p.safetensors"))),
                  "has no parameters to save");
}

TEST_F(ArtifactTest, RefusesTargetsItCannotRun) {
  buildArtifact();
  Manifest cuda = fakeManifest;
  cuda.target.kind = TargetKind::CUDA;
  cuda.target.binary = BinaryKind::Cubin;
  cuda.target.arch = "sm_90";
  writeManifest(cuda);
  ArtifactOptions onCPU;
  onCPU.device = DeviceSpec{TargetKind::CPU, 0};
  EXPECT_EQ(loadError(onCPU),
            "artifact '" + dir.str().str() +
                "' is compiled for cuda sm_90 (cubin): it cannot run on cpu "
                "(compile the model with --target=cpu, or run it with "
                "--device cuda:<N>)");
  // Nor the CPU artifact on a GPU.
  writeManifest(fakeManifest);
  ArtifactOptions onGPU;
  onGPU.device = DeviceSpec{TargetKind::CUDA, 1};
  EXPECT_EQ(loadError(onGPU),
            "artifact '" + dir.str().str() +
                "' is compiled for cpu x86_64 (shared-library): it cannot run "
                "on cuda:1 (compile the model with --target=cuda, or run it "
                "with --device cpu)");
}

TEST_F(ArtifactTest, LibraryProblemsNameTheFile) {
  buildArtifact();
  Manifest missingSymbol = fakeManifest;
  missingSymbol.entryPoints[1].name = "missing";
  missingSymbol.entryPoints[1].symbol = "qaf_entry_missing";
  writeManifest(missingSymbol);
  EXPECT_CONTAINS(loadError(), "model.so': the library has no entry point "
                               "'missing' (it defines qaf_entry_infer, "
                               "qaf_entry_threads,");
  writeManifest(fakeManifest);
  writeFile(pathOf("model.so"), "not a library");
  EXPECT_CONTAINS(loadError(), "cannot load '");
  sys::fs::remove(pathOf("model.so"));
  EXPECT_CONTAINS(loadError(), "model.so': No such file or directory");
}

TEST_F(ArtifactTest, MissingOrCorruptFilesNameTheFile) {
  EXPECT_CONTAINS(loadError(), "manifest.json': No such file or directory");
  buildArtifact();
  std::string weights = readFile(pathOf("weights.safetensors"));
  writeFile(pathOf("weights.safetensors"), StringRef(weights).drop_back(4));
  EXPECT_CONTAINS(loadError(), "weights.safetensors: tensor 'w': "
                               "data_offsets [0, 16) are outside the data");
  EXPECT_CONTAINS(messageOf(Artifact::load(pathOf("absent")).takeError()),
                  "is not a folder");
}

} // namespace
