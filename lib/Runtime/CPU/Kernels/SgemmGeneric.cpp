//===- SgemmGeneric.cpp - portable SGEMM path -----------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The path for CPUs without AVX2+FMA: SSE2 (every x86-64) or plain scalar
// code elsewhere, compiled for the baseline target. Without FMA a
// multiply-add needs a temporary register, so the 4 x 8 SSE tile uses 8
// accumulators, 2 registers of B, 1 of A and 1 temporary: 12 of 16 xmm.
//
//===----------------------------------------------------------------------===//

#include "SgemmInternal.h"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qaf {
namespace cpu {
namespace generic {

#if defined(__SSE2__)
struct Vec {
  static constexpr int W = 4;
  using V = __m128;
  static QAF_INLINE V zero() { return _mm_setzero_ps(); }
  static QAF_INLINE V load(const float *p) { return _mm_load_ps(p); }
  static QAF_INLINE V loadu(const float *p) { return _mm_loadu_ps(p); }
  static QAF_INLINE V bcast(const float *p) { return _mm_set1_ps(*p); }
  static QAF_INLINE V fmadd(V a, V b, V c) {
    return _mm_add_ps(_mm_mul_ps(a, b), c);
  }
  static QAF_INLINE V add(V a, V b) { return _mm_add_ps(a, b); }
  static QAF_INLINE void storeu(float *p, V v) { _mm_storeu_ps(p, v); }
  static QAF_INLINE void store(float *p, V v) { _mm_store_ps(p, v); }
  static QAF_INLINE V loadPartial(const float *p, int n) {
    alignas(16) float tmp[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(tmp, p, size_t(n) * sizeof(float));
    return _mm_load_ps(tmp);
  }
  static QAF_INLINE void storePartial(float *p, V v, int n) {
    alignas(16) float tmp[4];
    _mm_store_ps(tmp, v);
    std::memcpy(p, tmp, size_t(n) * sizeof(float));
  }
  static QAF_INLINE float reduce(V v) {
    alignas(16) float tmp[4];
    _mm_store_ps(tmp, v);
    return (tmp[0] + tmp[1]) + (tmp[2] + tmp[3]);
  }
  static QAF_INLINE void prefetch(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T0);
  }
  static QAF_INLINE void prefetchL2(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T1);
  }
};
constexpr int kVecRegs = 14; // 16 xmm less the multiply's temporary
#else
struct Vec {
  static constexpr int W = 1;
  using V = float;
  static QAF_INLINE V zero() { return 0.0f; }
  static QAF_INLINE V load(const float *p) { return *p; }
  static QAF_INLINE V loadu(const float *p) { return *p; }
  static QAF_INLINE V bcast(const float *p) { return *p; }
  static QAF_INLINE V fmadd(V a, V b, V c) { return a * b + c; }
  static QAF_INLINE V add(V a, V b) { return a + b; }
  static QAF_INLINE void storeu(float *p, V v) { *p = v; }
  static QAF_INLINE void store(float *p, V v) { *p = v; }
  static QAF_INLINE V loadPartial(const float *p, int n) {
    return n > 0 ? *p : 0.0f;
  }
  static QAF_INLINE void storePartial(float *p, V v, int n) {
    if (n > 0)
      *p = v;
  }
  static QAF_INLINE float reduce(V v) { return v; }
  static QAF_INLINE void prefetch(const float *) {}
  static QAF_INLINE void prefetchL2(const float *) {}
};
constexpr int kVecRegs = 16;
#endif

constexpr int kMR = 4;
constexpr int kNV = Vec::W == 1 ? 4 : 2;
constexpr int kKcMax = 256;
constexpr int kSmallMax = 4;
constexpr int kSmallAcc = 8;
constexpr int kDotRows = 0;

constexpr Isa kIsa = Isa::Generic;

#include "SgemmImpl.inc"

} // namespace generic

const KernelSet kGenericKernels = {"generic", generic::kMR, generic::kNR,
                                   generic::kKcMax, &generic::gemm};
} // namespace cpu
} // namespace qaf
