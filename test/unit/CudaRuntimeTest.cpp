//===- CudaRuntimeTest.cpp - the runtime's CUDA side without a GPU --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Device names, the architecture and driver checks, and a cuda artifact on
// the stub driver of test/tools/Inputs/cuda/fake-libcuda.c (compiled here;
// its "device memory" is host memory and its kernels run on the host):
// parameters stay on the device between calls, checkpoints copy them back
// and forth, the allocator reuses blocks, and a failed call leaves the
// artifact usable. The GPU itself is tested by test/tools/
// qaf-run-cuda-gpu.test where a device answers.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Artifact.h"
#include "qaf/Runtime/CudaDevice.h"

#include "RuntimeTestSupport.h"

#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace llvm;
using namespace qaf;
using namespace qaf::testing;

namespace {

TEST(DeviceSpecTest, ParsesCpuAndCudaDevices) {
  EXPECT_EQ(cantFail(parseDeviceSpec("cpu")).str(), "cpu");
  EXPECT_EQ(cantFail(parseDeviceSpec("cuda")).str(), "cuda:0");
  EXPECT_EQ(cantFail(parseDeviceSpec("cuda:3")).ordinal, 3);
  for (StringRef bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda0", "cpu:0"})
    EXPECT_EQ(messageOf(parseDeviceSpec(bad).takeError()),
              ("unknown device '" + bad + "' (expected cpu, cuda or cuda:<N>)")
                  .str());
}

TargetDescription cudaTarget(StringRef arch, BinaryKind binary,
                             StringRef features = "") {
  TargetDescription target;
  target.kind = TargetKind::CUDA;
  target.binary = binary;
  target.arch = arch.str();
  target.features = features.str();
  return target;
}

std::string compatibility(const TargetDescription &target, int major, int minor,
                          int driver = 13000) {
  return messageOf(
      checkCudaCompatibility(target, major, minor, driver, "a", "cuda:0"));
}

TEST(CudaCompatibilityTest, CubinsRunOnTheirMajorVersionFromTheirMinor) {
  TargetDescription sm80 = cudaTarget("sm_80", BinaryKind::Cubin);
  EXPECT_EQ(compatibility(sm80, 8, 0), "");
  EXPECT_EQ(compatibility(sm80, 8, 6), "");
  EXPECT_EQ(compatibility(sm80, 9, 0),
            "a is compiled for sm_80 (cubin), which cannot run on cuda:0 "
            "(compute capability 9.0): recompile it with --cuda-arch=sm_90");
  TargetDescription sm86 = cudaTarget("sm_86", BinaryKind::Cubin);
  EXPECT_NE(compatibility(sm86, 8, 0), "");
  // Architecture-specific code runs on exactly that architecture.
  TargetDescription sm90a = cudaTarget("sm_90a", BinaryKind::Cubin);
  EXPECT_EQ(compatibility(sm90a, 9, 0), "");
  EXPECT_NE(compatibility(sm90a, 10, 0), "");
  // PTX is compiled by the driver for any later GPU.
  TargetDescription ptx = cudaTarget("sm_80", BinaryKind::PTX);
  EXPECT_EQ(compatibility(ptx, 9, 0), "");
  EXPECT_NE(compatibility(ptx, 7, 5), "");
}

TEST(CudaCompatibilityTest, TheDriverMustKnowTheArchitectureAndThePTX) {
  EXPECT_EQ(
      getRequiredCudaDriverVersion(cudaTarget("sm_80", BinaryKind::Cubin)),
      11000);
  EXPECT_EQ(getRequiredCudaDriverVersion(
                cudaTarget("sm_90", BinaryKind::Cubin, "+ptx80")),
            12000);
  EXPECT_EQ(getRequiredCudaDriverVersion(
                cudaTarget("sm_80", BinaryKind::Cubin, "+ptx70")),
            11000);
  EXPECT_EQ(
      getRequiredCudaDriverVersion(cudaTarget("sm_99", BinaryKind::Cubin)),
      std::nullopt);
  EXPECT_EQ(compatibility(cudaTarget("sm_90", BinaryKind::Cubin, "+ptx80"), 9,
                          0, 11080),
            "a is compiled for sm_90 (cubin) with +ptx80, which needs a CUDA "
            "12.0 driver or newer, but the driver of cuda:0 is CUDA 11.8: "
            "update the NVIDIA driver");
  EXPECT_EQ(compatibility(cudaTarget("sm_90", BinaryKind::Cubin, "+ptx80"), 9,
                          0, 12000),
            "");
}

TEST(CudaManifestTest, TheMatmulPrecisionIsACudaTargetsOnly) {
  auto parse = [](StringRef target) {
    std::string json =
        (R"({"format": "qaf-artifact", "version": 2, "library": "model.so",
             "weights": "weights.safetensors", "fingerprint": "f",
             "target": )" +
         target + R"(, "entry_points": [{"name": "infer",
             "symbol": "qaf_entry_infer", "weights": [], "parameters": [],
             "inputs": [], "outputs": [{"name": "y", "dtype": "float32",
                                         "shape": [1]}]}]})")
            .str();
    return parseManifest(json, "manifest.json");
  };
  Expected<Manifest> bf16 = parse(
      R"({"kind": "cuda", "binary": "cubin", "arch": "sm_80",
          "matmul_precision": "bf16"})");
  ASSERT_TRUE(bool(bf16)) << toString(bf16.takeError());
  EXPECT_EQ(bf16->target.matmulPrecision, "bf16");
  // Written back as read.
  std::string written;
  raw_string_ostream os(written);
  json::OStream stream(os);
  writeManifestJSON(stream, *bf16);
  EXPECT_CONTAINS(written, "\"matmul_precision\":\"bf16\"");

  Expected<Manifest> fp8 = parse(
      R"({"kind": "cuda", "binary": "cubin", "arch": "sm_90",
          "matmul_precision": "fp8"})");
  EXPECT_EQ(messageOf(fp8),
            "manifest.json: target.matmul_precision: unknown matmul precision "
            "'fp8' (known: tf32, bf16)");
  Expected<Manifest> cpu = parse(
      R"({"kind": "cpu", "binary": "shared-library",
          "matmul_precision": "tf32"})");
  EXPECT_EQ(messageOf(cpu), "manifest.json: target.matmul_precision: only a "
                            "cuda target records a matmul precision");
}

