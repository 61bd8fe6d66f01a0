/*===- fake-cuda-model.c - a hand-written cuda artifact library ----------===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * A cuda model.so as MLIR's GPU host lowering generates it
 * (docs/artifact-abi.md, "CUDA target"): a constructor loads the embedded
 * GPU binary with mgpuModuleLoad, entry points take memref descriptors of
 * device pointers, launch kernels through mgpu* (left undefined here, bound
 * to libQAFCudaRuntime.so at load) and return results allocated with
 * mgpuMemAlloc. The "binary" is the image fake-libcuda.c accepts, whose
 * kernels run on the host, or kernels.ptx assembled for a real GPU
 * (gpu_artifact.py). Entry points (manifest in
 * fake-cuda-artifact/manifest.json):
 *   infer(w: f32[4]; x: f32[batch, 4]) -> y = x + w : f32[batch, 4]
 *   train_step(w: f32[4]; parameters p: f32[4], step: i64[]; g: f32[4])
 *       -> loss = sum(p) : f32[], after p += g * w and step += 1 in place
 *          (through a temporary freed on the stream, as a step's are)
 *   decode(w: f32[4]; x: f32[1, sequence_length, 4],
 *          past: f32[1, 1, past_sequence_length, 4], qaf.cache_length: i64[])
 *       -> y = the sum of the cache's first past + sequence_length
 *          positions : f32[], after x is written into them at the past's
 *          end (present, written into past: a KV cache kept in place)
 * Its description of itself shares the weights and parameters of
 * ../fake-model.c (make_tensors.py writes them), and so their hashes.
 *
 *===----------------------------------------------------------------------===*/

#include "../fake-memref.h"

#include <stddef.h>
#include <stdint.h>

void *mgpuModuleLoad(void *data, size_t size);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemory, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, _Bool isHostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *destination, void *source, size_t bytes, void *stream);

const char qaf_artifact_fingerprint[] = "fake-0001";

const char qaf_artifact_abi[] =
    "{\"format\":\"qaf-library-abi\",\"version\":1,"
    "\"fingerprint\":\"fake-0001\","
    "\"weights_hash\":\"0xd9ead35d2b3952ff\","
    "\"parameters_hash\":\"0x59b119d5925e8633\","
    "\"entry_points\":["
    "{\"name\":\"infer\",\"symbol\":\"qaf_entry_infer\","
    "\"weights\":[{\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}"
    "],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]"
    "}]},"
    "{\"name\":\"train_step\",\"symbol\":\"qaf_entry_train_step\","
    "\"weights\":[{\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"parameters\":[{\"name\":\"p\",\"dtype\":\"float32\",\"shape\":[4]},"
    "{\"name\":\"step\",\"dtype\":\"int64\",\"shape\":[]}],"
    "\"inputs\":[{\"name\":\"g\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"outputs\":[{\"name\":\"loss\",\"dtype\":\"float32\",\"shape\":[]}]},"
    "{\"name\":\"decode\",\"symbol\":\"qaf_entry_decode\","
    "\"weights\":[{\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\","
    "\"shape\":[1,\"sequence_length\",4]},"
    "{\"name\":\"past\",\"dtype\":\"float32\","
    "\"shape\":[1,1,\"past_sequence_length\",4]},"
    "{\"name\":\"qaf.cache_length\",\"dtype\":\"int64\",\"shape\":[]}],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[]},"
    "{\"name\":\"present\",\"dtype\":\"float32\","
    "\"shape\":[1,1,\"past_sequence_length + sequence_length\",4],"
    "\"written_into\":\"past\"}]}"
    "]}";

const char *qaf_last_error(void) { return ""; }

/* The GPU binary: a real cubin when gpu_artifact.py builds the library
 * (a header defining kBinary), else the image fake-libcuda.c accepts. */
#ifdef QAF_TEST_GPU_BINARY
#include QAF_TEST_GPU_BINARY
#else
static const char kBinary[] = "QAF-FAKE-CUBIN";
#endif
static void *module;

/* MLIR registers the module's load and unload with priority 123. */
__attribute__((constructor(123))) static void loadModule(void) {
  module = mgpuModuleLoad((void *)kBinary, sizeof(kBinary));
}
__attribute__((destructor(123))) static void unloadModule(void) {
  mgpuModuleUnload(module);
}

static void launch(const char *kernel, void **params, size_t count,
                   void *stream) {
  void *function = mgpuModuleGetFunction(module, kernel);
  mgpuLaunchKernel(function, 1, 1, 1, 128, 1, 1, 0, stream, params, NULL,
                   count);
}

int32_t qaf_entry_infer(void **args) {
  MemRef2 *y = args[0];
  MemRef1 *w = args[1];
  MemRef2 *x = args[2];
  int64_t batch = x->sizes[0], n = batch * 4, m = 4;
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc((uint64_t)n * sizeof(float), stream, 0);
  void *a = x->aligned, *b = w->aligned, *c = out;
  void *params[] = {&a, &b, &c, &n, &m};
  launch("add_rows_f32", params, 5, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *y = (MemRef2){out, out, 0, {batch, 4}, {4, 1}};
  return 0;
}

int32_t qaf_entry_train_step(void **args) {
  MemRef0 *loss = args[0];
  MemRef1 *w = args[1], *p = args[2];
  MemRef0 *step = args[3];
  MemRef1 *g = args[4];
  int64_t n = 4, m = 4;
  void *stream = mgpuStreamCreate();
  float *update = mgpuMemAlloc(4 * sizeof(float), stream, 0);
  float *sum = mgpuMemAlloc(sizeof(float), stream, 0);
  void *gp = g->aligned, *wp = w->aligned, *pp = p->aligned,
       *stepp = step->aligned;
  void *product[] = {&gp, &wp, &update, &n};
  launch("mul_f32", product, 4, stream);
  void *accumulate[] = {&pp, &update, &pp, &n, &m};
  launch("add_rows_f32", accumulate, 5, stream);
  void *increment[] = {&stepp};
  launch("inc_i64", increment, 1, stream);
  void *total[] = {&pp, &sum, &n};
  launch("sum_f32", total, 3, stream);
  mgpuMemFree(update, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *loss = (MemRef0){sum, sum, 0};
  return 0;
}

int32_t qaf_entry_decode(void **args) {
  MemRef0 *y = args[0];
  MemRef3 *x = args[2];
  MemRef4 *past = args[3];
  MemRef0 *length = args[4];
  int64_t sequence = x->sizes[1];
  void *stream = mgpuStreamCreate();
  /* The position staged to the host, as generated code reads a device
   * scalar it needs for a size. */
  int64_t position = 0;
  mgpuMemcpy(&position, length->aligned, sizeof(position), stream);
  mgpuStreamSynchronize(stream);
  int64_t n = (position + sequence) * 4;
  mgpuMemcpy((float *)past->aligned + position * 4, x->aligned,
             (size_t)sequence * 4 * sizeof(float), stream);
  float *sum = mgpuMemAlloc(sizeof(float), stream, 0);
  void *cache = past->aligned;
  void *total[] = {&cache, &sum, &n};
  launch("sum_f32", total, 3, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *y = (MemRef0){sum, sum, 0};
  return 0;
}
