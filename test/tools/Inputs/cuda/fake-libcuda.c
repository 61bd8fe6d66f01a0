/*===- fake-libcuda.c - a stub CUDA driver for the runtime's tests -------===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * Exports the driver functions qaf's CUDA runtime resolves (their versioned
 * names, as lib/Runtime/CUDA/Driver.h lists them), so the runtime can be
 * tested on machines without a GPU (QAF_CUDA_DRIVER=<this library>).
 * "Device memory" is host memory; a module is loaded from the image
 * "QAF-FAKE-CUBIN", and its kernels run on the host when launched:
 *   add_rows_f32(a, b, c, n, m): c[i] = a[i] + b[i % m], i < n
 *   mul_f32(a, b, c, n):         c[i] = a[i] * b[i]
 *   inc_i64(a):                  a[0] += 1
 *   sum_f32(a, out, n):          out[0] = a[0] + ... + a[n-1]
 * Configured by the environment, read at every call:
 *   FAKE_CUDA_DEVICE_COUNT   devices (default 1)
 *   FAKE_CUDA_DRIVER_VERSION cuDriverGetVersion (default 13000)
 *   FAKE_CUDA_CC             compute capability (default 9.0)
 *   FAKE_CUDA_MEMORY         bytes of device memory (default 1 GiB):
 *                            cuMemAlloc beyond it fails out of memory
 *   FAKE_CUDA_ANY_IMAGE      when set, any module image loads (MLIR's own
 *                            host code embeds real PTX or cubins), and its
 *                            kernels of other names do nothing
 *   FAKE_CUDA_MODULE_ERROR   a CUresult for cuModuleLoadData(Ex) to return
 *   FAKE_CUDA_LAUNCH_ERROR   a CUresult for cuLaunchKernel to return
 *   FAKE_CUDA_SYNC_ERROR     a CUresult for cuStreamSynchronize to return
 *                            (a kernel that failed while running)
 *   FAKE_CUDA_COUNTS         a file that gets "cuMemAlloc N" and
 *                            "cuMemFree N" at exit
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef uint64_t CUdeviceptr;

enum {
  SUCCESS = 0,
  INVALID_VALUE = 1,
  OUT_OF_MEMORY = 2,
  NO_DEVICE = 100,
  INVALID_DEVICE = 101,
  INVALID_IMAGE = 200,
  NO_BINARY_FOR_GPU = 209,
  UNSUPPORTED_PTX_VERSION = 222,
  NOT_FOUND = 500,
  ILLEGAL_ADDRESS = 700,
  LAUNCH_OUT_OF_RESOURCES = 701,
};

static long envLong(const char *name, long fallback) {
  const char *value = getenv(name);
  return value && *value ? strtol(value, NULL, 10) : fallback;
}

static size_t memoryInUse;
static long allocations, frees;

static void writeCounts(void) {
  const char *path = getenv("FAKE_CUDA_COUNTS");
  FILE *file = path ? fopen(path, "w") : NULL;
  if (!file)
    return;
  fprintf(file, "cuMemAlloc %ld\ncuMemFree %ld\n", allocations, frees);
  fclose(file);
}

CUresult cuInit(unsigned flags) {
  (void)flags;
  atexit(writeCounts);
  return SUCCESS;
}

CUresult cuDriverGetVersion(int *version) {
  *version = (int)envLong("FAKE_CUDA_DRIVER_VERSION", 13000);
  return SUCCESS;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case OUT_OF_MEMORY:
    *name = "CUDA_ERROR_OUT_OF_MEMORY";
    return SUCCESS;
  case NO_BINARY_FOR_GPU:
    *name = "CUDA_ERROR_NO_BINARY_FOR_GPU";
    return SUCCESS;
  case UNSUPPORTED_PTX_VERSION:
    *name = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
    return SUCCESS;
  case ILLEGAL_ADDRESS:
    *name = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return SUCCESS;
  case LAUNCH_OUT_OF_RESOURCES:
    *name = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
    return SUCCESS;
  case INVALID_IMAGE:
    *name = "CUDA_ERROR_INVALID_IMAGE";
    return SUCCESS;
  case NOT_FOUND:
    *name = "CUDA_ERROR_NOT_FOUND";
    return SUCCESS;
  default:
    *name = NULL;
    return INVALID_VALUE;
  }
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case OUT_OF_MEMORY:
    *text = "out of memory";
    return SUCCESS;
  case NO_BINARY_FOR_GPU:
    *text = "no kernel image is available for execution on the device";
    return SUCCESS;
  case ILLEGAL_ADDRESS:
    *text = "an illegal memory access was encountered";
    return SUCCESS;
  case LAUNCH_OUT_OF_RESOURCES:
    *text = "too many resources requested for launch";
    return SUCCESS;
  default:
    *text = NULL;
    return INVALID_VALUE;
  }
}

CUresult cuDeviceGetCount(int *count) {
  *count = (int)envLong("FAKE_CUDA_DEVICE_COUNT", 1);
  return SUCCESS;
}

CUresult cuDeviceGet(int *device, int ordinal) {
  if (ordinal < 0 || ordinal >= envLong("FAKE_CUDA_DEVICE_COUNT", 1))
    return INVALID_DEVICE;
  *device = ordinal;
  return SUCCESS;
}

CUresult cuDeviceGetName(char *name, int length, int device) {
  snprintf(name, (size_t)length, "Fake GPU %d", device);
  return SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  const char *cc = getenv("FAKE_CUDA_CC");
  int major = 9, minor = 0;
  if (cc && *cc)
    sscanf(cc, "%d.%d", &major, &minor);
  switch (attribute) {
  case 75:
    *value = major;
    return SUCCESS;
  case 76:
    *value = minor;
    return SUCCESS;
  case 16:
    *value = 4;
    return SUCCESS;
  case 97:
    *value = 227 << 10;
    return SUCCESS;
  default:
    return INVALID_VALUE;
  }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, int device) {
  (void)device;
  *bytes = (size_t)envLong("FAKE_CUDA_MEMORY", 1L << 30);
  return SUCCESS;
}

static int fakeContext;
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = &fakeContext;
  return SUCCESS;
}
CUresult cuCtxPushCurrent_v2(void *context) {
  return context == &fakeContext ? SUCCESS : INVALID_VALUE;
}
CUresult cuCtxPopCurrent_v2(void **context) {
  if (context)
    *context = &fakeContext;
  return SUCCESS;
}
CUresult cuCtxSynchronize(void) { return SUCCESS; }

CUresult cuMemGetInfo_v2(size_t *freeBytes, size_t *totalBytes) {
  *totalBytes = (size_t)envLong("FAKE_CUDA_MEMORY", 1L << 30);
  *freeBytes = *totalBytes - memoryInUse;
  return SUCCESS;
}

/* Each block records its size just before the address handed out. */
CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  if (bytes == 0)
    return INVALID_VALUE;
  if (memoryInUse + bytes > (size_t)envLong("FAKE_CUDA_MEMORY", 1L << 30))
    return OUT_OF_MEMORY;
  size_t *block = malloc(bytes + 16);
  if (!block)
    return OUT_OF_MEMORY;
  block[0] = bytes;
  memoryInUse += bytes;
  ++allocations;
  *pointer = (CUdeviceptr)(uintptr_t)((char *)block + 16);
  return SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  size_t *block = (size_t *)((char *)(uintptr_t)pointer - 16);
  memoryInUse -= block[0];
  ++frees;
  free(block);
  return SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr to, const void *from, size_t bytes) {
  memcpy((void *)(uintptr_t)to, from, bytes);
  return SUCCESS;
}
CUresult cuMemcpyDtoH_v2(void *to, CUdeviceptr from, size_t bytes) {
  memcpy(to, (const void *)(uintptr_t)from, bytes);
  return SUCCESS;
}
CUresult cuMemcpyAsync(CUdeviceptr to, CUdeviceptr from, size_t bytes,
                       void *stream) {
  (void)stream;
  memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return SUCCESS;
}
CUresult cuMemsetD32Async(CUdeviceptr to, unsigned value, size_t count,
                          void *stream) {
  (void)stream;
  for (size_t i = 0; i < count; ++i)
    ((unsigned *)(uintptr_t)to)[i] = value;
  return SUCCESS;
}
CUresult cuMemsetD16Async(CUdeviceptr to, unsigned short value, size_t count,
                          void *stream) {
  (void)stream;
  for (size_t i = 0; i < count; ++i)
    ((unsigned short *)(uintptr_t)to)[i] = value;
  return SUCCESS;
}

