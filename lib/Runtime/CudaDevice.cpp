//===- CudaDevice.cpp - the host runtime's side of CUDA -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CudaDevice.h"
#include "qaf/Runtime/CUDA/RuntimeAPI.h"
#include "qaf/Support/Error.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <dlfcn.h>
#include <mutex>

using namespace llvm;

namespace qaf {

std::string DeviceSpec::str() const {
  return kind == TargetKind::CPU ? std::string("cpu")
                                 : "cuda:" + std::to_string(ordinal);
}

Expected<DeviceSpec> parseDeviceSpec(StringRef text) {
  DeviceSpec spec;
  if (text == "cpu")
    return spec;
  StringRef rest = text;
  if (rest.consume_front("cuda")) {
    spec.kind = TargetKind::CUDA;
    if (rest.empty())
      return spec;
    unsigned ordinal = 0;
    if (rest.consume_front(":") && !rest.empty() && all_of(rest, isDigit) &&
        !rest.getAsInteger(10, ordinal) && ordinal < (1u << 16)) {
      spec.ordinal = ordinal;
      return spec;
    }
  }
  return makeError("unknown device '" + text +
                   "' (expected cpu, cuda or cuda:<N>)");
}

std::string formatCudaVersion(int version) {
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

namespace {

/// An architecture name split: `sm_90a` is 9.0 with suffix `a`.
struct CudaArch {
  int major = 0;
  int minor = 0;
  char suffix = 0;
};

std::optional<CudaArch> parseCudaArch(StringRef arch) {
  if (!arch.consume_front("sm_") || arch.size() < 2)
    return std::nullopt;
  CudaArch parsed;
  if (arch.back() == 'a' || arch.back() == 'f') {
    parsed.suffix = arch.back();
    arch = arch.drop_back();
  }
  if (arch.size() < 2 || !all_of(arch, isDigit) ||
      arch.drop_back().getAsInteger(10, parsed.major))
    return std::nullopt;
  parsed.minor = arch.back() - '0';
  return parsed;
}

/// The CUDA release (driver version number) that introduced each
/// architecture (CUDA's release notes).
constexpr std::pair<StringLiteral, int> kArchIntroduced[] = {
    {"sm_75", 10000},   {"sm_80", 11000},  {"sm_86", 11010},  {"sm_87", 11040},
    {"sm_89", 11080},   {"sm_90", 11080},  {"sm_90a", 12000}, {"sm_100", 12080},
    {"sm_100a", 12080}, {"sm_101", 12080}, {"sm_103", 12090}, {"sm_110", 13000},
    {"sm_120", 12080},  {"sm_121", 12090}};

/// The CUDA release that introduced each PTX ISA version (the PTX ISA
/// manual's release notes): `+ptx80` needs a CUDA 12.0 driver.
constexpr std::pair<int, int> kPTXIntroduced[] = {
    {70, 11000}, {71, 11010}, {72, 11020}, {73, 11030}, {74, 11040},
    {75, 11050}, {76, 11060}, {77, 11070}, {78, 11080}, {80, 12000},
    {81, 12010}, {82, 12020}, {83, 12030}, {84, 12040}, {85, 12050},
    {86, 12070}, {87, 12080}, {88, 12090}, {90, 13000}};

/// The PTX ISA version `features` names (`+ptx80` is 80).
std::optional<int> getPTXVersion(StringRef features) {
  SmallVector<StringRef> list;
  SplitString(features, list, ",");
  for (StringRef feature : list) {
    int version = 0;
    if (feature.trim().consume_front("+ptx") &&
        !feature.trim().drop_front(4).getAsInteger(10, version))
      return version;
  }
  return std::nullopt;
}

} // namespace

std::optional<int>
getRequiredCudaDriverVersion(const TargetDescription &target) {
  const auto *arch = find_if(kArchIntroduced, [&](const auto &entry) {
    return entry.first == target.arch;
  });
  if (arch == std::end(kArchIntroduced))
    return std::nullopt;
  int required = arch->second;
  if (std::optional<int> ptx = getPTXVersion(target.features)) {
    const auto *entry = find_if(
        kPTXIntroduced, [&](const auto &each) { return each.first == *ptx; });
    if (entry != std::end(kPTXIntroduced))
      required = std::max(required, entry->second);
  }
  return required;
}

Error checkCudaCompatibility(const TargetDescription &target, int major,
                             int minor, int driverVersion, StringRef what,
                             StringRef device) {
  std::optional<CudaArch> arch = parseCudaArch(target.arch);
  if (!arch)
    return makeError(what + " is compiled for '" + target.arch +
                     "', which is not a CUDA architecture this runtime knows");
  std::string compiled = "compiled for " + target.arch + " (" +
                         getBinaryKindName(target.binary).str() + ")";
  std::string gpu = (device + " (compute capability " + Twine(major) + "." +
                     Twine(minor) + ")")
                        .str();
  std::string native = "sm_" + std::to_string(major) + std::to_string(minor);
  bool runs;
  if (target.binary == BinaryKind::PTX)
    runs = std::make_pair(major, minor) >=
           std::make_pair(arch->major, arch->minor);
  else if (arch->suffix == 'a')
    runs = major == arch->major && minor == arch->minor;
  else
    runs = major == arch->major && minor >= arch->minor;
  if (!runs)
    return makeError(what + " is " + compiled + ", which cannot run on " + gpu +
                     ": recompile it with --cuda-arch=" + native);
  std::optional<int> required = getRequiredCudaDriverVersion(target);
  if (required && driverVersion < *required)
    return makeError(
        what + " is " + compiled +
        (target.features.empty() ? "" : " with " + target.features) +
        ", which needs a CUDA " + formatCudaVersion(*required) +
        " driver or newer, but the driver of " + device + " is CUDA " +
        formatCudaVersion(driverVersion) + ": update the NVIDIA driver");
  return Error::success();
}

std::string CudaDeviceDescription::describe() const {
  std::string text;
  raw_string_ostream os(text);
  os << name << " (compute capability " << computeCapabilityMajor << "."
     << computeCapabilityMinor << ", " << multiprocessorCount << " SMs, "
     << format("%.1f", totalMemoryBytes / double(1 << 30)) << " GiB)";
  return text;
}

//===----------------------------------------------------------------------===//
// The loaded library.
//===----------------------------------------------------------------------===//

// X(member, symbol, type)
#define QAF_CUDA_RUNTIME_FUNCTIONS(X)                                          \
  X(probeDriver, qaf_cuda_probe_driver)                                        \
  X(getDeviceInfo, qaf_cuda_get_device_info)                                   \
  X(selectDevice, qaf_cuda_select_device)                                      \
  X(error, qaf_cuda_error)                                                     \
  X(clearError, qaf_cuda_clear_error)                                          \
  X(setActivity, qaf_cuda_set_activity)                                        \
  X(alloc, qaf_cuda_alloc)                                                     \
  X(free, qaf_cuda_free)                                                       \
  X(copyToDevice, qaf_cuda_copy_to_device)                                     \
  X(copyToHost, qaf_cuda_copy_to_host)                                         \
  X(synchronize, qaf_cuda_synchronize)                                         \
  X(getAllocatorStats, qaf_cuda_get_allocator_stats)

struct CudaRuntime::Functions {
#define QAF_DECLARE_MEMBER(member, symbol) decltype(&::symbol) member = nullptr;
  QAF_CUDA_RUNTIME_FUNCTIONS(QAF_DECLARE_MEMBER)
#undef QAF_DECLARE_MEMBER
};

namespace {

/// Where libQAFCudaRuntime.so is: $QAF_CUDA_RUNTIME, else `../lib` of the
/// executable (the build and install layouts), else the build folder it
/// was built in, else the library search path.
std::string findCudaRuntimeLibrary() {
  constexpr StringLiteral kFileName = "libQAFCudaRuntime.so";
  if (std::optional<std::string> path =
          sys::Process::GetEnv(kCudaRuntimeVariable))
    return *path;
  std::string executable = sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&findCudaRuntimeLibrary));
  if (!executable.empty()) {
    SmallString<256> candidate(sys::path::parent_path(executable));
    sys::path::append(candidate, "..", "lib", kFileName);
    if (sys::fs::exists(candidate))
      return std::string(candidate);
  }
#ifdef QAF_CUDA_RUNTIME_BUILD_PATH
  if (sys::fs::exists(QAF_CUDA_RUNTIME_BUILD_PATH))
    return QAF_CUDA_RUNTIME_BUILD_PATH;
#endif
  return kFileName.str();
}

} // namespace

