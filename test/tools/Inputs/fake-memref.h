/*===- fake-memref.h - memref descriptors of the hand-written libraries --===//
 *
 * Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
 *
 * The memref descriptors of docs/artifact-abi.md, ranks 0 to 4, for the
 * hand-written artifact libraries of the runtime tests (fake-model.c,
 * fake-trainer.c).
 *
 *===----------------------------------------------------------------------===*/

#ifndef QAF_TEST_FAKE_MEMREF_H
#define QAF_TEST_FAKE_MEMREF_H

#include <stdint.h>

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
} MemRef0;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} MemRef1;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} MemRef2;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} MemRef3;

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} MemRef4;

#endif /* QAF_TEST_FAKE_MEMREF_H */
