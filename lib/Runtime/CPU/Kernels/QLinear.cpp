//===- QLinear.cpp - quantized linear layers: y = x · dequant(W)ᵀ ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Two regimes, neither of which forms the whole dequantized weight:
//
//  - Few rows (decode, M < kTileRows): each output is a dot product that
//    streams the packed codes once. Per group G of a row,
//        y += s·Σ_{i∈G} (q'_i − z)·x_i,   q' = q (+ move)
//    the zero point subtracted from each code before the product. (The
//    cheaper s·(Σ q'·x − z·Σ x) cancels: with SmolLM2's outlier activations
//    the two sums are orders of magnitude above their difference, and the
//    float rounding of each lands in the result; test/unit's
//    QLinearKernelTest.OutlierActivationsDoNotCancel.) Memory-bound by
//    design: the bytes of the codes are the cost.
//  - Many rows (prefill): y = x · Wᵀ by the GEMM, each thread over its
//    share of W's rows, whose B panels are W dequantized straight into the
//    packed layout (DequantizingPacker): each weight is dequantized once per
//    call, 1/M of the product's cost, and no dequantized copy of W larger
//    than a panel is ever stored.
//
// With int8 activations (qaf_qlinear_int8, ONNX Runtime's accuracy_level
// 4) each regime has an AVX512-VNNI form that rounds x to int8 per group:
// rowDot4Int8Avx512 (few rows) and productInt8 (many).
//
// Both exact regimes compute w = s·((q + move) − z) with the code and zero
// point subtracted first; they round differently from each other, but each is
// deterministic and independent of the thread count, so a model and its
// merged counterpart (q + move stored as codes) agree bit for bit. A
// NormalFloat layer is the same with the code's value looked up in its
// codebook and no zero point: w = s·(codebook[q] − 0).
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include "SgemmInternal.h"

#include <algorithm>
#include <alloca.h>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <omp.h>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#define QAF_API extern "C" __attribute__((visibility("default")))

namespace qaf {
namespace cpu {
namespace {

constexpr int64_t kTileRows = 8;
constexpr int64_t kPanel = 64;

struct QuantizedWeight {
  const uint8_t *codes;
  int64_t codesStride;
  const float *scales;
  int64_t scalesStride;
  const float *zeros;
  int64_t zerosStride;
  const int8_t *moves; // may be null
  int64_t movesStride;
  const float *codebook; // NormalFloat: 2^bits values; null on an affine grid
  int bits;
  int64_t groupSize;
  /// What codes below 16 (bits <= 4) stand for: the code itself, or its
  /// codebook entry; the vector paths look codes up in it.
  alignas(64) float codeValues[16];

  float valueOf(uint8_t code) const {
    return codebook ? codebook[code] : float(code);
  }
  float zeroAt(int64_t row, int64_t group) const {
    return zeros ? zeros[row * zerosStride + group] : 0.0f;
  }
  /// Whether every row reads the same zero points (one row, stride 0, or
  /// none at all).
  bool hasSharedZeroRow() const { return !zeros || zerosStride == 0; }
};

/// Codes [begin, begin + count) of row `row` as one byte each (moved), for
/// a group start `begin` (a multiple of 8 / bits codes: groups are).
void unpackCodes(const QuantizedWeight &w, int64_t row, int64_t begin,
                 int64_t count, uint8_t *out) {
  const uint8_t *bytes = w.codes + row * w.codesStride + begin * w.bits / 8;
  if (w.bits == 8) {
    std::memcpy(out, bytes, count);
  } else if (w.bits == 4) {
    for (int64_t i = 0; i < count / 2; ++i) {
      out[2 * i] = bytes[i] & 0xF;
      out[2 * i + 1] = bytes[i] >> 4;
    }
  } else if (w.bits == 3) {
    // A bit stream: code i starts at bit 3i of the group; a group is whole
    // bytes, so a straddling code's second byte is inside it. Eight codes
    // are three whole bytes.
    int64_t whole = count / 8 * 8;
    for (int64_t i = 0; i < whole; i += 8) {
      const uint8_t *three = bytes + i / 8 * 3;
      uint32_t bits =
          three[0] | uint32_t(three[1]) << 8 | uint32_t(three[2]) << 16;
      for (int j = 0; j < 8; ++j)
        out[i + j] = uint8_t((bits >> (3 * j)) & 0x7);
    }
    for (int64_t i = whole; i < count; ++i) {
      int64_t bit = 3 * i;
      unsigned word = bytes[bit / 8];
      if (bit % 8 > 5)
        word |= unsigned(bytes[bit / 8 + 1]) << 8;
      out[i] = uint8_t((word >> (bit % 8)) & 0x7);
    }
  } else {
    for (int64_t i = 0; i < count / 4; ++i)
      for (int j = 0; j < 4; ++j)
        out[4 * i + j] = (bytes[i] >> (2 * j)) & 0x3;
  }
  if (w.moves) {
    const int8_t *moves = w.moves + row * w.movesStride + begin;
    for (int64_t i = 0; i < count; ++i)
      out[i] = uint8_t(int(out[i]) + moves[i]);
  }
}

/// Σ (value(codes[i]) − zero)·x[i].
float dotCodesGeneric(const QuantizedWeight &w, const uint8_t *codes,
                      float zero, const float *x, int64_t count) {
  float sum = 0;
  for (int64_t i = 0; i < count; ++i)
    sum += (w.valueOf(codes[i]) - zero) * x[i];
  return sum;
}

/// dst[i] = table[codes[i] & 15] for i < n. (Moves keep codes below 2^bits;
/// the mask keeps a bad one inside the table.)
void lookUpCodes(const uint8_t *codes, int64_t n, const float *table,
                 float *dst) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = table[codes[i] & 15];
}

#if defined(__x86_64__) || defined(__i386__)
/// lookUpCodes 16 codes at a time (vpermps reads each lane's low 4 bits).
__attribute__((target("avx512f"))) void lookUpCodesAvx512(const uint8_t *codes,
                                                          int64_t n,
                                                          const float *table,
                                                          float *dst) {
  const __m512 values = _mm512_loadu_ps(table);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i,
                     _mm512_permutexvar_ps(
                         _mm512_cvtepu8_epi32(_mm_loadu_si128(
                             reinterpret_cast<const __m128i *>(codes + i))),
                         values));
  lookUpCodes(codes + i, n - i, table, dst + i);
}
#endif

/// Codes [begin, begin + count) of row `row` dequantized, (q' − z)·s: a
/// run of whole groups, or any run from a multiple of 32 codes (where every
/// width's codes start on a byte) within the row, cut groups at its ends.
/// Group by group: codes of up to 4 bits are looked up in the group's 16
/// values (q − z)·s, each rounded as the expression rounds it.
void dequantizeGeneric(const QuantizedWeight &w, int64_t row, int64_t begin,
                       int64_t count, float *out, Isa isa) {
  constexpr int64_t kChunk = 256;
  uint8_t codes[kChunk];
  alignas(64) float table[16];
  for (int64_t start = begin, end = begin + count; start < end;) {
    int64_t g = start / w.groupSize;
    int64_t stop = std::min({end, (g + 1) * w.groupSize, start + kChunk});
    int64_t n = stop - start;
    unpackCodes(w, row, start, n, codes);
    float s = w.scales[row * w.scalesStride + g], z = w.zeroAt(row, g);
    float *dst = out + (start - begin);
    if (w.bits <= 4) {
      for (int c = 0; c < 16; ++c)
        table[c] = (w.codeValues[c] - z) * s;
#if defined(__x86_64__) || defined(__i386__)
      if (isa == Isa::Avx512)
        lookUpCodesAvx512(codes, n, table, dst);
      else
#endif
        lookUpCodes(codes, n, table, dst);
    } else if (w.codebook) {
      for (int64_t i = 0; i < n; ++i)
        dst[i] = (w.codebook[codes[i]] - z) * s;
    } else {
      for (int64_t i = 0; i < n; ++i)
        dst[i] = (float(codes[i]) - z) * s;
    }
    start = stop;
  }
}

#if defined(__x86_64__) || defined(__i386__)
/// 32 4-bit codes (16 bytes) in feature order, codes 0-15 in `first` and
/// 16-31 in `second`, plus LoTA's moves when given (SSE2, every x86-64).
inline __attribute__((always_inline)) void unpack32Codes(const uint8_t *bytes,
                                                         const int8_t *moves,
                                                         __m128i &first,
                                                         __m128i &second) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes));
  __m128i low = _mm_and_si128(packed, mask);
  __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  first = _mm_unpacklo_epi8(low, high);
  second = _mm_unpackhi_epi8(low, high);
  if (moves) {
    first = _mm_add_epi8(
        first, _mm_loadu_si128(reinterpret_cast<const __m128i *>(moves)));
    second = _mm_add_epi8(
        second, _mm_loadu_si128(reinterpret_cast<const __m128i *>(moves + 16)));
  }
}

