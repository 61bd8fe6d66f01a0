//===- AdapterGradients.cpp - LoTA-QAF's and L4Q's factor gradients -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Both methods' straight-through gradients (../shared/METHODS.md §1, §2)
// start from the layer's dense weight gradient Gw = gᵀ · x [N, K] and reduce
// it, element by element and group by group, to a matrix D [N, K] that the
// rank-r factors multiply:
//
//   ∂A += Bᵀ · D [r, K],   ∂B += D · Aᵀ [N, r]
//
// (LoTA-QAF: D = s⊙Gw + (1/ω)·P_g(s⊙Gw); L4Q: D = α·M⊙Gw, with the scale
// and offset gradients summed per group on the way). Neither Gw nor D is
// ever whole: the rows are cut into tiles of kTileRows output features; a
// tile's block of Gw [rows, K] is one GEMM from the transposed output
// gradient, reduced in place to D's rows, multiplied into ∂B's rows (which
// the tile owns) and into the tile's own partial ∂A. The partials are then
// summed in tile order. Tiles do not depend on the thread count and each is
// computed by one thread, so 1 and n threads give the same bytes.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/ErrorChannel.h"
#include "qaf/Runtime/CPU/Kernels.h"

#include "SgemmInternal.h"

#include <cstdlib>
#include <cstring>
#include <omp.h>

#define QAF_API extern "C" __attribute__((visibility("default")))

namespace qaf {
namespace cpu {
namespace {

/// Output features per tile: a tile's block of Gw is kTileRows × K floats
/// (48 KiB to 192 KiB for K of 384 to 1536), which stays in L2 while it is
/// reduced and multiplied twice.
constexpr int64_t kTileRows = 32;

/// The operands both methods share.
struct FactorGradients {
  int64_t M, N, K, rank, groupSize;
  const float *g; // [M, N]
  int64_t ldg;
  const float *x; // [M, K]
  int64_t ldx;
  float *dA; // [rank, K], accumulated
  int64_t ldda;
  float *dB; // [N, rank], accumulated
  int64_t lddb;
};

FactorGradients describe(int64_t M, int64_t N, int64_t K, int64_t rank,
                         int64_t groupSize, int64_t G, int64_t ldg, int64_t X,
                         int64_t ldx, int64_t dA, int64_t ldda, int64_t dB,
                         int64_t lddb) {
  return {M,         N,
          K,         rank,
          groupSize, reinterpret_cast<const float *>(G),
          ldg,       reinterpret_cast<const float *>(X),
          ldx,       reinterpret_cast<float *>(dA),
          ldda,      reinterpret_cast<float *>(dB),
          lddb};
}

/// malloc'd floats that free themselves.
struct FloatBuffer {
  float *data = nullptr;
  explicit FloatBuffer(int64_t count) {
    void *p = nullptr;
    if (count > 0 && posix_memalign(&p, 64, size_t(count) * sizeof(float)) == 0)
      data = static_cast<float *>(p);
  }
  ~FloatBuffer() { std::free(data); }
  FloatBuffer(const FloatBuffer &) = delete;
  FloatBuffer &operator=(const FloatBuffer &) = delete;
};

void reportOutOfMemory(int64_t floats) {
  qaf_report_error(QAF_STATUS_OUT_OF_MEMORY,
                   "{0} floats of scratch for the adapter gradients could not "
                   "be allocated",
                   floats, 0, 0);
}

/// `a` [rows, cols] (row stride `aStride`) times `coefficient` as floats,
/// transposed: [cols, rows].
template <typename T>
void transposeFactor(const T *a, int64_t aStride, int64_t rows, int64_t cols,
                     float coefficient, float *out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[c * rows + r] = coefficient * float(a[r * aStride + c]);
}

/// The factors A [rank, K] and B [N, rank] (of int8 or float `Factor`) are
/// multiplied by `coefficient` (α for L4Q, 1 for LoTA-QAF).
/// `reduceTile(firstRow, rows, block)` turns a tile's block of Gw [rows, K]
/// (row stride K) into D in place.
template <typename Factor, typename ReduceTile>
void computeFactorGradients(const FactorGradients &p, const Factor *a,
                            int64_t aStride, const Factor *b, int64_t bStride,
                            float coefficient, ReduceTile reduceTile) {
  const int64_t M = p.M, N = p.N, K = p.K, rank = p.rank;
  int64_t tiles = (N + kTileRows - 1) / kTileRows;
  int threads = threadsForWork(double(M) * double(N) * double(K));
  FloatBuffer gTransposed(N * M);
  FloatBuffer blocks(int64_t(threads) * kTileRows * K);
  FloatBuffer partials(tiles * rank * K);
  FloatBuffer aTransposedBuffer(K * rank), bTransposedBuffer(rank * N);
  if (!gTransposed.data || !blocks.data ||
      (rank > 0 && (!partials.data || !aTransposedBuffer.data ||
                    !bTransposedBuffer.data))) {
    reportOutOfMemory(N * M + int64_t(threads) * kTileRows * K +
                      (tiles + 1) * rank * K + rank * N);
    return;
  }
  const float *aTransposed = aTransposedBuffer.data;
  const float *bTransposed = bTransposedBuffer.data;
  if (rank > 0) {
    transposeFactor(a, aStride, rank, K, coefficient, aTransposedBuffer.data);
    transposeFactor(b, bStride, N, rank, coefficient, bTransposedBuffer.data);
  }

  // gᵀ [N, M], so that a tile's rows of Gw are one GEMM with contiguous A.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      gTransposed.data[n * M + m] = p.g[m * p.ldg + n];

#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t tile = 0; tile < tiles; ++tile) {
    float *block = blocks.data + omp_get_thread_num() * kTileRows * K;
    int64_t first = tile * kTileRows;
    int64_t rows = N - first < kTileRows ? N - first : kTileRows;
    gemmOnThisThread({rows, K, M, gTransposed.data + first * M, M, p.x, p.ldx,
                      block, K, /*accumulate=*/false});
    reduceTile(first, rows, block);
    // ∂B's rows of this tile: D · Aᵀ.
    gemmOnThisThread({rows, rank, K, block, K, aTransposed, rank,
                      p.dB + first * p.lddb, p.lddb, /*accumulate=*/true});
    // This tile's share of ∂A: B[rows]ᵀ · D.
    gemmOnThisThread({rank, K, rows, bTransposed + first, N, block, K,
                      partials.data + tile * rank * K, K,
                      /*accumulate=*/false});
  }

