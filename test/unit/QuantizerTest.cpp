//===- QuantizerTest.cpp - group-wise weight quantizers -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Expected values come from hand-worked examples or from a plain reference
// of the METHODS.md §0 formulas written here (std::nearbyint, min/max over a
// std::vector), never from the quantizer's own output.
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/Quantizer.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace qaf::quant;

namespace {

using Bytes = std::vector<uint8_t>;

QuantFormat makeFormat(Scheme scheme, unsigned bits, int64_t groupSize) {
  QuantFormat format;
  format.scheme = scheme;
  format.bits = bits;
  format.groupSize = groupSize;
  return format;
}

QuantizedMatrix quantizeOrDie(const MatrixView &view,
                              const QuantFormat &format) {
  llvm::Expected<QuantizedMatrix> result = quantize(view, format);
  if (!result) {
    ADD_FAILURE() << llvm::toString(result.takeError());
    return {};
  }
  return std::move(*result);
}

/// One row holding `values` as a single group.
QuantizedMatrix quantizeGroup(const std::vector<float> &values, Scheme scheme,
                              unsigned bits) {
  return quantizeOrDie(MatrixView::rowMajor(values.data(), 1, values.size()),
                       makeFormat(scheme, bits, values.size()));
}

std::vector<float> dequantizeAll(const QuantizedMatrix &matrix) {
  std::vector<float> out(matrix.rows * matrix.cols);
  dequantize(matrix, out);
  return out;
}

std::vector<float> randomMatrix(int64_t rows, int64_t cols, unsigned seed,
                                float stddev = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> values(rows * cols);
  for (float &value : values)
    value = normal(rng);
  return values;
}

std::string getErrorMessage(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : std::string();
}

/// The asymmetric rule of METHODS.md §0 for one group, written out plainly:
/// returns {scale, zero} and fills `codes`.
std::pair<float, float> referenceAsymmetric(llvm::ArrayRef<float> w,
                                            unsigned bits,
                                            std::vector<uint8_t> &codes) {
  float lo = *std::min_element(w.begin(), w.end());
  float hi = *std::max_element(w.begin(), w.end());
  float qMax = static_cast<float>((1 << bits) - 1);
  float scale = (hi - lo) / qMax;
  scale = std::max(scale, std::max(std::fabs(lo), std::fabs(hi)) *
                              std::ldexp(1.0f, -20));
  if (scale == 0.0f)
    scale = 1.0f;
  float zero = std::nearbyint(-lo / scale);
  codes.clear();
  for (float value : w)
    codes.push_back(static_cast<uint8_t>(
        std::clamp(std::nearbyint(value / scale) + zero, 0.0f, qMax)));
  return {scale, zero};
}

//===----------------------------------------------------------------------===//
// Names and format checks.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, SchemeNamesRoundTrip) {
  for (Scheme scheme :
       {Scheme::Asymmetric, Scheme::Symmetric, Scheme::NormalFloat})
    EXPECT_EQ(parseSchemeName(getSchemeName(scheme)), scheme);
  EXPECT_EQ(getSchemeName(Scheme::Asymmetric), "asym");
  EXPECT_EQ(getSchemeName(Scheme::Symmetric), "sym");
  EXPECT_EQ(getSchemeName(Scheme::NormalFloat), "nf");
  EXPECT_EQ(parseSchemeName("nf4"), std::nullopt);
  EXPECT_EQ(parseSchemeName(""), std::nullopt);
}

TEST(QuantizerTest, VerifyFormatAcceptsSupportedFormats) {
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    EXPECT_EQ(getErrorMessage(
                  verifyFormat(makeFormat(Scheme::Asymmetric, bits, 32), 64)),
              "");
    EXPECT_EQ(getErrorMessage(
                  verifyFormat(makeFormat(Scheme::Symmetric, bits, 64), 64)),
              "");
  }
  for (unsigned bits : {2u, 4u})
    EXPECT_EQ(getErrorMessage(
                  verifyFormat(makeFormat(Scheme::NormalFloat, bits, 64), 576)),
              "");
}