/// 16 code bytes as 16 floats less `zero`: converted, or (with a codebook,
/// codes < 16) looked up in `centredValues`, the code values less `zero`.
__attribute__((target("avx512f,avx512bw"), always_inline)) inline __m512
centredValues16(const QuantizedWeight &w, const uint8_t *codes, __m512 zero,
                __m512 centredValues) {
  __m512i lanes = _mm512_cvtepu8_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i *>(codes)));
  if (w.codebook)
    return _mm512_permutexvar_ps(lanes, centredValues);
  return _mm512_sub_ps(_mm512_cvtepi32_ps(lanes), zero);
}

/// Σ (value(codes[i]) − zero)·x[i], count a multiple of 16.
__attribute__((target("avx512f,avx512bw"))) float
dotCodesAvx512(const QuantizedWeight &w, const uint8_t *codes, float zero,
               const float *x, int64_t count) {
  if (w.codebook && w.bits > 4)
    return dotCodesGeneric(w, codes, zero, x, count);
  const __m512 z = _mm512_set1_ps(zero);
  const __m512 centred = _mm512_sub_ps(_mm512_load_ps(w.codeValues), z);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    acc0 = _mm512_fmadd_ps(centredValues16(w, codes + i, z, centred),
                           _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(centredValues16(w, codes + i + 16, z, centred),
                           _mm512_loadu_ps(x + i + 16), acc1);
  }
  for (; i + 16 <= count; i += 16)
    acc0 = _mm512_fmadd_ps(centredValues16(w, codes + i, z, centred),
                           _mm512_loadu_ps(x + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < count; ++i)
    sum += (w.valueOf(codes[i]) - zero) * x[i];
  return sum;
}

/// 16 code bytes (each < 16 after any move) as their values less the zero
/// point, looked up in `centred` (the 16 code values less it).
__attribute__((target("avx512f,avx512bw"), always_inline)) inline __m512
lookUpCentred(__m128i codes, __m512 centred) {
  return _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(codes), centred);
}

/// Output n of a 4-bit layer, row n of W, straight from its packed row, 32
/// codes (16 bytes) per step, with x in split order: each run of 32
/// features stored as its 16 even then its 16 odd ones (splitEvenOddAvx512),
/// which is the order the nibbles land in when the bytes are widened to
/// lanes. LoTA's moves are split the same way, so a layer with moves adds
/// up exactly like its merged counterpart (q + move as codes). Each group's
/// products (q' − z)·x stay in vector lanes, scaled by the group's scale
/// into the row's lanes. One row at a time: interleaving four rows (four
/// code streams, each with its scales, sharing the loads of x) read 13-14
/// GB/s at 2 threads where one row reads 16-20 (qaf-bench-qlinear, groups
/// of 32): the code streams, not the arithmetic, bound this loop.
/// groupSize is a multiple of 32.
__attribute__((target("avx512f,avx512bw"))) float
rowDot4Avx512(const QuantizedWeight &w, int64_t n, const float *xSplit,
              int64_t groups) {
  // Even bytes to the low half, odd bytes to the high half.
  const __m128i evenOdd =
      _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512 codeValues = _mm512_load_ps(w.codeValues);
  const uint8_t *bytes = w.codes + n * w.codesStride;
  const int8_t *moves = w.moves ? w.moves + n * w.movesStride : nullptr;
  __m512 row = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    // q − z for each of the 16 codes (codebook[q] − 0 for NormalFloat),
    // looked up by code (vpermps reads the low 4 bits of each lane): one
    // instruction where converting the code and subtracting z take two,
    // with the same float subtraction.
    __m512 centred = _mm512_sub_ps(codeValues, _mm512_set1_ps(w.zeroAt(n, g)));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t i = g * w.groupSize, end = i + w.groupSize; i < end; i += 32) {
      // Widened as they are loaded: the low nibbles (the lookup's index
      // bits) are the even codes, the high nibbles the odd ones.
      // The stream 1 KB ahead (into the next rows: W's rows are adjacent),
      // which the hardware prefetchers alone leave 10 % slower.
      _mm_prefetch(reinterpret_cast<const char *>(bytes + i / 2) + 1024,
                   _MM_HINT_T0);
      __m512i low = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + i / 2)));
      __m512i high = _mm512_srli_epi32(low, 4);
      if (moves) {
        __m128i first = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(moves + i)),
            evenOdd);
        __m128i second = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(moves + i + 16)),
            evenOdd);
        low = _mm512_add_epi32(
            low, _mm512_cvtepi8_epi32(_mm_unpacklo_epi64(first, second)));
        high = _mm512_add_epi32(
            high, _mm512_cvtepi8_epi32(_mm_unpackhi_epi64(first, second)));
      }
      // (A move keeps each nibble's code + move in [0, 15], so the low 4
      // bits of the byte + move are that sum.)
      acc0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(low, centred),
                             _mm512_loadu_ps(xSplit + i), acc0);
      acc1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(high, centred),
                             _mm512_loadu_ps(xSplit + i + 16), acc1);
    }
    row = _mm512_fmadd_ps(_mm512_set1_ps(w.scales[n * w.scalesStride + g]),
                          _mm512_add_ps(acc0, acc1), row);
  }
  return _mm512_reduce_add_ps(row);
}

/// Output n of an 8-bit layer (no codebook; groupSize a multiple of 32),
/// straight from its row of code bytes, x in feature order: per group the
/// products (q' − z)·x in vector lanes, 32 codes per step, scaled by the
/// group's scale into the row's lanes, as rowDot4Avx512 sums (an 8-bit
/// tied head is 28 M of the 135M model's weights read per token; the
/// generic group loop read them at half the bandwidth of this one).
__attribute__((target("avx512f,avx512bw"))) float
rowDot8Avx512(const QuantizedWeight &w, int64_t n, const float *x,
              int64_t groups) {
  const uint8_t *bytes = w.codes + n * w.codesStride;
  const int8_t *moves = w.moves ? w.moves + n * w.movesStride : nullptr;
  __m512 row = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    __m512 zero = _mm512_set1_ps(w.zeroAt(n, g));
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int64_t i = g * w.groupSize, end = i + w.groupSize; i < end; i += 32) {
      _mm_prefetch(reinterpret_cast<const char *>(bytes + i) + 1024,
                   _MM_HINT_T0);
      __m512i first = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + i)));
      __m512i second = _mm512_cvtepu8_epi32(
          _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + i + 16)));
      if (moves) {
        first = _mm512_add_epi32(
            first, _mm512_cvtepi8_epi32(_mm_loadu_si128(
                       reinterpret_cast<const __m128i *>(moves + i))));
        second = _mm512_add_epi32(
            second, _mm512_cvtepi8_epi32(_mm_loadu_si128(
                        reinterpret_cast<const __m128i *>(moves + i + 16))));
      }
      acc0 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(first), zero),
                             _mm512_loadu_ps(x + i), acc0);
      acc1 = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_cvtepi32_ps(second), zero),
                             _mm512_loadu_ps(x + i + 16), acc1);
    }
    row = _mm512_fmadd_ps(_mm512_set1_ps(w.scales[n * w.scalesStride + g]),
                          _mm512_add_ps(acc0, acc1), row);
  }
  return _mm512_reduce_add_ps(row);
}

/// dequantizeGeneric for 4-bit codes in groups of a multiple of 32, begin
/// and count multiples of 32: 32 codes (16 bytes) per step, nibbles
/// interleaved back into feature order.
__attribute__((target("avx512f,avx512bw"))) void
dequantize4Avx512(const QuantizedWeight &w, int64_t row, int64_t begin,
                  int64_t count, float *out) {
  const uint8_t *bytes = w.codes + row * w.codesStride;
  const int8_t *moves = w.moves ? w.moves + row * w.movesStride : nullptr;
  for (int64_t start = begin; start < begin + count;) {
    int64_t g = start / w.groupSize;
    int64_t end = (g + 1) * w.groupSize;
    if (end > begin + count)
      end = begin + count;
    const __m512 scale = _mm512_set1_ps(w.scales[row * w.scalesStride + g]);
    const __m512 centred = _mm512_sub_ps(_mm512_load_ps(w.codeValues),
                                         _mm512_set1_ps(w.zeroAt(row, g)));
    for (int64_t i = start; i < end; i += 32) {
      __m128i first, second;
      unpack32Codes(bytes + i / 2, moves ? moves + i : nullptr, first, second);
      float *dst = out + (i - begin);
      _mm512_storeu_ps(dst,
                       _mm512_mul_ps(lookUpCentred(first, centred), scale));
      _mm512_storeu_ps(dst + 16,
                       _mm512_mul_ps(lookUpCentred(second, centred), scale));
    }
    start = end;
  }
}

