//===- QLinearBench.cpp - quantized decode bandwidth vs a STREAM copy -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Prints one JSON object: the STREAM-style copy bandwidth (best of several
// passes over two 512 MiB arrays, bytes read + written) and, per shape, the
// time of one qaf_qlinear call with M = 1 (decode) and its effective weight
// bandwidth (codes + scales + zero points read per call / time). Each shape
// rotates through enough copies of its weight to exceed the last-level
// cache several times over, so every call reads its weight from memory, as
// a decode step through a model's layers does.
//
//   qaf-bench-qlinear [--threads N] [--bits 4] [--group 64] [--min-time S]
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <random>
#include <string>
#include <vector>

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Best-of copy bandwidth in GB/s (read + write bytes), arrays of `bytes`.
double streamCopy(size_t bytes, int passes) {
  size_t count = bytes / sizeof(float);
  float *a = static_cast<float *>(std::aligned_alloc(64, bytes));
  float *b = static_cast<float *>(std::aligned_alloc(64, bytes));
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < count; ++i) {
    a[i] = float(i & 1023);
    b[i] = 0;
  }
  double best = 1e30;
  for (int p = 0; p < passes; ++p) {
    double start = now();
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; ++i)
      b[i] = a[i];
    best = std::min(best, now() - start);
  }
  volatile float sink = b[count / 2];
  (void)sink;
  std::free(a);
  std::free(b);
  return 2.0 * double(bytes) / best / 1e9;
}

struct Weight {
  std::vector<uint8_t> codes;
  std::vector<float> scales, zeros;
};

} // namespace

int main(int argc, char **argv) {
  int threads = omp_get_max_threads();
  int bits = 4;
  int64_t group = 64;
  double minTime = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--bits")
      bits = std::atoi(argv[i + 1]);
    else if (flag == "--group")
      group = std::atoll(argv[i + 1]);
    else if (flag == "--min-time")
      minTime = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  omp_set_num_threads(threads);
  double copy = streamCopy(size_t(512) << 20, 8);

  // (K, N): SmolLM-135M's projections and larger decoder layers.
  const int64_t shapes[][2] = {{576, 1536},  {1536, 576},  {2048, 2048},
                               {2048, 8192}, {4096, 4096}, {4096, 11008}};
  std::mt19937 engine(0);
  std::printf("{\"threads\": %d, \"isa\": \"%s\", \"bits\": %d, \"group\": "
              "%lld, \"stream_copy_gbs\": %.2f, \"shapes\": [",
              threads, qaf_cpu_kernels_isa(), bits, (long long)group, copy);
  for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); ++s) {
    int64_t k = shapes[s][0], n = shapes[s][1];
    int64_t rowBytes = k * bits / 8, groups = k / group;
    size_t bytesPerWeight = size_t(n) * (rowBytes + 2 * groups * sizeof(float));
    // At least 256 MiB of weights in rotation (8x the L3 of this machine).
    int copies = int(std::max<size_t>(2, (size_t(256) << 20) / bytesPerWeight));
    std::vector<Weight> weights(copies);
    for (Weight &w : weights) {
      w.codes.resize(n * rowBytes);
      for (uint8_t &byte : w.codes)
        byte = uint8_t(engine());
      w.scales.assign(n * groups, 0.01f);
      w.zeros.assign(n * groups, 7.5f);
    }
    std::vector<float> x(k), y(n);
    for (float &v : x)
      v = float(engine() % 1000) / 1000.0f - 0.5f;
    auto call = [&](const Weight &w) {
      qaf_qlinear(1, n, k, int64_t(x.data()), k, int64_t(w.codes.data()),
                  rowBytes, int64_t(w.scales.data()), groups,
                  int64_t(w.zeros.data()), groups, 0, 0, 0, int64_t(y.data()),
                  n, bits, group, 0);
    };
    for (const Weight &w : weights) // warm up page tables, threads
      call(w);
    int64_t calls = 0;
    double start = now(), elapsed = 0;
    while (elapsed < minTime) {
      for (const Weight &w : weights)
        call(w);
      calls += copies;
      elapsed = now() - start;
    }
    double seconds = elapsed / double(calls);
    std::printf("%s{\"k\": %lld, \"n\": %lld, \"weight_bytes\": %zu, "
                "\"copies\": %d, \"us\": %.2f, \"gbs\": %.2f}",
                s ? ", " : "", (long long)k, (long long)n, bytesPerWeight,
                copies, seconds * 1e6, double(bytesPerWeight) / seconds / 1e9);
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}