TEST(QuantizerTest, VerifyFormatNamesTheProblem) {
  EXPECT_NE(
      getErrorMessage(verifyFormat(makeFormat(Scheme::Asymmetric, 4, 48), 100))
          .find("group size 48 does not divide the input dimension 100"),
      std::string::npos);
  for (unsigned bits : {0u, 1u, 5u, 7u, 16u})
    EXPECT_NE(
        getErrorMessage(verifyFormat(makeFormat(Scheme::Symmetric, bits, 4), 8))
            .find("bits must be 2, 3, 4 or 8"),
        std::string::npos)
        << bits;
  for (unsigned bits : {3u, 8u})
    EXPECT_NE(getErrorMessage(
                  verifyFormat(makeFormat(Scheme::NormalFloat, bits, 4), 8))
                  .find("NormalFloat needs 2 or 4 bits"),
              std::string::npos)
        << bits;
  EXPECT_NE(
      getErrorMessage(verifyFormat(makeFormat(Scheme::Asymmetric, 4, 0), 8)),
      "");
  EXPECT_NE(
      getErrorMessage(verifyFormat(makeFormat(Scheme::Asymmetric, 4, -8), 8)),
      "");
  // 12 features of 3 bits are 36 bits: rows would not be whole bytes.
  EXPECT_NE(
      getErrorMessage(verifyFormat(makeFormat(Scheme::Asymmetric, 3, 4), 12))
          .find("12 input features of 3 bits do not fill whole bytes"),
      std::string::npos);
  EXPECT_EQ(
      getErrorMessage(verifyFormat(makeFormat(Scheme::Asymmetric, 3, 4), 16)),
      "");
}

TEST(QuantizerTest, QuantizeReportsBadFormatsAndNonFiniteWeights) {
  std::vector<float> values(100, 1.0f);
  llvm::Expected<QuantizedMatrix> bad =
      quantize(MatrixView::rowMajor(values.data(), 1, 100),
               makeFormat(Scheme::Asymmetric, 4, 48));
  ASSERT_FALSE(bad);
  EXPECT_NE(llvm::toString(bad.takeError()).find("does not divide"),
            std::string::npos);

  values[37] = NAN;
  llvm::Expected<QuantizedMatrix> nan =
      quantize(MatrixView::rowMajor(values.data(), 2, 50),
               makeFormat(Scheme::NormalFloat, 4, 25));
  ASSERT_FALSE(nan);
  EXPECT_NE(llvm::toString(nan.takeError()).find("(0, 37) is not finite"),
            std::string::npos);
  values[37] = INFINITY;
  llvm::Expected<QuantizedMatrix> inf =
      quantize(MatrixView::rowMajor(values.data(), 1, 100),
               makeFormat(Scheme::Symmetric, 4, 100));
  ASSERT_FALSE(inf);
  EXPECT_NE(llvm::toString(inf.takeError()).find("not finite"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Rounding: exact .5 ties go to the even integer.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, AsymmetricRoundsTiesToEven) {
  // min −2.5, max 12.5 at 4 bits: s = 15/15 = 1 and z = round(2.5) = 2
  // (std::round would give 3). Each w/s below is an exact tie.
  std::vector<float> w = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 12.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, 4);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.zeros[0], 2.0f);
  // round(w) = −2, −2, −0, 0, 2, 2, 4, 12; plus z = 2.
  EXPECT_EQ(q.codes, (Bytes{0, 0, 2, 2, 4, 4, 6, 14}));
}

TEST(QuantizerTest, AsymmetricZeroPointTieAtEightBits) {
  // min −0.5·s with s = 1: max − min = 255, z = round(0.5) = 0.
  std::vector<float> w = {-0.5f, 254.5f, 0.5f, 100.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, 8);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.zeros[0], 0.0f);
  // round(−0.5) = −0 → 0; round(254.5) = 254; 0; 100.
  EXPECT_EQ(q.codes, (Bytes{0, 254, 0, 100}));
}

TEST(QuantizerTest, SymmetricRoundsTiesToEven) {
  // absmax 7 at 4 bits: s = 7/7 = 1, z = 8.
  std::vector<float> w = {7.0f, -7.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Symmetric, 4);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.zeros[0], 8.0f);
  EXPECT_EQ(q.codes, (Bytes{15, 1, 8, 10, 10, 8, 6, 6}));

  // 2 bits: s = absmax / 1, z = 2; w/s = ±0.5 are ties to 0.
  std::vector<float> w2 = {2.0f, 1.0f, -1.0f, -2.0f};
  QuantizedMatrix q2 = quantizeGroup(w2, Scheme::Symmetric, 2);
  EXPECT_EQ(q2.scales[0], 2.0f);
  EXPECT_EQ(q2.zeros[0], 2.0f);
  EXPECT_EQ(q2.codes, (Bytes{3, 2, 2, 1}));
}