/// The low 8 code bytes of `codes` as 8 floats less `zero`.
__attribute__((target("avx2,fma"), always_inline)) inline __m256
widenCodes(__m128i codes, __m256 zero) {
  return _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), zero);
}

/// rowDot4Avx512 for AVX2 + FMA (x in feature order): 8 lanes, four
/// products per 32 codes.
__attribute__((target("avx2,fma"))) float
rowDot4Avx2(const uint8_t *bytes, const int8_t *moves, const float *x,
            const float *scales, const float *zeros, int64_t groups,
            int64_t groupSize) {
  __m256 row = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const __m256 zero = _mm256_set1_ps(zeros[g]);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (int64_t i = g * groupSize, end = i + groupSize; i < end; i += 32) {
      __m128i first, second;
      unpack32Codes(bytes + i / 2, moves ? moves + i : nullptr, first, second);
      acc0 = _mm256_fmadd_ps(widenCodes(first, zero), _mm256_loadu_ps(x + i),
                             acc0);
      acc1 = _mm256_fmadd_ps(widenCodes(_mm_srli_si128(first, 8), zero),
                             _mm256_loadu_ps(x + i + 8), acc1);
      acc0 = _mm256_fmadd_ps(widenCodes(second, zero),
                             _mm256_loadu_ps(x + i + 16), acc0);
      acc1 = _mm256_fmadd_ps(widenCodes(_mm_srli_si128(second, 8), zero),
                             _mm256_loadu_ps(x + i + 24), acc1);
    }
    row = _mm256_fmadd_ps(_mm256_set1_ps(scales[g]), _mm256_add_ps(acc0, acc1),
                          row);
  }
  __m128 sum =
      _mm_add_ps(_mm256_castps256_ps128(row), _mm256_extractf128_ps(row, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}
#endif

/// Codes [begin, begin + count) of row `row` dequantized into `out`, for a
/// run of whole groups or one from a multiple of 32 (see dequantizeGeneric);
/// every path rounds (q' − z)·s alike.
void dequantizeSegment(const QuantizedWeight &w, int64_t row, int64_t begin,
                       int64_t count, float *out, Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == Isa::Avx512 && w.bits == 4 && w.groupSize % 32 == 0 &&
      begin % 32 == 0 && count % 32 == 0)
    return dequantize4Avx512(w, row, begin, count, out);
#endif
  dequantizeGeneric(w, row, begin, count, out, isa);
}

/// Rows [rowBegin, rowEnd) of y for `m` rows of x (decode regime).
/// `xSplit` (may be null) holds x's rows in splitEvenOddAvx512 order.
void dotRows(const QuantizedWeight &w, int64_t m, int64_t k, const float *x,
             int64_t ldx, const float *xSplit, float *y, int64_t ldy,
             bool accumulate, int64_t rowBegin, int64_t rowEnd, Isa isa) {
  int64_t groups = k / w.groupSize;
  uint8_t *codes = static_cast<uint8_t *>(alloca(w.groupSize));
  bool rowKernel = w.bits == 4 && w.groupSize % 32 == 0;
  for (int64_t r = 0; r < m; ++r) {
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    int64_t n = rowBegin;
    // (rowDot4Avx2 converts codes: affine layers only.)
#if defined(__x86_64__) || defined(__i386__)
    if (rowKernel && isa == Isa::Avx512 && xSplit) {
      for (; n < rowEnd; ++n) {
        float total = rowDot4Avx512(w, n, xSplit + r * k, groups);
        yr[n] = accumulate ? yr[n] + total : total;
      }
    }
    if (w.bits == 8 && !w.codebook && w.groupSize % 32 == 0 &&
        isa == Isa::Avx512) {
      for (; n < rowEnd; ++n) {
        float total = rowDot8Avx512(w, n, xr, groups);
        yr[n] = accumulate ? yr[n] + total : total;
      }
    }
#endif
    for (; n < rowEnd; ++n) {
      const float *scales = w.scales + n * w.scalesStride;
      float total = 0;
#if defined(__x86_64__) || defined(__i386__)
      const int8_t *moves = w.moves ? w.moves + n * w.movesStride : nullptr;
      if (rowKernel && isa == Isa::Avx2 && !w.codebook) {
        total = rowDot4Avx2(w.codes + n * w.codesStride, moves, xr, scales,
                            w.zeros + n * w.zerosStride, groups, w.groupSize);
      } else
#endif
      {
        for (int64_t g = 0; g < groups; ++g) {
          int64_t begin = g * w.groupSize;
          unpackCodes(w, n, begin, w.groupSize, codes);
          float dot, zero = w.zeroAt(n, g);
#if defined(__x86_64__) || defined(__i386__)
          if (isa == Isa::Avx512)
            dot = dotCodesAvx512(w, codes, zero, xr + begin, w.groupSize);
          else
#endif
            dot = dotCodesGeneric(w, codes, zero, xr + begin, w.groupSize);
          total += scales[g] * dot;
        }
      }
      yr[n] = accumulate ? yr[n] + total : total;
    }
  }
}

float *scratchBuffer(int64_t floats);

#if defined(__x86_64__) || defined(__i386__)
/// x's rows with each run of 32 features reordered as its 16 even then its
/// 16 odd ones (k a multiple of 32), for rowDot4Avx512.
__attribute__((target("avx512f"))) void splitEvenOddAvx512(const float *x,
                                                           int64_t m, int64_t k,
                                                           int64_t ldx,
                                                           float *split) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                         22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < k; c += 32) {
      __m512 first = _mm512_loadu_ps(x + r * ldx + c);
      __m512 second = _mm512_loadu_ps(x + r * ldx + c + 16);
      _mm512_storeu_ps(split + r * k + c,
                       _mm512_permutex2var_ps(first, even, second));
      _mm512_storeu_ps(split + r * k + c + 16,
                       _mm512_permutex2var_ps(first, odd, second));
    }
}
#endif

//===----------------------------------------------------------------------===//
// int8 activations (ONNX Runtime's MatMulNBits accuracy_level 4)
//===----------------------------------------------------------------------===//

#if defined(__x86_64__) || defined(__i386__)

/// 64 features of one row of x rounded to int8, for rowDot4Int8Avx512. Each
/// of the layer's groups of features has its own scale s_x = max|x| / 127
/// and values round(x · 127 / max|x|) (to nearest, ties to even, in float),
/// as ONNX Runtime rounds a MatMulNBits input at accuracy_level 4 (in blocks
/// of the layer's block_size). A chunk's two runs of 32 features (blocks)
/// lie in one group or, with groups of 32, in two. The bytes
/// are in the order the kernel widens a row's 32 code bytes in (low nibbles
/// of all 32 bytes, then the high ones): even features of the first block,
/// even of the second, odd of the first, odd of the second. Lane l of the
/// dot product (bytes 4l..4l+3) thus holds features of block l / 4 % 2;
/// `laneScales` is that block's s_x per lane and `laneSums` the lane's sum
/// of values times s_x, times the zero point when every row of W shares one
/// row of zero points (folded in here, once per call).
struct Int8Chunk {
  alignas(64) int8_t values[64];
  float laneScales[16];
  float laneSums[16];
};

/// The blocks' group index for a chunk: its first and second 32 features
/// (the first's again for a last chunk of 32 features, k % 64 == 32).
inline std::pair<int64_t, int64_t> chunkGroups(const QuantizedWeight &w,
                                               int64_t chunk, int64_t k) {
  int64_t second = std::min(chunk * 64 + 32, k - 32);
  return {chunk * 64 / w.groupSize, second / w.groupSize};
}

/// Int8Chunks per row of x: k / 64, and one more for a last 32 features.
inline int64_t chunksFor(int64_t k) { return (k + 63) / 64; }

