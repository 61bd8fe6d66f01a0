//===- CudaRuntime.cpp - MLIR's GPU runtime entry points over libcuda -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The mgpu* functions MLIR 22's GPU host lowering calls (signatures as
// `--gpu-to-llvm` and the translation of `gpu.binary` emit them), and the
// qaf_cuda_* functions of include/qaf/Runtime/CUDA/RuntimeAPI.h that the
// host runtime drives this library with. One process-wide state: the loaded
// driver, the selected device's primary context, the sticky first error,
// kernel names, and the caching allocator.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CUDA/RuntimeAPI.h"

#include "DeviceAllocator.h"
#include "Driver.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#define QAF_CUDA_EXPORT extern "C" __attribute__((visibility("default")))

using namespace qaf::cuda;

namespace {

/// Dynamic shared memory a kernel may use without opting in.
constexpr int32_t kDefaultSharedMemoryLimit = 48 << 10;

struct RuntimeState {
  // Recursive: loading a driver library runs its constructors, which may
  // call back into this library.
  std::recursive_mutex mutex;

  bool probed = false;
  /// Set while the driver library loads: its constructors may call back
  /// into this library, and those calls do nothing.
  bool loadingDriver = false;
  int32_t probeStatus = QAF_CUDA_NO_DRIVER;
  std::string probeError;
  DriverAPI driver;
  QafCudaDriverInfo driverInfo = {};

  /// The device mgpuSetDefaultDevice names, used when nothing selected one.
  int32_t defaultOrdinal = 0;
  /// The selected device; -1 until a context exists.
  int32_t ordinal = -1;
  CUdevice device = 0;
  CUcontext context = nullptr;

  /// The first error since the last clear; later mgpu* calls do nothing.
  bool failed = false;
  std::string error;
  std::string activity;

  std::unordered_map<CUfunction, std::string> kernelNames;
  /// The last kernel launched on each stream, and on any: an error that a
  /// kernel causes surfaces at the next synchronization.
  std::unordered_map<CUstream, std::string> lastKernelOnStream;
  std::string lastKernel;
  bool synchronousLaunches = false;