TEST(QuantizerTest, NormalFloatTiesTakeTheLowerEntry) {
  llvm::ArrayRef<float> nf4 = getNormalFloatCodebook(4);
  // Halving is exact, so these sit exactly between entries 7/8 and 6/7.
  std::vector<float> w = {1.0f, nf4[8] / 2, nf4[6] / 2, -1.0f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::NormalFloat, 4);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.codes, (Bytes{15, 7, 6, 0}));
  // Just above the 7/8 midpoint goes up.
  w[1] = std::nextafter(nf4[8] / 2, 1.0f);
  EXPECT_EQ(quantizeGroup(w, Scheme::NormalFloat, 4).codes[1], 8);
}

TEST(QuantizerTest, NormalFloatPicksTheNearestEntry) {
  for (unsigned bits : {2u, 4u}) {
    llvm::ArrayRef<float> codebook = getNormalFloatCodebook(bits);
    std::vector<float> w = randomMatrix(8, 64, bits);
    QuantizedMatrix q =
        quantizeOrDie(MatrixView::rowMajor(w.data(), 8, 64),
                      makeFormat(Scheme::NormalFloat, bits, 32));
    EXPECT_TRUE(q.zeros.empty());
    for (int64_t row = 0; row < 8; ++row) {
      for (int64_t col = 0; col < 64; ++col) {
        float scale = q.scales[row * 2 + col / 32];
        double x = w[row * 64 + col] / scale;
        uint8_t code = q.codes[row * 64 + col];
        for (float entry : codebook)
          EXPECT_LE(std::fabs(x - codebook[code]), std::fabs(x - entry));
        EXPECT_EQ(q.dequantize(row, col), scale * codebook[code]);
      }
    }
  }
}

TEST(QuantizerTest, NormalFloatCodebooks) {
  llvm::ArrayRef<float> nf4 = getNormalFloatCodebook(4);
  llvm::ArrayRef<float> nf2 = getNormalFloatCodebook(2);
  ASSERT_EQ(nf4.size(), 16u);
  ASSERT_EQ(nf2.size(), 4u);
  EXPECT_TRUE(std::is_sorted(nf4.begin(), nf4.end()));
  EXPECT_TRUE(std::is_sorted(nf2.begin(), nf2.end()));
  EXPECT_EQ(nf4.front(), -1.0f);
  EXPECT_EQ(nf4.back(), 1.0f);
  EXPECT_EQ(nf4[7], 0.0f);
  EXPECT_EQ(nf4[1], -0.6961928009986877f);
  EXPECT_EQ(nf4[14], 0.7229568362236023f);
  EXPECT_EQ(nf2[0], -1.0f);
  EXPECT_EQ(nf2[1], 0.0f);
  EXPECT_EQ(nf2[2], nf4[11]);
  EXPECT_EQ(nf2[3], 1.0f);
}

//===----------------------------------------------------------------------===//
// Constant and extreme groups.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, AsymmetricConstantGroupsAreReproducedExactly) {
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    for (float value : {3.75f, -1e-3f, 0.0f, -0.0f, 1e30f, -1e30f, 3e38f,
                        1e-35f, FLT_MIN / 4, -FLT_MIN / 1024, 12345.678f}) {
      std::vector<float> w(16, value);
      QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, bits);
      SCOPED_TRACE(testing::Message() << bits << " bits, value " << value);
      EXPECT_TRUE(std::isfinite(q.scales[0]));
      EXPECT_GT(q.scales[0], 0.0f);
      EXPECT_TRUE(std::isfinite(q.zeros[0]));
      EXPECT_EQ(q.zeros[0], std::nearbyint(q.zeros[0]));
      for (float out : dequantizeAll(q))
        EXPECT_EQ(out, value);
    }
  }
  // All zeros: s = 1, z = 0.
  QuantizedMatrix zeros =
      quantizeGroup(std::vector<float>(8, 0.0f), Scheme::Asymmetric, 4);
  EXPECT_EQ(zeros.scales[0], 1.0f);
  EXPECT_EQ(zeros.zeros[0], 0.0f);
  EXPECT_EQ(zeros.codes, Bytes(8, 0));
  // A positive constant: s = v·2^-20, z = −2^20, q = 0.
  QuantizedMatrix positive =
      quantizeGroup(std::vector<float>(8, 0.75f), Scheme::Asymmetric, 4);
  EXPECT_EQ(positive.scales[0], 0.75f * std::ldexp(1.0f, -20));
  EXPECT_EQ(positive.zeros[0], -std::ldexp(1.0f, 20));
  EXPECT_EQ(positive.codes, Bytes(8, 0));
}

