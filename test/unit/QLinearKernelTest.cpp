//===- QLinearKernelTest.cpp - qaf_qlinear against a reference ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The reference dequantizes w = s·((q + move) − z), or w = s·codebook[q]
// for a NormalFloat-style codebook (random values, drawn here), in double
// from codes packed here (a little-endian bit stream, first code in the
// lowest bits) and multiplies; the kernel must agree on every path
// (AVX-512, AVX2, generic), thread count, bit width, both regimes (few
// rows: dot products; many rows: dequantized panels through the GEMM) and
// with LoTA moves; so must qaf_qlinear_transposed, the product with W
// untransposed.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <omp.h>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct Problem {
  int64_t m, n, k, group;
  int bits;
  bool moves;
  bool codebook = false; // w = s·codebook[q], no zero points or moves
};

class QLinearKernelTest
    : public ::testing::TestWithParam<std::tuple<const char *, int>> {
protected:
  void SetUp() override {
    const char *want = std::get<0>(GetParam());
    if (std::string(qaf_cpu_kernels_select(want)) != want) {
      qaf_cpu_kernels_select(nullptr);
      GTEST_SKIP() << want << " is not supported by this CPU";
    }
    savedThreads = omp_get_max_threads();
    omp_set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override {
    if (savedThreads)
      omp_set_num_threads(savedThreads);
    qaf_cpu_kernels_select(nullptr);
  }

  /// y = x · Wᵀ by qaf_qlinear, or with `transposed` y = x · W by
  /// qaf_qlinear_transposed (x [M, N], y [M, K]: a layer's input gradient).
  void check(const Problem &p, bool accumulate, bool transposed = false) {
    std::mt19937 engine(unsigned(p.m * 131 + p.n * 7 + p.k + p.bits));
    int qmax = (1 << p.bits) - 1;
    std::uniform_int_distribution<int> code(0, qmax);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    int64_t groups = p.k / p.group;
    std::vector<uint8_t> codes(p.n * p.k);
    std::vector<int8_t> moves(p.moves ? p.n * p.k : 0);
    for (int64_t i = 0; i < p.n * p.k; ++i) {
      codes[i] = uint8_t(code(engine));
      if (p.moves) {
        // Moves that keep q + move in [0, q_max], as LoTA's masks do.
        int move = int(code(engine) % 3) - 1;
        if (codes[i] + move < 0 || codes[i] + move > qmax)
          move = 0;
        moves[i] = int8_t(move);
      }
    }
    // Row-wise bit stream, rows padded to 8 bytes so strides differ from K.
    int64_t rowBytes = p.k * p.bits / 8 + 8;
    std::vector<uint8_t> packed(p.n * rowBytes, 0);
    for (int64_t n = 0; n < p.n; ++n)
      for (int64_t i = 0; i < p.k; ++i) {
        int64_t bit = i * p.bits;
        unsigned shifted = unsigned(codes[n * p.k + i]) << (bit % 8);
        packed[n * rowBytes + bit / 8] |= uint8_t(shifted);
        if (shifted >> 8) // a 3-bit code straddling two bytes
          packed[n * rowBytes + bit / 8 + 1] |= uint8_t(shifted >> 8);
      }
    std::vector<float> scales(p.n * groups), zeros(p.n * groups);
    for (int64_t i = 0; i < p.n * groups; ++i) {
      scales[i] = 0.01f + 0.05f * std::fabs(real(engine));
      zeros[i] =
          float(qmax) * 0.5f + real(engine); // fractional, as merges leave
    }
    std::vector<float> codebook(p.codebook ? qmax + 1 : 0);
    for (float &v : codebook)
      v = real(engine);
    int64_t inputs = transposed ? p.n : p.k, outputs = transposed ? p.k : p.n;
    int64_t ldx = inputs + 3, ldy = outputs + 5;
    std::vector<float> x(p.m * ldx), y(p.m * ldy), before(p.m * ldy);
    for (float &v : x)
      v = real(engine);
    for (float &v : y)
      v = real(engine);
    before = y;
    auto kernel = transposed ? qaf_qlinear_transposed : qaf_qlinear;
    kernel(p.m, p.n, p.k, int64_t(x.data()), ldx, int64_t(packed.data()),
           rowBytes, int64_t(scales.data()), groups,
           p.codebook ? 0 : int64_t(zeros.data()), p.codebook ? 0 : groups,
           p.moves ? int64_t(moves.data()) : 0, p.moves ? p.k : 0,
           p.codebook ? int64_t(codebook.data()) : 0, int64_t(y.data()), ldy,
           p.bits, p.group, accumulate ? 1 : 0);
    auto weight = [&](int64_t n, int64_t i) {
      int64_t g = n * groups + i / p.group;
      if (p.codebook)
        return double(codebook[codes[n * p.k + i]]) * scales[g];
      double q = codes[n * p.k + i] + (p.moves ? moves[n * p.k + i] : 0);
      return (q - zeros[g]) * scales[g];
    };
    double worst = 0;
    for (int64_t r = 0; r < p.m; ++r)
      for (int64_t o = 0; o < outputs; ++o) {
        double sum = accumulate ? before[r * ldy + o] : 0.0;
        for (int64_t i = 0; i < inputs; ++i)
          sum += double(x[r * ldx + i]) *
                 (transposed ? weight(i, o) : weight(o, i));
        worst = std::max(worst, std::fabs(sum - y[r * ldy + o]));
      }
    EXPECT_LT(worst, 2e-4) << "m=" << p.m << " n=" << p.n << " k=" << p.k
                           << " group=" << p.group << " bits=" << p.bits
                           << " moves=" << p.moves << " codebook=" << p.codebook
                           << " transposed=" << transposed;
    // The padding beyond the outputs is untouched.
    for (int64_t r = 0; r < p.m; ++r)
      for (int64_t o = outputs; o < ldy; ++o)
        ASSERT_EQ(y[r * ldy + o], before[r * ldy + o]);
  }

  int savedThreads = 0;
};

TEST_P(QLinearKernelTest, MatchesReference) {
  for (int bits : {2, 3, 4, 8})
    for (int64_t m : {1, 3, 8, 33})
      for (bool moves : {false, true}) {
        check({m, 70, 128, 32, bits, moves}, /*accumulate=*/false);
        check({m, 17, 192, 64, bits, moves}, /*accumulate=*/true);
      }
}

// The prefill regime dequantizes W straight into the GEMM's packed B
// panels, a K panel (a multiple of 32 features, at most the path's deepest)
// at a time: panels that cut groups (K = 576 in two of 288 with groups of
// 64; 640 in three of 224, 224 and 192 with groups of 128), K panels whose
// depth the packer rounds up to 32 (1536 with groups of 32), a last panel of
// W rows narrower than the GEMM's panel (N = 70), every width, with moves.
TEST_P(QLinearKernelTest, PrefillPanelsCutGroupsAndRows) {
  for (int bits : {2, 3, 4, 8})
    for (int64_t m : {8, 33})
      for (bool moves : {false, true}) {
        check({m, 70, 576, 64, bits, moves}, /*accumulate=*/false);
        check({m, 70, 640, 128, bits, moves}, /*accumulate=*/true);
        check({m, 40, 1536, 32, bits, moves}, /*accumulate=*/false);
      }
}

// NormalFloat layers (LoftQ's NF4/NF2 base): the codes index a codebook,
// with no zero point, on every path; the 4-bit row kernels look the codes
// up. Groups of 32 and 64 (the 4-bit row kernels) and 48 (not), both
// orientations.
TEST_P(QLinearKernelTest, CodebookMatchesReference) {
  for (int bits : {2, 3, 4, 8})
    for (int64_t m : {1, 3, 8, 33}) {
      Problem plain{m, 70, 128, 32, bits, /*moves=*/false, /*codebook=*/true};
      Problem wide{m, 17, 192, 64, bits, /*moves=*/false, /*codebook=*/true};
      Problem odd{m, 9, 96, 48, bits, /*moves=*/false, /*codebook=*/true};
      check(plain, /*accumulate=*/false);
      check(wide, /*accumulate=*/true);
      check(odd, /*accumulate=*/false);
      check(plain, /*accumulate=*/true, /*transposed=*/true);
      check(odd, /*accumulate=*/false, /*transposed=*/true);
    }
}

// The transposed product (a layer's input gradient): blocks of whole groups
// of columns, K = 192 with groups of 32 and 64 ending in a partial block of
// the kernel's 64-or-more columns, K = 96 in groups of 48.
TEST_P(QLinearKernelTest, TransposedMatchesReference) {
  for (int bits : {2, 3, 4, 8})
    for (int64_t m : {1, 3, 8, 33})
      for (bool moves : {false, true}) {
        check({m, 70, 192, 32, bits, moves}, /*accumulate=*/false,
              /*transposed=*/true);
        check({m, 17, 192, 64, bits, moves}, /*accumulate=*/true,
              /*transposed=*/true);
        check({m, 9, 96, 48, bits, moves}, /*accumulate=*/false,
              /*transposed=*/true);
      }
}

// LoTA-QAF's lossless merge (METHODS.md §1): a layer with moves and the
// layer whose codes are q + move compute the same outputs bit for bit (at
// m = 9, the GEMM, the merged 4-bit layer's panels come from the packer that
// transposes code bytes, the moved layer's from dequantized rows).
TEST_P(QLinearKernelTest, MovesEqualMergedCodesBitForBit) {
  for (int bits : {2, 3, 4, 8})
    for (int64_t m : {1, 5, 9}) {
      const int64_t n = 37, k = 128, group = 32, groups = k / group;
      const int qmax = (1 << bits) - 1;
      std::mt19937 engine(unsigned(bits * 100 + m));
      std::uniform_int_distribution<int> code(0, qmax), step(-1, 1);
      std::uniform_real_distribution<float> real(-1.0f, 1.0f);
      std::vector<uint8_t> packed(n * k * bits / 8, 0),
          merged(n * k * bits / 8, 0);
      std::vector<int8_t> moves(n * k);
      for (int64_t i = 0; i < n * k; ++i) {
        int q = code(engine), move = step(engine);
        if (q + move < 0 || q + move > qmax)
          move = 0;
        moves[i] = int8_t(move);
        int64_t bit = (i % k) * bits, byte = (i / k) * (k * bits / 8) + bit / 8;
        unsigned original = unsigned(q) << (bit % 8), moved = unsigned(q + move)
                                                              << (bit % 8);
        packed[byte] |= uint8_t(original);
        merged[byte] |= uint8_t(moved);
        if (original >> 8)
          packed[byte + 1] |= uint8_t(original >> 8);
        if (moved >> 8)
          merged[byte + 1] |= uint8_t(moved >> 8);
      }
      std::vector<float> scales(n * groups), zeros(n * groups), x(m * k);
      for (float &v : scales)
        v = 0.01f + 0.05f * std::fabs(real(engine));
      for (float &v : zeros)
        v = float(qmax) * 0.5f + real(engine);
      for (float &v : x)
        v = real(engine);
      std::vector<float> adapted(m * n), mergedOut(m * n);
      qaf_qlinear(m, n, k, int64_t(x.data()), k, int64_t(packed.data()),
                  k * bits / 8, int64_t(scales.data()), groups,
                  int64_t(zeros.data()), groups, int64_t(moves.data()), k, 0,
                  int64_t(adapted.data()), n, bits, group, 0);
      qaf_qlinear(m, n, k, int64_t(x.data()), k, int64_t(merged.data()),
                  k * bits / 8, int64_t(scales.data()), groups,
                  int64_t(zeros.data()), groups, 0, 0, 0,
                  int64_t(mergedOut.data()), n, bits, group, 0);
      for (int64_t i = 0; i < m * n; ++i)
        ASSERT_EQ(adapted[i], mergedOut[i])
            << "bits " << bits << " m " << m << " element " << i;
    }
}

// Activations with a few features hundreds of times larger than the rest,
// as SmolLM2's (and most LLMs') hidden states have, meeting codes just
// above the zero point there: w = s·(q − z) is small where x is huge. A
// kernel that computes s·(Σ q·x − z·Σ x) rounds two sums of order
// z·|x_outlier| whose difference is far smaller (the 2.7e-3 logit miss on
// the real SmolLM2 int4 export); s·Σ (q − z)·x stays within a few float
// roundings of Σ |w·x|, the bound of a float dot product of the dequantized
// weights. Oracle: the product in double. Every regime (1, 3 rows: dot
// products; 33: the GEMM), both 4 bits (the row kernels) and 8 bits.
TEST_P(QLinearKernelTest, OutlierActivationsDoNotCancel) {
  const int64_t n = 40, k = 576, group = 32, groups = k / group;
  const int64_t outliers[] = {5, 77, 300, 511};
  for (int bits : {4, 8})
    for (int64_t m : {1, 3, 33}) {
      const int qmax = (1 << bits) - 1;
      std::mt19937 engine(unsigned(bits * 1000 + m));
      std::uniform_int_distribution<int> code(0, qmax);
      std::uniform_real_distribution<float> real(-1.0f, 1.0f);
      std::vector<uint8_t> codes(n * k);
      std::vector<float> scales(n * groups), zeros(n * groups);
      for (int64_t i = 0; i < n * groups; ++i) {
        scales[i] = 0.02f + 0.01f * real(engine);
        zeros[i] = float(qmax / 2) + 0.97f; // codes qmax/2 + 1 sit 0.03 above
      }
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < k; ++i)
          codes[o * k + i] = uint8_t(code(engine));
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i : outliers)
          codes[o * k + i] = uint8_t(qmax / 2 + 1);
      std::vector<uint8_t> packed(n * k * bits / 8, 0);
      for (int64_t i = 0; i < n * k; ++i)
        packed[i * bits / 8] |= uint8_t(codes[i] << (i * bits % 8));
      std::vector<float> x(m * k), y(m * n);
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t i = 0; i < k; ++i)
          x[r * k + i] = real(engine);
        for (int64_t i : outliers)
          x[r * k + i] = (i % 2 ? -3000.0f : 3000.0f) * (1.0f + real(engine));
      }
      qaf_qlinear(m, n, k, int64_t(x.data()), k, int64_t(packed.data()),
                  k * bits / 8, int64_t(scales.data()), groups,
                  int64_t(zeros.data()), groups, 0, 0, 0, int64_t(y.data()), n,
                  bits, group, 0);
      double worst = 0;
      for (int64_t r = 0; r < m; ++r)
        for (int64_t o = 0; o < n; ++o) {
          double sum = 0, magnitude = 0;
          for (int64_t i = 0; i < k; ++i) {
            int64_t g = o * groups + i / group;
            double w = (double(codes[o * k + i]) - zeros[g]) * scales[g];
            sum += w * x[r * k + i];
            magnitude += std::fabs(w * x[r * k + i]);
          }
          worst = std::max(worst, std::fabs(sum - y[r * n + o]) / magnitude);
        }
      // A few roundings (float epsilon 1.2e-7) of Σ |w·x|.
      EXPECT_LT(worst, 8 * 1.2e-7) << "bits " << bits << " m " << m;
    }
}