  DeviceAllocator allocator;
};

/// Never destroyed: a model.so's destructors (mgpuModuleUnload) may run
/// after this library's static destructors at exit.
RuntimeState &getState() {
  static RuntimeState *state = new RuntimeState();
  return *state;
}

void fail(RuntimeState &state, const std::string &message) {
  if (state.failed)
    return;
  state.failed = true;
  state.error = message;
}

/// Records `result` (when it is an error) as "<entry>: <call> failed:
/// <driver's name for it><detail>"; returns whether it succeeded.
bool check(RuntimeState &state, CUresult result, const char *entry,
           const char *call, const std::string &detail = "") {
  if (result == CUDA_SUCCESS)
    return true;
  fail(state, std::string(entry) + ": " + call +
                  " failed: " + state.driver.describe(result) + detail);
  return false;
}

std::string formatBytes(uint64_t bytes) {
  char text[64];
  if (bytes >= (uint64_t(1) << 30))
    snprintf(text, sizeof(text), "%.2f GiB", bytes / double(1 << 30));
  else if (bytes >= (uint64_t(1) << 20))
    snprintf(text, sizeof(text), "%.2f MiB", bytes / double(1 << 20));
  else
    snprintf(text, sizeof(text), "%" PRIu64 " bytes", bytes);
  return text;
}

std::string deviceName(const RuntimeState &state) {
  return "cuda:" + std::to_string(state.ordinal);
}

int32_t probeLocked(RuntimeState &state) {
  if (state.probed)
    return state.probeStatus;
  state.probed = true;
  const char *overridden = getenv(QAF_CUDA_DRIVER_VARIABLE);
  std::string path =
      overridden && *overridden ? overridden : std::string("libcuda.so.1");
  snprintf(state.driverInfo.driverPath, sizeof(state.driverInfo.driverPath),
           "%s", path.c_str());
  const char *synchronous = getenv(QAF_CUDA_SYNC_LAUNCHES_VARIABLE);
  state.synchronousLaunches =
      synchronous && *synchronous && strcmp(synchronous, "0") != 0;

  std::string reason;
  state.loadingDriver = true;
  bool loaded = state.driver.load(path, reason);
  state.loadingDriver = false;
  if (!loaded) {
    state.probeError = "no CUDA driver: " + reason +
                       (overridden ? " (named by " QAF_CUDA_DRIVER_VARIABLE ")"
                                   : ": install the NVIDIA driver");
    return state.probeStatus = QAF_CUDA_NO_DRIVER;
  }
  int version = 0;
  if (state.driver.driverGetVersion(&version) == CUDA_SUCCESS)
    state.driverInfo.driverVersion = version;
  if (CUresult result = state.driver.init(0)) {
    bool noDevice = result == CUDA_ERROR_NO_DEVICE;
    state.probeError =
        std::string(noDevice ? "no CUDA device" : "no usable CUDA driver") +
        ": cuInit failed: " + state.driver.describe(result);
    return state.probeStatus =
               noDevice ? QAF_CUDA_NO_DEVICE : QAF_CUDA_NO_DRIVER;
  }
  int count = 0;
  if (CUresult result = state.driver.deviceGetCount(&count)) {
    state.probeError = "no usable CUDA driver: cuDeviceGetCount failed: " +
                       state.driver.describe(result);
    return state.probeStatus = QAF_CUDA_NO_DRIVER;
  }
  state.driverInfo.deviceCount = count;
  state.probeStatus = QAF_CUDA_OK;
  return QAF_CUDA_OK;
}

/// Selects device `ordinal`: retains its primary context.
int32_t selectLocked(RuntimeState &state, int32_t ordinal) {
  if (state.context) {
    if (ordinal == state.ordinal)
      return QAF_CUDA_OK;
    fail(state, "cannot select cuda:" + std::to_string(ordinal) +
                    ": this process already uses " + deviceName(state));
    return QAF_CUDA_FAILED;
  }
  if (int32_t status = probeLocked(state)) {
    fail(state, state.probeError);
    return status;
  }
  if (ordinal < 0 || ordinal >= state.driverInfo.deviceCount) {
    int count = state.driverInfo.deviceCount;
    fail(state, count == 0
                    ? std::string("no CUDA device: the driver reports "
                                  "none")
                    : "no CUDA device cuda:" + std::to_string(ordinal) +
                          " (this machine has " + std::to_string(count) +
                          " CUDA device" + (count == 1 ? "" : "s") +
                          ": cuda:0" +
                          (count > 1 ? " to cuda:" + std::to_string(count - 1)
                                     : std::string()) +
                          ")");
    return QAF_CUDA_NO_DEVICE;
  }
  CUdevice device = 0;
  CUcontext context = nullptr;
  if (!check(state, state.driver.deviceGet(&device, ordinal), "select device",
             "cuDeviceGet") ||
      !check(state, state.driver.devicePrimaryCtxRetain(&context, device),
             "select device", "cuDevicePrimaryCtxRetain"))
    return QAF_CUDA_FAILED;
  state.device = device;
  state.context = context;
  state.ordinal = ordinal;
  return QAF_CUDA_OK;
}

/// Makes the selected context current for the scope of an mgpu* call
/// (selecting the default device first when none is), as MLIR's own
/// wrappers do; `ready` says whether the call may go on.
class ScopedContext {
public:
  ScopedContext(RuntimeState &state, const char *entry) : state(state) {
    if (state.failed || state.loadingDriver)
      return;
    if (!state.context && selectLocked(state, state.defaultOrdinal)) {
      state.error = std::string(entry) + ": " + state.error;
      return;
    }
    pushed = check(state, state.driver.ctxPushCurrent(state.context), entry,
                   "cuCtxPushCurrent");
  }
  ~ScopedContext() {
    if (pushed) {
      CUcontext popped = nullptr;
      state.driver.ctxPopCurrent(&popped);
    }
  }
  bool ready() const { return pushed && !state.failed; }

private:
  RuntimeState &state;
  bool pushed = false;
};

std::string kernelName(const RuntimeState &state, CUfunction function) {
  auto found = state.kernelNames.find(function);
  return found == state.kernelNames.end() ? std::string("<unknown kernel>")
                                          : found->second;
}

/// " (the last kernel launched on this stream was 'k')", or nothing.
std::string lastKernelNote(const RuntimeState &state, CUstream stream,
                           bool anyStream) {
  std::string kernel = state.lastKernel;
  if (!anyStream) {
    auto found = state.lastKernelOnStream.find(stream);
    kernel = found == state.lastKernelOnStream.end() ? "" : found->second;
  }
  if (kernel.empty())
    return "";
  return std::string(" (the last kernel launched on ") +
         (anyStream ? "the device" : "this stream") + " was '" + kernel + "')";
}

/// Records an out-of-memory error naming the size and what it was for;
/// `entry` (the mgpu* function, or null for the host runtime's own
/// allocations) starts the message.
void failAllocation(RuntimeState &state, const char *entry, uint64_t bytes,
                    CUresult result) {
  if (result != CUDA_ERROR_OUT_OF_MEMORY) {
    check(state, result, entry ? entry : "allocate", "cuMemAlloc",
          " (allocating " + formatBytes(bytes) + ")");
    return;
  }
  std::string message = "out of device memory on " + deviceName(state) +
                        ": cannot allocate " + formatBytes(bytes);
  if (!state.activity.empty())
    message += " for " + state.activity;
  size_t freeBytes = 0, totalBytes = 0;
  if (state.driver.memGetInfo(&freeBytes, &totalBytes) == CUDA_SUCCESS)
    message += " (the device has " + formatBytes(freeBytes) + " free of " +
               formatBytes(totalBytes);
  else
    message += " (";
  uint64_t blocks = state.allocator.getLiveBlocks();
  message += std::string(totalBytes ? "; " : "") + "qaf holds " +
             formatBytes(state.allocator.getLiveBytes()) + " in " +
             std::to_string(blocks) + (blocks == 1 ? " buffer)" : " buffers)");
  // The runtime's own allocations are named by the activity alone.
  fail(state, entry ? std::string(entry) + ": " + message : message);
}

void *allocateLocked(RuntimeState &state, const char *entry, uint64_t bytes,
                     CUstream stream) {
  ScopedContext scope(state, entry ? entry : "allocate");
  if (!scope.ready())
    return nullptr;
  CUdeviceptr block = 0;
  if (CUresult result =
          state.allocator.allocate(state.driver, bytes, stream, block)) {
    failAllocation(state, entry, bytes, result);
    return nullptr;
  }
  return reinterpret_cast<void *>(block);
}

void freeLocked(RuntimeState &state, const char *entry, void *pointer,
                CUstream stream) {
  if (!pointer || !state.context)
    return;
  // After an error the block is still returned to the cache, without
  // waiting on the stream: the host runtime synchronizes before reusing it.
  ScopedContext scope(state, entry);
  if (!state.allocator.free(state.driver,
                            reinterpret_cast<CUdeviceptr>(pointer),
                            scope.ready() ? stream : nullptr)) {
    char address[32];
    snprintf(address, sizeof(address), "%p", pointer);
    fail(state, std::string(entry) + ": " + address +
                    " was not allocated by qaf's device allocator");
  }
}

CUmodule loadModule(const char *entry, const void *data,
                    const std::string &what, bool jit, int optLevel) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  ScopedContext scope(state, entry);
  if (!scope.ready())
    return nullptr;
  CUmodule module = nullptr;
  CUresult result;
  if (jit) {
    int options[] = {CU_JIT_OPTIMIZATION_LEVEL};
    void *values[] = {reinterpret_cast<void *>(intptr_t(optLevel))};
    result = state.driver.moduleLoadDataEx(&module, data, 1, options, values);
  } else {
    result = state.driver.moduleLoadData(&module, data);
  }
  std::string detail = " (loading " + what + " on " + deviceName(state) + ")";
  if (result == CUDA_ERROR_NO_BINARY_FOR_GPU ||
      result == CUDA_ERROR_INVALID_IMAGE)
    detail += ": the kernels were compiled for another GPU architecture";
  else if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
    detail += ": the driver is older than the PTX needs; update the NVIDIA "
              "driver";
  check(state, result, entry, jit ? "cuModuleLoadDataEx" : "cuModuleLoadData",
        detail);
  return result == CUDA_SUCCESS ? module : nullptr;
}

