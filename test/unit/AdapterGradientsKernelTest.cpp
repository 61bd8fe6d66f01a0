//===- AdapterGradientsKernelTest.cpp - LoTA-QAF / L4Q gradient kernels ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// qaf_lota_factor_gradients and qaf_l4q_gradients against METHODS.md §1 and
// §2 written here densely in double (Gw = gᵀ·x [N, K] whole, then the
// group means or masks, then the products with the factors), on every
// instruction-set path, for shapes whose rows are not a whole number of the
// kernel's tiles, odd token counts and several group sizes; the kernels
// accumulate into what the outputs hold; and 1 and 2 threads give the same
// bytes (the tiles' partial sums are added in a fixed order).
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <omp.h>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  int64_t m, n, k, rank, group;
};

// Rows 1 to 5 tiles of 32 and a ragged last tile, one token, group sizes
// from 8 to 64, ranks 1 to 16; the last two are work enough for 2 threads.
const Shape kShapes[] = {{7, 45, 48, 3, 16},   {1, 33, 24, 2, 8},
                         {37, 70, 120, 5, 24}, {5, 31, 40, 1, 40},
                         {19, 65, 72, 4, 8},   {64, 96, 128, 16, 64},
                         {96, 130, 192, 8, 64}};

std::vector<float> randomFloats(std::mt19937 &engine, int64_t count) {
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &v : values)
    v = real(engine);
  return values;
}

std::vector<int8_t> randomTernary(std::mt19937 &engine, int64_t count) {
  std::uniform_int_distribution<int> level(-1, 1);
  std::vector<int8_t> values(count);
  for (int8_t &v : values)
    v = int8_t(level(engine));
  return values;
}

/// Gw = gᵀ · x [N, K] in double.
std::vector<double> denseWeightGradient(const Shape &s,
                                        const std::vector<float> &g,
                                        const std::vector<float> &x) {
  std::vector<double> gw(s.n * s.k, 0.0);
  for (int64_t m = 0; m < s.m; ++m)
    for (int64_t o = 0; o < s.n; ++o)
      for (int64_t i = 0; i < s.k; ++i)
        gw[o * s.k + i] += double(g[m * s.n + o]) * double(x[m * s.k + i]);
  return gw;
}

/// dA [r, K] = c·Bᵀ·D and dB [N, r] = c·D·Aᵀ, added to what they hold.
template <typename Factor>
void factorProducts(const Shape &s, const std::vector<double> &d,
                    const std::vector<Factor> &a, const std::vector<Factor> &b,
                    double c, std::vector<double> &dA,
                    std::vector<double> &dB) {
  for (int64_t o = 0; o < s.n; ++o)
    for (int64_t j = 0; j < s.rank; ++j)
      for (int64_t i = 0; i < s.k; ++i) {
        double value = c * d[o * s.k + i];
        dA[j * s.k + i] += double(b[o * s.rank + j]) * value;
        dB[o * s.rank + j] += value * double(a[j * s.k + i]);
      }
}

void expectClose(const std::vector<float> &actual,
                 const std::vector<double> &expected, double scale,
                 const std::string &what) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i],
                1e-4 * scale + 1e-5 * std::fabs(expected[i]))
        << what << " element " << i;
}

std::vector<double> toDouble(const std::vector<float> &values) {
  return std::vector<double>(values.begin(), values.end());
}

class AdapterGradientsKernelTest
    : public ::testing::TestWithParam<const char *> {
protected:
  void SetUp() override {
    const char *want = GetParam();
    if (std::string(qaf_cpu_kernels_select(want)) != want) {
      qaf_cpu_kernels_select(nullptr);
      GTEST_SKIP() << want << " is not supported by this CPU";
    }
    savedThreads = omp_get_max_threads();
  }
  void TearDown() override {
    if (savedThreads)
      omp_set_num_threads(savedThreads);
    qaf_cpu_kernels_select(nullptr);
  }
  int savedThreads = 0;
};