static int fakeModule;
CUresult cuModuleLoadData(void **module, const void *image) {
  long error = envLong("FAKE_CUDA_MODULE_ERROR", 0);
  if (error)
    return (CUresult)error;
  if (!getenv("FAKE_CUDA_ANY_IMAGE") &&
      strcmp((const char *)image, "QAF-FAKE-CUBIN") != 0)
    return INVALID_IMAGE;
  *module = &fakeModule;
  return SUCCESS;
}
CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count,
                            int *options, void **values) {
  (void)count, (void)options, (void)values;
  return cuModuleLoadData(module, image);
}
CUresult cuModuleUnload(void *module) {
  return module == &fakeModule ? SUCCESS : INVALID_VALUE;
}

static const char *const kKernels[] = {"add_rows_f32", "mul_f32", "inc_i64",
                                       "sum_f32", "(does nothing)"};
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  if (module != &fakeModule)
    return INVALID_VALUE;
  for (size_t i = 0; i < sizeof(kKernels) / sizeof(kKernels[0]); ++i)
    if (strcmp(name, kKernels[i]) == 0) {
      *function = (void *)&kKernels[i];
      return SUCCESS;
    }
  if (!getenv("FAKE_CUDA_ANY_IMAGE"))
    return NOT_FOUND;
  *function = (void *)&kKernels[sizeof(kKernels) / sizeof(kKernels[0]) - 1];
  return SUCCESS;
}
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  (void)function, (void)attribute, (void)value;
  return SUCCESS;
}