/// Each group's max |x| of one row of x (groupSize a multiple of 16): the
/// int8 scale's numerator. NaN where the group holds a NaN or an infinity,
/// so that its scale is NaN and its outputs are NaN as the float product's
/// would be, not a guess.
__attribute__((target("avx512f"))) void largestPerGroupAvx512(const float *row,
                                                              int64_t groups,
                                                              int64_t groupSize,
                                                              float *largest) {
  for (int64_t g = 0; g < groups; ++g) {
    __m512 most = _mm512_setzero_ps();
    __mmask16 unordered = 0;
    for (int64_t i = g * groupSize; i < (g + 1) * groupSize; i += 16) {
      __m512 v = _mm512_loadu_ps(row + i);
      most = _mm512_max_ps(most, _mm512_abs_ps(v));
      unordered |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    float value = _mm512_reduce_max_ps(most);
    largest[g] = unordered || !std::isfinite(value)
                     ? std::numeric_limits<float>::quiet_NaN()
                     : value;
  }
}

/// A group's int8 scale, max|x| / 127 (NaN for a group with a NaN or an
/// infinity, see largestPerGroupAvx512).
inline float int8Scale(float largest) { return largest / 127.0f; }

/// The reciprocal that rounds a group to int8, 127 / max|x| (0 for a group
/// of zeros, or a NaN scale's group: its values are then 0).
inline float int8Inverse(float largest) {
  return largest > 0.0f ? 127.0f / largest : 0.0f;
}

/// 16 values of a group rounded to int8 (in int32 lanes): x · (127 /
/// max|x|) to nearest, ties to even (the default rounding mode), as ONNX
/// Runtime rounds them.
__attribute__((target("avx512f"), always_inline)) inline __m512i
roundInt8Avx512(__m512 x, __m512 inverse) {
  return _mm512_cvtps_epi32(_mm512_mul_ps(x, inverse));
}

/// x's rows (k a multiple of 32) as Int8Chunks, chunksFor(k) per row; a
/// last chunk of 32 features has zeros for its second block.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void
quantizeRowsInt8Avx512(const QuantizedWeight &w, const float *x, int64_t m,
                       int64_t k, int64_t ldx, Int8Chunk *out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                         22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const bool sharedZeros = w.hasSharedZeroRow();
  const int64_t groups = k / w.groupSize;
  float *largest = static_cast<float *>(alloca(sizeof(float) * groups));
  for (int64_t r = 0; r < m; ++r) {
    const float *row = x + r * ldx;
    largestPerGroupAvx512(row, groups, w.groupSize, largest);
    for (int64_t c = 0; c < chunksFor(k); ++c) {
      const float *block = row + c * 64;
      Int8Chunk &chunk = out[r * chunksFor(k) + c];
      float blockScale[2] = {0.0f, 0.0f};
      int blocks = c * 64 + 64 <= k ? 2 : 1;
      if (blocks == 1) {
        std::memset(chunk.values + 16, 0, 16);
        std::memset(chunk.values + 48, 0, 16);
      }
      for (int half = 0; half < blocks; ++half) {
        __m512 first = _mm512_loadu_ps(block + 32 * half);
        __m512 second = _mm512_loadu_ps(block + 32 * half + 16);
        float most = largest[(c * 64 + 32 * half) / w.groupSize];
        blockScale[half] = int8Scale(most);
        __m512 inverse = _mm512_set1_ps(int8Inverse(most));
        __m128i evens = _mm512_cvtepi32_epi8(roundInt8Avx512(
            _mm512_permutex2var_ps(first, even, second), inverse));
        __m128i odds = _mm512_cvtepi32_epi8(roundInt8Avx512(
            _mm512_permutex2var_ps(first, odd, second), inverse));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(chunk.values + 16 * half),
                         evens);
        _mm_storeu_si128(
            reinterpret_cast<__m128i *>(chunk.values + 32 + 16 * half), odds);
      }
      auto [groupA, groupB] = chunkGroups(w, c, k);
      float zeroA = sharedZeros ? w.zeroAt(0, groupA) : 1.0f;
      float zeroB = sharedZeros ? w.zeroAt(0, groupB) : 1.0f;
      __m512 scales = _mm512_mask_blend_ps(
          0xF0F0, _mm512_set1_ps(blockScale[0]), _mm512_set1_ps(blockScale[1]));
      __m512 zeros = _mm512_mask_blend_ps(0xF0F0, _mm512_set1_ps(zeroA),
                                          _mm512_set1_ps(zeroB));
      __m512i sums = _mm512_dpbusd_epi32(
          _mm512_setzero_si512(), _mm512_set1_epi8(1),
          _mm512_load_si512(reinterpret_cast<const void *>(chunk.values)));
      _mm512_storeu_ps(chunk.laneScales, scales);
      _mm512_storeu_ps(
          chunk.laneSums,
          _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sums), scales),
                        zeros));
    }
  }
}

/// One chunk's 64 products of rowDot4Int8Avx512, per lane: the lane's
/// integer dot product of 4 codes with 4 values, less z times the values'
/// sum, times its block's s_x (not yet its group's s_w).
template <bool SharedZeros, bool TwoGroups>
__attribute__((target("avx512f,avx512bw,avx512vnni"),
               always_inline)) inline __m512
centredChunkInt8(const QuantizedWeight &w, int64_t n, const uint8_t *bytes,
                 const Int8Chunk &x, int64_t chunk, int64_t k, int64_t groupA,
                 int64_t groupB) {
  // The stream 1 KB ahead, as rowDot4Avx512 reads it.
  _mm_prefetch(reinterpret_cast<const char *>(bytes + 32 * chunk) + 1024,
               _MM_HINT_T0);
  __m512i codes;
  if (chunk * 64 + 64 <= k) {
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i packed = _mm256_loadu_si256(
        reinterpret_cast<const __m256i *>(bytes + 32 * chunk));
    codes = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_and_si256(packed, nibble)),
        _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble), 1);
  } else {
    // A last 32 codes (16 bytes, the row's end): the second block's lanes
    // are zero, as its values are.
    const __m128i nibble = _mm_set1_epi8(0x0F);
    __m128i packed =
        _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + 32 * chunk));
    codes = _mm512_inserti32x4(
        _mm512_zextsi128_si512(_mm_and_si128(packed, nibble)),
        _mm_and_si128(_mm_srli_epi16(packed, 4), nibble), 2);
  }
  __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(
      _mm512_setzero_si512(), codes,
      _mm512_load_si512(reinterpret_cast<const void *>(x.values))));
  __m512 laneScales = _mm512_loadu_ps(x.laneScales);
  __m512 laneSums = _mm512_loadu_ps(x.laneSums);
  if constexpr (SharedZeros)
    return _mm512_fmsub_ps(dot, laneScales, laneSums);
  __m512 zeros = _mm512_set1_ps(w.zeroAt(n, groupA));
  if constexpr (TwoGroups)
    zeros = _mm512_mask_blend_ps(0xF0F0, zeros,
                                 _mm512_set1_ps(w.zeroAt(n, groupB)));
  return _mm512_fnmadd_ps(zeros, laneSums, _mm512_mul_ps(dot, laneScales));
}

/// acc[block] += a chunk's centred products times its groups' s_w.
template <bool TwoGroups, bool SharedZeros>
__attribute__((target("avx512f,avx512bw,avx512vnni"),
               always_inline)) inline void
accumulateChunkInt8(const QuantizedWeight &w, int64_t n, const uint8_t *bytes,
                    const float *scales, const Int8Chunk *x, int64_t chunk,
                    int64_t k, __m512 (&acc)[2]) {
  auto [groupA, groupB] = chunkGroups(w, chunk, k);
  __m512 centred = centredChunkInt8<SharedZeros, TwoGroups>(
      w, n, bytes, x[chunk], chunk, k, groupA, groupB);
  acc[0] = _mm512_fmadd_ps(centred, _mm512_set1_ps(scales[groupA]), acc[0]);
  if constexpr (TwoGroups)
    acc[1] = _mm512_fmadd_ps(centred, _mm512_set1_ps(scales[groupB]), acc[1]);
}

/// Output n of a 4-bit layer from its packed row and x as Int8Chunks:
/// Σ_g s_w·Σ_{i∈g} (q_i − z)·(s_x·v_i). Per 64 codes one AVX512-VNNI dot
/// product of the code bytes (unsigned) with the values (signed), exact in
/// int32 lanes; each lane then less z times its values' sum (exact for
/// integer zero points), scaled by its block's s_x and its group's s_w.
/// TwoGroups: groups of 32, a chunk's two blocks in two groups, whose lanes
/// accumulate apart (each with its group's scale) and are blended at the
/// end; else one group spans the chunk. SharedZeros: the zero points are
/// one row, folded into the chunks' lane sums. Even and odd chunks
/// accumulate apart: one chain of dependent multiply-adds would bound the
/// loop by their latency (measured: 1.6x faster with two, on one core).
template <bool TwoGroups, bool SharedZeros>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) float
rowDot4Int8Avx512(const QuantizedWeight &w, int64_t n, const Int8Chunk *x,
                  int64_t k) {
  int64_t chunks = chunksFor(k);
  const uint8_t *bytes = w.codes + n * w.codesStride;
  const float *scales = w.scales + n * w.scalesStride;
  // [parity][block]: chunk parity, first or second 32 features.
  __m512 acc[2][2] = {{_mm512_setzero_ps(), _mm512_setzero_ps()},
                      {_mm512_setzero_ps(), _mm512_setzero_ps()}};
  int64_t c = 0;
  for (; c + 2 <= chunks; c += 2) {
    accumulateChunkInt8<TwoGroups, SharedZeros>(w, n, bytes, scales, x, c, k,
                                                acc[0]);
    accumulateChunkInt8<TwoGroups, SharedZeros>(w, n, bytes, scales, x, c + 1,
                                                k, acc[1]);
  }
  if (c < chunks)
    accumulateChunkInt8<TwoGroups, SharedZeros>(w, n, bytes, scales, x, c, k,
                                                acc[0]);
  __m512 first = _mm512_add_ps(acc[0][0], acc[1][0]);
  if constexpr (TwoGroups)
    first = _mm512_mask_blend_ps(0xF0F0, first,
                                 _mm512_add_ps(acc[0][1], acc[1][1]));
  return _mm512_reduce_add_ps(first);
}

