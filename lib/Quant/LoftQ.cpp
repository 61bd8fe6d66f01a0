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
#include <dlfcn.h>
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

extern "C" void dsyrk_(const char *uplo, const char *trans, const int *n,
                       const int *k, const double *alpha, const double *a,
                       const int *lda, const double *beta, double *c,
                       const int *ldc, size_t uploLength, size_t transLength);

extern "C" void dsyevr_(const char *jobz, const char *range, const char *uplo,
                        const int *n, double *a, const int *lda,
                        const double *vl, const double *vu, const int *il,
                        const int *iu, const double *abstol, int *m, double *w,
                        double *z, const int *ldz, int *isuppz, double *work,
                        const int *lwork, int *iwork, const int *liwork,
                        int *info, size_t jobzLength, size_t rangeLength,
                        size_t uploLength);

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

// OpenBLAS's thread controls, looked up at run time: the library may be
// linked against another LAPACK, which has none.
namespace {
using GetThreads = int (*)();
using SetThreads = void (*)(int);
SetThreads getSetThreads() {
  return reinterpret_cast<SetThreads>(
      dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
} // namespace

qaf::quant::SingleThreadedBLAS::SingleThreadedBLAS() {
  auto get = reinterpret_cast<GetThreads>(
      dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  SetThreads set = getSetThreads();
  if (!get || !set)
    return;
  savedThreads = get();
  set(1);
}

qaf::quant::SingleThreadedBLAS::~SingleThreadedBLAS() {
  if (SetThreads set = getSetThreads(); set && savedThreads > 0)
    set(savedThreads);
}

/// Whether a row-major m × n `matrix` is one LAPACK's 32-bit interface can
/// factor: non-empty, of m·n elements, every size within int.
static llvm::Error checkSVDInput(llvm::ArrayRef<float> matrix, int64_t m,
                                 int64_t n) {
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
  return llvm::Error::success();
}

llvm::Error qaf::quant::computeSVD(llvm::ArrayRef<float> matrix, int64_t m,
                                   int64_t n, std::vector<float> &u,
                                   std::vector<float> &sigma,
                                   std::vector<float> &vt) {
  if (llvm::Error error = checkSVDInput(matrix, m, n))
    return error;

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

llvm::Error qaf::quant::computeTopSingularTriplets(
    llvm::ArrayRef<float> matrix, int64_t m, int64_t n, int64_t rank,
    std::vector<float> &u, std::vector<float> &sigma, std::vector<float> &vt) {
  if (llvm::Error error = checkSVDInput(matrix, m, n))
    return error;
  if (rank < 1 || rank > std::min(m, n))
    return llvm::createStringError(
        "truncated SVD rank %lld is outside [1, %lld]",
        static_cast<long long>(rank), static_cast<long long>(std::min(m, n)));
  std::vector<double> a(matrix.begin(), matrix.end());
  // The row-major m × n A is the column-major n × m Aᵀ (leading dim n).
  // Gram matrix of the smaller side: AᵀA (n × n) when n <= m, else AAᵀ.
  bool columns = n <= m;
  int size = static_cast<int>(columns ? n : m);
  int depth = static_cast<int>(columns ? m : n);
  int lda = static_cast<int>(n);
  std::vector<double> gram(static_cast<size_t>(size) * size, 0.0);
  double one = 1.0, zero = 0.0;
  char upper = 'U', trans = columns ? 'N' : 'T';
  dsyrk_(&upper, &trans, &size, &depth, &one, a.data(), &lda, &zero,
         gram.data(), &size, 1, 1);

  // The top `rank` eigenpairs (dsyevr returns them in ascending order).
  char jobz = 'V', range = 'I';
  int first = size - static_cast<int>(rank) + 1, last = size, found = 0;
  double bound = 0.0, abstol = 0.0;
  std::vector<double> eigenvalues(size),
      vectors(static_cast<size_t>(size) * rank);
  std::vector<int> support(2 * static_cast<size_t>(rank));
  int lwork = -1, liwork = -1, info = 0, iworkSize = 0;
  double workSize = 0.0;
  dsyevr_(&jobz, &range, &upper, &size, gram.data(), &size, &bound, &bound,
          &first, &last, &abstol, &found, eigenvalues.data(), vectors.data(),
          &size, support.data(), &workSize, &lwork, &iworkSize, &liwork, &info,
          1, 1, 1);
  if (info != 0)
    return llvm::createStringError("dsyevr workspace query failed (info %d)",
                                   info);
  lwork = static_cast<int>(workSize) + 1;
  liwork = iworkSize;
  std::vector<double> work(lwork);
  std::vector<int> iwork(liwork);
  dsyevr_(&jobz, &range, &upper, &size, gram.data(), &size, &bound, &bound,
          &first, &last, &abstol, &found, eigenvalues.data(), vectors.data(),
          &size, support.data(), work.data(), &lwork, iwork.data(), &liwork,
          &info, 1, 1, 1);
  if (info != 0 || found != rank)
    return llvm::createStringError(
        "dsyevr found %d of %lld eigenpairs (info %d)", found,
        static_cast<long long>(rank), info);

  // Singular value c is the c-th largest: eigenpair rank − 1 − c. Its
  // eigenvector is the right (AᵀA) or left (AAᵀ) singular vector; the other
  // one is A·v / σ or Aᵀ·u / σ, all `rank` of them in one pass over A.
  std::vector<double> known(static_cast<size_t>(size) * rank);
  std::vector<double> values(rank);
  for (int64_t c = 0; c < rank; ++c) {
    int64_t pair = rank - 1 - c;
    values[c] = std::sqrt(std::max(eigenvalues[pair], 0.0));
    for (int64_t i = 0; i < size; ++i)
      known[i * rank + c] = vectors[pair * size + i];
  }
  int64_t otherSize = columns ? m : n;
  std::vector<double> other(static_cast<size_t>(otherSize) * rank, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double element = a[i * n + j];
      double *to = other.data() + (columns ? i : j) * rank;
      const double *from = known.data() + (columns ? j : i) * rank;
      for (int64_t c = 0; c < rank; ++c)
        to[c] += element * from[c];
    }
  u.assign(static_cast<size_t>(m) * rank, 0.0f);
  vt.assign(static_cast<size_t>(rank) * n, 0.0f);
  sigma.assign(rank, 0.0f);
  for (int64_t c = 0; c < rank; ++c) {
    sigma[c] = static_cast<float>(values[c]);
    if (values[c] == 0.0)
      continue;
    for (int64_t i = 0; i < m; ++i)
      u[i * rank + c] = static_cast<float>(
          columns ? other[i * rank + c] / values[c] : known[i * rank + c]);
    for (int64_t j = 0; j < n; ++j)
      vt[c * n + j] = static_cast<float>(
          columns ? known[j * rank + c] : other[j * rank + c] / values[c]);
  }
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

    if (llvm::Error error =
            computeTopSingularTriplets(residual, m, n, rank, u, sigma, vt))
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
