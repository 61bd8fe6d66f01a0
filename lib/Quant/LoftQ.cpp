//===- LoftQ.cpp - quantization-aware LoRA initialisation -----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/LoftQ.h"

#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>
#include <cstddef>
#include <limits>

using namespace qaf;
using namespace qaf::quant;

// LAPACK's Fortran entry point (column-major, 32-bit integers). The trailing
// length is the hidden length of the `jobz` string that gfortran-built
// LAPACKs expect.
extern "C" void sgesdd_(const char *jobz, const int *m, const int *n, float *a,
                        const int *lda, float *s, float *u, const int *ldu,
                        float *vt, const int *ldvt, float *work,
                        const int *lwork, int *iwork, int *info,
                        size_t jobzLength);

namespace {

/// ‖a − b‖_F, accumulated in double.
double getFrobeniusDistance(llvm::ArrayRef<float> a, llvm::ArrayRef<float> b) {
  assert(a.size() == b.size() && "size mismatch");
  double sum = 0;
  for (size_t i = 0, e = a.size(); i != e; ++i) {
    double diff = static_cast<double>(a[i]) - b[i];
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

/// out = L · R for row-major L (m × r) and R (r × n). r is small (the LoRA
/// rank), so row-by-row axpys vectorize and stay in cache.
void multiplyLowRank(llvm::ArrayRef<float> l, llvm::ArrayRef<float> r,
                     int64_t m, int64_t rank, int64_t n,
                     llvm::MutableArrayRef<float> out) {
  for (int64_t i = 0; i < m; ++i) {
    float *dst = out.data() + i * n;
    std::fill(dst, dst + n, 0.0f);
    for (int64_t k = 0; k < rank; ++k) {
      float lik = l[i * rank + k];
      const float *src = r.data() + k * n;
      for (int64_t j = 0; j < n; ++j)
        dst[j] += lik * src[j];
    }
  }
}

} // namespace

llvm::Error qaf::quant::computeSVD(llvm::ArrayRef<float> matrix, int64_t m,
                                   int64_t n, std::vector<float> &u,
                                   std::vector<float> &sigma,
                                   std::vector<float> &vt) {
  if (m <= 0 || n <= 0)
    return llvm::createStringError("SVD of an empty %lld x %lld matrix",
                                   static_cast<long long>(m),
                                   static_cast<long long>(n));
  if (static_cast<int64_t>(matrix.size()) != m * n)
    return llvm::createStringError(
        "SVD input has %zu elements, not %lld x %lld", matrix.size(),
        static_cast<long long>(m), static_cast<long long>(n));
  if (m > INT_MAX || n > INT_MAX || m * n > INT_MAX)
    return llvm::createStringError(
        "SVD input %lld x %lld is too large for 32-bit LAPACK",
        static_cast<long long>(m), static_cast<long long>(n));

  // A row-major m × n matrix is the column-major n × m matrix Aᵀ = V Σ Uᵀ.
  // LAPACK's column-major factors of Aᵀ are then exactly the row-major
  // factors of A: its "U" (n × k) is our Vᵀ (k × n), its "Vᵀ" (k × m) our
  // U (m × k). No transposes needed.
  int k = static_cast<int>(std::min(m, n));
  int lapackM = static_cast<int>(n), lapackN = static_cast<int>(m);
  std::vector<float> a(matrix.begin(), matrix.end());
  u.assign(static_cast<size_t>(m) * k, 0.0f);
  sigma.assign(k, 0.0f);
  vt.assign(static_cast<size_t>(k) * n, 0.0f);
  std::vector<int> iwork(8 * static_cast<size_t>(k));
  int info = 0;
  char jobz = 'S';

  // Workspace query first: LAPACK reports the optimal size in work[0].
  int lwork = -1;
  float workSize = 0;
  sgesdd_(&jobz, &lapackM, &lapackN, a.data(), &lapackM, sigma.data(),
          vt.data(), &lapackM, u.data(), &k, &workSize, &lwork, iwork.data(),
          &info, 1);
  if (info != 0)
    return llvm::createStringError("sgesdd workspace query failed (info %d)",
                                   info);
  lwork = static_cast<int>(workSize) + 1;
  std::vector<float> work(lwork);
  sgesdd_(&jobz, &lapackM, &lapackN, a.data(), &lapackM, sigma.data(),
          vt.data(), &lapackM, u.data(), &k, work.data(), &lwork, iwork.data(),
          &info, 1);
  if (info > 0)
    return llvm::createStringError("sgesdd did not converge (info %d)", info);
  if (info < 0)
    return llvm::createStringError("sgesdd rejected argument %d", -info);
  return llvm::Error::success();
}

llvm::Expected<LoftQResult> qaf::quant::runLoftQ(const MatrixView &weights,
                                                 const QuantFormat &format,
                                                 const LoftQOptions &options) {
  int64_t m = weights.rows, n = weights.cols, rank = options.rank;
  if (m <= 0 || n <= 0)
    return llvm::createStringError("LoftQ of an empty %lld x %lld matrix",
                                   static_cast<long long>(m),
                                   static_cast<long long>(n));
  if (rank < 1 || rank > std::min(m, n))
    return llvm::createStringError(
        "LoftQ rank %lld is outside [1, %lld] for a %lld x %lld weight",
        static_cast<long long>(rank), static_cast<long long>(std::min(m, n)),
        static_cast<long long>(m), static_cast<long long>(n));
  if (options.iterations < 1)
    return llvm::createStringError("LoftQ needs at least one iteration, not "
                                   "%lld",
                                   static_cast<long long>(options.iterations));
  if (!(options.loraScale > 0) || !std::isfinite(options.loraScale))
    return llvm::createStringError("LoRA scale %g is not positive",
                                   options.loraScale);
  if (llvm::Error error = verifyFormat(format, n))
    return std::move(error);

  size_t size = static_cast<size_t>(m) * n;
  std::vector<float> w(size);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      w[i * n + j] = weights.at(i, j);

  LoftQResult result;
  double bestError = std::numeric_limits<double>::infinity();
  std::vector<float> target = w, dequantized(size), residual(size),
                     lowRank(size), l(m * rank), r(rank * n), u, sigma, vt;
  for (int64_t t = 0; t < options.iterations; ++t) {
    llvm::Expected<QuantizedMatrix> quantized =
        quantize(MatrixView::rowMajor(target.data(), m, n), format);
    if (!quantized)
      return quantized.takeError();
    dequantize(*quantized, dequantized);
    for (size_t i = 0; i < size; ++i)
      residual[i] = w[i] - dequantized[i];
    // The first step quantizes W itself: that is q_b(W).
    if (t == 0)
      result.quantizationError = getFrobeniusDistance(w, dequantized);

    if (llvm::Error error = computeSVD(residual, m, n, u, sigma, vt))
      return std::move(error);
    int64_t k = static_cast<int64_t>(sigma.size());
    // Balanced factors: L = U_r Σ_r^½, R = Σ_r^½ V_rᵀ.
    for (int64_t c = 0; c < rank; ++c) {
      float root = std::sqrt(sigma[c]);
      for (int64_t i = 0; i < m; ++i)
        l[i * rank + c] = u[i * k + c] * root;
      for (int64_t j = 0; j < n; ++j)
        r[c * n + j] = root * vt[c * n + j];
    }
    multiplyLowRank(l, r, m, rank, n, lowRank);
    double error = getFrobeniusDistance(residual, lowRank);
    result.errors.push_back(error);
    if (error < bestError) {
      bestError = error;
      result.bestIteration = t;
      result.base = std::move(*quantized);
      result.loraB = l;
      result.loraA = r;
    }
    for (size_t i = 0; i < size; ++i)
      target[i] = w[i] - lowRank[i];
  }

  // Q + scale·(B/√scale)(A/√scale) = Q + L·R.
  float factor = static_cast<float>(1.0 / std::sqrt(options.loraScale));
  if (options.loraScale != 1.0) {
    for (float &value : result.loraB)
      value *= factor;
    for (float &value : result.loraA)
      value *= factor;
  }
  return result;
}
