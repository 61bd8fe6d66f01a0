//===- LoftQTest.cpp - LoftQ initialisation and the LAPACK SVD ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The invariants of METHODS.md §5, checked against products and norms
// recomputed here in double precision.
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/LoftQ.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <dlfcn.h>
#include <random>
#include <string>
#include <vector>

using namespace qaf::quant;

namespace {

std::vector<float> randomMatrix(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> values(rows * cols);
  for (float &value : values)
    value = normal(rng);
  return values;
}

/// A weight-like matrix: noise plus a few strong directions, so that the
/// low-rank factors have something to find besides quantization noise.
std::vector<float> lowRankPlusNoise(int64_t rows, int64_t cols, unsigned seed) {
  std::vector<float> w = randomMatrix(rows, cols, seed);
  std::vector<float> a = randomMatrix(rows, 4, seed + 1);
  std::vector<float> b = randomMatrix(4, cols, seed + 2);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t k = 0; k < 4; ++k)
        w[i * cols + j] += 20 * a[i * 4 + k] * b[k * cols + j];
  return w;
}

/// out (m × n) = a (m × k) · b (k × n), row-major, in double.
std::vector<double> multiply(llvm::ArrayRef<float> a, llvm::ArrayRef<float> b,
                             int64_t m, int64_t k, int64_t n) {
  std::vector<double> out(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t l = 0; l < k; ++l)
      for (int64_t j = 0; j < n; ++j)
        out[i * n + j] += double(a[i * k + l]) * b[l * n + j];
  return out;
}

QuantFormat makeFormat(Scheme scheme, unsigned bits, int64_t groupSize) {
  QuantFormat format;
  format.scheme = scheme;
  format.bits = bits;
  format.groupSize = groupSize;
  return format;
}

LoftQResult runOrDie(const MatrixView &weights, const QuantFormat &format,
                     const LoftQOptions &options) {
  llvm::Expected<LoftQResult> result = runLoftQ(weights, format, options);
  if (!result) {
    ADD_FAILURE() << llvm::toString(result.takeError());
    return {};
  }
  return std::move(*result);
}

/// ‖W − dequant(Q) − scale·B·A‖_F, recomputed in double.
double getApproximationError(llvm::ArrayRef<float> w, int64_t rows,
                             int64_t cols, const LoftQResult &result,
                             int64_t rank, double scale) {
  std::vector<double> ba =
      multiply(result.loraB, result.loraA, rows, rank, cols);
  double sum = 0;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      double diff = double(w[i * cols + j]) - result.base.dequantize(i, j) -
                    scale * ba[i * cols + j];
      sum += diff * diff;
    }
  }
  return std::sqrt(sum);
}

//===----------------------------------------------------------------------===//
// computeSVD.
//===----------------------------------------------------------------------===//

/// Orthonormal columns of U (m × k) and rows of Vᵀ (k × n): UᵀU = VᵀV = I.
void expectOrthonormalFactors(const std::vector<float> &u,
                              const std::vector<float> &vt, int64_t m,
                              int64_t n, int64_t k) {
  for (int64_t p = 0; p < k; ++p)
    for (int64_t q = 0; q < k; ++q) {
      double uu = 0, vv = 0;
      for (int64_t i = 0; i < m; ++i)
        uu += double(u[i * k + p]) * u[i * k + q];
      for (int64_t j = 0; j < n; ++j)
        vv += double(vt[p * n + j]) * vt[q * n + j];
      ASSERT_NEAR(uu, p == q ? 1.0 : 0.0, 1e-5) << p << ", " << q;
      ASSERT_NEAR(vv, p == q ? 1.0 : 0.0, 1e-5) << p << ", " << q;
    }
}

