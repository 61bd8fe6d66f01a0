//===- Driver.h - the CUDA driver API, loaded at run time -------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The part of the CUDA driver API (`libcuda`) that qaf's GPU runtime calls,
// declared here rather than taken from cuda.h so that the runtime builds
// without the CUDA toolkit, and resolved with dlopen/dlsym at run time so
// that it loads on machines without a driver. The values below are those
// of cuda.h (CUDA 13); DriverDeclarationsCheck.cpp compares them with
// cuda.h when the toolkit is there.
//
// Every function is resolved by its versioned symbol (`cuMemAlloc_v2`):
// the names cuda.h's macros select, which plain dlsym does not.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_RUNTIME_CUDA_DRIVER_H
#define QAF_LIB_RUNTIME_CUDA_DRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace qaf::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = uint64_t;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_INVALID_VALUE = 1;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr CUresult CUDA_ERROR_INVALID_IMAGE = 200;
constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
constexpr CUresult CUDA_ERROR_INVALID_PTX = 218;
constexpr CUresult CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;

constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr int CU_JIT_OPTIMIZATION_LEVEL = 7;
constexpr int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;

/// cuda.h's CUlaunchAttribute, for the cluster dimension only.
struct CUlaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
};

/// cuda.h's CUlaunchConfig.
struct CUlaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream hStream;
  CUlaunchAttribute *attrs;
  unsigned numAttrs;
};

// X(member, symbol, required, return and parameter types...): `symbol` is the
// driver's versioned name (cuda.h's macros map the plain names to it).
// `required` functions must all be there for the driver to be usable; the
// others are newer than some drivers the runtime still runs on.
#define QAF_CUDA_DRIVER_FUNCTIONS(X)                                           \
  X(init, cuInit, true, CUresult(unsigned))                                    \
  X(driverGetVersion, cuDriverGetVersion, true, CUresult(int *))               \
  X(getErrorName, cuGetErrorName, true, CUresult(CUresult, const char **))     \
  X(getErrorString, cuGetErrorString, true, CUresult(CUresult, const char **)) \
  X(deviceGetCount, cuDeviceGetCount, true, CUresult(int *))                   \
  X(deviceGet, cuDeviceGet, true, CUresult(CUdevice *, int))                   \
  X(deviceGetName, cuDeviceGetName, true, CUresult(char *, int, CUdevice))     \
  X(deviceGetAttribute, cuDeviceGetAttribute, true,                            \
    CUresult(int *, int, CUdevice))                                            \
  X(deviceTotalMem, cuDeviceTotalMem_v2, true, CUresult(size_t *, CUdevice))   \
  X(devicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, true,                    \
    CUresult(CUcontext *, CUdevice))                                           \
  X(ctxPushCurrent, cuCtxPushCurrent_v2, true, CUresult(CUcontext))            \
  X(ctxPopCurrent, cuCtxPopCurrent_v2, true, CUresult(CUcontext *))            \
  X(ctxSynchronize, cuCtxSynchronize, true, CUresult())                        \
  X(memGetInfo, cuMemGetInfo_v2, true, CUresult(size_t *, size_t *))           \
  X(memAlloc, cuMemAlloc_v2, true, CUresult(CUdeviceptr *, size_t))            \
  X(memFree, cuMemFree_v2, true, CUresult(CUdeviceptr))                        \
  X(memcpyHtoD, cuMemcpyHtoD_v2, true,                                         \
    CUresult(CUdeviceptr, const void *, size_t))                               \
  X(memcpyDtoH, cuMemcpyDtoH_v2, true, CUresult(void *, CUdeviceptr, size_t))  \
  X(memcpyAsync, cuMemcpyAsync, true,                                          \
    CUresult(CUdeviceptr, CUdeviceptr, size_t, CUstream))                      \
  X(memsetD32Async, cuMemsetD32Async, true,                                    \
    CUresult(CUdeviceptr, unsigned, size_t, CUstream))                         \
  X(memsetD16Async, cuMemsetD16Async, true,                                    \
    CUresult(CUdeviceptr, unsigned short, size_t, CUstream))                   \
  X(moduleLoadData, cuModuleLoadData, true,                                    \
    CUresult(CUmodule *, const void *))                                        \
  X(moduleLoadDataEx, cuModuleLoadDataEx, true,                                \
    CUresult(CUmodule *, const void *, unsigned, int *, void **))              \
  X(moduleUnload, cuModuleUnload, true, CUresult(CUmodule))                    \
  X(moduleGetFunction, cuModuleGetFunction, true,                              \
    CUresult(CUfunction *, CUmodule, const char *))                            \
  X(funcSetAttribute, cuFuncSetAttribute, true,                                \
    CUresult(CUfunction, int, int))                                            \
  X(launchKernel, cuLaunchKernel, true,                                        \
    CUresult(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,     \
             unsigned, unsigned, CUstream, void **, void **))                  \
  X(launchKernelEx, cuLaunchKernelEx, false,                                   \
    CUresult(const CUlaunchConfig *, CUfunction, void **, void **))            \
  X(streamCreate, cuStreamCreate, true, CUresult(CUstream *, unsigned))        \
  X(streamDestroy, cuStreamDestroy_v2, true, CUresult(CUstream))               \
  X(streamSynchronize, cuStreamSynchronize, true, CUresult(CUstream))          \
  X(streamWaitEvent, cuStreamWaitEvent, true,                                  \
    CUresult(CUstream, CUevent, unsigned))                                     \
  X(eventCreate, cuEventCreate, true, CUresult(CUevent *, unsigned))           \
  X(eventDestroy, cuEventDestroy_v2, true, CUresult(CUevent))                  \
  X(eventRecord, cuEventRecord, true, CUresult(CUevent, CUstream))             \
  X(eventSynchronize, cuEventSynchronize, true, CUresult(CUevent))

/// The driver's functions, resolved from one loaded libcuda.
struct DriverAPI {
#define QAF_DECLARE_MEMBER(member, symbol, required, ...)                      \
  std::add_pointer_t<__VA_ARGS__> member = nullptr;
  QAF_CUDA_DRIVER_FUNCTIONS(QAF_DECLARE_MEMBER)
#undef QAF_DECLARE_MEMBER

  /// Loads the driver library at `path` and resolves its functions. On
  /// failure returns false and sets `error` to a sentence saying why (the
  /// library is missing, or lacks a function).
  bool load(const std::string &path, std::string &error);

  /// `CUDA_ERROR_OUT_OF_MEMORY (out of memory)`; the number alone when the
  /// driver has no name for it.
  std::string describe(CUresult result) const;
};

} // namespace qaf::cuda

#endif // QAF_LIB_RUNTIME_CUDA_DRIVER_H