/// Compiles `source` into the shared library `output`.
void compileLibrary(StringRef source, StringRef output) {
  sys::fs::remove(output);
  StringRef args[] = {
      QAF_TEST_C_COMPILER, "-shared", "-fPIC", "-o", output, source};
  std::string error;
  int status = sys::ExecuteAndWait(QAF_TEST_C_COMPILER, args, std::nullopt, {},
                                   0, 0, &error);
  ASSERT_EQ(status, 0) << "compiling " << source.str() << " failed: " << error;
}

const std::vector<float> kWeight = {0.5f, -1, 2, 0};
const std::vector<float> kInitialP = {1, 2, 3, 4};
const std::vector<int64_t> kInitialStep = {0};
const std::vector<float> kGradient = {2, 1, -1, 3};

/// The artifact of fake-cuda-model.c on the stub driver. The process loads
/// one driver, once: the suite compiles the stub and names it before any
/// test probes CUDA.
class CudaArtifactTest : public TempDirTest {
protected:
  static void SetUpTestSuite() {
    if (!sys::fs::exists(QAF_TEST_C_COMPILER))
      return;
    ASSERT_FALSE(sys::fs::createUniqueDirectory("qaf-cuda-driver", driverDir));
    SmallString<256> driver(driverDir);
    sys::path::append(driver, "libcuda-stub.so");
    compileLibrary(QAF_TEST_FAKE_CUDA_DRIVER_SOURCE, driver);
    setenv("QAF_CUDA_DRIVER", driver.c_str(), 1);
  }
  static void TearDownTestSuite() { sys::fs::remove_directories(driverDir); }

  void SetUp() override {
    TempDirTest::SetUp();
    if (!sys::fs::exists(QAF_TEST_C_COMPILER))
      GTEST_SKIP() << "no C compiler at " << QAF_TEST_C_COMPILER;
    compileLibrary(QAF_TEST_FAKE_CUDA_MODEL_SOURCE, pathOf("model.so"));
    ASSERT_FALSE(sys::fs::copy_file(QAF_TEST_FAKE_CUDA_MANIFEST,
                                    pathOf("manifest.json")));
    ASSERT_EQ(messageOf(writeSafeTensors(
                  pathOf("weights.safetensors"),
                  {{"w", DType::Float32, {4}, bytesOf(kWeight)}},
                  {{"qaf.fingerprint", "fake-0001"}})),
              "");
    writeParameters(pathOf("parameters.safetensors"), kInitialP);
  }

  void writeParameters(StringRef path, const std::vector<float> &p) {
    ASSERT_EQ(messageOf(writeSafeTensors(
                  path,
                  {{"p", DType::Float32, {4}, bytesOf(p)},
                   {"step", DType::Int64, {}, bytesOf(kInitialStep)}},
                  {{"qaf.fingerprint", "fake-0001"}})),
              "");
  }