class LoftQSVDTest
    : public testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(LoftQSVDTest, ReconstructsARandomMatrix) {
  auto [m, n] = GetParam();
  int64_t k = std::min(m, n);
  std::vector<float> a = randomMatrix(m, n, m * 1000 + n);
  std::vector<float> u, sigma, vt;
  ASSERT_FALSE(static_cast<bool>(computeSVD(a, m, n, u, sigma, vt)));
  ASSERT_EQ(u.size(), size_t(m * k));
  ASSERT_EQ(sigma.size(), size_t(k));
  ASSERT_EQ(vt.size(), size_t(k * n));
  for (int64_t i = 0; i < k; ++i) {
    EXPECT_GE(sigma[i], 0.0f);
    if (i > 0)
      EXPECT_LE(sigma[i], sigma[i - 1]);
  }
  // U Σ Vᵀ = A.
  std::vector<float> uSigma(u);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t l = 0; l < k; ++l)
      uSigma[i * k + l] *= sigma[l];
  std::vector<double> product = multiply(uSigma, vt, m, k, n);
  double error = 0, norm = 0;
  for (int64_t i = 0; i < m * n; ++i) {
    error += (product[i] - a[i]) * (product[i] - a[i]);
    norm += double(a[i]) * a[i];
  }
  EXPECT_LT(std::sqrt(error / norm), 1e-5);
  expectOrthonormalFactors(u, vt, m, n, k);
}

/// "MxN", the name of a test on an M x N matrix.
std::string
shapeName(const testing::TestParamInfo<std::pair<int64_t, int64_t>> &info) {
  return std::to_string(info.param.first) + "x" +
         std::to_string(info.param.second);
}

INSTANTIATE_TEST_SUITE_P(
    LoftQ, LoftQSVDTest,
    testing::Values(std::make_pair(int64_t(24), int64_t(40)),
                    std::make_pair(int64_t(40), int64_t(24)),
                    std::make_pair(int64_t(33), int64_t(33)),
                    std::make_pair(int64_t(1), int64_t(7))),
    shapeName);

// The top-r triplets LoftQ uses, from the Gram matrix's top eigenpairs,
// against LAPACK's full SVD (sgesdd, another algorithm): the same singular
// values, the same rank-r approximation (signs of the vectors may differ),
// orthonormal factors; both orientations of the Gram matrix.
class LoftQTruncatedSVDTest
    : public testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(LoftQTruncatedSVDTest, MatchesTheFullSVD) {
  auto [m, n] = GetParam();
  const int64_t rank = 8, k = std::min(m, n);
  std::vector<float> a = randomMatrix(m, n, m * 7 + n);
  std::vector<float> u, sigma, vt, fullU, fullSigma, fullVt;
  ASSERT_FALSE(static_cast<bool>(
      computeTopSingularTriplets(a, m, n, rank, u, sigma, vt)));
  ASSERT_FALSE(
      static_cast<bool>(computeSVD(a, m, n, fullU, fullSigma, fullVt)));
  ASSERT_EQ(u.size(), size_t(m * rank));
  ASSERT_EQ(vt.size(), size_t(rank * n));
  for (int64_t c = 0; c < rank; ++c)
    EXPECT_NEAR(sigma[c], fullSigma[c], 1e-5 * fullSigma[0]) << c;
  double error = 0, norm = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double mine = 0, full = 0;
      for (int64_t c = 0; c < rank; ++c) {
        mine += double(u[i * rank + c]) * sigma[c] * vt[c * n + j];
        full += double(fullU[i * k + c]) * fullSigma[c] * fullVt[c * n + j];
      }
      error += (mine - full) * (mine - full);
      norm += full * full;
    }
  EXPECT_LT(std::sqrt(error / norm), 1e-4);
  expectOrthonormalFactors(u, vt, m, n, rank);
}

INSTANTIATE_TEST_SUITE_P(
    LoftQ, LoftQTruncatedSVDTest,
    testing::Values(std::make_pair(int64_t(200), int64_t(60)),
                    std::make_pair(int64_t(60), int64_t(200)),
                    std::make_pair(int64_t(48), int64_t(48))),
    shapeName);

// A zero matrix has no direction to keep: zero singular values and vectors,
// never a division by zero; bad shapes and ranks are refused.
TEST(LoftQTest, TruncatedSVDOfZeroAndBadInput) {
  std::vector<float> zero(12 * 5, 0.0f), u, sigma, vt;
  ASSERT_FALSE(static_cast<bool>(
      computeTopSingularTriplets(zero, 12, 5, 3, u, sigma, vt)));
  for (float value : sigma)
    EXPECT_EQ(value, 0.0f);
  for (float value : u)
    EXPECT_EQ(value, 0.0f);
  for (float value : vt)
    EXPECT_EQ(value, 0.0f);
  llvm::Error tooHigh =
      computeTopSingularTriplets(zero, 12, 5, 6, u, sigma, vt);
  EXPECT_TRUE(static_cast<bool>(tooHigh));
  llvm::consumeError(std::move(tooHigh));
  llvm::Error wrongSize =
      computeTopSingularTriplets(zero, 11, 5, 2, u, sigma, vt);
  EXPECT_TRUE(static_cast<bool>(wrongSize));
  llvm::consumeError(std::move(wrongSize));
}

