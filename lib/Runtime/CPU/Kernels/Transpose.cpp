//===- Transpose.cpp - transposing copies for the kernels -----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One transposing copy for every kernel that needs one: the quantized linear
// kernel's xᵀ and output tiles, and the GEMM's packing of transposed operands
// (op(A) = Aᵀ, op(B) = Bᵀ).
//
//===----------------------------------------------------------------------===//

#include "SgemmInternal.h"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace qaf {
namespace cpu {
namespace {

#if defined(__x86_64__) || defined(__i386__)
/// dst[c, r] (+)= src[r, c] for an 8 x 8 tile.
__attribute__((target("avx2,fma"))) void transposeTile8(const float *src,
                                                        int64_t lds, float *dst,
                                                        int64_t ldd,
                                                        bool accumulate) {
  __m256 row[8], pair[8];
  for (int r = 0; r < 8; ++r)
    row[r] = _mm256_loadu_ps(src + r * lds);
  for (int r = 0; r < 8; r += 2) {
    pair[r] = _mm256_unpacklo_ps(row[r], row[r + 1]);
    pair[r + 1] = _mm256_unpackhi_ps(row[r], row[r + 1]);
  }
  for (int r = 0; r < 8; r += 4) {
    row[r] = _mm256_shuffle_ps(pair[r], pair[r + 2], 0x44);
    row[r + 1] = _mm256_shuffle_ps(pair[r], pair[r + 2], 0xEE);
    row[r + 2] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], 0x44);
    row[r + 3] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    __m256 low = _mm256_permute2f128_ps(row[c], row[c + 4], 0x20);
    __m256 high = _mm256_permute2f128_ps(row[c], row[c + 4], 0x31);
    if (accumulate) {
      low = _mm256_add_ps(_mm256_loadu_ps(dst + c * ldd), low);
      high = _mm256_add_ps(_mm256_loadu_ps(dst + (c + 4) * ldd), high);
    }
    _mm256_storeu_ps(dst + c * ldd, low);
    _mm256_storeu_ps(dst + (c + 4) * ldd, high);
  }
}

/// dst[c, r] (+)= src[r, c] for a 16 x 16 tile: each row of dst one whole
/// 64-byte line, which halves the stores (and the partial-line writes) of
/// two 8 x 8 tiles side by side.
__attribute__((target("avx512f"))) void transposeTile16(const float *src,
                                                        int64_t lds, float *dst,
                                                        int64_t ldd,
                                                        bool accumulate) {
  __m512 row[16], mix[16];
  for (int r = 0; r < 16; ++r)
    row[r] = _mm512_loadu_ps(src + r * lds);
  // Pairs of rows interleaved, then pairs of pairs: each 128-bit lane holds
  // a transposed 4 x 4 block.
  for (int r = 0; r < 16; r += 2) {
    mix[r] = _mm512_unpacklo_ps(row[r], row[r + 1]);
    mix[r + 1] = _mm512_unpackhi_ps(row[r], row[r + 1]);
  }
  for (int r = 0; r < 16; r += 4) {
    row[r] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(mix[r]),
                                                 _mm512_castps_pd(mix[r + 2])));
    row[r + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(
        _mm512_castps_pd(mix[r]), _mm512_castps_pd(mix[r + 2])));
    row[r + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(
        _mm512_castps_pd(mix[r + 1]), _mm512_castps_pd(mix[r + 3])));
    row[r + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(
        _mm512_castps_pd(mix[r + 1]), _mm512_castps_pd(mix[r + 3])));
  }
  // The 4 x 4 blocks moved to their places by 128-bit lanes.
  for (int half = 0; half < 16; half += 8)
    for (int r = 0; r < 4; ++r) {
      mix[half + r] =
          _mm512_shuffle_f32x4(row[half + r], row[half + r + 4], 0x88);
      mix[half + r + 4] =
          _mm512_shuffle_f32x4(row[half + r], row[half + r + 4], 0xDD);
    }
  for (int c = 0; c < 8; ++c) {
    row[c] = _mm512_shuffle_f32x4(mix[c], mix[c + 8], 0x88);
    row[c + 8] = _mm512_shuffle_f32x4(mix[c], mix[c + 8], 0xDD);
  }
  for (int c = 0; c < 16; ++c) {
    __m512 column = row[c];
    if (accumulate)
      column = _mm512_add_ps(_mm512_loadu_ps(dst + c * ldd), column);
    _mm512_storeu_ps(dst + c * ldd, column);
  }
}
#endif

} // namespace

/// dst[c, r] (+)= src[r, c] for r < rows, c < cols: 16 x 16 tiles with
/// AVX-512, 8 x 8 tiles with AVX2 (and for AVX-512's 8-aligned remainder),
/// element by element at the edges (the same single add when accumulating).
void transposeMatrix(const float *src, int64_t lds, int64_t rows, int64_t cols,
                     float *dst, int64_t ldd, bool accumulate, Isa isa) {
  int64_t tiledRows = 0, tiledCols = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (isa != Isa::Generic) {
    auto tile8 = [&](int64_t r, int64_t c) {
      transposeTile8(src + r * lds + c, lds, dst + c * ldd + r, ldd,
                     accumulate);
    };
    int64_t rows16 = 0, cols16 = 0;
    if (isa == Isa::Avx512) {
      rows16 = rows / 16 * 16;
      cols16 = cols / 16 * 16;
      for (int64_t r = 0; r < rows16; r += 16)
        for (int64_t c = 0; c < cols16; c += 16)
          transposeTile16(src + r * lds + c, lds, dst + c * ldd + r, ldd,
                          accumulate);
    }
    tiledRows = rows / 8 * 8;
    tiledCols = cols / 8 * 8;
    // Right of the 16 x 16 tiles, then below them.
    for (int64_t r = 0; r < rows16; r += 8)
      for (int64_t c = cols16; c < tiledCols; c += 8)
        tile8(r, c);
    for (int64_t r = rows16; r < tiledRows; r += 8)
      for (int64_t c = 0; c < tiledCols; c += 8)
        tile8(r, c);
  }
#endif
  (void)isa;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = r < tiledRows ? tiledCols : 0; c < cols; ++c) {
      float value = src[r * lds + c];
      dst[c * ldd + r] = accumulate ? dst[c * ldd + r] + value : value;
    }
}

} // namespace cpu
} // namespace qaf
