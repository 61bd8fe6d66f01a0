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
#endif

} // namespace

/// dst[c, r] (+)= src[r, c] for r < rows, c < cols: 8 x 8 tiles with AVX2,
/// element by element at the edges (the same single add when accumulating).
void transposeMatrix(const float *src, int64_t lds, int64_t rows, int64_t cols,
                     float *dst, int64_t ldd, bool accumulate, Isa isa) {
  int64_t tiledRows = 0, tiledCols = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (isa != Isa::Generic) {
    tiledRows = rows / 8 * 8;
    tiledCols = cols / 8 * 8;
    for (int64_t r = 0; r < tiledRows; r += 8)
      for (int64_t c = 0; c < tiledCols; c += 8)
        transposeTile8(src + r * lds + c, lds, dst + c * ldd + r, ldd,
                       accumulate);
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