/// Rows [rowBegin, rowEnd) of y by rowDot4Int8Avx512 for m rows of x.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void
dotRowsInt8(const QuantizedWeight &w, int64_t m, int64_t k, const Int8Chunk *x,
            float *y, int64_t ldy, bool accumulate, int64_t rowBegin,
            int64_t rowEnd) {
  int64_t chunks = chunksFor(k);
  bool twoGroups = w.groupSize == 32;
  bool sharedZeros = w.hasSharedZeroRow();
  auto kernel = twoGroups ? (sharedZeros ? &rowDot4Int8Avx512<true, true>
                                         : &rowDot4Int8Avx512<true, false>)
                          : (sharedZeros ? &rowDot4Int8Avx512<false, true>
                                         : &rowDot4Int8Avx512<false, false>);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t n = rowBegin; n < rowEnd; ++n) {
      float total = kernel(w, n, x + r * chunks, k);
      float *out = y + r * ldy + n;
      *out = accumulate ? *out + total : total;
    }
}
#endif

/// The calling thread's share [begin, end) of W's n rows in a parallel
/// region: equal shares, 16-aligned so each thread writes its own cache
/// lines of y (the last may be short or empty).
std::pair<int64_t, int64_t> thisThreadsRows(int64_t n) {
  int nt = omp_get_num_threads(), tid = omp_get_thread_num();
  int64_t per = ((n + nt - 1) / nt + 15) / 16 * 16;
  int64_t begin = tid * per < n ? tid * per : n;
  return {begin, begin + per < n ? begin + per : n};
}

/// All of y by dot products (the decode regime), rows of W split evenly
/// among `threads`, 16-aligned so each thread writes its own cache lines.
/// With `splitX` (4-bit codes in groups of a multiple of 32 on AVX-512),
/// each thread first puts x in rowDot4Avx512's order in its own scratch:
/// a few hundred floats, cheaper twice in parallel than once before the
/// fork while the other threads wait.
void dotProducts(const QuantizedWeight &w, int64_t m, int64_t n, int64_t k,
                 const float *x, int64_t ldx, bool splitX, float *y,
                 int64_t ldy, bool accumulate, int threads, Isa isa) {
#pragma omp parallel num_threads(threads)
  {
    auto [begin, end] = thisThreadsRows(n);
    float *xSplit = nullptr;
#if defined(__x86_64__) || defined(__i386__)
    if (splitX && begin < end && (xSplit = scratchBuffer(m * k)))
      splitEvenOddAvx512(x, m, k, ldx, xSplit);
#else
    (void)splitX;
#endif
    if (begin < end)
      dotRows(w, m, k, x, ldx, xSplit, y, ldy, accumulate, begin, end, isa);
  }
}

#if defined(__x86_64__) || defined(__i386__)
/// All of y by rowDot4Int8Avx512 (few rows, int8 activations), rows of W
/// split as dotProducts splits them. Each thread rounds x itself (a few
/// hundred values), rather than once while the others wait.
void dotProductsInt8(const QuantizedWeight &w, int64_t m, int64_t n, int64_t k,
                     const float *x, int64_t ldx, float *y, int64_t ldy,
                     bool accumulate, int threads) {
  int64_t chunkFloats =
      m * chunksFor(k) * int64_t(sizeof(Int8Chunk)) / int64_t(sizeof(float));
#pragma omp parallel num_threads(threads)
  {
    auto [begin, end] = thisThreadsRows(n);
    auto *chunks = reinterpret_cast<Int8Chunk *>(
        begin < end ? scratchBuffer(chunkFloats) : nullptr);
    if (chunks) {
      quantizeRowsInt8Avx512(w, x, m, k, ldx, chunks);
      dotRowsInt8(w, m, k, chunks, y, ldy, accumulate, begin, end);
    } else if (begin < end) {
      dotRows(w, m, k, x, ldx, /*xSplit=*/nullptr, y, ldy, accumulate, begin,
              end, Isa::Avx512);
    }
  }
}
#endif

// A thread's scratch memory, kept between calls (the GEMM's packing buffer
// is separate): its copy of the split x in the decode regime, its
// dequantized block in qaf_qlinear_transposed; a call uses one or the other,
// so one buffer serves both.
thread_local float *tlsScratch = nullptr;
thread_local int64_t tlsScratchFloats = 0;

/// At least `floats` floats of `buffer` (capacity `capacity`), 64-byte
/// aligned; null when memory is exhausted.
float *growBuffer(float *&buffer, int64_t &capacity, int64_t floats) {
  if (floats <= capacity)
    return buffer;
  std::free(buffer);
  void *p = nullptr;
  if (posix_memalign(&p, 64, size_t(floats) * sizeof(float)) != 0) {
    buffer = nullptr;
    capacity = 0;
    return nullptr;
  }
  buffer = static_cast<float *>(p);
  capacity = floats;
  return buffer;
}

float *scratchBuffer(int64_t floats) {
  return growBuffer(tlsScratch, tlsScratchFloats, floats);
}

#if defined(__x86_64__) || defined(__i386__)
/// The many-rows regime with int8 activations (prefill): x rounded per row
/// and group exactly as quantizeRowsInt8Avx512 rounds it, and the products
/// of its integers with the 4- or 8-bit codes summed per group by AVX512-VNNI
/// in int32, as ONNX Runtime's accuracy_level 4 GEMM does. Per output and
/// group: s_w·(s_x·Σ q·v − z·s_x·Σ v), summed over the groups in float.
///
/// Lanes hold rows of x, so that the codes are the broadcast operand
/// (vpdpbusd broadcasts its signed one from memory for free): x goes in as
/// v + 128 (unsigned), the codes as signed bytes (4 bits: 0..15; 8 bits:
/// q − 128, the zero point less 128 to match), and each group's int32 sums
/// start at −128·Σ q, which leaves Σ q·v exactly. x is rounded
/// once per call into Int8RowBlocks shared by the threads; each thread
/// widens the codes of kInt8Columns rows of W at a time (its share, as the
/// float GEMM splits W) into bytes, used by every block of x.
constexpr int64_t kInt8BlockRows = 32; // two vectors of int32 lanes
constexpr int64_t kInt8Columns = 6;    // rows of W per tile

/// One block of kInt8BlockRows rows of x in layout for int8Tile: `values`
/// [k/4][kInt8BlockRows][4] bytes (lane r of quad q: features 4q..4q+3 of
/// row r, each v + 128), `scales` [groups][kInt8BlockRows] s_x and
/// `scaledSums` the same shape, s_x·Σ v. Rows past M are v = 0, s_x = 0.
struct Int8RowBlocks {
  uint8_t *values;
  float *scales;
  float *scaledSums;
  int64_t k, groups;

  static int64_t bytesPerBlock(int64_t k, int64_t groups) {
    return k * kInt8BlockRows + 2 * groups * kInt8BlockRows * 4;
  }
  /// Block b's pointers inside `memory` (bytesPerBlock each, 64-aligned
  /// as k is a multiple of 32).
  static Int8RowBlocks at(uint8_t *memory, int64_t b, int64_t k,
                          int64_t groups) {
    uint8_t *base = memory + b * bytesPerBlock(k, groups);
    float *floats = reinterpret_cast<float *>(base + k * kInt8BlockRows);
    return {base, floats, floats + groups * kInt8BlockRows, k, groups};
  }
};

/// Rows [r0, r0 + rows) of x (rows <= kInt8BlockRows) rounded into `block`;
/// its remaining lanes are zeros.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void
roundRowBlockInt8Avx512(const QuantizedWeight &w, const float *x, int64_t ldx,
                        int64_t r0, int64_t rows, const Int8RowBlocks &block) {
  const int64_t k = block.k, groups = block.groups;
  float *largest = static_cast<float *>(alloca(sizeof(float) * groups));
  uint8_t *row = static_cast<uint8_t *>(alloca(k));
  const __m128i offset = _mm_set1_epi8(char(0x80));
  for (int64_t lane = 0; lane < kInt8BlockRows; ++lane) {
    if (lane >= rows) {
      std::memset(row, 0x80, size_t(k));
      for (int64_t g = 0; g < groups; ++g)
        block.scales[g * kInt8BlockRows + lane] =
            block.scaledSums[g * kInt8BlockRows + lane] = 0.0f;
    } else {
      const float *xr = x + (r0 + lane) * ldx;
      largestPerGroupAvx512(xr, groups, w.groupSize, largest);
      for (int64_t g = 0; g < groups; ++g) {
        float scale = int8Scale(largest[g]);
        __m512 inverse = _mm512_set1_ps(int8Inverse(largest[g]));
        __m512i sum = _mm512_setzero_si512();
        for (int64_t i = g * w.groupSize; i < (g + 1) * w.groupSize; i += 16) {
          __m512i v = roundInt8Avx512(_mm512_loadu_ps(xr + i), inverse);
          sum = _mm512_add_epi32(sum, v);
          _mm_storeu_si128(reinterpret_cast<__m128i *>(row + i),
                           _mm_xor_si128(_mm512_cvtepi32_epi8(v), offset));
        }
        block.scales[g * kInt8BlockRows + lane] = scale;
        block.scaledSums[g * kInt8BlockRows + lane] =
            scale * float(_mm512_reduce_add_epi32(sum));
      }
    }
    for (int64_t q = 0; q < k / 4; ++q)
      std::memcpy(block.values + (q * kInt8BlockRows + lane) * 4, row + 4 * q,
                  4);
  }
}

