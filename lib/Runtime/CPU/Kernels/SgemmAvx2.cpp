//===- SgemmAvx2.cpp - SGEMM path for AVX2 + FMA --------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Register budget (16 ymm): a 6 x 16 tile is 12 accumulators, plus 2 ymm for
// the row of B and 1 for the broadcast of A: 15 of 16. Per k, 12 FMAs against
// 2 loads and 6 broadcasts; 12 independent chains cover the FMA latency of
// two pipes.
//
//===----------------------------------------------------------------------===//

#include "SgemmInternal.h"

#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))),              \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace qaf {
namespace cpu {
namespace avx2 {

/// Lane masks for partial loads and stores: the 8 ints at kMaskTable + 8 - n
/// are n times -1 then zeros.
alignas(64) constexpr int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};

struct Vec {
  static constexpr int W = 8;
  using V = __m256;
  static QAF_INLINE V zero() { return _mm256_setzero_ps(); }
  static QAF_INLINE V load(const float *p) { return _mm256_load_ps(p); }
  static QAF_INLINE V loadu(const float *p) { return _mm256_loadu_ps(p); }
  static QAF_INLINE V bcast(const float *p) { return _mm256_broadcast_ss(p); }
  static QAF_INLINE V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static QAF_INLINE V add(V a, V b) { return _mm256_add_ps(a, b); }
  static QAF_INLINE void storeu(float *p, V v) { _mm256_storeu_ps(p, v); }
  static QAF_INLINE void store(float *p, V v) { _mm256_store_ps(p, v); }
  static QAF_INLINE __m256i mask(int n) {
    return _mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(kMaskTable + 8 - n));
  }
  static QAF_INLINE V loadPartial(const float *p, int n) {
    return _mm256_maskload_ps(p, mask(n));
  }
  static QAF_INLINE void storePartial(float *p, V v, int n) {
    _mm256_maskstore_ps(p, mask(n), v);
  }
  static QAF_INLINE float reduce(V v) {
    __m128 s =
        _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static QAF_INLINE void prefetch(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T0);
  }
  static QAF_INLINE void prefetchL2(const float *p) {
    _mm_prefetch(reinterpret_cast<const char *>(p), _MM_HINT_T1);
  }
};

constexpr int kMR = 6;
constexpr int kNV = 2;
// A panel of 6 rows x 384 floats is 9 KiB of L1.
constexpr int kKcMax = 384;
constexpr int kSmallMax = 4;
constexpr int kSmallAcc = 12;
constexpr int kVecRegs = 16;
// Dot kernel of 2 rows x 4 columns: 8 accumulators, 4 of B, 1 of A.
constexpr int kDotRows = 2;

constexpr Isa kIsa = Isa::Avx2;

#include "SgemmImpl.inc"

} // namespace avx2
} // namespace cpu
} // namespace qaf

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace qaf {
namespace cpu {
const KernelSet kAvx2Kernels = {"avx2", avx2::kMR, avx2::kNR, avx2::kKcMax,
                                &avx2::gemm};
} // namespace cpu
} // namespace qaf

#endif // x86