/// One LoTA-QAF problem's operands and the kernel's outputs (which start
/// at `initial` values, to check that it accumulates).
struct LoTAProblem {
  Shape s;
  std::vector<float> g, x, scales, dA, dB;
  std::vector<int8_t> a, b;
  double omega;

  explicit LoTAProblem(const Shape &shape) : s(shape) {
    std::mt19937 engine(unsigned(s.m * 977 + s.n * 31 + s.k + s.rank));
    g = randomFloats(engine, s.m * s.n);
    x = randomFloats(engine, s.m * s.k);
    scales = randomFloats(engine, s.n * (s.k / s.group));
    for (float &v : scales)
      v = 0.05f + std::fabs(v);
    a = randomTernary(engine, s.rank * s.k);
    b = randomTernary(engine, s.n * s.rank);
    dA = randomFloats(engine, s.rank * s.k);
    dB = randomFloats(engine, s.n * s.rank);
    omega = 0.75 * double(s.rank) + 0.5;
  }

  void run(int threads) {
    omp_set_num_threads(threads);
    qaf_lota_factor_gradients(s.m, s.n, s.k, s.rank, int64_t(g.data()), s.n,
                              int64_t(x.data()), s.k, int64_t(scales.data()),
                              s.k / s.group, int64_t(a.data()), s.k,
                              int64_t(b.data()), s.rank, int64_t(dA.data()),
                              s.k, int64_t(dB.data()), s.rank, s.group, omega);
  }
};

TEST_P(AdapterGradientsKernelTest, LoTAMatchesDenseAlgebra) {
  for (const Shape &s : kShapes) {
    LoTAProblem p(s);
    std::vector<double> dA = toDouble(p.dA), dB = toDouble(p.dB);
    // ∂L/∂ΔW = s⊙Gw + (1/ω)·P_g(s⊙Gw), P_g the mean over each group.
    std::vector<double> d = denseWeightGradient(s, p.g, p.x);
    int64_t groups = s.k / s.group;
    for (int64_t o = 0; o < s.n; ++o)
      for (int64_t grp = 0; grp < groups; ++grp) {
        double scale = p.scales[o * groups + grp], mean = 0.0;
        double *values = d.data() + o * s.k + grp * s.group;
        for (int64_t i = 0; i < s.group; ++i)
          mean += scale * values[i] / double(s.group);
        for (int64_t i = 0; i < s.group; ++i)
          values[i] = scale * values[i] + mean / p.omega;
      }
    factorProducts(s, d, p.a, p.b, 1.0, dA, dB);
    p.run(2);
    double magnitude = std::sqrt(double(s.m) * double(s.k) * double(s.n));
    expectClose(p.dA, dA, magnitude, "LoTA dA m" + std::to_string(s.m));
    expectClose(p.dB, dB, magnitude, "LoTA dB m" + std::to_string(s.m));
  }
}

/// One L4Q problem, `bits` wide, with u straddling the grid's ends.
struct L4QProblem {
  Shape s;
  int64_t bits = 3;
  double alpha = 1.5;
  std::vector<float> g, x, u, codes, a, b, dA, dB, dScales, dOffsets;

  explicit L4QProblem(const Shape &shape) : s(shape) {
    std::mt19937 engine(unsigned(s.m * 389 + s.n * 17 + s.k + s.rank));
    g = randomFloats(engine, s.m * s.n);
    x = randomFloats(engine, s.m * s.k);
    u = randomFloats(engine, s.n * s.k);
    codes.resize(u.size());
    for (size_t i = 0; i < u.size(); ++i) {
      u[i] *= 6.0f; // [-6, 6] against the 3-bit grid [-4, 3]
      codes[i] = std::nearbyint(std::fmin(std::fmax(u[i], -4.0f), 3.0f));
    }
    a = randomFloats(engine, s.rank * s.k);
    b = randomFloats(engine, s.n * s.rank);
    dA = randomFloats(engine, s.rank * s.k);
    dB = randomFloats(engine, s.n * s.rank);
    dScales = randomFloats(engine, s.n * (s.k / s.group));
    dOffsets = randomFloats(engine, s.n * (s.k / s.group));
  }