/// kInt8Columns rows of W from row n0 (`count` of them; the others zero)
/// as int8Tile reads them: `codes` [kInt8Columns][k] one signed byte per
/// code (4 bits: q; 8 bits: q − 128, with z − 128 for z),
/// and per group [groups][kInt8Columns] the int32 sums' start −128·Σ q,
/// s_w and z (0 for the missing rows).
__attribute__((target("avx512f,avx512bw"))) void
widenColumnsInt8(const QuantizedWeight &w, int64_t n0, int64_t count, int64_t k,
                 int8_t *codes, int32_t *starts, float *scales, float *zeros) {
  const int64_t groups = k / w.groupSize;
  const __m128i nibble = _mm_set1_epi8(0x0F);
  for (int64_t j = 0; j < kInt8Columns; ++j) {
    int8_t *out = codes + j * k;
    if (j >= count) {
      std::memset(out, 0, size_t(k));
      for (int64_t g = 0; g < groups; ++g) {
        starts[g * kInt8Columns + j] = 0;
        scales[g * kInt8Columns + j] = zeros[g * kInt8Columns + j] = 0.0f;
      }
      continue;
    }
    const uint8_t *bytes = w.codes + (n0 + j) * w.codesStride;
    for (int64_t g = 0; g < groups; ++g) {
      __m128i total = _mm_setzero_si128();
      for (int64_t i = g * w.groupSize; i < (g + 1) * w.groupSize; i += 32) {
        if (w.bits == 8) {
          // Codes q − 128 (the signed bytes vpdpbusd takes): the bytes with
          // their top bit flipped; Σ q here, less 128 per code below.
          for (int half = 0; half < 2; ++half) {
            __m128i q = _mm_loadu_si128(
                reinterpret_cast<const __m128i *>(bytes + i + 16 * half));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i + 16 * half),
                             _mm_xor_si128(q, _mm_set1_epi8(char(0x80))));
            total = _mm_add_epi64(total, _mm_sad_epu8(q, _mm_setzero_si128()));
          }
          continue;
        }
        __m128i packed =
            _mm_loadu_si128(reinterpret_cast<const __m128i *>(bytes + i / 2));
        __m128i low = _mm_and_si128(packed, nibble);
        __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), nibble);
        // Even features are the low nibbles: interleaved back into order.
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i),
                         _mm_unpacklo_epi8(low, high));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i + 16),
                         _mm_unpackhi_epi8(low, high));
        total = _mm_add_epi64(
            total, _mm_add_epi64(_mm_sad_epu8(low, _mm_setzero_si128()),
                                 _mm_sad_epu8(high, _mm_setzero_si128())));
      }
      int64_t sum = _mm_cvtsi128_si64(total) +
                    _mm_cvtsi128_si64(_mm_unpackhi_epi64(total, total));
      // 8 bits: Σ (q − 128) · v = Σ q·v − 128·Σ v, which z − 128 in place
      // of z turns back into s_x·Σ q·v − z·s_x·Σ v.
      float shift = w.bits == 8 ? 128.0f : 0.0f;
      if (w.bits == 8)
        sum -= 128 * w.groupSize;
      starts[g * kInt8Columns + j] = int32_t(-128 * sum);
      scales[g * kInt8Columns + j] = w.scales[(n0 + j) * w.scalesStride + g];
      zeros[g * kInt8Columns + j] = w.zeroAt(n0 + j, g) - shift;
    }
  }
}

/// out[j][r] = Σ_g s_w·(s_x·Σ_{i∈g} q·v − z·s_x·Σ v) for the kInt8Columns
/// rows of W widened by widenColumnsInt8 and the block's 32 rows of x: 12
/// int32 accumulators (6 rows of W × 2 vectors of rows of x) per group,
/// folded into 12 float ones at the group's end.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void
int8Tile(const Int8RowBlocks &x, const int8_t *codes, const int32_t *starts,
         const float *scales, const float *zeros, int64_t groupSize,
         float (*out)[kInt8BlockRows]) {
  const int64_t k = x.k;
  __m512 acc[kInt8Columns][2];
  for (auto &column : acc)
    column[0] = column[1] = _mm512_setzero_ps();
  for (int64_t g = 0; g < x.groups; ++g) {
    __m512i dot[kInt8Columns][2];
    for (int64_t j = 0; j < kInt8Columns; ++j)
      dot[j][0] = dot[j][1] = _mm512_set1_epi32(starts[g * kInt8Columns + j]);
    for (int64_t q = g * groupSize / 4; q < (g + 1) * groupSize / 4; ++q) {
      const uint8_t *quad = x.values + q * kInt8BlockRows * 4;
      __m512i first = _mm512_load_si512(quad);
      __m512i second = _mm512_load_si512(quad + 64);
      for (int64_t j = 0; j < kInt8Columns; ++j) {
        int32_t four;
        std::memcpy(&four, codes + j * k + 4 * q, 4);
        __m512i column = _mm512_set1_epi32(four);
        dot[j][0] = _mm512_dpbusd_epi32(dot[j][0], first, column);
        dot[j][1] = _mm512_dpbusd_epi32(dot[j][1], second, column);
      }
    }
    const float *sx = x.scales + g * kInt8BlockRows;
    const float *sums = x.scaledSums + g * kInt8BlockRows;
    __m512 rowScales[2] = {_mm512_loadu_ps(sx), _mm512_loadu_ps(sx + 16)};
    __m512 rowSums[2] = {_mm512_loadu_ps(sums), _mm512_loadu_ps(sums + 16)};
    for (int64_t j = 0; j < kInt8Columns; ++j) {
      __m512 scale = _mm512_set1_ps(scales[g * kInt8Columns + j]);
      __m512 zero = _mm512_set1_ps(zeros[g * kInt8Columns + j]);
      for (int v = 0; v < 2; ++v) {
        __m512 centred = _mm512_fnmadd_ps(
            zero, rowSums[v],
            _mm512_mul_ps(_mm512_cvtepi32_ps(dot[j][v]), rowScales[v]));
        acc[j][v] = _mm512_fmadd_ps(centred, scale, acc[j][v]);
      }
    }
  }
  for (int64_t j = 0; j < kInt8Columns; ++j) {
    _mm512_storeu_ps(out[j], acc[j][0]);
    _mm512_storeu_ps(out[j] + 16, acc[j][1]);
  }
}

/// The caller's memory for x's Int8RowBlocks, kept between calls (the
/// threads' own scratch holds their widened codes).
thread_local float *tlsRowBlocks = nullptr;
thread_local int64_t tlsRowBlocksFloats = 0;