  /// Runs train_step once (p += g * w, step += 1) and returns its loss,
  /// sum(p).
  float trainStep(Artifact &artifact) {
    HostTensor gradient = HostTensor::allocate(DType::Float32, {4});
    std::memcpy(gradient.getMutableData(), kGradient.data(), 16);
    Expected<std::vector<NamedTensor>> outputs =
        artifact.run("train_step", {{"g", gradient}});
    EXPECT_TRUE(bool(outputs)) << toString(outputs.takeError());
    return outputs ? valuesOf<float>(outputs->front().tensor.getBytes())[0] : 0;
  }

  /// p after `steps` train steps from `p`, as numbers.
  static std::vector<float> updated(std::vector<float> p, int steps) {
    for (int step = 0; step < steps; ++step)
      for (size_t i = 0; i < p.size(); ++i)
        p[i] += kGradient[i] * kWeight[i];
    return p;
  }

  static float sum(const std::vector<float> &values) {
    float total = 0;
    for (float value : values)
      total += value;
    return total;
  }

  static SmallString<256> driverDir;
};

SmallString<256> CudaArtifactTest::driverDir;

TEST_F(CudaArtifactTest, ParametersStayOnTheDeviceAndCheckpointsCopyThem) {
  Expected<std::unique_ptr<Artifact>> loaded = Artifact::load(dir);
  ASSERT_TRUE(bool(loaded)) << toString(loaded.takeError());
  Artifact &artifact = **loaded;
  EXPECT_EQ(artifact.getDevice().str(), "cuda:0");
  EXPECT_EQ(trainStep(artifact), sum(updated(kInitialP, 1)));
  EXPECT_EQ(trainStep(artifact), sum(updated(kInitialP, 2)));

  // Saving copies the device's values back first.
  std::string saved = pathOf("saved.safetensors");
  ASSERT_EQ(messageOf(artifact.saveParameters(saved)), "");
  Expected<std::unique_ptr<SafeTensorsFile>> file =
      SafeTensorsFile::open(saved);
  ASSERT_TRUE(bool(file)) << toString(file.takeError());
  EXPECT_EQ(valuesOf<float>((*file)->getBytes(*(*file)->lookup("p"))),
            updated(kInitialP, 2));
  EXPECT_EQ(valuesOf<int64_t>((*file)->getBytes(*(*file)->lookup("step"))),
            std::vector<int64_t>{2});

  // Loading sends the file's values to the device.
  std::string other = pathOf("other.safetensors");
  std::vector<float> otherP = {10, 20, 30, 40};
  writeParameters(other, otherP);
  ASSERT_EQ(messageOf(artifact.loadParameters(other)), "");
  EXPECT_EQ(trainStep(artifact), sum(updated(otherP, 1)));
}

TEST_F(CudaArtifactTest, TheAllocatorReusesBlocksAndFreesResults) {
  Expected<std::unique_ptr<Artifact>> loaded = Artifact::load(dir);
  ASSERT_TRUE(bool(loaded)) << toString(loaded.takeError());
  CudaRuntime &runtime = cantFail(CudaRuntime::get());
  CudaAllocatorStats loadedStats = runtime.getAllocatorStats();
  trainStep(**loaded);
  CudaAllocatorStats first = runtime.getAllocatorStats();
  for (int call = 0; call < 3; ++call)
    trainStep(**loaded);
  CudaAllocatorStats later = runtime.getAllocatorStats();
  // A step's blocks (the input g, a temporary freed on the stream, the
  // loss) are back in the cache after it, and the next steps reuse them
  // without asking the driver.
  EXPECT_EQ(first.liveBlocks, loadedStats.liveBlocks);
  EXPECT_EQ(later.liveBlocks, loadedStats.liveBlocks);
  EXPECT_GE(later.cachedBlocks, 3u);
  EXPECT_EQ(later.driverAllocations, first.driverAllocations);
}

/// The fake decode entry point: x's rows written into the cache at its end,
/// the sum of the cache's positions returned.
float decodeStep(Artifact &artifact, CacheBuffers &cache,
                 const std::vector<float> &rows) {
  HostTensor x = HostTensor::allocate(
      DType::Float32, {1, static_cast<int64_t>(rows.size() / 4), 4});
  std::memcpy(x.getMutableData(), rows.data(), rows.size() * sizeof(float));
  Expected<std::vector<NamedTensor>> outputs =
      artifact.runWithCache("decode", {{"x", x}}, cache);
  EXPECT_TRUE(bool(outputs)) << toString(outputs.takeError());
  return outputs ? valuesOf<float>(outputs->front().tensor.getBytes())[0] : 0;
}

