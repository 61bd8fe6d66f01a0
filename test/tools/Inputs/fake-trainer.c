/*===- fake-trainer.c - a hand-written training artifact for qaf-run -----===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * Implements the training convention (include/qaf/Runtime/
 * TrainingEntryPoints.h) by hand, so that qaf-run train/eval can be tested
 * without the compiler (manifest: fake-trainer/manifest.json; files and the
 * numpy oracle: trainer_files.py). A unigram model over 8 tokens: every
 * position predicts softmax(prior + bias), prior a weight, bias trained
 * with momentum (bias_velocity is the optimizer state):
 *   infer(prior; bias; input_ids: i64[b, s]) -> logits: f32[b, s, 8]
 *   train_step(prior; bias, bias_velocity; input_ids, labels: i64[b, s],
 *              step: i64[], learning_rate: f32[])
 *       -> loss: f32[] (before the update), learning_rate: f32[] (used)
 *   eval_step(prior; bias; input_ids, labels)
 *       -> loss_sum: f64[], token_count: i64[]
 * With FAKE_TRAINER_STEP_MS set, each train step also sleeps that long, so
 * that a test can kill a run in the middle.
 *
 *===----------------------------------------------------------------------===*/

/* nanosleep. */
#define _POSIX_C_SOURCE 200809L

#include "fake-memref.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define VOCAB 8

const char qaf_artifact_fingerprint[] = "trainer-0001";

/* The batch dimension of train_step's and eval_step's inputs: symbolic,
 * or static when a test compiles with -DSTEP_BATCH='"2"' (and edits the
 * manifest to match). */
#ifndef STEP_BATCH
#define STEP_BATCH "\"batch\""
#endif

/* The entry points of fake-trainer/manifest.json; the hashes are those of
 * the files trainer_files.py writes (computed with the xxhash package). */
const char qaf_artifact_abi[] =
    "{\"format\":\"qaf-library-abi\",\"version\":1,"
    "\"fingerprint\":\"trainer-0001\","
    "\"weights_hash\":\"0xe0292bda4f9403f1\","
    "\"parameters_hash\":\"0x81ea026310c225d3\","
    "\"entry_points\":["
    "{\"name\":\"infer\",\"symbol\":\"qaf_entry_infer\","
    "\"weights\":[{\"name\":\"prior\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"parameters\":[{\"name\":\"bias\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"inputs\":[{\"name\":\"input_ids\",\"dtype\":\"int64\",\"shape\":[\"batch\",\"seq\"]}],"
    "\"outputs\":[{\"name\":\"logits\",\"dtype\":\"float32\",\"shape\":[\"batch\",\"seq\",8]}]},"
    "{\"name\":\"train_step\",\"symbol\":\"qaf_entry_train_step\","
    "\"weights\":[{\"name\":\"prior\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"parameters\":[{\"name\":\"bias\",\"dtype\":\"float32\",\"shape\":[8]},"
    "{\"name\":\"bias_velocity\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"inputs\":[{\"name\":\"input_ids\",\"dtype\":\"int64\",\"shape\":[" STEP_BATCH ",\"seq\"]},"
    "{\"name\":\"labels\",\"dtype\":\"int64\",\"shape\":[" STEP_BATCH ",\"seq\"]},"
    "{\"name\":\"step\",\"dtype\":\"int64\",\"shape\":[]},"
    "{\"name\":\"learning_rate\",\"dtype\":\"float32\",\"shape\":[]}],"
    "\"outputs\":[{\"name\":\"loss\",\"dtype\":\"float32\",\"shape\":[]},"
    "{\"name\":\"learning_rate\",\"dtype\":\"float32\",\"shape\":[]}]},"
    "{\"name\":\"eval_step\",\"symbol\":\"qaf_entry_eval_step\","
    "\"weights\":[{\"name\":\"prior\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"parameters\":[{\"name\":\"bias\",\"dtype\":\"float32\",\"shape\":[8]}],"
    "\"inputs\":[{\"name\":\"input_ids\",\"dtype\":\"int64\",\"shape\":[" STEP_BATCH ",\"seq\"]},"
    "{\"name\":\"labels\",\"dtype\":\"int64\",\"shape\":[" STEP_BATCH ",\"seq\"]}],"
    "\"outputs\":[{\"name\":\"loss_sum\",\"dtype\":\"float64\",\"shape\":[]},"
    "{\"name\":\"token_count\",\"dtype\":\"int64\",\"shape\":[]}]}"
    "]}";

/* The runtime passes parameters, weights and inputs contiguous. */
#define DATA(type, m) ((type *)(m)->aligned + (m)->offset)