// Training determinism needs the same bytes whatever the thread count: both
// regimes split W's rows among threads (16-aligned shares: N = 300 as 304
// rows: one share for one thread, 160 + 140 for two; 576; 900), and neither may
// change how an output is summed; M = 1, 5 (dot products), 8 and 128 (the
// GEMM); exact and with int8 activations.
TEST_P(QLinearKernelTest, OneAndTwoThreadsGiveTheSameBytes) {
  for (int64_t n : {300, 576, 900})
    for (int64_t m : {1, 5, 8, 128}) {
      const int64_t k = 384, group = 64, groups = k / group;
      std::mt19937 engine(unsigned(n + m));
      std::uniform_real_distribution<float> real(-1.0f, 1.0f);
      std::vector<uint8_t> packed(n * k / 2);
      for (uint8_t &b : packed)
        b = uint8_t(engine());
      std::vector<float> scales(n * groups), zeros(n * groups), x(m * k);
      for (float &v : scales)
        v = 0.01f + 0.05f * std::fabs(real(engine));
      for (float &v : zeros)
        v = 7.5f + real(engine);
      for (float &v : x)
        v = real(engine);
      for (auto kernel : {qaf_qlinear, qaf_qlinear_int8}) {
        std::vector<float> outputs[2];
        for (int threads : {1, 2}) {
          omp_set_num_threads(threads);
          std::vector<float> &y = outputs[threads - 1];
          y.assign(m * n, 0.0f);
          kernel(m, n, k, int64_t(x.data()), k, int64_t(packed.data()), k / 2,
                 int64_t(scales.data()), groups, int64_t(zeros.data()), groups,
                 0, 0, 0, int64_t(y.data()), n, 4, group, 0);
        }
        omp_set_num_threads(std::get<1>(GetParam()));
        for (int64_t i = 0; i < m * n; ++i)
          ASSERT_EQ(outputs[0][i], outputs[1][i])
              << (kernel == qaf_qlinear ? "exact" : "int8") << " n " << n
              << " m " << m << " element " << i;
      }
    }
}