TEST(QuantizerTest, SymmetricAndNormalFloatConstantGroups) {
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    QuantizedMatrix zeros =
        quantizeGroup(std::vector<float>(8, 0.0f), Scheme::Symmetric, bits);
    EXPECT_EQ(zeros.scales[0], 1.0f);
    EXPECT_EQ(zeros.zeros[0], static_cast<float>(1 << (bits - 1)));
    EXPECT_EQ(zeros.codes, Bytes(8, 1 << (bits - 1)));
    for (float value : {0.3f, -5.0f, 1e-30f, 2e38f}) {
      QuantizedMatrix q =
          quantizeGroup(std::vector<float>(8, value), Scheme::Symmetric, bits);
      EXPECT_TRUE(std::isfinite(q.scales[0]) && q.scales[0] > 0);
      // s = |v| / (2^{b−1} − 1) is rounded, so v comes back to an ulp or so
      // (exactly at 2 bits, where the divisor is 1).
      for (float out : dequantizeAll(q)) {
        if (bits == 2)
          EXPECT_EQ(out, value);
        else
          EXPECT_NEAR(out, value, std::fabs(value) * 4 * FLT_EPSILON);
      }
    }
  }
  for (unsigned bits : {2u, 4u}) {
    llvm::ArrayRef<float> codebook = getNormalFloatCodebook(bits);
    uint8_t zeroCode =
        std::find(codebook.begin(), codebook.end(), 0.0f) - codebook.begin();
    QuantizedMatrix zeros =
        quantizeGroup(std::vector<float>(8, 0.0f), Scheme::NormalFloat, bits);
    EXPECT_EQ(zeros.scales[0], 1.0f);
    EXPECT_EQ(zeros.codes, Bytes(8, zeroCode));
    for (float value : {0.3f, -5.0f, 1e-30f, 3e38f, FLT_MIN / 8}) {
      QuantizedMatrix q = quantizeGroup(std::vector<float>(8, value),
                                        Scheme::NormalFloat, bits);
      EXPECT_EQ(q.scales[0], std::fabs(value));
      for (float out : dequantizeAll(q))
        EXPECT_EQ(out, value);
    }
  }
}

// The groups the ONNX Runtime oracle skips (its range always contains 0):
// all positive, all negative, and a nearly constant group where the scale
// floor (absmax · 2^-20) decides. Every number below is worked by hand from
// METHODS.md §0, not from referenceAsymmetric (which mirrors the code).
TEST(QuantizerTest, AsymmetricAllPositiveGroupHandWorked) {
  // 4 bits, q_max = 15: s = (9.5 − 2)/15 = 0.5; z = round(−2/0.5) = −4;
  // q = round(w/0.5) − 4 = 4−4, 7−4, 10−4, 19−4 = 0, 3, 6, 15;
  // s·(q − z) = 0.5·4, 0.5·7, 0.5·10, 0.5·19 gives w back exactly.
  std::vector<float> w = {2.0f, 3.5f, 5.0f, 9.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, 4);
  EXPECT_EQ(q.scales[0], 0.5f);
  EXPECT_EQ(q.zeros[0], -4.0f);
  EXPECT_EQ(q.codes, (Bytes{0, 3, 6, 15}));
  EXPECT_EQ(dequantizeAll(q), w);
}

TEST(QuantizerTest, AsymmetricAllPositiveGroupClipsAtTheTop) {
  // 2 bits, q_max = 3: s = (3.5 − 0.5)/3 = 1; z = round(−0.5) = −0 (tie to
  // even); q = round(0.5), round(1.25), round(2), round(3.5) = 0, 1, 2, 4,
  // and 4 clamps to 3: the top of the range comes back as 3, not 3.5 (and
  // 0.5 as 0): the rule's half-step loss at both ends when z rounds.
  std::vector<float> w = {0.5f, 1.25f, 2.0f, 3.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, 2);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.zeros[0], 0.0f);
  EXPECT_EQ(q.codes, (Bytes{0, 1, 2, 3}));
  EXPECT_EQ(dequantizeAll(q), (std::vector<float>{0.0f, 1.0f, 2.0f, 3.0f}));
}