// OpenBLAS (the LAPACK scripts/setup.sh installs) runs single-threaded while
// LoftQ's layers run in parallel, and gets its thread count back afterwards.
TEST(LoftQTest, SingleThreadedBLASRestoresTheThreadCount) {
  auto get = reinterpret_cast<int (*)()>(
      dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto set = reinterpret_cast<void (*)(int)>(
      dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  ASSERT_TRUE(get && set)
      << "the build links OpenBLAS as its LAPACK (scripts/setup.sh)";
  int before = get();
  set(2);
  {
    SingleThreadedBLAS single;
    EXPECT_EQ(get(), 1);
  }
  EXPECT_EQ(get(), 2);
  set(before);
}

TEST(LoftQTest, SVDFindsKnownSingularValues) {
  // A 4 × 6 matrix with singular values 5, 3, 1, 0.5: a scaled permutation
  // (entries ±σ in distinct rows and columns), then rotated by θ in the
  // planes of rows (0, 2) and columns (1, 4): rotations keep the singular
  // values.
  double d[4][6] = {};
  d[0][3] = -3;
  d[1][0] = 5;
  d[2][5] = 0.5;
  d[3][2] = 1;
  double c = std::cos(0.7), s = std::sin(0.7);
  for (int j = 0; j < 6; ++j) {
    double r0 = d[0][j], r2 = d[2][j];
    d[0][j] = c * r0 - s * r2;
    d[2][j] = s * r0 + c * r2;
  }
  for (int i = 0; i < 4; ++i) {
    double c1 = d[i][1], c4 = d[i][4];
    d[i][1] = c * c1 + s * c4;
    d[i][4] = -s * c1 + c * c4;
  }
  std::vector<float> a;
  for (auto &row : d)
    for (double value : row)
      a.push_back(static_cast<float>(value));
  std::vector<float> u, sigma, vt;
  ASSERT_FALSE(static_cast<bool>(computeSVD(a, 4, 6, u, sigma, vt)));
  ASSERT_EQ(sigma.size(), 4u);
  EXPECT_NEAR(sigma[0], 5.0f, 1e-5f);
  EXPECT_NEAR(sigma[1], 3.0f, 1e-5f);
  EXPECT_NEAR(sigma[2], 1.0f, 1e-5f);
  EXPECT_NEAR(sigma[3], 0.5f, 1e-5f);
}

TEST(LoftQTest, SVDRejectsBadShapes) {
  std::vector<float> a(12), u, sigma, vt;
  llvm::Error wrongSize = computeSVD(a, 3, 5, u, sigma, vt);
  ASSERT_TRUE(static_cast<bool>(wrongSize));
  EXPECT_NE(llvm::toString(std::move(wrongSize)).find("12 elements"),
            std::string::npos);
  llvm::Error empty = computeSVD({}, 0, 5, u, sigma, vt);
  EXPECT_TRUE(static_cast<bool>(empty));
  llvm::consumeError(std::move(empty));
}

//===----------------------------------------------------------------------===//
// runLoftQ.
//===----------------------------------------------------------------------===//

TEST(LoftQTest, RejectsBadOptions) {
  std::vector<float> w = randomMatrix(16, 32, 1);
  MatrixView view = MatrixView::rowMajor(w.data(), 16, 32);
  QuantFormat format = makeFormat(Scheme::NormalFloat, 4, 16);
  for (int64_t rank : {int64_t(0), int64_t(-1), int64_t(17)}) {
    LoftQOptions options;
    options.rank = rank;
    llvm::Expected<LoftQResult> result = runLoftQ(view, format, options);
    ASSERT_FALSE(result) << rank;
    EXPECT_NE(llvm::toString(result.takeError()).find("outside [1, 16]"),
              std::string::npos);
  }
  LoftQOptions noSteps;
  noSteps.iterations = 0;
  llvm::Expected<LoftQResult> result = runLoftQ(view, format, noSteps);
  ASSERT_FALSE(result);
  llvm::consumeError(result.takeError());

  llvm::Expected<LoftQResult> badFormat =
      runLoftQ(view, makeFormat(Scheme::Asymmetric, 4, 48), LoftQOptions());
  ASSERT_FALSE(badFormat);
  EXPECT_NE(llvm::toString(badFormat.takeError()).find("does not divide"),
            std::string::npos);
}

struct LoftQCase {
  Scheme scheme;
  unsigned bits;
  int64_t rows, cols, rank;
};

class LoftQInvariantTest : public testing::TestWithParam<LoftQCase> {};

TEST_P(LoftQInvariantTest, Invariants) {
  LoftQCase c = GetParam();
  std::vector<float> w = lowRankPlusNoise(c.rows, c.cols, c.rows + c.bits);
  MatrixView view = MatrixView::rowMajor(w.data(), c.rows, c.cols);
  QuantFormat format = makeFormat(c.scheme, c.bits, 32);
  LoftQOptions options;
  options.rank = c.rank;
  options.iterations = 5;
  LoftQResult result = runOrDie(view, format, options);
  ASSERT_EQ(result.errors.size(), 5u);
  ASSERT_EQ(result.loraB.size(), size_t(c.rows * c.rank));
  ASSERT_EQ(result.loraA.size(), size_t(c.rank * c.cols));

  // The plain quantization error, recomputed from an independent quantize.
  llvm::Expected<QuantizedMatrix> plain = quantize(view, format);
  ASSERT_TRUE(static_cast<bool>(plain));
  double plainError = 0;
  for (int64_t i = 0; i < c.rows; ++i)
    for (int64_t j = 0; j < c.cols; ++j) {
      double diff = w[i * c.cols + j] - plain->dequantize(i, j);
      plainError += diff * diff;
    }
  EXPECT_NEAR(result.quantizationError, std::sqrt(plainError),
              1e-9 * result.quantizationError);

  // One step never hurts; the kept iterate is the best one.
  EXPECT_LE(result.errors[0], result.quantizationError);
  double best = *std::min_element(result.errors.begin(), result.errors.end());
  EXPECT_EQ(result.errors[result.bestIteration], best);
  EXPECT_LE(best, result.errors[0]);
  // With strong low-rank structure the factors absorb most of it.
  EXPECT_LT(best, 0.9 * result.quantizationError);

  // The returned Q, B, A reproduce the reported error.
  EXPECT_NEAR(getApproximationError(w, c.rows, c.cols, result, c.rank, 1.0),
              best, 1e-4 * best);

  // Balanced factors: BᵀB = A Aᵀ = diag(σ_1..σ_r), σ the top singular values
  // of W − dequant(Q).
  std::vector<float> residual(c.rows * c.cols);
  for (int64_t i = 0; i < c.rows; ++i)
    for (int64_t j = 0; j < c.cols; ++j)
      residual[i * c.cols + j] =
          w[i * c.cols + j] - result.base.dequantize(i, j);
  std::vector<float> u, sigma, vt;
  ASSERT_FALSE(
      static_cast<bool>(computeSVD(residual, c.rows, c.cols, u, sigma, vt)));
  double tolerance = 1e-4 * sigma[0];
  for (int64_t p = 0; p < c.rank; ++p) {
    for (int64_t q = 0; q < c.rank; ++q) {
      double btb = 0, aat = 0;
      for (int64_t i = 0; i < c.rows; ++i)
        btb +=
            double(result.loraB[i * c.rank + p]) * result.loraB[i * c.rank + q];
      for (int64_t j = 0; j < c.cols; ++j)
        aat +=
            double(result.loraA[p * c.cols + j]) * result.loraA[q * c.cols + j];
      double expected = p == q ? sigma[p] : 0.0;
      ASSERT_NEAR(btb, expected, tolerance) << p << ", " << q;
      ASSERT_NEAR(aat, expected, tolerance) << p << ", " << q;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    LoftQ, LoftQInvariantTest,
    testing::Values(LoftQCase{Scheme::NormalFloat, 4, 48, 96, 8},
                    LoftQCase{Scheme::NormalFloat, 2, 96, 64, 4},
                    LoftQCase{Scheme::Asymmetric, 4, 64, 64, 16},
                    LoftQCase{Scheme::Asymmetric, 2, 40, 128, 6},
                    LoftQCase{Scheme::Symmetric, 3, 72, 96, 8}),
    [](const testing::TestParamInfo<LoftQCase> &info) {
      return getSchemeName(info.param.scheme).str() +
             std::to_string(info.param.bits) + "_" +
             std::to_string(info.param.rows) + "x" +
             std::to_string(info.param.cols) + "_r" +
             std::to_string(info.param.rank);
    });

TEST(LoftQTest, HigherRankNeverFitsWorseInTheFirstStep) {
  // Step 1 quantizes W itself for every rank, so its error is the tail of
  // the same spectrum: non-increasing in r, and ~0 at full rank.
  std::vector<float> w = randomMatrix(32, 64, 5);
  MatrixView view = MatrixView::rowMajor(w.data(), 32, 64);
  QuantFormat format = makeFormat(Scheme::Asymmetric, 3, 32);
  double previous = INFINITY, quantizationError = 0;
  for (int64_t rank : {1, 4, 16, 31, 32}) {
    LoftQOptions options;
    options.rank = rank;
    options.iterations = 1;
    LoftQResult result = runOrDie(view, format, options);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_LE(result.errors[0], previous * (1 + 1e-6)) << rank;
    previous = result.errors[0];
    quantizationError = result.quantizationError;
  }
  EXPECT_LT(previous, 1e-4 * quantizationError);
}

TEST(LoftQTest, LoraScaleDividesTheFactors) {
  std::vector<float> w = lowRankPlusNoise(32, 64, 9);
  MatrixView view = MatrixView::rowMajor(w.data(), 32, 64);
  QuantFormat format = makeFormat(Scheme::NormalFloat, 4, 64);
  LoftQOptions options;
  options.rank = 4;
  LoftQResult plain = runOrDie(view, format, options);
  options.loraScale = 4.0;
  LoftQResult scaled = runOrDie(view, format, options);
  ASSERT_EQ(scaled.loraB.size(), plain.loraB.size());
  for (size_t i = 0; i < plain.loraB.size(); ++i)
    EXPECT_NEAR(scaled.loraB[i] * 2, plain.loraB[i],
                1e-6 * std::fabs(plain.loraB[i]) + 1e-9);
  for (size_t i = 0; i < plain.loraA.size(); ++i)
    EXPECT_NEAR(scaled.loraA[i] * 2, plain.loraA[i],
                1e-6 * std::fabs(plain.loraA[i]) + 1e-9);
  // Q + scale·B·A is still the LoftQ approximation.
  double best = scaled.errors[scaled.bestIteration];
  EXPECT_NEAR(getApproximationError(w, 32, 64, scaled, 4, 4.0), best,
              1e-4 * best);
}

TEST(LoftQTest, TransposedWeightsMatchARowMajorCopy) {
  // An ONNX MatMul weight (d_in × d_out) viewed without a copy.
  int64_t dIn = 64, dOut = 48;
  std::vector<float> onnx = lowRankPlusNoise(dIn, dOut, 13);
  std::vector<float> copy(dOut * dIn);
  for (int64_t i = 0; i < dIn; ++i)
    for (int64_t o = 0; o < dOut; ++o)
      copy[o * dIn + i] = onnx[i * dOut + o];
  QuantFormat format = makeFormat(Scheme::NormalFloat, 4, 32);
  LoftQOptions options;
  options.rank = 4;
  options.iterations = 1;
  LoftQResult fromView =
      runOrDie(MatrixView::transposed(onnx.data(), dOut, dIn), format, options);
  LoftQResult fromCopy =
      runOrDie(MatrixView::rowMajor(copy.data(), dOut, dIn), format, options);
  EXPECT_EQ(fromView.base.codes, fromCopy.base.codes);
  EXPECT_EQ(fromView.base.scales, fromCopy.base.scales);
  EXPECT_EQ(fromView.quantizationError, fromCopy.quantizationError);
  EXPECT_NEAR(fromView.errors[0], fromCopy.errors[0],
              1e-6 * fromCopy.errors[0]);
}

} // namespace