  // ∂A += Σ_tiles partial, in tile order.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t j = 0; j < rank; ++j) {
    float *out = p.dA + j * p.ldda;
    for (int64_t tile = 0; tile < tiles; ++tile) {
      const float *partial = partials.data + (tile * rank + j) * K;
      for (int64_t i = 0; i < K; ++i)
        out[i] += partial[i];
    }
  }
}

} // namespace
} // namespace cpu
} // namespace qaf

using namespace qaf::cpu;

QAF_API void qaf_lota_factor_gradients(
    int64_t M, int64_t N, int64_t K, int64_t rank, int64_t G, int64_t ldg,
    int64_t X, int64_t ldx, int64_t scales, int64_t scalesStride, int64_t A,
    int64_t aStride, int64_t B, int64_t bStride, int64_t dA, int64_t ldda,
    int64_t dB, int64_t lddb, int64_t groupSize, double omega) {
  if (M <= 0 || N <= 0 || K <= 0 || rank <= 0 || groupSize <= 0)
    return;
  FactorGradients p =
      describe(M, N, K, rank, groupSize, G, ldg, X, ldx, dA, ldda, dB, lddb);
  const float *s = reinterpret_cast<const float *>(scales);
  float inverseOmega = float(1.0 / omega);
  float inverseGroup = float(1.0 / double(groupSize));
  // D = s⊙Gw + (1/ω)·P_g(s⊙Gw), one (row, group) at a time.
  computeFactorGradients(
      p, reinterpret_cast<const int8_t *>(A), aStride,
      reinterpret_cast<const int8_t *>(B), bStride, 1.0f,
      [&](int64_t first, int64_t rows, float *block) {
        for (int64_t r = 0; r < rows; ++r) {
          const float *rowScales = s + (first + r) * scalesStride;
          for (int64_t begin = 0; begin < K; begin += groupSize) {
            float *values = block + r * K + begin;
            float scale = rowScales[begin / groupSize], sum = 0.0f;
            for (int64_t i = 0; i < groupSize; ++i) {
              values[i] *= scale;
              sum += values[i];
            }
            float shift = sum * inverseGroup * inverseOmega;
            for (int64_t i = 0; i < groupSize; ++i)
              values[i] += shift;
          }
        }
      });
}

QAF_API void qaf_l4q_gradients(
    int64_t M, int64_t N, int64_t K, int64_t rank, int64_t G, int64_t ldg,
    int64_t X, int64_t ldx, int64_t normalized, int64_t normalizedStride,
    int64_t codes, int64_t codesStride, int64_t A, int64_t aStride, int64_t B,
    int64_t bStride, int64_t dA, int64_t ldda, int64_t dB, int64_t lddb,
    int64_t dScales, int64_t dScalesStride, int64_t dOffsets,
    int64_t dOffsetsStride, int64_t bits, int64_t groupSize, double alpha) {
  if (M <= 0 || N <= 0 || K <= 0 || groupSize <= 0 || bits < 1 || bits > 16)
    return;
  FactorGradients p =
      describe(M, N, K, rank, groupSize, G, ldg, X, ldx, dA, ldda, dB, lddb);
  const float *u = reinterpret_cast<const float *>(normalized);
  const float *w = reinterpret_cast<const float *>(codes);
  float *scaleGradients = reinterpret_cast<float *>(dScales);
  float *offsetGradients = reinterpret_cast<float *>(dOffsets);
  float lowest = -float(int64_t(1) << (bits - 1));
  float highest = float((int64_t(1) << (bits - 1)) - 1);
  // M = [Q_N ≤ u ≤ Q_P]: ∂s += Σ_group Gw⊙(w̃ − M⊙u), ∂β += Σ_group
  // Gw⊙(1 − M), and D = M⊙Gw (α is in the factors).
  computeFactorGradients(
      p, reinterpret_cast<const float *>(A), aStride,
      reinterpret_cast<const float *>(B), bStride, float(alpha),
      [&](int64_t first, int64_t rows, float *block) {
        for (int64_t r = 0; r < rows; ++r) {
          int64_t row = first + r;
          const float *rowU = u + row * normalizedStride;
          const float *rowCodes = w + row * codesStride;
          for (int64_t begin = 0; begin < K; begin += groupSize) {
            float *values = block + r * K + begin;
            float scaleSum = 0.0f, offsetSum = 0.0f;
            for (int64_t i = 0; i < groupSize; ++i) {
              float gradient = values[i], normal = rowU[begin + i];
              bool inRange = normal >= lowest && normal <= highest;
              float masked = inRange ? gradient : 0.0f;
              scaleSum += gradient * rowCodes[begin + i] - masked * normal;
              offsetSum += gradient - masked;
              values[i] = masked;
            }
            scaleGradients[row * dScalesStride + begin / groupSize] += scaleSum;
            offsetGradients[row * dOffsetsStride + begin / groupSize] +=
                offsetSum;
          }
        }
      });
}