TEST(QuantizerTest, AsymmetricAllNegativeGroupHandWorked) {
  // 2 bits: s = (−1.5 − (−6))/3 = 1.5; z = round(6/1.5) = 4;
  // q = round(−4) + 4, round(−3) + 4, round(−2) + 4, round(−1) + 4
  //   = 0, 1, 2, 3; s·(q − z) = 1.5·(−4, −3, −2, −1) = w.
  std::vector<float> w = {-6.0f, -4.5f, -3.0f, -1.5f};
  QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, 2);
  EXPECT_EQ(q.scales[0], 1.5f);
  EXPECT_EQ(q.zeros[0], 4.0f);
  EXPECT_EQ(q.codes, (Bytes{0, 1, 2, 3}));
  EXPECT_EQ(dequantizeAll(q), w);
}

TEST(QuantizerTest, AsymmetricNearlyConstantGroupTakesTheScaleFloor) {
  // w = 1 and 1 − 2^-24 (the float below 1), 4 bits: (max − min)/15 =
  // 2^-24/15 is below the floor absmax · 2^-20 = 2^-20, so s = 2^-20;
  // z = round(−(1 − 2^-24)·2^20) = round(−2^20 + 1/16) = −2^20;
  // q = round(2^20) − 2^20 = 0 and round(2^20 − 1/16) − 2^20 = 0; both come
  // back as 2^-20 · (0 + 2^20) = 1.
  float below = std::nextafter(1.0f, 0.0f);
  ASSERT_EQ(below, 1.0f - std::ldexp(1.0f, -24));
  QuantizedMatrix q =
      quantizeGroup({1.0f, below, 1.0f, below}, Scheme::Asymmetric, 4);
  EXPECT_EQ(q.scales[0], std::ldexp(1.0f, -20));
  EXPECT_EQ(q.zeros[0], -std::ldexp(1.0f, 20));
  EXPECT_EQ(q.codes, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(dequantizeAll(q), (std::vector<float>(4, 1.0f)));
  // A negative constant, 8 bits: s = 0.75 · 2^-20, z = round(2^20) = 2^20,
  // q = round(−2^20) + 2^20 = 0, and s·(0 − 2^20) = −0.75.
  QuantizedMatrix negative =
      quantizeGroup(std::vector<float>(4, -0.75f), Scheme::Asymmetric, 8);
  EXPECT_EQ(negative.scales[0], 0.75f * std::ldexp(1.0f, -20));
  EXPECT_EQ(negative.zeros[0], std::ldexp(1.0f, 20));
  EXPECT_EQ(negative.codes, Bytes(4, 0));
  EXPECT_EQ(dequantizeAll(negative), (std::vector<float>(4, -0.75f)));
}

TEST(QuantizerTest, ExtremeRangesStayFiniteAndInRange) {
  std::vector<std::vector<float>> groups = {
      // max − min overflows float. (The grid reaches up to s/2 past the
      // range, so ±3e38 would dequantize to ±inf at 2 bits.)
      {2e38f, -2e38f, 1e38f, 0.0f, -1.9e38f, 5.0f, 1.0f, -1e37f},
      // Tiny but normal.
      {1e-30f, -2e-30f, 3e-31f, 0.0f, 7e-31f, -1e-31f, 2e-30f, 5e-31f},
      // One outlier among small values.
      {1e-3f, -2e-3f, 5e-4f, 100.0f, 0.0f, -1e-3f, 3e-3f, -4e-4f},
  };
  for (const std::vector<float> &w : groups) {
    for (unsigned bits : {2u, 3u, 4u, 8u}) {
      QuantizedMatrix q = quantizeGroup(w, Scheme::Asymmetric, bits);
      float scale = q.scales[0];
      ASSERT_TRUE(std::isfinite(scale) && scale > 0);
      std::vector<float> out = dequantizeAll(q);
      for (size_t i = 0; i < w.size(); ++i) {
        EXPECT_LE(q.codes[i], (1u << bits) - 1);
        ASSERT_TRUE(std::isfinite(out[i]));
        EXPECT_LE(std::fabs(out[i] - w[i]),
                  scale / 2 * (1 + 1e-5f) + std::fabs(w[i]) * 1e-6f)
            << "element " << i << ", " << bits << " bits";
      }
    }
  }
  // The outlier itself survives every scheme.
  for (Scheme scheme : {Scheme::Symmetric, Scheme::NormalFloat}) {
    QuantizedMatrix q = quantizeGroup(groups[2], scheme, 4);
    EXPECT_NEAR(dequantizeAll(q)[3], 100.0f, 1e-4f);
  }
}

//===----------------------------------------------------------------------===//
// Whole matrices against the reference formulas.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, AsymmetricMatchesTheReferenceRule) {
  // Uniform, skewed (all positive) and normal groups.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_real_distribution<float> positive(0.5f, 3.0f);
  int64_t rows = 12, cols = 96, groupSize = 32;
  std::vector<float> w = randomMatrix(rows, cols, 11, 0.05f);
  for (int64_t i = 0; i < cols; ++i) {
    w[1 * cols + i] = uniform(rng);
    w[2 * cols + i] = positive(rng);
  }
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    QuantizedMatrix q =
        quantizeOrDie(MatrixView::rowMajor(w.data(), rows, cols),
                      makeFormat(Scheme::Asymmetric, bits, groupSize));
    std::vector<float> out = dequantizeAll(q);
    std::vector<uint8_t> codes;
    for (int64_t row = 0; row < rows; ++row) {
      for (int64_t group = 0; group < cols / groupSize; ++group) {
        int64_t offset = row * cols + group * groupSize;
        auto [scale, zero] = referenceAsymmetric(
            llvm::ArrayRef<float>(w).slice(offset, groupSize), bits, codes);
        int64_t index = row * (cols / groupSize) + group;
        ASSERT_EQ(q.scales[index], scale);
        ASSERT_EQ(q.zeros[index], zero);
        for (int64_t i = 0; i < groupSize; ++i) {
          ASSERT_EQ(q.codes[offset + i], codes[i]);
          // In-range values are within half a step.
          EXPECT_LE(std::fabs(out[offset + i] - w[offset + i]),
                    scale / 2 * (1 + 1e-5f) + std::fabs(w[offset + i]) * 1e-6f);
          EXPECT_EQ(out[offset + i], q.dequantize(row, group * groupSize + i));
        }
      }
    }
  }
}