/// y (+)= x · Wᵀ with x rounded to int8 (many rows; 4- or 8-bit codes
/// without moves or codebook, groups of a multiple of 32). False, having
/// written nothing, when memory for the rounded x is exhausted.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) bool
productInt8(const QuantizedWeight &w, int64_t m, int64_t n, int64_t k,
            const float *x, int64_t ldx, float *y, int64_t ldy, bool accumulate,
            int threads) {
  const int64_t groups = k / w.groupSize;
  const int64_t blocks = (m + kInt8BlockRows - 1) / kInt8BlockRows;
  const int64_t blockBytes = Int8RowBlocks::bytesPerBlock(k, groups);
  auto *memory = reinterpret_cast<uint8_t *>(growBuffer(
      tlsRowBlocks, tlsRowBlocksFloats, (blocks * blockBytes + 3) / 4));
  if (!memory)
    return false;
  // Per thread: the widened codes, then per group the starts, s_w and z.
  const int64_t tileBytes = kInt8Columns * k + 3 * groups * kInt8Columns * 4;
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b)
      roundRowBlockInt8Avx512(w, x, ldx, b * kInt8BlockRows,
                              std::min(kInt8BlockRows, m - b * kInt8BlockRows),
                              Int8RowBlocks::at(memory, b, k, groups));
    auto [begin, end] = thisThreadsRows(n);
    auto *tile = reinterpret_cast<uint8_t *>(
        begin < end ? scratchBuffer((tileBytes + 3) / 4) : nullptr);
    if (tile) {
      auto *codes = reinterpret_cast<int8_t *>(tile);
      auto *starts = reinterpret_cast<int32_t *>(tile + kInt8Columns * k);
      auto *scales = reinterpret_cast<float *>(starts + groups * kInt8Columns);
      float *zeros = scales + groups * kInt8Columns;
      alignas(64) float out[kInt8Columns][kInt8BlockRows];
      for (int64_t n0 = begin; n0 < end; n0 += kInt8Columns) {
        int64_t count = std::min(kInt8Columns, end - n0);
        widenColumnsInt8(w, n0, count, k, codes, starts, scales, zeros);
        for (int64_t b = 0; b < blocks; ++b) {
          int8Tile(Int8RowBlocks::at(memory, b, k, groups), codes, starts,
                   scales, zeros, w.groupSize, out);
          int64_t rows = std::min(kInt8BlockRows, m - b * kInt8BlockRows);
          for (int64_t r = 0; r < rows; ++r) {
            float *yr = y + (b * kInt8BlockRows + r) * ldy + n0;
            for (int64_t j = 0; j < count; ++j)
              yr[j] = accumulate ? yr[j] + out[j][r] : out[j][r];
          }
        }
      }
    } else if (begin < end) {
      // No scratch for the widened codes (memory exhausted): this share by
      // the exact dot products.
      dotRows(w, m, k, x, ldx, nullptr, y, ldy, accumulate, begin, end,
              Isa::Avx512);
    }
  }
  return true;
}
#endif

#if defined(__x86_64__) || defined(__i386__)
/// rows[j] becomes byte j of each of the 16 rows: a 16 x 16 transpose of
/// bytes in four rounds of interleaving (bytes, pairs, quads, halves).
__attribute__((always_inline)) inline void
transpose16x16Bytes(__m128i (&rows)[16]) {
  __m128i a[16], b[16];
  for (int i = 0; i < 8; ++i) { // a[2i]: bytes 0-7 of rows 2i, 2i+1
    a[2 * i] = _mm_unpacklo_epi8(rows[2 * i], rows[2 * i + 1]);
    a[2 * i + 1] = _mm_unpackhi_epi8(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) // b[4i + h]: bytes 4h..4h+3 of rows 4i..4i+3
    for (int h = 0; h < 2; ++h) {
      b[4 * i + 2 * h] = _mm_unpacklo_epi16(a[4 * i + h], a[4 * i + 2 + h]);
      b[4 * i + 2 * h + 1] = _mm_unpackhi_epi16(a[4 * i + h], a[4 * i + 2 + h]);
    }
  for (int i = 0; i < 2; ++i) // a[8i + 2q + h]: bytes 2(2q+h)..+1, rows 8i..
    for (int q = 0; q < 4; ++q) {
      a[8 * i + 2 * q] = _mm_unpacklo_epi32(b[8 * i + q], b[8 * i + 4 + q]);
      a[8 * i + 2 * q + 1] = _mm_unpackhi_epi32(b[8 * i + q], b[8 * i + 4 + q]);
    }
  for (int p = 0; p < 8; ++p) { // bytes 2p and 2p+1 of all 16 rows
    rows[2 * p] = _mm_unpacklo_epi64(a[p], a[8 + p]);
    rows[2 * p + 1] = _mm_unpackhi_epi64(a[p], a[8 + p]);
  }
}

/// DequantizingPacker's B panel columns [c0, c0 + 16) for 4-bit codes
/// without moves, groups of a multiple of 32, pc and kc multiples of 32:
/// the 16 rows' code bytes transposed (16 bytes, 32 codes, of each row at
/// a time), so each byte vector widens into two rows of the panel — the
/// low nibbles feature f, the high ones f + 1 — with no float transpose.
/// Each weight is (value(q) − z)·s rounded as dequantize4Avx512 rounds it
/// (value(q) = q, converted, on an affine grid; looked up in a codebook).
template <bool Codebook>
__attribute__((target("avx512f,avx512bw"))) void
packDequantized4x16Avx512(const QuantizedWeight &w, int64_t row0, int64_t pc,
                          int64_t kc, int64_t nr, float *panel) {
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m512 values = _mm512_load_ps(w.codeValues);
  alignas(64) float zeros[16], scales[16];
  __m512 zero = _mm512_setzero_ps(), scale = _mm512_setzero_ps();
  int64_t group = -1;
  for (int64_t f = 0; f < kc; f += 32) {
    if ((pc + f) / w.groupSize != group) {
      group = (pc + f) / w.groupSize;
      for (int r = 0; r < 16; ++r) {
        zeros[r] = w.zeroAt(row0 + r, group);
        scales[r] = w.scales[(row0 + r) * w.scalesStride + group];
      }
      zero = _mm512_load_ps(zeros);
      scale = _mm512_load_ps(scales);
    }
    __m128i bytes[16];
    for (int r = 0; r < 16; ++r)
      bytes[r] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(
          w.codes + (row0 + r) * w.codesStride + (pc + f) / 2));
    transpose16x16Bytes(bytes);
    for (int j = 0; j < 16; ++j) {
      __m128i low = _mm_and_si128(bytes[j], nibble);
      __m128i high = _mm_and_si128(_mm_srli_epi16(bytes[j], 4), nibble);
      for (int half = 0; half < 2; ++half) {
        __m512i codes = _mm512_cvtepu8_epi32(half ? high : low);
        __m512 value = Codebook ? _mm512_permutexvar_ps(codes, values)
                                : _mm512_cvtepi32_ps(codes);
        _mm512_storeu_ps(panel + (f + 2 * j + half) * nr,
                         _mm512_mul_ps(_mm512_sub_ps(value, zero), scale));
      }
    }
  }
}
#endif

/// The prefill regime's B: rows of W dequantized straight into the GEMM's
/// packed panels, a panel of `nr` rows of W at a time, 16 rows dequantized
/// into an L1 scratch and transposed into place (row k of the panel holds
/// feature pc + k of each of them). Nothing of W is dequantized twice, and
/// no dequantized block larger than a panel is ever stored.
struct DequantizingPacker {
  const QuantizedWeight *weight;
  int64_t firstRow; // W's row of the tile's column 0
  Isa isa;

  static void pack(const void *context, int64_t pc, int64_t kc, int64_t jc,
                   int64_t n, int nr, float *panel) {
    const auto &self = *static_cast<const DequantizingPacker *>(context);
    constexpr int64_t kRows = 16;
    alignas(64) float rows[kRows * kPackedBMaxDepth];
    const QuantizedWeight &w = *self.weight;
#if defined(__x86_64__) || defined(__i386__)
    bool bytePath = self.isa == Isa::Avx512 && w.bits == 4 && !w.moves &&
                    w.groupSize % 32 == 0 && pc % 32 == 0 && kc % 32 == 0;
#endif
    for (int64_t c0 = 0; c0 < n; c0 += kRows) {
      int64_t count = n - c0 < kRows ? n - c0 : kRows;
#if defined(__x86_64__) || defined(__i386__)
      if (bytePath && count == kRows) {
        (w.codebook ? packDequantized4x16Avx512<true>
                    : packDequantized4x16Avx512<false>)(w,
                                                        self.firstRow + jc + c0,
                                                        pc, kc, nr, panel + c0);
        continue;
      }
#endif
      for (int64_t r = 0; r < count; ++r)
        dequantizeSegment(*self.weight, self.firstRow + jc + c0 + r, pc, kc,
                          rows + r * kc, self.isa);
      transposeMatrix(rows, kc, count, kc, panel + c0, nr,
                      /*accumulate=*/false, self.isa);
    }
    if (n < nr)
      for (int64_t k = 0; k < kc; ++k)
        std::memset(panel + k * nr + n, 0, size_t(nr - n) * sizeof(float));
  }
};

/// y (+)= x · Wᵀ for many rows of x: each thread multiplies x by its share
/// of W's rows (16-aligned, as the decode regime splits them) in one GEMM
/// whose B panels DequantizingPacker makes, so x is packed once per K panel
/// per thread. Each output sums its K terms in the GEMM's kernel and order
/// for x's M rows, whatever the share (and thread count).
void productByPackedShares(const QuantizedWeight &w, int64_t m, int64_t n,
                           int64_t k, const float *x, int64_t ldx, float *y,
                           int64_t ldy, bool accumulate, int threads, Isa isa) {
#pragma omp parallel num_threads(threads)
  {
    auto [begin, end] = thisThreadsRows(n);
    if (begin < end) {
      DequantizingPacker packer{&w, begin, isa};
      BPanelPacker panels{&DequantizingPacker::pack, &packer};
      GemmTile tile{m,       end - begin, k,         x,   ldx,
                    nullptr, 0,           y + begin, ldy, accumulate};
      tile.packB = &panels;
      // No packing memory: dot products, as for few rows.
      if (!gemmOnThisThread(tile))
        dotRows(w, m, k, x, ldx, /*xSplit=*/nullptr, y, ldy, accumulate, begin,
                end, isa);
    }
  }
}

} // namespace
} // namespace cpu
} // namespace qaf

