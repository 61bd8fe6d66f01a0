/*===- RuntimeAPI.h - qaf's CUDA runtime library, its C API ------*- C -*-===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * libQAFCudaRuntime.so implements the entry points that MLIR's GPU host
 * lowering calls (`mgpuModuleLoad`, `mgpuLaunchKernel`, `mgpuMemAlloc`, ...
 * with the C signatures `--gpu-to-llvm` and the LLVM IR translation of
 * `gpu.binary` emit in MLIR 22) over the CUDA driver API, which it loads at
 * run time (`libcuda.so.1`, or the file `QAF_CUDA_DRIVER` names). The host
 * runtime (qaf::CudaDevice) loads it with RTLD_GLOBAL before a cuda
 * artifact's model.so, whose undefined mgpu* references then bind to it,
 * and drives it through the functions below.
 *
 * Errors: the mgpu* functions return nothing or a handle, so the first
 * CUDA error of the process is kept (sticky) with a message naming the call
 * and, for a launch, the kernel; until it is cleared every later mgpu* call
 * does nothing. The host runtime clears it before it calls an entry point
 * and reads it after the entry point returns (and after loading a
 * model.so, whose constructor loads the kernels).
 *
 *===----------------------------------------------------------------------===*/

#ifndef QAF_RUNTIME_CUDA_RUNTIMEAPI_H
#define QAF_RUNTIME_CUDA_RUNTIMEAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable naming the driver library to load instead of
 * libcuda.so.1 (tests load a stub driver). */
#define QAF_CUDA_DRIVER_VARIABLE "QAF_CUDA_DRIVER"
/* The environment variable that makes every launch synchronous, so that an
 * error in a kernel is reported with that kernel's name. */
#define QAF_CUDA_SYNC_LAUNCHES_VARIABLE "QAF_CUDA_SYNC_LAUNCHES"

/* What the qaf_cuda_* functions return. */
enum {
  QAF_CUDA_OK = 0,
  /* The driver library cannot be loaded or initialized. */
  QAF_CUDA_NO_DRIVER = 1,
  /* The driver answers but has no device (or not the one asked for). */
  QAF_CUDA_NO_DEVICE = 2,
  /* Any other failure; qaf_cuda_error() says which. */
  QAF_CUDA_FAILED = 3,
};

typedef struct {
  /* cuDriverGetVersion: 1000 * major + 10 * minor (13000 is CUDA 13.0). */
  int32_t driverVersion;
  int32_t deviceCount;
  /* The driver library's path as loaded. */
  char driverPath[512];
} QafCudaDriverInfo;

typedef struct {
  char name[256];
  int32_t computeCapabilityMajor;
  int32_t computeCapabilityMinor;
  int32_t multiprocessorCount;
  uint64_t totalMemoryBytes;
} QafCudaDeviceInfo;

typedef struct {
  /* Blocks handed out and not yet freed, and their bytes. */
  uint64_t liveBlocks;
  uint64_t liveBytes;
  /* Freed blocks kept for reuse, and their bytes. */
  uint64_t cachedBlocks;
  uint64_t cachedBytes;
  /* cuMemAlloc calls made (a reused block makes none). */
  uint64_t driverAllocations;
} QafCudaAllocatorStats;

/* Loads and initializes the driver (once; later calls return the first
 * answer) and describes it. */
int32_t qaf_cuda_probe_driver(QafCudaDriverInfo *info);

/* Describes device `ordinal` (the driver must have been probed). */
int32_t qaf_cuda_get_device_info(int32_t ordinal, QafCudaDeviceInfo *info);

/* Makes device `ordinal`'s primary context the one every mgpu* call uses.
 * Must come before a model.so is loaded (its constructor loads the kernels)
 * and cannot change once a context is in use. */
int32_t qaf_cuda_select_device(int32_t ordinal);

/* The message of the first error since qaf_cuda_clear_error, or NULL. Valid
 * until the next call of qaf_cuda_clear_error. */
const char *qaf_cuda_error(void);
void qaf_cuda_clear_error(void);

/* Names what the next allocations are for, in an out-of-memory message
 * (`weight 'w' (float32[4, 8])`, `entry point 'infer'`); NULL for nothing.
 * The string is copied. */
void qaf_cuda_set_activity(const char *what);

/* Device memory from the caching allocator (the one mgpuMemAlloc uses):
 * NULL on failure, with the error recorded. */
void *qaf_cuda_alloc(uint64_t bytes);
/* Returns a block of qaf_cuda_alloc or mgpuMemAlloc to the allocator; the
 * device must be done with it (the caller synchronized). */
void qaf_cuda_free(void *pointer);
/* Synchronous copies; QAF_CUDA_OK or QAF_CUDA_FAILED with the error
 * recorded. */
int32_t qaf_cuda_copy_to_device(void *device, const void *host, uint64_t bytes);
int32_t qaf_cuda_copy_to_host(void *host, const void *device, uint64_t bytes);
/* Waits for all work of the context; an error of a kernel that ran names
 * the last kernel launched. */
int32_t qaf_cuda_synchronize(void);

void qaf_cuda_get_allocator_stats(QafCudaAllocatorStats *stats);
/* Gives the cached blocks back to the driver. */
void qaf_cuda_release_cached_memory(void);

#ifdef __cplusplus
}
#endif

#endif /* QAF_RUNTIME_CUDA_RUNTIMEAPI_H */