TEST(QuantizerTest, SymmetricErrorIsAtMostHalfAStep) {
  std::vector<float> w = randomMatrix(16, 128, 3);
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    QuantizedMatrix q = quantizeOrDie(MatrixView::rowMajor(w.data(), 16, 128),
                                      makeFormat(Scheme::Symmetric, bits, 64));
    std::vector<float> out = dequantizeAll(q);
    for (int64_t i = 0; i < 16 * 128; ++i) {
      float scale = q.scales[i / 64];
      EXPECT_EQ(q.zeros[i / 64], static_cast<float>(1 << (bits - 1)));
      EXPECT_GE(q.codes[i], 1u) << "code 0 is outside ±(2^{b−1} − 1)";
      EXPECT_LE(q.codes[i], (1u << bits) - 1);
      EXPECT_LE(std::fabs(out[i] - w[i]), scale / 2 * (1 + 1e-5f));
    }
  }
}

TEST(QuantizerTest, EveryCodeIsInRange) {
  std::vector<float> w = randomMatrix(70, 192, 5, 1.0f);
  w[5] = 1e6f; // an outlier row
  for (Scheme scheme :
       {Scheme::Asymmetric, Scheme::Symmetric, Scheme::NormalFloat}) {
    for (unsigned bits : {2u, 3u, 4u, 8u}) {
      if (scheme == Scheme::NormalFloat && bits != 2 && bits != 4)
        continue;
      QuantizedMatrix q = quantizeOrDie(MatrixView::rowMajor(w.data(), 70, 192),
                                        makeFormat(scheme, bits, 64));
      ASSERT_EQ(q.codes.size(), 70u * 192);
      ASSERT_EQ(q.scales.size(), 70u * 3);
      EXPECT_EQ(q.zeros.size(), scheme == Scheme::NormalFloat ? 0u : 70u * 3);
      for (uint8_t code : q.codes)
        ASSERT_LE(code, (1u << bits) - 1);
      for (float scale : q.scales)
        ASSERT_TRUE(std::isfinite(scale) && scale > 0);
    }
  }
}

TEST(QuantizerTest, RelativeRMSErrorMatchesADirectComputation) {
  std::vector<float> w = randomMatrix(8, 64, 9);
  QuantizedMatrix q = quantizeOrDie(MatrixView::rowMajor(w.data(), 8, 64),
                                    makeFormat(Scheme::Asymmetric, 3, 16));
  std::vector<float> out = dequantizeAll(q);
  double error = 0, norm = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    error += (double(w[i]) - out[i]) * (double(w[i]) - out[i]);
    norm += double(w[i]) * w[i];
  }
  EXPECT_NEAR(relativeRMSError(MatrixView::rowMajor(w.data(), 8, 64), q),
              std::sqrt(error / norm), 1e-12);
  EXPECT_GT(std::sqrt(error / norm), 0.0);
}