void launch(const char *entry, CUfunction function, const unsigned cluster[3],
            intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX,
            intptr_t blockY, intptr_t blockZ, int32_t sharedMemory,
            CUstream stream, void **params, void **extra) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  ScopedContext scope(state, entry);
  if (!scope.ready() || !function)
    return;
  std::string name = kernelName(state, function);
  char shape[160];
  snprintf(shape, sizeof(shape),
           " (grid %" PRIdPTR "x%" PRIdPTR "x%" PRIdPTR ", block %" PRIdPTR
           "x%" PRIdPTR "x%" PRIdPTR ", %d bytes of dynamic shared memory)",
           gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemory);
  std::string detail = " launching kernel '" + name + "'" + shape;
  if (sharedMemory > kDefaultSharedMemoryLimit &&
      !check(state,
             state.driver.funcSetAttribute(
                 function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                 sharedMemory),
             entry, "cuFuncSetAttribute", detail))
    return;
  CUresult result;
  if (cluster) {
    if (!state.driver.launchKernelEx) {
      fail(state, std::string(entry) +
                      ": the CUDA driver has no cuLaunchKernelEx (needed for "
                      "thread block clusters):" +
                      detail);
      return;
    }
    CUlaunchAttribute attribute = {};
    attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attribute.value.clusterDim = {cluster[0], cluster[1], cluster[2]};
    CUlaunchConfig config = {unsigned(gridX),
                             unsigned(gridY),
                             unsigned(gridZ),
                             unsigned(blockX),
                             unsigned(blockY),
                             unsigned(blockZ),
                             unsigned(sharedMemory),
                             stream,
                             &attribute,
                             1};
    result = state.driver.launchKernelEx(&config, function, params, extra);
  } else {
    result =
        state.driver.launchKernel(function, gridX, gridY, gridZ, blockX, blockY,
                                  blockZ, sharedMemory, stream, params, extra);
  }
  if (!check(state, result, entry,
             cluster ? "cuLaunchKernelEx" : "cuLaunchKernel", detail))
    return;
  state.lastKernelOnStream[stream] = name;
  state.lastKernel = name;
  if (state.synchronousLaunches)
    check(state, state.driver.streamSynchronize(stream), entry,
          "cuStreamSynchronize",
          " after kernel '" + name +
              "' (" QAF_CUDA_SYNC_LAUNCHES_VARIABLE " is set)");
}