Expected<CudaRuntime &> CudaRuntime::get() {
  static std::mutex mutex;
  static std::unique_ptr<CudaRuntime> runtime;
  static std::string loadError;
  std::lock_guard<std::mutex> lock(mutex);
  if (runtime)
    return *runtime;
  if (!loadError.empty())
    return makeError(loadError);
  std::string path = findCudaRuntimeLibrary();
  dlerror();
  // Global: a cuda model.so loaded later binds its mgpu* references here.
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!library) {
    const char *reason = dlerror();
    loadError = "cannot load qaf's CUDA runtime library '" + path + "' (" +
                (reason ? reason : "unknown dlopen error") + "): set " +
                kCudaRuntimeVariable.str() + " to its path";
    return makeError(loadError);
  }
  auto functions = std::make_shared<Functions>();
  std::string missing;
#define QAF_RESOLVE(member, symbol)                                            \
  functions->member =                                                          \
      reinterpret_cast<decltype(&::symbol)>(dlsym(library, #symbol));          \
  if (!functions->member)                                                      \
    missing += (missing.empty() ? "" : ", ") + std::string(#symbol);
  QAF_CUDA_RUNTIME_FUNCTIONS(QAF_RESOLVE)
#undef QAF_RESOLVE
  if (!missing.empty()) {
    loadError = "'" + path +
                "' is not qaf's CUDA runtime library: it does "
                "not define " +
                missing;
    return makeError(loadError);
  }
  runtime.reset(new CudaRuntime());
  runtime->path = path;
  runtime->functions = std::move(functions);
  return *runtime;
}

Error CudaRuntime::takeError() {
  if (const char *message = functions->error())
    return makeError(message);
  return Error::success();
}

void CudaRuntime::clearError() { functions->clearError(); }

Expected<CudaDriverDescription> CudaRuntime::probeDriver() {
  QafCudaDriverInfo info = {};
  clearError();
  int32_t status = functions->probeDriver(&info);
  if (status != QAF_CUDA_OK) {
    Error error = takeError();
    clearError();
    return std::move(error);
  }
  return CudaDriverDescription{info.driverVersion, info.deviceCount,
                               info.driverPath};
}

Expected<CudaDeviceDescription> CudaRuntime::describeDevice(int ordinal) {
  Expected<CudaDriverDescription> driver = probeDriver();
  if (!driver)
    return driver.takeError();
  if (ordinal >= driver->deviceCount)
    return makeError(
        driver->deviceCount == 0
            ? "no CUDA device: the driver (CUDA " +
                  formatCudaVersion(driver->driverVersion) + ") reports none"
            : "no CUDA device cuda:" + std::to_string(ordinal) +
                  " (this machine has " + std::to_string(driver->deviceCount) +
                  ": cuda:0 to cuda:" +
                  std::to_string(driver->deviceCount - 1) + ")");
  QafCudaDeviceInfo info = {};
  if (functions->getDeviceInfo(ordinal, &info) != QAF_CUDA_OK) {
    Error error = takeError();
    clearError();
    return std::move(error);
  }
  return CudaDeviceDescription{info.name, info.computeCapabilityMajor,
                               info.computeCapabilityMinor,
                               info.multiprocessorCount, info.totalMemoryBytes};
}

Error CudaRuntime::selectDevice(int ordinal) {
  clearError();
  if (functions->selectDevice(ordinal) == QAF_CUDA_OK)
    return Error::success();
  Error error = takeError();
  clearError();
  return error;
}

void CudaRuntime::setActivity(StringRef what) {
  functions->setActivity(what.empty() ? nullptr : what.str().c_str());
}

Expected<void *> CudaRuntime::allocate(uint64_t bytes) {
  if (void *pointer = functions->alloc(bytes))
    return pointer;
  if (Error error = takeError())
    return std::move(error);
  return makeError("cannot allocate device memory (" + Twine(bytes) +
                   " bytes)");
}

void CudaRuntime::free(void *pointer) { functions->free(pointer); }

Error CudaRuntime::copyToDevice(void *device, const void *host,
                                uint64_t bytes) {
  // Empty tensors: nothing to copy (the driver may refuse a copy of none).
  if (bytes == 0)
    return Error::success();
  ++transfers.copiesToDevice;
  transfers.bytesToDevice += bytes;
  if (functions->copyToDevice(device, host, bytes) == QAF_CUDA_OK)
    return Error::success();
  return takeError();
}

Error CudaRuntime::copyToHost(void *host, const void *device, uint64_t bytes) {
  if (bytes == 0)
    return Error::success();
  ++transfers.copiesToHost;
  transfers.bytesToHost += bytes;
  if (functions->copyToHost(host, device, bytes) == QAF_CUDA_OK)
    return Error::success();
  return takeError();
}

Error CudaRuntime::synchronize() {
  if (functions->synchronize() == QAF_CUDA_OK)
    return Error::success();
  return takeError();
}

CudaAllocatorStats CudaRuntime::getAllocatorStats() {
  QafCudaAllocatorStats stats = {};
  functions->getAllocatorStats(&stats);
  return {stats.liveBlocks, stats.liveBytes, stats.cachedBlocks,
          stats.cachedBytes, stats.driverAllocations};
}

} // namespace qaf
