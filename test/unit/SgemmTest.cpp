//===- SgemmTest.cpp - qaf_sgemm against a double-precision reference -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every kernel path the CPU supports (forced one at a time), with 1 and 2
// OpenMP threads, over shapes that hit each code path: the small-M and
// small-N kernels, every edge height and width of the register tile, several
// K panels, M and N blocks, leading dimensions wider than the rows, and the
// batched entry point with gaps, shared operands and uneven batch sizes.
//
// Error bound: a float dot product of length K computed by any summation
// order satisfies |err| <= gamma_K * sum_k |a_ik b_kj| with
// gamma_K ~= K * 2^-24 (Higham, Accuracy and Stability, 3.1); one more
// rounding adds the old C. The tests allow twice that, (K + 2) * 1.2e-7 *
// (sum |a b| + |C0|): tight enough that one missing or doubled term of size
// |a b| fails.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <limits>
#include <omp.h>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace {

constexpr float kSentinel = -12345.0f;

/// C[M,N] (+)= op(A) op(B): with transA, A is stored as [K, M] (lda >= M),
/// with transB, B as [N, K] (ldb >= K).
struct Problem {
  int64_t M, N, K, lda, ldb, ldc;
  bool accumulate;
  bool transA = false, transB = false;

  int64_t aIndex(int64_t i, int64_t k) const {
    return transA ? k * lda + i : i * lda + k;
  }
  int64_t bIndex(int64_t k, int64_t j) const {
    return transB ? j * ldb + k : k * ldb + j;
  }
  int64_t aRows() const { return transA ? K : M; }
  int64_t bRows() const { return transB ? N : K; }
};

/// Operands of one product, C with a sentinel outside M x N (inside ldc)
/// and NaN inside when not accumulating (C must then be written, not read).
struct Operands {
  std::vector<float> a, b, c, c0;
};

Operands makeOperands(const Problem &p, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Operands o;
  o.a.assign(size_t(p.aRows() * p.lda + 1), kSentinel);
  o.b.assign(size_t(p.bRows() * p.ldb + 1), kSentinel);
  o.c.assign(size_t(p.M * p.ldc + 1), kSentinel);
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t k = 0; k < p.K; ++k)
      o.a[p.aIndex(i, k)] = dist(rng);
  for (int64_t k = 0; k < p.K; ++k)
    for (int64_t j = 0; j < p.N; ++j)
      o.b[p.bIndex(k, j)] = dist(rng);
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j)
      o.c[i * p.ldc + j] =
          p.accumulate ? dist(rng) : std::numeric_limits<float>::quiet_NaN();
  o.c0 = o.c;
  return o;
}

/// Checks C against the double-precision product; returns the number of
/// mismatches (reporting the first few).
int checkProduct(const Problem &p, const Operands &o, const float *c,
                 const std::string &what) {
  int bad = 0;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.ldc; ++j) {
      float got = c[i * p.ldc + j];
      if (j >= p.N) {
        if (got != kSentinel && bad++ < 5)
          ADD_FAILURE() << what << ": wrote outside C at (" << i << ", " << j
                        << ")";
        continue;
      }
      double ref = 0.0, mag = 0.0;
      for (int64_t k = 0; k < p.K; ++k) {
        double t = double(o.a[p.aIndex(i, k)]) * double(o.b[p.bIndex(k, j)]);
        ref += t;
        mag += std::fabs(t);
      }
      if (p.accumulate) {
        ref += o.c0[i * p.ldc + j];
        mag += std::fabs(o.c0[i * p.ldc + j]);
      }
      double tol = double(p.K + 2) * 1.2e-7 * mag;
      if (!(std::fabs(double(got) - ref) <= tol) && bad++ < 5)
        ADD_FAILURE() << what << ": C(" << i << ", " << j << ") = " << got
                      << ", expected " << ref << " (tolerance " << tol << ")";
    }
  }
  if (c[p.M * p.ldc] != kSentinel && bad++ < 5)
    ADD_FAILURE() << what << ": wrote past the end of C";
  return bad;
}

std::string describe(const Problem &p) {
  return "M=" + std::to_string(p.M) + " N=" + std::to_string(p.N) +
         " K=" + std::to_string(p.K) + " lda=" + std::to_string(p.lda) +
         " ldb=" + std::to_string(p.ldb) + " ldc=" + std::to_string(p.ldc) +
         (p.accumulate ? " accumulate" : "") + (p.transA ? " transA" : "") +
         (p.transB ? " transB" : "");
}