using namespace qaf::cpu;

namespace {

QuantizedWeight makeQuantizedWeight(int64_t codes, int64_t codesStride,
                                    int64_t scales, int64_t scalesStride,
                                    int64_t zeros, int64_t zerosStride,
                                    int64_t moves, int64_t movesStride,
                                    int64_t codebook, int64_t bits,
                                    int64_t groupSize) {
  QuantizedWeight w;
  w.codes = reinterpret_cast<const uint8_t *>(codes);
  w.codesStride = codesStride;
  w.scales = reinterpret_cast<const float *>(scales);
  w.scalesStride = scalesStride;
  w.zeros = reinterpret_cast<const float *>(zeros);
  w.zerosStride = zerosStride;
  w.moves = reinterpret_cast<const int8_t *>(moves);
  w.movesStride = movesStride;
  w.codebook = reinterpret_cast<const float *>(codebook);
  w.bits = int(bits);
  w.groupSize = groupSize;
  // Entries past a small codebook are never looked up (codes < 2^bits).
  for (int code = 0; code < 16; ++code)
    w.codeValues[code] =
        w.codebook && code >= (1 << w.bits) ? 0.0f : w.valueOf(code);
  return w;
}

} // namespace

namespace {

/// y (+)= x · Wᵀ: qaf_qlinear, or with `int8Activations` qaf_qlinear_int8.
void quantizedProduct(const QuantizedWeight &w, int64_t M, int64_t N, int64_t K,
                      const float *x, int64_t ldx, float *y, int64_t ldy,
                      bool accumulate, bool int8Activations) {
  int threads = threadsForProduct(M, N, K);
  Isa isa = activeIsa();
#if defined(__x86_64__) || defined(__i386__)
  // What both int8 paths need; then 4 bits for few rows, 4 or 8 for many.
  bool int8 = int8Activations && w.groupSize % 32 == 0 &&
              K % w.groupSize == 0 && !w.moves && !w.codebook &&
              isa == Isa::Avx512 && __builtin_cpu_supports("avx512vnni");
  if (int8 && M < kTileRows && w.bits == 4)
    return dotProductsInt8(w, M, N, K, x, ldx, y, ldy, accumulate, threads);
  if (int8 && M >= kTileRows && (w.bits == 4 || w.bits == 8) &&
      productInt8(w, M, N, K, x, ldx, y, ldy, accumulate, threads))
    return;
#else
  (void)int8Activations;
#endif
  if (M >= kTileRows)
    return productByPackedShares(w, M, N, K, x, ldx, y, ldy, accumulate,
                                 threads, isa);
  // The AVX-512 4-bit row kernel reads x in split order.
  bool splitX = isa == Isa::Avx512 && w.bits == 4 && w.groupSize % 32 == 0;
  dotProducts(w, M, N, K, x, ldx, splitX, y, ldy, accumulate, threads, isa);
}

/// qaf_qlinear's and qaf_qlinear_int8's arguments (addresses as integers,
/// the C ABI of the kernel calls) to quantizedProduct.
void quantizedProductCall(int64_t M, int64_t N, int64_t K, int64_t X,
                          int64_t ldx, int64_t codes, int64_t codesStride,
                          int64_t scales, int64_t scalesStride, int64_t zeros,
                          int64_t zerosStride, int64_t moves,
                          int64_t movesStride, int64_t codebook, int64_t Y,
                          int64_t ldy, int64_t bits, int64_t groupSize,
                          int32_t accumulate, bool int8Activations) {
  if (M <= 0 || N <= 0)
    return;
  quantizedProduct(makeQuantizedWeight(codes, codesStride, scales, scalesStride,
                                       zeros, zerosStride, moves, movesStride,
                                       codebook, bits, groupSize),
                   M, N, K, reinterpret_cast<const float *>(X), ldx,
                   reinterpret_cast<float *>(Y), ldy, accumulate != 0,
                   int8Activations);
}

} // namespace

QAF_API void qaf_qlinear(int64_t M, int64_t N, int64_t K, int64_t X,
                         int64_t ldx, int64_t codes, int64_t codesStride,
                         int64_t scales, int64_t scalesStride, int64_t zeros,
                         int64_t zerosStride, int64_t moves,
                         int64_t movesStride, int64_t codebook, int64_t Y,
                         int64_t ldy, int64_t bits, int64_t groupSize,
                         int32_t accumulate) {
  quantizedProductCall(M, N, K, X, ldx, codes, codesStride, scales,
                       scalesStride, zeros, zerosStride, moves, movesStride,
                       codebook, Y, ldy, bits, groupSize, accumulate,
                       /*int8Activations=*/false);
}

/// qaf_qlinear with x rounded to int8 per group of features (ONNX Runtime's
/// MatMulNBits at accuracy_level 4) where that path exists: codes without
/// moves or codebook in groups of a multiple of 32, an AVX512-VNNI CPU on
/// the AVX-512 path; 4 bits (dot products for few rows, the int8 GEMM for
/// many) or 8 bits with many rows (the GEMM). Everything else is
/// qaf_qlinear's exact product.
QAF_API void qaf_qlinear_int8(int64_t M, int64_t N, int64_t K, int64_t X,
                              int64_t ldx, int64_t codes, int64_t codesStride,
                              int64_t scales, int64_t scalesStride,
                              int64_t zeros, int64_t zerosStride, int64_t moves,
                              int64_t movesStride, int64_t codebook, int64_t Y,
                              int64_t ldy, int64_t bits, int64_t groupSize,
                              int32_t accumulate) {
  quantizedProductCall(M, N, K, X, ldx, codes, codesStride, scales,
                       scalesStride, zeros, zerosStride, moves, movesStride,
                       codebook, Y, ldy, bits, groupSize, accumulate,
                       /*int8Activations=*/true);
}

/// X[M,K] = G[M,N] · dequant(W) (the input gradient of qaf_qlinear's layer):
/// each thread dequantizes blocks of whole groups of columns, W[:, k0 : k0 +
/// cols] as [N, cols], and multiplies G with them into its own columns of X,
/// so no thread forms more than one block and none writes another's columns.
QAF_API void qaf_qlinear_transposed(int64_t M, int64_t N, int64_t K, int64_t G,
                                    int64_t ldg, int64_t codes,
                                    int64_t codesStride, int64_t scales,
                                    int64_t scalesStride, int64_t zeros,
                                    int64_t zerosStride, int64_t moves,
                                    int64_t movesStride, int64_t codebook,
                                    int64_t X, int64_t ldx, int64_t bits,
                                    int64_t groupSize, int32_t accumulate) {
  if (M <= 0 || K <= 0)
    return;
  QuantizedWeight w = makeQuantizedWeight(
      codes, codesStride, scales, scalesStride, zeros, zerosStride, moves,
      movesStride, codebook, bits, groupSize);
  const float *g = reinterpret_cast<const float *>(G);
  float *x = reinterpret_cast<float *>(X);
  Isa isa = activeIsa();
  // Blocks of at least kPanel columns, in whole groups.
  int64_t blockColumns = (kPanel + groupSize - 1) / groupSize * groupSize;
  int64_t blocks = (K + blockColumns - 1) / blockColumns;
  int threads = threadsForWork(double(M) * double(N) * double(K));
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t k0 = b * blockColumns;
    int64_t cols = K - k0 < blockColumns ? K - k0 : blockColumns;
    float *out = x + k0;
    if (!accumulate)
      for (int64_t r = 0; r < M; ++r)
        std::memset(out + r * ldx, 0, sizeof(float) * cols);
    float *block = scratchBuffer(N * cols);
    if (block) {
      // W[:, k0 : k0 + cols] as [N, cols].
      for (int64_t n = 0; n < N; ++n)
        dequantizeSegment(w, n, k0, cols, block + n * cols, isa);
      GemmTile tile{M, cols, N, g, ldg, block, cols, out, ldx, true};
      gemmOnThisThread(tile);
      continue;
    }
    // No memory for a block: one row of W at a time.
    float *row = static_cast<float *>(alloca(sizeof(float) * cols));
    for (int64_t n = 0; n < N; ++n) {
      dequantizeSegment(w, n, k0, cols, row, isa);
      for (int64_t r = 0; r < M; ++r) {
        float scale = g[r * ldg + n];
        for (int64_t i = 0; i < cols; ++i)
          out[r * ldx + i] += scale * row[i];
      }
    }
  }
}