//===----------------------------------------------------------------------===//
// Idempotence: quantizing a dequantized matrix gives it back.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, NormalFloatIsIdempotent) {
  for (unsigned bits : {2u, 4u}) {
    std::vector<float> w = randomMatrix(32, 128, 21 + bits);
    QuantFormat format = makeFormat(Scheme::NormalFloat, bits, 64);
    QuantizedMatrix first =
        quantizeOrDie(MatrixView::rowMajor(w.data(), 32, 128), format);
    std::vector<float> out = dequantizeAll(first);
    QuantizedMatrix second =
        quantizeOrDie(MatrixView::rowMajor(out.data(), 32, 128), format);
    EXPECT_EQ(second.codes, first.codes) << bits << " bits";
    EXPECT_EQ(second.scales, first.scales) << bits << " bits";
  }
}

// Asymmetric and symmetric codes are idempotent too; the scale is recomputed
// from the dequantized range (s·(q_max − z) − s·(0 − z), or s·(2^{b−1} − 1)
// over 2^{b−1} − 1), so it may come back an ulp off.
TEST(QuantizerTest, UniformCodesAreIdempotent) {
  for (Scheme scheme : {Scheme::Asymmetric, Scheme::Symmetric}) {
    for (unsigned bits : {2u, 3u, 4u, 8u}) {
      std::vector<float> w = randomMatrix(32, 128, 31 + bits);
      QuantFormat format = makeFormat(scheme, bits, 32);
      QuantizedMatrix first =
          quantizeOrDie(MatrixView::rowMajor(w.data(), 32, 128), format);
      std::vector<float> out = dequantizeAll(first);
      QuantizedMatrix second =
          quantizeOrDie(MatrixView::rowMajor(out.data(), 32, 128), format);
      SCOPED_TRACE(testing::Message()
                   << getSchemeName(scheme).str() << ", " << bits << " bits");
      EXPECT_EQ(second.codes, first.codes);
      EXPECT_EQ(second.zeros, first.zeros);
      for (size_t i = 0; i < first.scales.size(); ++i)
        EXPECT_NEAR(second.scales[i], first.scales[i],
                    first.scales[i] * 2 * FLT_EPSILON);
      std::vector<float> again = dequantizeAll(second);
      for (size_t i = 0; i < out.size(); ++i)
        EXPECT_NEAR(again[i], out[i], 1e-6f);
    }
  }
}

//===----------------------------------------------------------------------===//
// Strided views.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, TransposedViewEqualsATransposedCopy) {
  // An ONNX MatMul weight: d_in × d_out row-major. 100 output rows exercise
  // a partial row block.
  int64_t dIn = 192, dOut = 100;
  std::vector<float> onnx = randomMatrix(dIn, dOut, 41);
  std::vector<float> copy(dOut * dIn);
  for (int64_t i = 0; i < dIn; ++i)
    for (int64_t o = 0; o < dOut; ++o)
      copy[o * dIn + i] = onnx[i * dOut + o];
  for (Scheme scheme :
       {Scheme::Asymmetric, Scheme::Symmetric, Scheme::NormalFloat}) {
    QuantFormat format = makeFormat(scheme, 4, 64);
    MatrixView view = MatrixView::transposed(onnx.data(), dOut, dIn);
    EXPECT_EQ(view.at(3, 5), copy[3 * dIn + 5]);
    QuantizedMatrix fromView = quantizeOrDie(view, format);
    QuantizedMatrix fromCopy =
        quantizeOrDie(MatrixView::rowMajor(copy.data(), dOut, dIn), format);
    EXPECT_EQ(fromView.codes, fromCopy.codes);
    EXPECT_EQ(fromView.scales, fromCopy.scales);
    EXPECT_EQ(fromView.zeros, fromCopy.zeros);
    EXPECT_EQ(relativeRMSError(view, fromView),
              relativeRMSError(MatrixView::rowMajor(copy.data(), dOut, dIn),
                               fromCopy));
  }
}

TEST(QuantizerTest, GeneralStridedView) {
  // Every other row and every third column of a larger array.
  std::vector<float> big = randomMatrix(20, 96, 43);
  std::vector<float> copy(10 * 32);
  for (int64_t o = 0; o < 10; ++o)
    for (int64_t i = 0; i < 32; ++i)
      copy[o * 32 + i] = big[(2 * o) * 96 + 3 * i];
  MatrixView view{big.data(), 10, 32, 2 * 96, 3};
  QuantFormat format = makeFormat(Scheme::Asymmetric, 3, 16);
  QuantizedMatrix fromView = quantizeOrDie(view, format);
  QuantizedMatrix fromCopy =
      quantizeOrDie(MatrixView::rowMajor(copy.data(), 10, 32), format);
  EXPECT_EQ(fromView.codes, fromCopy.codes);
  EXPECT_EQ(fromView.scales, fromCopy.scales);
  EXPECT_EQ(fromView.zeros, fromCopy.zeros);
}