/// Runs `call` on the selected context unless an error is pending.
template <typename Call> void withContext(const char *entry, Call call) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  ScopedContext scope(state, entry);
  if (scope.ready())
    call(state);
}

} // namespace

//===----------------------------------------------------------------------===//
// MLIR's GPU runtime entry points.
//===----------------------------------------------------------------------===//

QAF_CUDA_EXPORT CUmodule mgpuModuleLoad(void *data, size_t size) {
  return loadModule("mgpuModuleLoad", data,
                    "a " + std::to_string(size) + "-byte GPU binary",
                    /*jit=*/false, 0);
}

QAF_CUDA_EXPORT CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  return loadModule("mgpuModuleLoadJIT", data, "PTX", /*jit=*/true, optLevel);
}

QAF_CUDA_EXPORT void mgpuModuleUnload(CUmodule module) {
  if (!module)
    return;
  withContext("mgpuModuleUnload", [&](RuntimeState &state) {
    check(state, state.driver.moduleUnload(module), "mgpuModuleUnload",
          "cuModuleUnload");
  });
}

QAF_CUDA_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module,
                                                 const char *name) {
  CUfunction function = nullptr;
  if (!module)
    return nullptr;
  withContext("mgpuModuleGetFunction", [&](RuntimeState &state) {
    if (check(state, state.driver.moduleGetFunction(&function, module, name),
              "mgpuModuleGetFunction", "cuModuleGetFunction",
              std::string(" (kernel '") + name + "')"))
      state.kernelNames[function] = name;
  });
  return function;
}