  void run(int threads) {
    omp_set_num_threads(threads);
    int64_t groups = s.k / s.group;
    qaf_l4q_gradients(
        s.m, s.n, s.k, s.rank, int64_t(g.data()), s.n, int64_t(x.data()), s.k,
        int64_t(u.data()), s.k, int64_t(codes.data()), s.k, int64_t(a.data()),
        s.k, int64_t(b.data()), s.rank, int64_t(dA.data()), s.k,
        int64_t(dB.data()), s.rank, int64_t(dScales.data()), groups,
        int64_t(dOffsets.data()), groups, bits, s.group, alpha);
  }
};

TEST_P(AdapterGradientsKernelTest, L4QMatchesDenseAlgebra) {
  for (const Shape &s : kShapes) {
    L4QProblem p(s);
    std::vector<double> dA = toDouble(p.dA), dB = toDouble(p.dB);
    std::vector<double> dScales = toDouble(p.dScales);
    std::vector<double> dOffsets = toDouble(p.dOffsets);
    std::vector<double> gw = denseWeightGradient(s, p.g, p.x);
    std::vector<double> masked(gw.size());
    int64_t groups = s.k / s.group;
    for (int64_t o = 0; o < s.n; ++o)
      for (int64_t i = 0; i < s.k; ++i) {
        int64_t at = o * s.k + i;
        bool inRange = p.u[at] >= -4.0f && p.u[at] <= 3.0f;
        masked[at] = inRange ? gw[at] : 0.0;
        // Inside the grid w̃ − u, outside the clamp value w̃ (METHODS.md §2).
        dScales[o * groups + i / s.group] +=
            gw[at] * (inRange ? p.codes[at] - p.u[at] : p.codes[at]);
        dOffsets[o * groups + i / s.group] += inRange ? 0.0 : gw[at];
      }
    factorProducts(s, masked, p.a, p.b, p.alpha, dA, dB);
    p.run(2);
    double magnitude = std::sqrt(double(s.m) * double(s.k) * double(s.n));
    std::string where = " m" + std::to_string(s.m);
    expectClose(p.dA, dA, 4 * magnitude, "L4Q dA" + where);
    expectClose(p.dB, dB, 4 * magnitude, "L4Q dB" + where);
    expectClose(p.dScales, dScales, 4 * magnitude, "L4Q ds" + where);
    expectClose(p.dOffsets, dOffsets, magnitude, "L4Q dbeta" + where);
  }
}

template <typename Problem>
void expectSameBytesForOneAndTwoThreads(const Shape &s,
                                        std::vector<float> Problem::*output) {
  Problem one(s), two(s);
  one.run(1);
  two.run(2);
  ASSERT_EQ(0, std::memcmp((one.*output).data(), (two.*output).data(),
                           (one.*output).size() * sizeof(float)))
      << "m " << s.m << " n " << s.n << " k " << s.k;
}

TEST_P(AdapterGradientsKernelTest, DeterministicAcrossThreadCounts) {
  for (const Shape &s : kShapes) {
    expectSameBytesForOneAndTwoThreads<LoTAProblem>(s, &LoTAProblem::dA);
    expectSameBytesForOneAndTwoThreads<LoTAProblem>(s, &LoTAProblem::dB);
    for (auto output : {&L4QProblem::dA, &L4QProblem::dB, &L4QProblem::dScales,
                        &L4QProblem::dOffsets})
      expectSameBytesForOneAndTwoThreads<L4QProblem>(s, output);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, AdapterGradientsKernelTest,
                         ::testing::Values("avx512", "avx2", "generic"),
                         [](const auto &info) {
                           return std::string(info.param);
                         });

} // namespace
