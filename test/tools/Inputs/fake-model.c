/*===- fake-model.c - a hand-written artifact library for runtime tests ---===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * Implements docs/artifact-abi.md by hand, as generated code would, so the
 * runtime can be tested without the compiler. Entry points (manifest in
 * fake-artifact/manifest.json):
 *   infer(w: f32[4]; x: f32[batch, 4], scale: i64[batch])
 *       -> y = (x + w) * scale[:, None] : f32[batch, 4],
 *          positive = y > 0 : bool[batch, 4]
 *   threads() -> count: i32[] (the count set through omp_set_num_threads)
 *   transpose(x: f32[batch, 4]) -> xt: f32[4, batch], returned strided
 *   bad_shape(x: f32[batch, 4]) -> y: f32[batch, 5], the manifest says 4
 *   alias(x: f32[batch, 4]) -> y, returned in the memory of x
 *   train_step(w: f32[4]; parameters p: f32[4], step: i64[]; g: f32[4])
 *       -> loss = sum(p) : f32[], after updating in place p += g * w and
 *          step += 1
 *   eval_step(parameters p: f32[4]; x: f32[batch, 4]) -> y = x + p
 * (arguments: weights, then parameters, then inputs).
 * The library defines omp_set_num_threads/omp_get_max_threads itself, so
 * the runtime's thread setting is visible without an OpenMP runtime (the
 * loader looks them up in the library with dlsym). Entry points return 0
 * (no check fails here); qaf_last_error is the error channel's.
 *
 *===----------------------------------------------------------------------===*/

#include "fake-memref.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_FINGERPRINT
#define FAKE_FINGERPRINT "fake-0001"
#endif

const char qaf_artifact_fingerprint[] = FAKE_FINGERPRINT;

#ifdef FAKE_CONSTRUCTOR_MARKER
#include <stdio.h>
/* Shows whether the library was ever loaded: dlopen runs constructors. */
__attribute__((constructor)) static void markLoaded(void) {
  FILE *marker = fopen(FAKE_CONSTRUCTOR_MARKER, "w");
  if (marker)
    fclose(marker);
}
#endif

#ifndef FAKE_WITHOUT_ABI
/* What the library says about itself (docs/artifact-abi.md): the entry
 * points of fake-artifact/manifest.json and the content hashes of the
 * tensors make_tensors.py writes (xxh3-64 of each tensor's bytes, combined;
 * computed with the reference xxhash package). The runtime refuses a
 * manifest that disagrees. */
/* The name of infer's second output (a test renames it). */
#ifndef FAKE_POSITIVE_NAME
#define FAKE_POSITIVE_NAME "positive"
#endif
#ifndef FAKE_WEIGHTS_HASH
#define FAKE_WEIGHTS_HASH "0xd9ead35d2b3952ff"
#endif

const char qaf_artifact_abi[] =
    "{\"format\":\"qaf-library-abi\",\"version\":1,"
    "\"fingerprint\":\"" FAKE_FINGERPRINT "\","
    "\"weights_hash\":\"" FAKE_WEIGHTS_HASH "\","
    "\"parameters_hash\":\"0x59b119d5925e8633\","
    "\"entry_points\":["
    "{\"name\":\"infer\",\"symbol\":\"qaf_entry_infer\","
    "\"weights\":[{\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]},{\"name\":\"scale\",\"dtype\":\"int64\",\"shape\":[\"batch\"]}],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]},{\"name\":\"" FAKE_POSITIVE_NAME "\",\"dtype\":\"bool\",\"shape\":[\"batch\",4]}]},"
    "{\"name\":\"threads\",\"symbol\":\"qaf_entry_threads\","
    "\"weights\":[],"
    "\"parameters\":[],"
    "\"inputs\":[],"
    "\"outputs\":[{\"name\":\"count\",\"dtype\":\"int32\",\"shape\":[]}]},"
    "{\"name\":\"transpose\",\"symbol\":\"qaf_entry_transpose\","
    "\"weights\":[],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[null,4]}],"
    "\"outputs\":[{\"name\":\"xt\",\"dtype\":\"float32\",\"shape\":[4,null]}]},"
    "{\"name\":\"bad_shape\",\"symbol\":\"qaf_entry_bad_shape\","
    "\"weights\":[],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}]},"
    "{\"name\":\"alias\",\"symbol\":\"qaf_entry_alias\","
    "\"weights\":[],"
    "\"parameters\":[],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}]},"
    "{\"name\":\"train_step\",\"symbol\":\"qaf_entry_train_step\","
    "\"weights\":[{\"name\":\"w\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"parameters\":[{\"name\":\"p\",\"dtype\":\"float32\",\"shape\":[4]},{\"name\":\"step\",\"dtype\":\"int64\",\"shape\":[]}],"
    "\"inputs\":[{\"name\":\"g\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"outputs\":[{\"name\":\"loss\",\"dtype\":\"float32\",\"shape\":[]}]},"
    "{\"name\":\"eval_step\",\"symbol\":\"qaf_entry_eval_step\","
    "\"weights\":[],"
    "\"parameters\":[{\"name\":\"p\",\"dtype\":\"float32\",\"shape\":[4]}],"
    "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}],"
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[\"batch\",4]}]}"
    "]}";
#endif

static int threadCount = 1;
void omp_set_num_threads(int count) { threadCount = count; }
int omp_get_max_threads(void) { return threadCount; }

static void setContiguous2(MemRef2 *result, void *data, int64_t rows,
                           int64_t cols) {
  result->allocated = data;
  result->aligned = data;
  result->offset = 0;
  result->sizes[0] = rows;
  result->sizes[1] = cols;
  result->strides[0] = cols;
  result->strides[1] = 1;
}

/* The element at [i, j] of a rank-2 descriptor, honouring its strides. */
static float load2(const MemRef2 *m, int64_t i, int64_t j) {
  const float *base = (const float *)m->aligned + m->offset;
  return base[i * m->strides[0] + j * m->strides[1]];
}

int32_t qaf_entry_infer(void **args) {
  MemRef2 *results = (MemRef2 *)args[0];
  const MemRef1 *w = (const MemRef1 *)args[1];
  const MemRef2 *x = (const MemRef2 *)args[2];
  const MemRef1 *scale = (const MemRef1 *)args[3];
  int64_t batch = x->sizes[0];
  float *y = malloc(sizeof(float) * (size_t)(batch * 4 + 1));
  unsigned char *positive = malloc((size_t)(batch * 4 + 1));
  const float *wData = (const float *)w->aligned + w->offset;
  const int64_t *scaleData = (const int64_t *)scale->aligned + scale->offset;
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      float value = (load2(x, i, j) + wData[j * w->strides[0]]) *
                    (float)scaleData[i * scale->strides[0]];
      y[i * 4 + j] = value;
      positive[i * 4 + j] = value > 0;
    }
  setContiguous2(&results[0], y, batch, 4);
  setContiguous2(&results[1], positive, batch, 4);
  return 0;
}