// qaf_qlinear_int8 against its definition: each group of features of a
// row of x (the layer's groups) becomes s·v with s = max|x| / 127 and v =
// round(x · (127 / max|x|)) (float, ties to even), as ONNX Runtime rounds
// at accuracy_level 4 (blocks of the layer's block_size); then the exact
// product with the dequantized W, in double here. On the AVX-512 path of a VNNI
// CPU that is what both regimes compute, few rows (M < 8: dot products) and
// many (8, 9, 33 and 40 rows: the int8 GEMM, whose blocks of 32 rows end
// short; N not a multiple of its 6 columns), with groups of 32 and of 64 and
// 128, zero points per row, fractional, and one shared integer row, K a
// multiple of 64 or not: 96, 160; and 8-bit codes with many rows (the GEMM);
// it must differ from the exact product (the rounding happened), and
// everywhere else (AVX2, generic, 3 bits, 8 bits with few rows) it is
// qaf_qlinear's exact product, bit for bit.
TEST_P(QLinearKernelTest, Int8ActivationsMatchTheirDefinition) {
  bool int8Path = std::string(std::get<0>(GetParam())) == "avx512" &&
                  __builtin_cpu_supports("avx512vnni");
  struct Case {
    int64_t m, n, k, group;
    int bits;
    bool sharedZeros;
  };
  for (Case c :
       {Case{1, 100, 576, 32, 4, false}, Case{3, 70, 576, 32, 4, true},
        Case{1, 48, 1536, 64, 4, false}, Case{2, 33, 256, 128, 4, true},
        Case{9, 40, 576, 32, 4, false}, Case{1, 40, 576, 32, 3, false},
        Case{1, 40, 96, 32, 4, false}, Case{2, 24, 160, 32, 4, true},
        Case{8, 24, 160, 32, 4, false}, Case{33, 70, 256, 64, 4, true},
        Case{40, 13, 1536, 128, 4, false}, Case{33, 40, 576, 32, 3, false},
        Case{9, 30, 576, 64, 8, false}, Case{40, 20, 256, 32, 8, true},
        Case{2, 20, 256, 32, 8, false}}) {
    std::mt19937 engine(unsigned(c.m * 977 + c.n * 31 + c.k + c.group));
    const int qmax = (1 << c.bits) - 1;
    std::uniform_int_distribution<int> code(0, qmax);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    const int64_t groups = c.k / c.group, rowBytes = c.k * c.bits / 8;
    std::vector<uint8_t> codes(c.n * c.k), packed(c.n * rowBytes, 0);
    for (int64_t i = 0; i < c.n * c.k; ++i) {
      codes[i] = uint8_t(code(engine));
      int64_t row = i / c.k, bit = (i % c.k) * c.bits;
      unsigned shifted = unsigned(codes[i]) << (bit % 8);
      packed[row * rowBytes + bit / 8] |= uint8_t(shifted);
      if (shifted >> 8)
        packed[row * rowBytes + bit / 8 + 1] |= uint8_t(shifted >> 8);
    }
    std::vector<float> scales(c.n * groups),
        zeros(c.sharedZeros ? groups : c.n * groups);
    for (float &v : scales)
      v = 0.01f + 0.05f * std::fabs(real(engine));
    for (float &v : zeros)
      v = c.sharedZeros ? float((qmax + 1) / 2) : 7.5f + real(engine);
    // Rows of x with a wide range of magnitudes, an outlier among them.
    std::vector<float> x(c.m * c.k);
    for (int64_t i = 0; i < c.m * c.k; ++i)
      x[i] = real(engine) * (i % 97 == 5 ? 300.0f : 1.0f);
    std::vector<float> y(c.m * c.n), exact(c.m * c.n);
    int64_t zerosStride = c.sharedZeros ? 0 : groups;
    for (auto kernel : {qaf_qlinear_int8, qaf_qlinear})
      kernel(c.m, c.n, c.k, int64_t(x.data()), c.k, int64_t(packed.data()),
             rowBytes, int64_t(scales.data()), groups, int64_t(zeros.data()),
             zerosStride, 0, 0, 0,
             int64_t(kernel == qaf_qlinear ? exact.data() : y.data()), c.n,
             c.bits, c.group, 0);
    bool covered = int8Path && (c.bits == 4 || (c.bits == 8 && c.m >= 8));
    std::string label = "m " + std::to_string(c.m) + " n " +
                        std::to_string(c.n) + " k " + std::to_string(c.k) +
                        " group " + std::to_string(c.group) + " bits " +
                        std::to_string(c.bits);
    if (!covered) {
      for (int64_t i = 0; i < c.m * c.n; ++i)
        ASSERT_EQ(y[i], exact[i]) << label << " element " << i;
      continue;
    }
    std::vector<double> rounded(c.m * c.k);
    for (int64_t r = 0; r < c.m; ++r)
      for (int64_t b = 0; b < c.k; b += c.group) {
        const float *block = x.data() + r * c.k + b;
        float largest = 0;
        for (int64_t i = 0; i < c.group; ++i)
          largest = std::max(largest, std::fabs(block[i]));
        float scale = largest / 127.0f, inverse = 127.0f / largest;
        for (int64_t i = 0; i < c.group; ++i)
          rounded[r * c.k + b + i] =
              double(scale) * std::nearbyint(block[i] * inverse);
      }
    double worst = 0, moved = 0;
    for (int64_t r = 0; r < c.m; ++r)
      for (int64_t o = 0; o < c.n; ++o) {
        double sum = 0, magnitude = 0;
        for (int64_t i = 0; i < c.k; ++i) {
          int64_t g = i / c.group;
          double z = zeros[c.sharedZeros ? g : o * groups + g];
          double term = (double(codes[o * c.k + i]) - z) *
                        scales[o * groups + g] * rounded[r * c.k + i];
          sum += term;
          magnitude += std::fabs(term);
        }
        worst = std::max(worst, std::fabs(sum - y[r * c.n + o]) / magnitude);
        moved = std::max(
            moved,
            std::fabs(double(exact[r * c.n + o]) - y[r * c.n + o]) / magnitude);
      }
    // A few float roundings (epsilon 1.2e-7) of Σ |terms| (measured: up to
    // 1.4e-7); the int8 rounding moves outputs by ~1e-2 of it.
    EXPECT_LT(worst, 8 * 1.2e-7) << label;
    EXPECT_GT(moved, 1e-4) << label;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, QLinearKernelTest,
                         ::testing::Combine(::testing::Values("avx512", "avx2",
                                                              "generic"),
                                            ::testing::Values(1, 2)),
                         [](const auto &info) {
                           return std::string(std::get<0>(info.param)) + "_" +
                                  std::to_string(std::get<1>(info.param)) +
                                  "threads";
                         });

} // namespace