#define ARG(type, i) (*(type *)params[i])
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  (void)gx, (void)gy, (void)gz, (void)bx, (void)by, (void)bz, (void)smem;
  (void)stream, (void)extra;
  long error = envLong("FAKE_CUDA_LAUNCH_ERROR", 0);
  if (error)
    return (CUresult)error;
  const char *name = *(const char *const *)function;
  if (strcmp(name, "add_rows_f32") == 0) {
    const float *a = ARG(float *, 0), *b = ARG(float *, 1);
    float *c = ARG(float *, 2);
    for (int64_t i = 0; i < ARG(int64_t, 3); ++i)
      c[i] = a[i] + b[i % ARG(int64_t, 4)];
  } else if (strcmp(name, "mul_f32") == 0) {
    for (int64_t i = 0; i < ARG(int64_t, 3); ++i)
      ARG(float *, 2)[i] = ARG(float *, 0)[i] * ARG(float *, 1)[i];
  } else if (strcmp(name, "inc_i64") == 0) {
    ARG(int64_t *, 0)[0] += 1;
  } else if (strcmp(name, "sum_f32") == 0) {
    float sum = 0;
    for (int64_t i = 0; i < ARG(int64_t, 2); ++i)
      sum += ARG(float *, 0)[i];
    ARG(float *, 1)[0] = sum;
  }
  return SUCCESS;
}

static int fakeStream, fakeEvent;
CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = &fakeStream;
  return SUCCESS;
}
CUresult cuStreamDestroy_v2(void *stream) {
  (void)stream;
  return SUCCESS;
}
CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return (CUresult)envLong("FAKE_CUDA_SYNC_ERROR", 0);
}
CUresult cuStreamWaitEvent(void *stream, void *event, unsigned flags) {
  (void)stream, (void)event, (void)flags;
  return SUCCESS;
}
CUresult cuEventCreate(void **event, unsigned flags) {
  (void)flags;
  *event = &fakeEvent;
  return SUCCESS;
}
CUresult cuEventDestroy_v2(void *event) {
  (void)event;
  return SUCCESS;
}
CUresult cuEventRecord(void *event, void *stream) {
  (void)event, (void)stream;
  return SUCCESS;
}
CUresult cuEventSynchronize(void *event) {
  (void)event;
  return SUCCESS;
}