int32_t qaf_entry_threads(void **args) {
  MemRef0 *result = (MemRef0 *)args[0];
  int32_t *count = malloc(sizeof(int32_t));
  /* Read directly: a call to omp_get_max_threads could bind to a real
     OpenMP runtime already in the process (ELF interposition), while the
     loader's dlsym on this library finds the definition above. */
  *count = threadCount;
  result->allocated = count;
  result->aligned = count;
  result->offset = 0;
  return 0;
}

int32_t qaf_entry_transpose(void **args) {
  MemRef2 *result = (MemRef2 *)args[0];
  const MemRef2 *x = (const MemRef2 *)args[1];
  int64_t batch = x->sizes[0];
  /* One element of padding in front, to exercise a non-zero offset. */
  float *copy = malloc(sizeof(float) * (size_t)(batch * 4 + 1));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < 4; ++j)
      copy[1 + i * 4 + j] = load2(x, i, j);
  result->allocated = copy;
  result->aligned = copy;
  result->offset = 1;
  result->sizes[0] = 4;
  result->sizes[1] = batch;
  result->strides[0] = 1;
  result->strides[1] = 4;
  return 0;
}

int32_t qaf_entry_bad_shape(void **args) {
  MemRef2 *result = (MemRef2 *)args[0];
  const MemRef2 *x = (const MemRef2 *)args[1];
  int64_t batch = x->sizes[0];
  float *y = calloc((size_t)(batch * 5 + 1), sizeof(float));
  setContiguous2(result, y, batch, 5);
  return 0;
}

int32_t qaf_entry_alias(void **args) {
  MemRef2 *result = (MemRef2 *)args[0];
  const MemRef2 *x = (const MemRef2 *)args[1];
  *result = *x;
  return 0;
}

int32_t qaf_entry_train_step(void **args) {
  MemRef0 *result = (MemRef0 *)args[0];
  const MemRef1 *w = (const MemRef1 *)args[1];
  MemRef1 *p = (MemRef1 *)args[2];
  MemRef0 *step = (MemRef0 *)args[3];
  const MemRef1 *g = (const MemRef1 *)args[4];
  const float *wData = (const float *)w->aligned + w->offset;
  const float *gData = (const float *)g->aligned + g->offset;
  float *pData = (float *)p->aligned + p->offset;
  float *loss = malloc(sizeof(float));
  *loss = 0;
  for (int64_t j = 0; j < 4; ++j) {
    pData[j * p->strides[0]] +=
        gData[j * g->strides[0]] * wData[j * w->strides[0]];
    *loss += pData[j * p->strides[0]];
  }
  ++*((int64_t *)step->aligned + step->offset);
  result->allocated = loss;
  result->aligned = loss;
  result->offset = 0;
  return 0;
}

int32_t qaf_entry_eval_step(void **args) {
  MemRef2 *result = (MemRef2 *)args[0];
  const MemRef1 *p = (const MemRef1 *)args[1];
  const MemRef2 *x = (const MemRef2 *)args[2];
  int64_t batch = x->sizes[0];
  const float *pData = (const float *)p->aligned + p->offset;
  float *y = malloc(sizeof(float) * (size_t)(batch * 4 + 1));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t j = 0; j < 4; ++j)
      y[i * 4 + j] = load2(x, i, j) + pData[j * p->strides[0]];
  setContiguous2(result, y, batch, 4);
  return 0;
}

const char *qaf_last_error(void) { return ""; }