QAF_CUDA_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                      intptr_t gridY, intptr_t gridZ,
                                      intptr_t blockX, intptr_t blockY,
                                      intptr_t blockZ, int32_t sharedMemory,
                                      CUstream stream, void **params,
                                      void **extra, size_t /*paramsCount*/) {
  launch("mgpuLaunchKernel", function, nullptr, gridX, gridY, gridZ, blockX,
         blockY, blockZ, sharedMemory, stream, params, extra);
}

QAF_CUDA_EXPORT void mgpuLaunchClusterKernel(
    CUfunction function, intptr_t clusterX, intptr_t clusterY,
    intptr_t clusterZ, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
    intptr_t blockX, intptr_t blockY, intptr_t blockZ, int32_t sharedMemory,
    CUstream stream, void **params, void **extra, size_t /*paramsCount*/) {
  unsigned cluster[3] = {unsigned(clusterX), unsigned(clusterY),
                         unsigned(clusterZ)};
  launch("mgpuLaunchClusterKernel", function, cluster, gridX, gridY, gridZ,
         blockX, blockY, blockZ, sharedMemory, stream, params, extra);
}

QAF_CUDA_EXPORT CUstream mgpuStreamCreate() {
  CUstream stream = nullptr;
  withContext("mgpuStreamCreate", [&](RuntimeState &state) {
    check(state, state.driver.streamCreate(&stream, CU_STREAM_NON_BLOCKING),
          "mgpuStreamCreate", "cuStreamCreate");
  });
  return stream;
}

QAF_CUDA_EXPORT void mgpuStreamDestroy(CUstream stream) {
  withContext("mgpuStreamDestroy", [&](RuntimeState &state) {
    state.lastKernelOnStream.erase(stream);
    check(state, state.driver.streamDestroy(stream), "mgpuStreamDestroy",
          "cuStreamDestroy");
  });
}

QAF_CUDA_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  withContext("mgpuStreamSynchronize", [&](RuntimeState &state) {
    check(state, state.driver.streamSynchronize(stream),
          "mgpuStreamSynchronize", "cuStreamSynchronize",
          lastKernelNote(state, stream, /*anyStream=*/false));
  });
}

QAF_CUDA_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  withContext("mgpuStreamWaitEvent", [&](RuntimeState &state) {
    check(state, state.driver.streamWaitEvent(stream, event, 0),
          "mgpuStreamWaitEvent", "cuStreamWaitEvent");
  });
}

QAF_CUDA_EXPORT CUevent mgpuEventCreate() {
  CUevent event = nullptr;
  withContext("mgpuEventCreate", [&](RuntimeState &state) {
    check(state, state.driver.eventCreate(&event, CU_EVENT_DISABLE_TIMING),
          "mgpuEventCreate", "cuEventCreate");
  });
  return event;
}

QAF_CUDA_EXPORT void mgpuEventDestroy(CUevent event) {
  withContext("mgpuEventDestroy", [&](RuntimeState &state) {
    check(state, state.driver.eventDestroy(event), "mgpuEventDestroy",
          "cuEventDestroy");
  });
}

QAF_CUDA_EXPORT void mgpuEventSynchronize(CUevent event) {
  withContext("mgpuEventSynchronize", [&](RuntimeState &state) {
    check(state, state.driver.eventSynchronize(event), "mgpuEventSynchronize",
          "cuEventSynchronize",
          lastKernelNote(state, nullptr, /*anyStream=*/true));
  });
}