int runOne(const Problem &p, uint32_t seed) {
  Operands o = makeOperands(p, seed);
  if (p.transA || p.transB)
    qaf_sgemm_transposed(p.M, p.N, p.K, int64_t(o.a.data()), p.lda,
                         int64_t(o.b.data()), p.ldb, int64_t(o.c.data()), p.ldc,
                         p.transA, p.transB, p.accumulate ? 1 : 0);
  else
    qaf_sgemm(p.M, p.N, p.K, int64_t(o.a.data()), p.lda, int64_t(o.b.data()),
              p.ldb, int64_t(o.c.data()), p.ldc, p.accumulate ? 1 : 0);
  return checkProduct(p, o, o.c.data(), describe(p));
}

/// The sizes of the brief: around every register-tile and vector width.
const int64_t kDims[] = {1, 2, 3, 5, 16, 17, 64, 127, 128, 255};

class SgemmPathTest
    : public ::testing::TestWithParam<std::tuple<const char *, int>> {
protected:
  void SetUp() override {
    const char *want = std::get<0>(GetParam());
    const char *got = qaf_cpu_kernels_select(want);
    if (std::string(got) != want) {
      qaf_cpu_kernels_select(nullptr);
      GTEST_SKIP() << "this CPU does not support the " << want << " path";
    }
    savedThreads = omp_get_max_threads();
    omp_set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override {
    if (savedThreads > 0)
      omp_set_num_threads(savedThreads);
    qaf_cpu_kernels_select(nullptr);
  }
  int savedThreads = 0;
};

// All M x N of kDims, each with two K of kDims; leading dimensions equal to
// the widths or wider, accumulate on and off, alternating.
TEST_P(SgemmPathTest, ShapeGrid) {
  int failures = 0;
  uint32_t seed = 1;
  for (int mi = 0; mi < 10; ++mi)
    for (int ni = 0; ni < 10; ++ni)
      for (int pick = 0; pick < 2; ++pick) {
        int64_t K = kDims[pick ? (3 * mi + 7 * ni + 5) % 10 : (mi + ni) % 10];
        int64_t M = kDims[mi], N = kDims[ni];
        bool wide = (mi + ni + pick) % 2;
        Problem p{M,
                  N,
                  K,
                  wide ? K + 3 : K,
                  wide ? N + 5 : N,
                  wide ? N + 7 : N,
                  bool((mi * 3 + ni + pick) % 2)};
        failures += runOne(p, seed++);
        if (failures > 20)
          FAIL() << "too many mismatches";
      }
  EXPECT_EQ(failures, 0);
}

// Shapes past one cache block in each direction (several K panels, M and N
// blocks), the small-M and small-N paths on large operands, and degenerate
// sizes.
TEST_P(SgemmPathTest, BlockingAndSpecialShapes) {
  const Problem problems[] = {
      {300, 700, 900, 900, 700, 700, false},
      {300, 700, 900, 911, 709, 713, true},
      {131, 1100, 1000, 1000, 1100, 1100, false},
      {1, 1000, 1500, 1500, 1000, 1000, false},
      {2, 333, 777, 780, 340, 350, true},
      {4, 129, 130, 130, 129, 129, false},
      {8, 1000, 50, 50, 1000, 1000, true},
      {9, 257, 65, 70, 260, 270, false},
      {500, 1, 333, 333, 1, 1, false},
      {500, 3, 333, 340, 7, 9, true},
      {77, 4, 1025, 1025, 4, 4, false},
      {77, 5, 31, 31, 5, 5, true},
      {1, 1, 1000, 1000, 1, 1, false},
      {1, 300, 1, 1, 300, 300, true},
      {255, 255, 1, 1, 255, 255, false},
      {600, 40, 20, 20, 40, 40, false},
      // Small M on wide B (the panel kernels): several panel calls, a K
      // that is not a multiple of the panel depth, the prefetching width.
      {1, 20000, 37, 40, 20003, 20001, true},
      {8, 3000, 20, 20, 3000, 3005, false},
      {3, 700, 100, 101, 700, 703, true},
      {5, 256, 9, 9, 256, 256, false},
  };
  uint32_t seed = 1000;
  for (const Problem &p : problems)
    EXPECT_EQ(runOne(p, seed++), 0) << describe(p);
}

// op(A) = Aᵀ, op(B) = Bᵀ and both, read in place: all M x N of kDims with one
// K each, leading dimensions equal to the stored rows or wider, accumulate on
// and off. Every path of the kernels meets them: small M (Aᵀ copied, Bᵀ rows
// as dot products or chunks), small N, and the packed path's transposing
// packs of A and B panels.
TEST_P(SgemmPathTest, TransposedShapeGrid) {
  int failures = 0;
  uint32_t seed = 3000;
  for (int form = 1; form <= 3; ++form)
    for (int mi = 0; mi < 10; ++mi)
      for (int ni = 0; ni < 10; ++ni) {
        int64_t M = kDims[mi], N = kDims[ni];
        int64_t K = kDims[(3 * mi + 7 * ni + form) % 10];
        bool transA = form & 1, transB = form & 2;
        bool wide = (mi + ni + form) % 2;
        Problem p{
            M,      N,     K, 0, 0, wide ? N + 7 : N, bool((mi + 2 * ni) % 2),
            transA, transB};
        p.lda = (transA ? M : K) + (wide ? 3 : 0);
        p.ldb = (transB ? K : N) + (wide ? 5 : 0);
        failures += runOne(p, seed++);
        if (failures > 20)
          FAIL() << "too many mismatches";
      }
  EXPECT_EQ(failures, 0);
}

// Transposed operands past one cache block in each direction, the shapes of
// a decoder's backward pass (Xᵀ·dY with K = tokens, dY·Wᵀ with a wide W, a
// tied LM head's dLogits·E), and the small-M and small-N edges.
TEST_P(SgemmPathTest, TransposedBlocking) {
  struct Case {
    int64_t M, N, K;
    bool transA, transB, accumulate;
  };
  const Case cases[] = {
      {300, 700, 900, true, false, false},  {300, 700, 900, false, true, true},
      {131, 1100, 1000, true, true, false}, {576, 16, 256, true, false, true},
      {16, 1536, 256, true, false, false},  {256, 16, 1536, false, true, false},
      {256, 576, 16, false, true, true},    {64, 576, 3000, false, true, false},
      {1, 1000, 1500, false, true, false},  {3, 999, 70, true, true, true},
      {8, 1000, 50, true, false, false},    {500, 3, 333, true, false, true},
      {77, 4, 1025, false, true, false},    {600, 40, 20, true, true, false},
  };
  uint32_t seed = 4000;
  for (const Case &k : cases) {
    Problem p{k.M, k.N, k.K, 0, 0, k.N + 1, k.accumulate, k.transA, k.transB};
    p.lda = (k.transA ? k.M : k.K) + 2;
    p.ldb = (k.transB ? k.K : k.N) + 4;
    EXPECT_EQ(runOne(p, seed++), 0) << describe(p);
  }
}

// A small-M product with Bᵀ read in place (what the int4 prefill's blocks
// are for a few tokens) needs no workspace: a thread that never packed one
// must sum it in the same order as a thread that did, or an output would
// depend on which thread ran it. omp_set_num_threads(1) keeps each call on
// the thread that makes it.
TEST_P(SgemmPathTest, SmallTransposedProductIsTheSameOnEveryThread) {
  const int64_t M = 8, N = 160, K = 384;
  std::mt19937 engine(11);
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::vector<float> a(M * K), b(N * K), big(512 * 512);
  for (float &v : a)
    v = real(engine);
  for (float &v : b)
    v = real(engine);
  omp_set_num_threads(1);
  // This thread packs (a large product), so it holds a workspace.
  std::vector<float> bigC(512 * 512);
  qaf_sgemm(512, 512, 512, int64_t(big.data()), 512, int64_t(big.data()), 512,
            int64_t(bigC.data()), 512, 0);
  auto product = [&](std::vector<float> &c) {
    c.assign(M * N, 0.0f);
    qaf_sgemm_transposed(M, N, K, int64_t(a.data()), K, int64_t(b.data()), K,
                         int64_t(c.data()), N, 0, 1, 0);
  };
  std::vector<float> here, fresh;
  product(here);
  std::thread([&] { product(fresh); }).join();
  omp_set_num_threads(std::get<1>(GetParam()));
  for (int64_t i = 0; i < M * N; ++i)
    ASSERT_EQ(here[i], fresh[i]) << "element " << i;
}

// K == 0: C = 0, or C unchanged when accumulating; M or N == 0: no access.
TEST_P(SgemmPathTest, EmptyDimensions) {
  std::vector<float> c(6, 7.0f);
  qaf_sgemm(2, 3, 0, 0, 0, 0, 3, int64_t(c.data()), 3, 1);
  for (float v : c)
    EXPECT_EQ(v, 7.0f);
  qaf_sgemm(2, 3, 0, 0, 0, 0, 3, int64_t(c.data()), 3, 0);
  for (float v : c)
    EXPECT_EQ(v, 0.0f);
  qaf_sgemm(0, 3, 5, 0, 5, 0, 3, 0, 3, 0);
  qaf_sgemm(3, 0, 5, 0, 5, 0, 0, 0, 0, 0);
  qaf_sgemm_batched(0, 3, 3, 3, 0, 9, 3, 0, 9, 3, 0, 9, 3, 0);
}

TEST_P(SgemmPathTest, Batched) {
  struct Case {
    int64_t batch, M, N, K;
    bool shareB, accumulate, transA = false, transB = false;
  };
  const Case cases[] = {
      {1, 64, 64, 64, false, false},
      {2, 128, 100, 70, false, true},
      {3, 128, 96, 200, false, false},
      {5, 17, 33, 65, true, false},
      {4, 1, 300, 64, false, true},
      {7, 130, 2, 40, true, true},
      // Attention's backward: dP·V ᵀ, dSᵀ·Q, Pᵀ·dO.
      {9, 96, 64, 96, false, false, false, true},
      {9, 64, 96, 96, false, true, true, false},
      {3, 40, 50, 60, true, false, true, true},
      {4, 2, 300, 64, false, true, true, true},
  };
  uint32_t seed = 2000;
  for (const Case &k : cases) {
    // Leading dimensions wider than the rows and batch strides with gaps.
    Problem p{k.M,
              k.N,
              k.K,
              (k.transA ? k.M : k.K) + 1,
              (k.transB ? k.K : k.N) + 2,
              k.N + 3,
              k.accumulate,
              k.transA,
              k.transB};
    const int64_t strideA = p.aRows() * p.lda + 5,
                  strideB = p.bRows() * p.ldb + 6, strideC = p.M * p.ldc + 7;
    std::vector<Operands> items;
    std::vector<float> a(size_t(strideA * k.batch)),
        b(size_t(strideB * k.batch)), c(size_t(strideC * k.batch + 1));
    for (int64_t i = 0; i < k.batch; ++i) {
      items.push_back(makeOperands(p, seed++));
      if (k.shareB)
        items.back().b = items.front().b;
      std::copy(items[i].a.begin(), items[i].a.end() - 1,
                a.begin() + i * strideA);
      std::copy(items[i].b.begin(), items[i].b.end() - 1,
                b.begin() + i * strideB);
      std::copy(items[i].c.begin(), items[i].c.end() - 1,
                c.begin() + i * strideC);
    }
    c.back() = kSentinel;
    if (p.transA || p.transB)
      qaf_sgemm_batched_transposed(
          k.batch, p.M, p.N, p.K, int64_t(a.data()), strideA, p.lda,
          int64_t(b.data()), k.shareB ? 0 : strideB, p.ldb, int64_t(c.data()),
          strideC, p.ldc, p.transA, p.transB, p.accumulate);
    else
      qaf_sgemm_batched(k.batch, p.M, p.N, p.K, int64_t(a.data()), strideA,
                        p.lda, int64_t(b.data()), k.shareB ? 0 : strideB, p.ldb,
                        int64_t(c.data()), strideC, p.ldc, p.accumulate);
    for (int64_t i = 0; i < k.batch; ++i) {
      std::vector<float> got(c.begin() + i * strideC,
                             c.begin() + i * strideC + p.M * p.ldc);
      got.push_back(kSentinel);
      EXPECT_EQ(checkProduct(p, items[i], got.data(),
                             "batch item " + std::to_string(i) + " of " +
                                 describe(p)),
                0);
    }
    EXPECT_EQ(c.back(), kSentinel);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, SgemmPathTest,
    ::testing::Combine(::testing::Values("generic", "avx2", "avx512"),
                       ::testing::Values(1, 2)),
    [](const ::testing::TestParamInfo<SgemmPathTest::ParamType> &info) {
      return std::string(std::get<0>(info.param)) + "_" +
             std::to_string(std::get<1>(info.param)) + "threads";
    });

// QAF_CPU is read when the automatic choice is (re)made; an unknown or
// unsupported value is refused on stderr and the best path is used.
TEST(SgemmDispatch, EnvironmentOverride) {
  const char *outer = std::getenv("QAF_CPU");
  const std::string saved = outer ? outer : "";
  unsetenv("QAF_CPU");
  const char *best = qaf_cpu_kernels_select(nullptr);
  ASSERT_NE(best, nullptr);
  setenv("QAF_CPU", "generic", 1);
  EXPECT_STREQ(qaf_cpu_kernels_select(nullptr), "generic");
  EXPECT_STREQ(qaf_cpu_kernels_isa(), "generic");

  setenv("QAF_CPU", "sse9", 1);
  ::testing::internal::CaptureStderr();
  EXPECT_STREQ(qaf_cpu_kernels_select(nullptr), best);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown QAF_CPU=sse9"), std::string::npos) << err;

  for (const char *path : {"avx2", "avx512"}) {
    setenv("QAF_CPU", path, 1);
    ::testing::internal::CaptureStderr();
    std::string got = qaf_cpu_kernels_select(nullptr);
    err = ::testing::internal::GetCapturedStderr();
    if (got != path)
      EXPECT_NE(err.find("does not support"), std::string::npos) << err;
    else
      EXPECT_TRUE(err.empty()) << err;
  }
  unsetenv("QAF_CPU");
  EXPECT_STREQ(qaf_cpu_kernels_select(nullptr), best);
  if (outer)
    setenv("QAF_CPU", saved.c_str(), 1);
  qaf_cpu_kernels_select(nullptr);
}

#if defined(QAF_TEST_C_COMPILER) && defined(QAF_TEST_CPU_KERNELS_ARCHIVE) &&   \
    defined(QAF_TEST_OPENMP_LIBRARY)
// The archive links into a shared object the way a compiled model.so does:
// the C driver, the archive and libomp, no C++ runtime, every symbol
// resolved (--no-undefined); the object loads and multiplies.
TEST(SgemmLink, IntoSharedObjectWithTheCDriver) {
  char dir[] = "/tmp/qaf-sgemm-link-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string base(dir);
  {
    std::ofstream c(base + "/model.c");
    c << "#include <stdint.h>\n"
         "void qaf_sgemm(int64_t, int64_t, int64_t, int64_t, int64_t,\n"
         "               int64_t, int64_t, int64_t, int64_t, int32_t);\n"
         "void model_matmul(const float *a, const float *b, float *c,\n"
         "                  int64_t m, int64_t n, int64_t k) {\n"
         "  qaf_sgemm(m, n, k, (int64_t)a, k, (int64_t)b, n, (int64_t)c, n, "
         "0);\n"
         "}\n";
  }
  std::string lib(QAF_TEST_OPENMP_LIBRARY);
  std::string libDir = lib.substr(0, lib.rfind('/'));
  std::string cmd = std::string(QAF_TEST_C_COMPILER) +
                    " -shared -fPIC -O1 -Wl,--no-undefined -o " + base +
                    "/model.so " + base + "/model.c " +
                    QAF_TEST_CPU_KERNELS_ARCHIVE + " " + lib + " -Wl,-rpath," +
                    libDir + " > " + base + "/link.log 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream log(base + "/link.log");
  std::stringstream text;
  text << log.rdbuf();
  ASSERT_EQ(rc, 0) << cmd << "\n" << text.str();

  void *handle = dlopen((base + "/model.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  using MatmulFn = void (*)(const float *, const float *, float *, int64_t,
                            int64_t, int64_t);
  auto matmul = reinterpret_cast<MatmulFn>(dlsym(handle, "model_matmul"));
  ASSERT_NE(matmul, nullptr);
  Problem p{67, 131, 45, 45, 131, 131, false};
  Operands o = makeOperands(p, 77);
  matmul(o.a.data(), o.b.data(), o.c.data(), p.M, p.N, p.K);
  EXPECT_EQ(checkProduct(p, o, o.c.data(), "model.so: " + describe(p)), 0);
  dlclose(handle);
  std::remove((base + "/model.c").c_str());
  std::remove((base + "/model.so").c_str());
  std::remove((base + "/link.log").c_str());
  rmdir(dir);
}
#endif

} // namespace