TEST_F(CudaArtifactTest, AKVCacheStaysOnTheDeviceBetweenCalls) {
  Expected<std::unique_ptr<Artifact>> loaded = Artifact::load(dir);
  ASSERT_TRUE(bool(loaded)) << toString(loaded.takeError());
  Artifact &artifact = **loaded;
  CudaRuntime &runtime = cantFail(CudaRuntime::get());
  constexpr int64_t kCapacity = 64;
  CacheBuffers cache;
  cache.buffers["past"] =
      HostTensor::allocate(DType::Float32, {1, 1, kCapacity, 4});
  std::memset(cache.buffers["past"].getMutableData(), 0,
              cache.buffers["past"].getNumBytes());

  // A prompt of two positions, then one position per step: each result
  // sums every position so far, so the device copy kept the past.
  std::vector<float> prompt = {1, 2, 3, 4, 5, 6, 7, 8};
  CudaTransferStats before = runtime.getTransferStats();
  EXPECT_EQ(decodeStep(artifact, cache, prompt), 36);
  CudaTransferStats afterPrompt = runtime.getTransferStats();
  // The cache went up once, with the prompt and the length.
  uint64_t cacheBytes = kCapacity * 4 * sizeof(float);
  EXPECT_EQ(afterPrompt.bytesToDevice - before.bytesToDevice,
            cacheBytes + prompt.size() * sizeof(float) + sizeof(int64_t));
  float expected = 36;
  for (int step = 0; step < 5; ++step) {
    std::vector<float> row = {float(step), 1, 1, 1};
    expected += step + 3;
    CudaTransferStats start = runtime.getTransferStats();
    EXPECT_EQ(decodeStep(artifact, cache, row), expected);
    CudaTransferStats end = runtime.getTransferStats();
    // A step sends its row and the length and brings back the result:
    // nothing of the cache either way.
    EXPECT_EQ(end.bytesToDevice - start.bytesToDevice,
              4 * sizeof(float) + sizeof(int64_t));
    EXPECT_EQ(end.bytesToHost - start.bytesToHost, sizeof(float));
  }
  EXPECT_EQ(cache.length, 7);

  // The host buffer is the past as the last call left it once downloaded.
  const float *host =
      reinterpret_cast<const float *>(cache.buffers["past"].getData());
  EXPECT_EQ(host[8], 0);
  ASSERT_EQ(messageOf(artifact.downloadCache(cache)), "");
  std::vector<float> written(host, host + 7 * 4);
  EXPECT_EQ(written,
            (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 1, 1, 1, 1,
                                1, 1, 2, 1, 1, 1, 3, 1, 1, 1, 4, 1, 1, 1}));

  // A buffer the caller replaces is uploaded again, with its content.
  HostTensor other = HostTensor::allocate(DType::Float32, {1, 1, kCapacity, 4});
  std::memset(other.getMutableData(), 0, other.getNumBytes());
  reinterpret_cast<float *>(other.getMutableData())[0] = 100;
  cache.buffers["past"] = other;
  cache.length = 1;
  EXPECT_EQ(decodeStep(artifact, cache, {1, 1, 1, 1}), 104);
}

TEST_F(CudaArtifactTest,
       AFailedLaunchNamesTheKernelAndLeavesTheArtifactUsable) {
  Expected<std::unique_ptr<Artifact>> loaded = Artifact::load(dir);
  ASSERT_TRUE(bool(loaded)) << toString(loaded.takeError());
  CudaRuntime &runtime = cantFail(CudaRuntime::get());
  uint64_t liveBefore = runtime.getAllocatorStats().liveBlocks;
  HostTensor x = HostTensor::allocate(DType::Float32, {1, 4});
  setenv("FAKE_CUDA_LAUNCH_ERROR", "701", 1);
  Expected<std::vector<NamedTensor>> failed =
      (*loaded)->run("infer", {{"x", x}});
  unsetenv("FAKE_CUDA_LAUNCH_ERROR");
  EXPECT_EQ(messageOf(failed),
            "entry point 'infer' failed on cuda:0: mgpuLaunchKernel: "
            "cuLaunchKernel failed: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (too "
            "many resources requested for launch) launching kernel "
            "'add_rows_f32' (grid 1x1x1, block 128x1x1, 0 bytes of dynamic "
            "shared memory)");
  // The failed call's input and result went back to the allocator.
  EXPECT_EQ(runtime.getAllocatorStats().liveBlocks, liveBefore);
  Expected<std::vector<NamedTensor>> outputs =
      (*loaded)->run("infer", {{"x", x}});
  ASSERT_TRUE(bool(outputs)) << toString(outputs.takeError());
  EXPECT_EQ(valuesOf<float>(outputs->front().tensor.getBytes()), kWeight);
}

} // namespace