QAF_CUDA_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  withContext("mgpuEventRecord", [&](RuntimeState &state) {
    check(state, state.driver.eventRecord(event, stream), "mgpuEventRecord",
          "cuEventRecord");
  });
}

QAF_CUDA_EXPORT void *mgpuMemAlloc(uint64_t bytes, CUstream stream,
                                   bool isHostShared) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  if (isHostShared) {
    fail(state, "mgpuMemAlloc: host-shared allocations (gpu.alloc "
                "host_shared) are not supported by qaf's CUDA runtime");
    return nullptr;
  }
  return allocateLocked(state, "mgpuMemAlloc", bytes, stream);
}

QAF_CUDA_EXPORT void mgpuMemFree(void *pointer, CUstream stream) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  freeLocked(state, "mgpuMemFree", pointer, stream);
}

QAF_CUDA_EXPORT void mgpuMemcpy(void *destination, void *source, size_t bytes,
                                CUstream stream) {
  withContext("mgpuMemcpy", [&](RuntimeState &state) {
    check(state,
          state.driver.memcpyAsync(reinterpret_cast<CUdeviceptr>(destination),
                                   reinterpret_cast<CUdeviceptr>(source), bytes,
                                   stream),
          "mgpuMemcpy", "cuMemcpyAsync",
          " (" + formatBytes(bytes) + ")" +
              lastKernelNote(state, stream, /*anyStream=*/false));
  });
}

QAF_CUDA_EXPORT void mgpuMemset32(void *destination, unsigned value,
                                  size_t count, CUstream stream) {
  withContext("mgpuMemset32", [&](RuntimeState &state) {
    check(state,
          state.driver.memsetD32Async(
              reinterpret_cast<CUdeviceptr>(destination), value, count, stream),
          "mgpuMemset32", "cuMemsetD32Async");
  });
}

QAF_CUDA_EXPORT void mgpuMemset16(void *destination, unsigned short value,
                                  size_t count, CUstream stream) {
  withContext("mgpuMemset16", [&](RuntimeState &state) {
    check(state,
          state.driver.memsetD16Async(
              reinterpret_cast<CUdeviceptr>(destination), value, count, stream),
          "mgpuMemset16", "cuMemsetD16Async");
  });
}

QAF_CUDA_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  if (state.context && device != state.ordinal) {
    fail(state, "mgpuSetDefaultDevice(" + std::to_string(device) +
                    "): this process already uses " + deviceName(state));
    return;
  }
  state.defaultOrdinal = device;
}

//===----------------------------------------------------------------------===//
// The host runtime's API.
//===----------------------------------------------------------------------===//

QAF_CUDA_EXPORT int32_t qaf_cuda_probe_driver(QafCudaDriverInfo *info) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  int32_t status = probeLocked(state);
  if (info)
    *info = state.driverInfo;
  if (status)
    fail(state, state.probeError);
  return status;
}

QAF_CUDA_EXPORT int32_t qaf_cuda_get_device_info(int32_t ordinal,
                                                 QafCudaDeviceInfo *info) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  if (int32_t status = probeLocked(state)) {
    fail(state, state.probeError);
    return status;
  }
  if (ordinal < 0 || ordinal >= state.driverInfo.deviceCount) {
    fail(state, "no CUDA device cuda:" + std::to_string(ordinal));
    return QAF_CUDA_NO_DEVICE;
  }
  const char *entry = "device info";
  DriverAPI &driver = state.driver;
  CUdevice device = 0;
  *info = QafCudaDeviceInfo();
  size_t memory = 0;
  if (!check(state, driver.deviceGet(&device, ordinal), entry, "cuDeviceGet") ||
      !check(state,
             driver.deviceGetName(info->name, sizeof(info->name), device),
             entry, "cuDeviceGetName") ||
      !check(state,
             driver.deviceGetAttribute(
                 &info->computeCapabilityMajor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
             entry, "cuDeviceGetAttribute") ||
      !check(state,
             driver.deviceGetAttribute(
                 &info->computeCapabilityMinor,
                 CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
             entry, "cuDeviceGetAttribute") ||
      !check(state,
             driver.deviceGetAttribute(&info->multiprocessorCount,
                                       CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                       device),
             entry, "cuDeviceGetAttribute") ||
      !check(state, driver.deviceTotalMem(&memory, device), entry,
             "cuDeviceTotalMem"))
    return QAF_CUDA_FAILED;
  info->name[sizeof(info->name) - 1] = 0;
  info->totalMemoryBytes = memory;
  return QAF_CUDA_OK;
}

QAF_CUDA_EXPORT int32_t qaf_cuda_select_device(int32_t ordinal) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  return selectLocked(state, ordinal);
}

