//===- CudaDevice.h - the host runtime's side of CUDA -----------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Where an artifact runs (`cpu`, `cuda:N`), whether a cuda artifact's code
// can run on a GPU (architecture against compute capability, the driver's
// version against what the code needs), and the process's handle on qaf's
// CUDA runtime library (libQAFCudaRuntime.so, include/qaf/Runtime/CUDA/
// RuntimeAPI.h): loaded on first use with RTLD_GLOBAL, so that a cuda
// model.so loaded after it binds its mgpu* references to it. Nothing here
// needs CUDA to build or to load; without a driver every call says so.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_CUDADEVICE_H
#define QAF_RUNTIME_CUDADEVICE_H

#include "qaf/Runtime/Manifest.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace qaf {

/// The environment variable naming libQAFCudaRuntime.so to load (else it is
/// looked for beside the executable, in `../lib`).
constexpr llvm::StringLiteral kCudaRuntimeVariable = "QAF_CUDA_RUNTIME";

/// Where to run an artifact: the CPU, or CUDA device `ordinal`.
struct DeviceSpec {
  TargetKind kind = TargetKind::CPU;
  int ordinal = 0;
  /// `cpu`, `cuda:0`.
  std::string str() const;
};

/// Parses `cpu`, `cuda` (device 0) or `cuda:<N>`.
llvm::Expected<DeviceSpec> parseDeviceSpec(llvm::StringRef text);

/// The version number cuDriverGetVersion reports as `13.0`.
std::string formatCudaVersion(int version);

/// The oldest driver (cuDriverGetVersion's number, 1000 * major + 10 *
/// minor) that runs code compiled for `target`: the CUDA release that
/// introduced its architecture, or the PTX ISA its `features` name
/// (`+ptx80`) when that is newer; nullopt for an architecture this table
/// does not know.
std::optional<int>
getRequiredCudaDriverVersion(const TargetDescription &target);

/// Whether code compiled for `target` runs on a GPU of compute capability
/// `major`.`minor` with driver `driverVersion`: a cubin (or fat binary) for
/// sm_XY runs on X.Z with Z >= Y, sm_XYa on X.Y only, PTX on any later GPU
/// (the driver compiles it). The error names the artifact (`what`), the
/// GPU (`device`) and what to do.
llvm::Error checkCudaCompatibility(const TargetDescription &target, int major,
                                   int minor, int driverVersion,
                                   llvm::StringRef what,
                                   llvm::StringRef device);

struct CudaDriverDescription {
  int driverVersion = 0;
  int deviceCount = 0;
  std::string driverPath;
};

struct CudaDeviceDescription {
  std::string name;
  int computeCapabilityMajor = 0;
  int computeCapabilityMinor = 0;
  int multiprocessorCount = 0;
  uint64_t totalMemoryBytes = 0;
  /// `NVIDIA H200 (compute capability 9.0, 132 SMs, 139.8 GiB)`.
  std::string describe() const;
};

struct CudaAllocatorStats {
  uint64_t liveBlocks = 0, liveBytes = 0;
  uint64_t cachedBlocks = 0, cachedBytes = 0;
  uint64_t driverAllocations = 0;
};

/// The host <-> device copies made through CudaRuntime since the process
/// loaded it (what the artifact's own uploads and downloads moved).
struct CudaTransferStats {
  uint64_t copiesToDevice = 0, bytesToDevice = 0;
  uint64_t copiesToHost = 0, bytesToHost = 0;
};

/// qaf's CUDA runtime library, loaded once per process.
class CudaRuntime {
public:
  /// Loads libQAFCudaRuntime.so (once; later calls return the same).
  static llvm::Expected<CudaRuntime &> get();

  /// Loads the driver. Errors begin "no CUDA driver" (none, or unusable) or
  /// "no CUDA device".
  llvm::Expected<CudaDriverDescription> probeDriver();
  /// Describes device `ordinal`; "no CUDA device ..." when there is none.
  llvm::Expected<CudaDeviceDescription> describeDevice(int ordinal);
  /// Makes device `ordinal` the one mgpu* calls use (before a model.so is
  /// loaded).
  llvm::Error selectDevice(int ordinal);

  /// Forgets the pending error (before an entry point or a library load).
  void clearError();
  /// The first error since clearError, as an llvm::Error (success if none);
  /// the error stays pending until clearError.
  llvm::Error takeError();

  /// Names what the allocations that follow are for, in out-of-memory
  /// messages.
  void setActivity(llvm::StringRef what);
  llvm::Expected<void *> allocate(uint64_t bytes);
  void free(void *pointer);
  llvm::Error copyToDevice(void *device, const void *host, uint64_t bytes);
  llvm::Error copyToHost(void *host, const void *device, uint64_t bytes);
  llvm::Error synchronize();
  CudaAllocatorStats getAllocatorStats();
  CudaTransferStats getTransferStats() const { return transfers; }

  /// The path the library was loaded from.
  const std::string &getPath() const { return path; }

  struct Functions;

private:
  CudaRuntime() = default;
  std::string path;
  std::shared_ptr<Functions> functions;
  CudaTransferStats transfers;
};

} // namespace qaf

#endif // QAF_RUNTIME_CUDADEVICE_H