static void softmax(const MemRef1 *prior, const MemRef1 *bias,
                    double p[VOCAB]) {
  double logits[VOCAB], max = -INFINITY, sum = 0;
  for (int j = 0; j < VOCAB; ++j) {
    logits[j] = (double)DATA(float, prior)[j] + (double)DATA(float, bias)[j];
    if (logits[j] > max)
      max = logits[j];
  }
  for (int j = 0; j < VOCAB; ++j)
    sum += (p[j] = exp(logits[j] - max));
  for (int j = 0; j < VOCAB; ++j)
    p[j] /= sum;
}

/* The summed token loss -log p[label] over `labels`; counts each label into
 * `counts` when it is not null. */
static double sumLoss(const double p[VOCAB], const MemRef2 *labels,
                      double counts[VOCAB]) {
  int64_t count = labels->sizes[0] * labels->sizes[1];
  double loss = 0;
  for (int64_t i = 0; i < count; ++i) {
    int64_t label = DATA(int64_t, labels)[i];
    loss -= log(p[label]);
    if (counts)
      counts[label] += 1;
  }
  return loss;
}

static void *scalar(MemRef0 *result, size_t bytes) {
  void *data = malloc(bytes);
  result->allocated = result->aligned = data;
  result->offset = 0;
  return data;
}

int32_t qaf_entry_infer(void **args) {
  MemRef3 *logits = (MemRef3 *)args[0];
  const MemRef1 *prior = (const MemRef1 *)args[1];
  const MemRef1 *bias = (const MemRef1 *)args[2];
  const MemRef2 *ids = (const MemRef2 *)args[3];
  int64_t rows = ids->sizes[0] * ids->sizes[1];
  float *data = malloc(sizeof(float) * (size_t)(rows * VOCAB + 1));
  for (int64_t i = 0; i < rows; ++i)
    for (int j = 0; j < VOCAB; ++j)
      data[i * VOCAB + j] = DATA(float, prior)[j] + DATA(float, bias)[j];
  logits->allocated = logits->aligned = data;
  logits->offset = 0;
  logits->sizes[0] = ids->sizes[0];
  logits->sizes[1] = ids->sizes[1];
  logits->sizes[2] = VOCAB;
  logits->strides[0] = ids->sizes[1] * VOCAB;
  logits->strides[1] = VOCAB;
  logits->strides[2] = 1;
  return 0;
}

int32_t qaf_entry_train_step(void **args) {
  MemRef0 *results = (MemRef0 *)args[0];
  const MemRef1 *prior = (const MemRef1 *)args[1];
  MemRef1 *bias = (MemRef1 *)args[2];
  MemRef1 *velocity = (MemRef1 *)args[3];
  const MemRef2 *labels = (const MemRef2 *)args[5];
  int64_t step = *DATA(int64_t, (const MemRef0 *)args[6]);
  float learningRate = *DATA(float, (const MemRef0 *)args[7]);
  int64_t count = labels->sizes[0] * labels->sizes[1];
  double p[VOCAB], counts[VOCAB] = {0};
  softmax(prior, bias, p);
  double loss = sumLoss(p, labels, counts);
  double rate = (double)learningRate / sqrt((double)step);
  for (int j = 0; j < VOCAB; ++j) {
    double gradient = p[j] - counts[j] / (double)count;
    float *v = &DATA(float, velocity)[j];
    *v = (float)(0.9 * (double)*v + gradient);
    float *b = &DATA(float, bias)[j];
    *b = (float)((double)*b - rate * (double)*v);
  }
  const char *sleepMs = getenv("FAKE_TRAINER_STEP_MS");
  if (sleepMs) {
    long ms = atol(sleepMs);
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
  }
  *(float *)scalar(&results[0], sizeof(float)) = (float)(loss / count);
  *(float *)scalar(&results[1], sizeof(float)) = (float)rate;
  return 0;
}

int32_t qaf_entry_eval_step(void **args) {
  MemRef0 *results = (MemRef0 *)args[0];
  const MemRef1 *prior = (const MemRef1 *)args[1];
  const MemRef1 *bias = (const MemRef1 *)args[2];
  const MemRef2 *labels = (const MemRef2 *)args[4];
  double p[VOCAB];
  softmax(prior, bias, p);
  *(double *)scalar(&results[0], sizeof(double)) = sumLoss(p, labels, NULL);
  *(int64_t *)scalar(&results[1], sizeof(int64_t)) =
      labels->sizes[0] * labels->sizes[1];
  return 0;
}

const char *qaf_last_error(void) { return ""; }
