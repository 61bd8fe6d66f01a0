//===- MatmulBench.cpp - GFLOP/s of qaf_sgemm against the machine's peak --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qaf-bench-matmul [--isa=avx512|avx2|generic] [--threads=1,2] [--min-time=S]
//                  [--shapes=MxKxN[:ta|:tb|:tab],...] [--cpu-time]
//
// Prints one tab-separated line per measurement:
//   peak <isa> <threads> <GFLOP/s>
//   sgemm <isa> <M> <K> <N> <threads> <GFLOP/s> <seconds per call>
// A shape with :ta, :tb or :tab multiplies by Aᵀ and/or Bᵀ stored transposed
// (qaf_sgemm_transposed, as a backward pass does); its line starts with
// sgemm:ta, sgemm:tb or sgemm:tab.
// The peak is a register-only FMA loop of the instruction set in use: the
// arithmetic the hardware sustains with no memory traffic at all, so "% of
// peak" reads as how much of the machine the GEMM uses.
//
// --cpu-time divides by the process's CPU time per thread instead of wall
// time: on a machine shared with other jobs it measures the rate while the
// benchmark runs (for tuning), not what a user would see.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <omp.h>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace {

bool gCpuTime = false;

/// Wall time, or with --cpu-time the process's CPU time.
double now() {
  if (gCpuTime) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  }
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Elapsed seconds of `threads` threads since t0 (CPU time is shared out).
double since(double t0, int threads) {
  return gCpuTime ? (now() - t0) / threads : now() - t0;
}

volatile float gSink;
volatile float gOne = 0.999f;
volatile float gSmall = 0.001f;

// The peak loops keep kChains independent accumulators: more than the FMA
// latency times the number of FMA pipes (4 x 2 on current x86 cores), so the
// loop is limited by FMA throughput alone. Values stay near 1 (a*0.999 +
// 0.001), never denormal.
constexpr int kChains = 24;

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) double fmaLoopAvx512(int64_t iters) {
  __m512 a = _mm512_set1_ps(gOne), b = _mm512_set1_ps(gSmall);
  __m512 acc[kChains];
  for (int j = 0; j < kChains; ++j)
    acc[j] = _mm512_set1_ps(float(j));
  for (int64_t i = 0; i < iters; ++i)
#pragma unroll
    for (int j = 0; j < kChains; ++j)
      acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  __m512 s = acc[0];
  for (int j = 1; j < kChains; ++j)
    s = _mm512_add_ps(s, acc[j]);
  gSink = _mm512_reduce_add_ps(s);
  return double(iters) * kChains * 16 * 2;
}

// 16 ymm registers: 12 chains plus the two operands.
__attribute__((target("avx2,fma"))) double fmaLoopAvx2(int64_t iters) {
  __m256 a = _mm256_set1_ps(gOne), b = _mm256_set1_ps(gSmall);
  __m256 acc[12];
  for (int j = 0; j < 12; ++j)
    acc[j] = _mm256_set1_ps(float(j));
  for (int64_t i = 0; i < iters; ++i)
#pragma unroll
    for (int j = 0; j < 12; ++j)
      acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  __m256 s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm256_add_ps(s, acc[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  gSink = lanes[0];
  return double(iters) * 12 * 8 * 2;
}
#endif

// The generic path has no FMA: a multiply and an add per element, on SSE2
// (every x86-64) like the kernels, else on scalars.
double fmaLoopGeneric(int64_t iters) {
#if defined(__SSE2__)
  __m128 a = _mm_set1_ps(gOne), b = _mm_set1_ps(gSmall);
  __m128 acc[12];
  for (int j = 0; j < 12; ++j)
    acc[j] = _mm_set1_ps(float(j));
  for (int64_t i = 0; i < iters; ++i)
#pragma unroll
    for (int j = 0; j < 12; ++j)
      acc[j] = _mm_add_ps(_mm_mul_ps(acc[j], a), b);
  __m128 s = acc[0];
  for (int j = 1; j < 12; ++j)
    s = _mm_add_ps(s, acc[j]);
  gSink = _mm_cvtss_f32(s);
  return double(iters) * 12 * 4 * 2;
#else
  float a = gOne, b = gSmall;
  float acc[12];
  for (int j = 0; j < 12; ++j)
    acc[j] = float(j);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 12; ++j)
      acc[j] = acc[j] * a + b;
  float s = 0;
  for (int j = 0; j < 12; ++j)
    s += acc[j];
  gSink = s;
  return double(iters) * 12 * 2;
#endif
}

double fmaLoop(const std::string &isa, int64_t iters) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == "avx512")
    return fmaLoopAvx512(iters);
  if (isa == "avx2")
    return fmaLoopAvx2(iters);
#endif
  return fmaLoopGeneric(iters);
}

/// Peak FLOP/s of `threads` cores running the FMA loop at once (best of 5).
double peakGflops(const std::string &isa, int threads) {
  const int64_t iters = 20'000'000;
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    double flops = 0;
    double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += fmaLoop(isa, iters);
    double gflops = flops / since(t0, threads) * 1e-9;
    best = std::max(best, gflops);
  }
  return best;
}

struct Shape {
  int64_t M, K, N;
  bool transA = false, transB = false;
};