//===----------------------------------------------------------------------===//
// Packing.
//===----------------------------------------------------------------------===//

TEST(QuantizerTest, PackCodesHandComputedBytes) {
  // 4 bits: first code in the low nibble (MatMulNBits).
  EXPECT_EQ(packCodes(Bytes{1, 2, 3, 4}, 4), (Bytes{0x21, 0x43}));
  // 2 bits: 1 | 2 << 2 | 3 << 4 | 0 << 6 = 0b00'11'10'01.
  EXPECT_EQ(packCodes(Bytes{1, 2, 3, 0}, 2), (Bytes{0x39}));
  // 3 bits, LSB first: 100 010 110 001 101 011 111 000 regrouped by 8:
  // 10001011 → 0xD1, 00011010 → 0x58, 11111000 → 0x1F.
  EXPECT_EQ(packCodes(Bytes{1, 2, 3, 4, 5, 6, 7, 0}, 3),
            (Bytes{0xD1, 0x58, 0x1F}));
  EXPECT_EQ(packCodes(Bytes{7, 200, 0}, 8), (Bytes{7, 200, 0}));
  EXPECT_EQ(unpackCodes(Bytes{0xD1, 0x58, 0x1F}, 3, 8),
            (Bytes{1, 2, 3, 4, 5, 6, 7, 0}));
  EXPECT_EQ(unpackCodes(Bytes{0x21, 0x43}, 4, 4), (Bytes{1, 2, 3, 4}));
}

TEST(QuantizerTest, PackCodesRoundTrip) {
  std::mt19937 rng(17);
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
    Bytes codes(8 * 37);
    for (uint8_t &value : codes)
      value = code(rng);
    Bytes packed = packCodes(codes, bits);
    EXPECT_EQ(packed.size(), codes.size() * bits / 8);
    EXPECT_EQ(unpackCodes(packed, bits, codes.size()), codes) << bits;
    // Bit i·bits + j of the stream is bit j of code i.
    for (size_t i = 0; i < codes.size(); ++i)
      for (unsigned j = 0; j < bits; ++j) {
        size_t bit = i * bits + j;
        ASSERT_EQ((packed[bit / 8] >> (bit % 8)) & 1, (codes[i] >> j) & 1);
      }
  }
}

} // namespace

// L4Q's initial scale (METHODS.md §2): nothing clips at the start, and the
// bound is tight (some element of every non-zero group reaches an end of
// the signed grid), also for one-signed and all-zero groups.
TEST(QuantL4QScales, NothingClipsAndTheBoundIsTight) {
  const int64_t rows = 6, cols = 64, group = 16;
  std::mt19937 engine(3);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> weights(rows * cols);
  for (float &w : weights)
    w = normal(engine);
  for (int64_t c = 0; c < group; ++c) {
    weights[1 * cols + c] = std::fabs(weights[1 * cols + c]);  // all >= 0
    weights[2 * cols + c] = -std::fabs(weights[2 * cols + c]); // all <= 0
    weights[3 * cols + c] = 0.0f;                              // all zero
  }
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    std::vector<float> scales = computeL4QScales(
        MatrixView::rowMajor(weights.data(), rows, cols), bits, group);
    ASSERT_EQ(scales.size(), size_t(rows * cols / group));
    double low = -std::ldexp(1.0, bits - 1), high = -low - 1;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < cols / group; ++g) {
        float s = scales[r * (cols / group) + g];
        ASSERT_GT(s, 0.0f);
        double lowest = 0, highest = 0;
        for (int64_t c = g * group; c < (g + 1) * group; ++c) {
          double u = double(weights[r * cols + c]) / s;
          lowest = std::min(lowest, u);
          highest = std::max(highest, u);
        }
        EXPECT_GE(lowest, low * (1 + 1e-6)) << "bits " << bits;
        EXPECT_LE(highest, high * (1 + 1e-6)) << "bits " << bits;
        bool zeroGroup = lowest == 0 && highest == 0;
        if (!zeroGroup)
          EXPECT_TRUE(std::fabs(lowest - low) < 1e-5 * -low ||
                      std::fabs(highest - high) < 1e-5 * high)
              << "bits " << bits << " row " << r << " group " << g;
      }
  }
}