QAF_CUDA_EXPORT const char *qaf_cuda_error(void) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  return state.failed ? state.error.c_str() : nullptr;
}

QAF_CUDA_EXPORT void qaf_cuda_clear_error(void) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  state.failed = false;
  state.error.clear();
}

QAF_CUDA_EXPORT void qaf_cuda_set_activity(const char *what) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  state.activity = what ? what : "";
}

QAF_CUDA_EXPORT void *qaf_cuda_alloc(uint64_t bytes) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  return allocateLocked(state, nullptr, bytes, nullptr);
}

QAF_CUDA_EXPORT void qaf_cuda_free(void *pointer) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  freeLocked(state, "qaf_cuda_free", pointer, nullptr);
}

QAF_CUDA_EXPORT int32_t qaf_cuda_copy_to_device(void *device, const void *host,
                                                uint64_t bytes) {
  bool copied = false;
  withContext("qaf_cuda_copy_to_device", [&](RuntimeState &state) {
    copied = check(state,
                   state.driver.memcpyHtoD(
                       reinterpret_cast<CUdeviceptr>(device), host, bytes),
                   "copy to device", "cuMemcpyHtoD",
                   " (" + formatBytes(bytes) +
                       (state.activity.empty() ? "" : " of " + state.activity) +
                       ")");
  });
  return copied ? QAF_CUDA_OK : QAF_CUDA_FAILED;
}

QAF_CUDA_EXPORT int32_t qaf_cuda_copy_to_host(void *host, const void *device,
                                              uint64_t bytes) {
  bool copied = false;
  withContext("qaf_cuda_copy_to_host", [&](RuntimeState &state) {
    copied =
        check(state,
              state.driver.memcpyDtoH(
                  host, reinterpret_cast<CUdeviceptr>(device), bytes),
              "copy to host", "cuMemcpyDtoH",
              " (" + formatBytes(bytes) +
                  (state.activity.empty() ? "" : " of " + state.activity) +
                  ")" + lastKernelNote(state, nullptr, /*anyStream=*/true));
  });
  return copied ? QAF_CUDA_OK : QAF_CUDA_FAILED;
}

QAF_CUDA_EXPORT int32_t qaf_cuda_synchronize(void) {
  bool done = false;
  withContext("synchronize", [&](RuntimeState &state) {
    done = check(state, state.driver.ctxSynchronize(), "synchronize",
                 "cuCtxSynchronize",
                 lastKernelNote(state, nullptr, /*anyStream=*/true));
  });
  return done ? QAF_CUDA_OK : QAF_CUDA_FAILED;
}

QAF_CUDA_EXPORT void
qaf_cuda_get_allocator_stats(QafCudaAllocatorStats *stats) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  const DeviceAllocator &allocator = state.allocator;
  *stats = {allocator.getLiveBlocks(), allocator.getLiveBytes(),
            allocator.getCachedBlocks(), allocator.getCachedBytes(),
            allocator.getDriverAllocations()};
}

QAF_CUDA_EXPORT void qaf_cuda_release_cached_memory(void) {
  RuntimeState &state = getState();
  std::lock_guard<std::recursive_mutex> lock(state.mutex);
  if (!state.context)
    return;
  ScopedContext scope(state, "release cached memory");
  if (scope.ready())
    state.allocator.releaseCached(state.driver);
}