/// GFLOP/s of C = A*B (best of 5 rounds of >= minTime seconds each) and the
/// seconds per call of that round.
std::pair<double, double> benchSgemm(const Shape &s, int threads,
                                     double minTime) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto alloc = [](int64_t n) {
    void *p = nullptr;
    if (posix_memalign(&p, 64, size_t(n) * sizeof(float)) != 0) {
      std::fprintf(stderr, "qaf-bench-matmul: out of memory\n");
      std::exit(2);
    }
    return static_cast<float *>(p);
  };
  float *a = alloc(s.M * s.K), *b = alloc(s.K * s.N), *c = alloc(s.M * s.N);
  for (int64_t i = 0; i < s.M * s.K; ++i)
    a[i] = dist(rng);
  for (int64_t i = 0; i < s.K * s.N; ++i)
    b[i] = dist(rng);
  omp_set_num_threads(threads);
  auto call = [&] {
    qaf_sgemm_transposed(s.M, s.N, s.K, int64_t(a), s.transA ? s.M : s.K,
                         int64_t(b), s.transB ? s.K : s.N, int64_t(c), s.N,
                         s.transA, s.transB, 0);
  };
  call();
  call();
  double bestPerCall = 1e30;
  for (int round = 0; round < 5; ++round) {
    int64_t calls = 0;
    double t0 = now();
    double elapsed = 0;
    do {
      call();
      ++calls;
      elapsed = since(t0, threads);
    } while (elapsed < minTime || calls < 3);
    bestPerCall = std::min(bestPerCall, elapsed / double(calls));
  }
  std::free(a);
  std::free(b);
  std::free(c);
  double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
  return {flops / bestPerCall * 1e-9, bestPerCall};
}

std::vector<int64_t> parseInts(const char *text, char sep) {
  std::vector<int64_t> out;
  for (const char *p = text; *p;) {
    char *end = nullptr;
    long long v = std::strtoll(p, &end, 10);
    if (end == p)
      break;
    out.push_back(v);
    p = *end == sep ? end + 1 : end;
    if (*end != sep)
      break;
  }
  return out;
}

} // namespace

int main(int argc, char **argv) {
  std::string isa;
  std::vector<int64_t> threadList = {1, 2};
  double minTime = 0.3;
  // M = 128 rows (a batch of prompt tokens) against the square projections
  // of small decoder LLMs, and the lm_head of a 135M model (576 -> 49152).
  std::vector<Shape> shapes = {{128, 576, 576},
                               {128, 1024, 1024},
                               {128, 1536, 1536},
                               {128, 2048, 2048},
                               {128, 576, 49152}};
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!std::strncmp(arg, "--isa=", 6)) {
      isa = arg + 6;
    } else if (!std::strncmp(arg, "--threads=", 10)) {
      threadList = parseInts(arg + 10, ',');
    } else if (!std::strncmp(arg, "--min-time=", 11)) {
      minTime = std::atof(arg + 11);
    } else if (!std::strcmp(arg, "--cpu-time")) {
      gCpuTime = true;
    } else if (!std::strncmp(arg, "--shapes=", 9)) {
      shapes.clear();
      for (const char *p = arg + 9; *p;) {
        std::vector<int64_t> dims = parseInts(p, 'x');
        if (dims.size() != 3) {
          std::fprintf(stderr, "qaf-bench-matmul: bad shape list %s\n", arg);
          return 2;
        }
        Shape shape{dims[0], dims[1], dims[2]};
        const char *comma = std::strchr(p, ',');
        std::string form(p, comma ? comma : p + std::strlen(p));
        size_t colon = form.find(':');
        if (colon != std::string::npos) {
          form = form.substr(colon + 1);
          if (form != "ta" && form != "tb" && form != "tab") {
            std::fprintf(stderr, "qaf-bench-matmul: bad transposition in %s\n",
                         arg);
            return 2;
          }
          shape.transA = form != "tb";
          shape.transB = form != "ta";
        }
        shapes.push_back(shape);
        p = comma ? comma + 1 : p + std::strlen(p);
      }
    } else {
      std::fprintf(stderr,
                   "usage: qaf-bench-matmul [--isa=avx512|avx2|generic] "
                   "[--threads=1,2] [--min-time=S] "
                   "[--shapes=MxKxN[:ta|:tb|:tab],...] [--cpu-time]\n");
      return 2;
    }
  }
  const char *inUse =
      qaf_cpu_kernels_select(isa.empty() ? nullptr : isa.c_str());
  for (int64_t threads : threadList)
    std::printf("peak\t%s\t%d\t%.1f\n", inUse, int(threads),
                peakGflops(inUse, int(threads)));
  std::fflush(stdout);
  for (const Shape &s : shapes)
    for (int64_t threads : threadList) {
      auto [gflops, perCall] = benchSgemm(s, int(threads), minTime);
      const char *form =
          s.transA ? (s.transB ? ":tab" : ":ta") : (s.transB ? ":tb" : "");
      std::printf("sgemm%s\t%s\t%lld\t%lld\t%lld\t%d\t%.1f\t%.6f\n", form,
                  inUse, (long long)s.M, (long long)s.K, (long long)s.N,
                  int(threads), gflops, perCall);
      std::fflush(stdout);
    }
  return 0;
}
