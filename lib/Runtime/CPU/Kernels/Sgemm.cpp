//===- Sgemm.cpp - SGEMM driver: dispatch, blocking, threads --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The C entry points of qaf/Runtime/CPU/Kernels.h. This file is compiled for
// the baseline target: it picks an instruction-set path once, sizes the
// cache blocks from the machine's caches, splits C among OpenMP threads and
// hands each thread's part to the path's single-threaded GEMM.
//
// Nothing here runs before main: the selection happens on the first call
// (or qaf_cpu_kernels_select) under a mutex, and the globals are constant-
// initialised, so the archive brings no constructors of its own (only
// libgcc's CPU probe behind __builtin_cpu_supports). It needs libc and
// libomp only, no C++ runtime: model.so links it with the C driver.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/CPU/Kernels.h"

#include "SgemmInternal.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <omp.h>
#include <pthread.h>
#include <unistd.h>

#define QAF_API extern "C" __attribute__((visibility("default")))

namespace qaf {
namespace cpu {

//===----------------------------------------------------------------------===//
// Per-thread packing memory
//===----------------------------------------------------------------------===//

// Trivially destructible thread-locals: no TLS constructor or destructor is
// registered (the library may be dlopen'ed and closed). Each thread keeps one
// buffer of about 1.3 MB for the life of the thread; OpenMP's pool threads
// live as long as the process, so reusing it saves an mmap and page faults on
// every call.
static thread_local float *tlsBuffer = nullptr;
static thread_local int64_t tlsCapacity = 0;

float *threadWorkspace(int64_t floats) {
  if (floats <= tlsCapacity)
    return tlsBuffer;
  std::free(tlsBuffer);
  tlsBuffer = nullptr;
  tlsCapacity = 0;
  // Round up to 64 KiB of floats so small growth does not reallocate often.
  int64_t want = (floats + 16383) / 16384 * 16384;
  void *p = nullptr;
  if (posix_memalign(&p, 64, size_t(want) * sizeof(float)) != 0)
    return nullptr;
  tlsBuffer = static_cast<float *>(p);
  tlsCapacity = want;
  return tlsBuffer;
}

//===----------------------------------------------------------------------===//
// Caches and blocking
//===----------------------------------------------------------------------===//

namespace {

struct CacheSizes {
  int64_t l1 = 32 * 1024;
  int64_t l2 = 512 * 1024;
};

/// Reads a size such as "48K" or "1024K" from sysfs; 0 when absent.
int64_t readSysfsSize(const char *path) {
  FILE *f = std::fopen(path, "r");
  if (!f)
    return 0;
  char buf[32] = {0};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = 0;
  char *end = nullptr;
  long long v = std::strtoll(buf, &end, 10);
  if (end && (*end == 'K' || *end == 'k'))
    v *= 1024;
  else if (end && (*end == 'M' || *end == 'm'))
    v *= 1024 * 1024;
  return v > 0 ? v : 0;
}

/// Reads the first line of a small sysfs text file into buf.
bool readSysfsLine(const char *path, char *buf, size_t size) {
  FILE *f = std::fopen(path, "r");
  if (!f)
    return false;
  bool ok = std::fgets(buf, int(size), f) != nullptr;
  std::fclose(f);
  if (ok)
    buf[std::strcspn(buf, "\n")] = 0;
  return ok;
}

/// The per-core data caches, from sysfs (what Linux and the hypervisor
/// report), else sysconf, else conservative defaults. Only L1 and L2 are
/// used: the blocks are sized for the private caches, and a virtual machine's
/// L3 (shared, often misreported) is not relied on.
CacheSizes detectCaches() {
  CacheSizes c;
  int64_t l1 = 0, l2 = 0;
  for (int index = 0; index < 8; ++index) {
    char path[96], level[16], type[32];
    std::snprintf(path, sizeof(path),
                  "/sys/devices/system/cpu/cpu0/cache/index%d/level", index);
    if (!readSysfsLine(path, level, sizeof(level)))
      break;
    std::snprintf(path, sizeof(path),
                  "/sys/devices/system/cpu/cpu0/cache/index%d/type", index);
    if (!readSysfsLine(path, type, sizeof(type)) ||
        std::strcmp(type, "Instruction") == 0)
      continue;
    std::snprintf(path, sizeof(path),
                  "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
    int64_t size = readSysfsSize(path);
    if (std::strcmp(level, "1") == 0)
      l1 = size;
    else if (std::strcmp(level, "2") == 0)
      l2 = size;
  }
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  if (l1 <= 0)
    l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  if (l2 <= 0)
    l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
  if (l1 >= 16 * 1024 && l1 <= 1024 * 1024)
    c.l1 = l1;
  if (l2 >= 128 * 1024 && l2 <= 64 * 1024 * 1024)
    c.l2 = l2;
  return c;
}

int64_t roundDown(int64_t v, int64_t unit) {
  return v / unit * unit < unit ? unit : v / unit * unit;
}

/// Block sizes of the packed path (see the loop nest in SgemmImpl.inc):
/// - kc: the A panel (mr x kc) takes half of L1, the rest is left to the B
///   panels streaming through and to the C tile; capped by the path's
///   layout (kcMax).
/// - nc: the packed B block (kc x nc) takes a quarter of L2. Beside it L2
///   holds the A block, the source of the next B block being prefetched and
///   the C tiles; on a 1 MiB L2 that gives nc = 160, measured as fast as any
///   larger block and faster than 320 for M = 128.
/// - mc: the packed A block (mc x kc) takes a quarter of L2; B is repacked
///   once per mc rows, 1/mc of the arithmetic.
/// QAF_SGEMM_BLOCKING=kc,mc,nc overrides them (for tuning).
Blocking blockingFor(const KernelSet &ks, const CacheSizes &caches) {
  const int64_t fl = sizeof(float);
  Blocking b;
  b.kc = roundDown(caches.l1 / 2 / (ks.mr * fl), 16);
  if (b.kc > ks.kcMax)
    b.kc = ks.kcMax;
  b.nc = roundDown(caches.l2 / 4 / (b.kc * fl), ks.nr);
  b.mc = roundDown(caches.l2 / 4 / ((ks.kcMax + 16) * fl), ks.mr);
  if (const char *env = std::getenv("QAF_SGEMM_BLOCKING")) {
    long long kc = 0, mc = 0, nc = 0;
    if (std::sscanf(env, "%lld,%lld,%lld", &kc, &mc, &nc) == 3 && kc > 0 &&
        mc > 0 && nc > 0) {
      b.kc = kc > ks.kcMax ? ks.kcMax : kc;
      b.mc = roundDown(mc, ks.mr);
      b.nc = roundDown(nc, ks.nr);
    }
  }
  return b;
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

struct Config {
  const KernelSet *kernels;
  Blocking blocking;
};

enum PathIndex { kPathGeneric = 0, kPathAvx2 = 1, kPathAvx512 = 2 };
const char *const kPathNames[] = {"generic", "avx2", "avx512"};

Config gConfigs[3];
std::atomic<const Config *> gActive{nullptr};
// A pthread mutex rather than std::mutex: model.so links this archive with
// the C driver, without libstdc++, and std::mutex's lock refers to
// std::__throw_system_error. Statically initialised, so no constructor.
pthread_mutex_t gSelectMutex = PTHREAD_MUTEX_INITIALIZER;

bool cpuSupports(int path) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // The path's quantized-linear kernels use AVX-512BW byte shuffles, so a
  // CPU with AVX-512F alone (Knights Landing) takes the AVX2 path.
  if (path == kPathAvx512)
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (path == kPathAvx2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return path == kPathGeneric;
}

const KernelSet *kernelsOf(int path) {
#if defined(__x86_64__) || defined(__i386__)
  if (path == kPathAvx512)
    return &kAvx512Kernels;
  if (path == kPathAvx2)
    return &kAvx2Kernels;
#endif
  return &kGenericKernels;
}

int bestPath() {
  for (int path = kPathAvx512; path > kPathGeneric; --path)
    if (cpuSupports(path))
      return path;
  return kPathGeneric;
}

/// Resolves a requested path name (from the API or QAF_CPU) to a path this
/// CPU runs, saying on stderr why a request is not honoured.
int resolvePath(const char *request, const char *source) {
  int best = bestPath();
  if (!request || !*request)
    return best;
  for (int path = kPathGeneric; path <= kPathAvx512; ++path) {
    if (std::strcmp(request, kPathNames[path]) != 0)
      continue;
    if (cpuSupports(path))
      return path;
    std::fprintf(stderr,
                 "qaf: %s=%s requested, but this CPU does not support %s; "
                 "using %s\n",
                 source, request, kPathNames[path], kPathNames[best]);
    return best;
  }
  std::fprintf(stderr,
               "qaf: unknown %s=%s (expected avx512, avx2 or generic); "
               "using %s\n",
               source, request, kPathNames[best]);
  return best;
}

const Config &selectPath(const char *request, const char *source) {
  pthread_mutex_lock(&gSelectMutex);
  if (!request || !*request) {
    request = std::getenv("QAF_CPU");
    source = "QAF_CPU";
  }
  int path = resolvePath(request, source);
  Config &config = gConfigs[path];
  config.kernels = kernelsOf(path);
  config.blocking = blockingFor(*config.kernels, detectCaches());
  gActive.store(&config, std::memory_order_release);
  pthread_mutex_unlock(&gSelectMutex);
  return config;
}

const Config &active() {
  if (const Config *config = gActive.load(std::memory_order_acquire))
    return *config;
  return selectPath(nullptr, "QAF_CPU");
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

// Below about this many multiply-adds per thread, waking another thread
// (a few microseconds) costs more than the share of work it takes over.
constexpr double kMinFmasPerThread = double(1 << 18);

/// Threads for `fmas` multiply-adds: omp_get_max_threads() (which follows
/// omp_set_num_threads), fewer for small work, one inside a parallel region
/// (the caller already uses the cores).
int threadsFor(double fmas) {
  if (omp_in_parallel())
    return 1;
  int maxThreads = omp_get_max_threads();
  double byWork = fmas / kMinFmasPerThread;
  if (byWork < 1.0)
    return 1;
  return byWork < maxThreads ? int(byWork) : maxThreads;
}

/// A split of C into tm x tn rectangles, aligned to register tiles.
struct Grid {
  int tm, tn;
};

/// Chooses tm x tn = threads minimising the largest rectangle's work plus
/// its packing. Per K step a rectangle of r x c costs r*c multiply-adds (two
/// vector FMAs per cycle) and copies about r + c elements into packed form
/// (one vector per cycle), so in FMA-vector units the cost is r*c + 2(r+c).
/// For M = 128 and large N this splits N, and each thread packs all of the
/// small A and its own half of B.
Grid chooseGrid(int64_t M, int64_t N, int threads, int mr, int nr) {
  const int64_t mBlocks = (M + mr - 1) / mr;
  const int64_t nBlocks = (N + nr - 1) / nr;
  Grid best{1, threads};
  double bestCost = -1.0;
  for (int tm = 1; tm <= threads; ++tm) {
    if (threads % tm)
      continue;
    int tn = threads / tm;
    int64_t rows = (mBlocks + tm - 1) / tm * mr;
    int64_t cols = (nBlocks + tn - 1) / tn * nr;
    if (rows > M)
      rows = M;
    if (cols > N)
      cols = N;
    double cost = double(rows) * double(cols) + 2.0 * double(rows + cols);
    // Ties go to splitting N (tm small): M is the small side in the
    // transformer shapes this library serves.
    if (bestCost < 0.0 || cost < bestCost) {
      bestCost = cost;
      best = Grid{tm, tn};
    }
  }
  return best;
}

/// The rectangle of thread `tid`: register-tile blocks split as evenly as
/// possible. Empty when there are more threads than blocks.
GemmTile tileOf(const GemmTile &t, const Grid &g, int tid, int mr, int nr) {
  const int64_t mBlocks = (t.M + mr - 1) / mr;
  const int64_t nBlocks = (t.N + nr - 1) / nr;
  const int pm = tid / g.tn, pn = tid % g.tn;
  int64_t m0 = mBlocks * pm / g.tm * mr, m1 = mBlocks * (pm + 1) / g.tm * mr;
  int64_t n0 = nBlocks * pn / g.tn * nr, n1 = nBlocks * (pn + 1) / g.tn * nr;
  if (m1 > t.M)
    m1 = t.M;
  if (n1 > t.N)
    n1 = t.N;
  GemmTile s = t;
  s.M = m1 > m0 ? m1 - m0 : 0;
  s.N = n1 > n0 ? n1 - n0 : 0;
  s.A = t.transA ? t.A + m0 : t.A + m0 * t.lda;
  s.B = t.transB ? t.B + n0 * t.ldb : t.B + n0;
  s.C = t.C + m0 * t.ldc + n0;
  return s;
}

/// One thread's share of a product split among `threads`.
void runShare(const Config &config, const GemmTile &t, int tid, int threads) {
  const KernelSet &ks = *config.kernels;
  Grid g = chooseGrid(t.M, t.N, threads, ks.mr, ks.nr);
  GemmTile s = tileOf(t, g, tid, ks.mr, ks.nr);
  if (s.M > 0 && s.N > 0)
    ks.gemm(s, config.blocking);
}

/// C = 0 (or unchanged when accumulating) for K == 0.
void emptyProduct(const GemmTile &t) {
  if (t.accumulate)
    return;
  for (int64_t i = 0; i < t.M; ++i)
    std::memset(t.C + i * t.ldc, 0, size_t(t.N) * sizeof(float));
}

} // namespace
bool gemmOnThisThread(const GemmTile &tile) {
  if (tile.M <= 0 || tile.N <= 0)
    return true;
  if (tile.K <= 0) {
    emptyProduct(tile);
    return true;
  }
  const Config &config = active();
  return config.kernels->gemm(tile, config.blocking);
}

Isa activeIsa() {
#if defined(__x86_64__) || defined(__i386__)
  const KernelSet *kernels = active().kernels;
  if (kernels == &kAvx512Kernels)
    return Isa::Avx512;
  if (kernels == &kAvx2Kernels)
    return Isa::Avx2;
#endif
  return Isa::Generic;
}

int threadsForWork(double fmas) { return threadsFor(fmas); }

int threadsForProduct(int64_t M, int64_t N, int64_t K) {
  // Each element of B costs about kFmasPerElementOfB multiply-adds besides
  // its M products: read from memory once, or unpacked from its code. With
  // many rows that is nothing; with one (decode) it is the work, and a
  // memory-bound 576 x 576 B, counted by its products alone, would run on
  // one thread.
  constexpr double kFmasPerElementOfB = 3;
  return threadsFor((double(M) + kFmasPerElementOfB) * double(N) * double(K));
}

} // namespace cpu
} // namespace qaf

using namespace qaf::cpu;

namespace {
/// The product a C entry point was called for, its integer addresses as
/// pointers.
GemmTile tileOfCall(int64_t M, int64_t N, int64_t K, int64_t A, int64_t lda,
                    int64_t B, int64_t ldb, int64_t C, int64_t ldc,
                    int64_t transposeA, int64_t transposeB,
                    int32_t accumulate) {
  GemmTile t{M,   N,
             K,   reinterpret_cast<const float *>(A),
             lda, reinterpret_cast<const float *>(B),
             ldb, reinterpret_cast<float *>(C),
             ldc, accumulate != 0};
  t.transA = transposeA != 0;
  t.transB = transposeB != 0;
  return t;
}
} // namespace

QAF_API void qaf_sgemm_transposed(int64_t M, int64_t N, int64_t K, int64_t A,
                                  int64_t lda, int64_t B, int64_t ldb,
                                  int64_t C, int64_t ldc, int64_t transposeA,
                                  int64_t transposeB, int32_t accumulate) {
  if (M <= 0 || N <= 0)
    return;
  GemmTile t = tileOfCall(M, N, K, A, lda, B, ldb, C, ldc, transposeA,
                          transposeB, accumulate);
  if (K <= 0)
    return emptyProduct(t);
  const Config &config = active();
  int threads = threadsForProduct(M, N, K);
  if (threads == 1) {
    config.kernels->gemm(t, config.blocking);
    return;
  }
#pragma omp parallel num_threads(threads)
  runShare(config, t, omp_get_thread_num(), omp_get_num_threads());
}

QAF_API void qaf_sgemm(int64_t M, int64_t N, int64_t K, int64_t A, int64_t lda,
                       int64_t B, int64_t ldb, int64_t C, int64_t ldc,
                       int32_t accumulate) {
  qaf_sgemm_transposed(M, N, K, A, lda, B, ldb, C, ldc, 0, 0, accumulate);
}

QAF_API void
qaf_sgemm_batched_transposed(int64_t batch, int64_t M, int64_t N, int64_t K,
                             int64_t A, int64_t strideA, int64_t lda, int64_t B,
                             int64_t strideB, int64_t ldb, int64_t C,
                             int64_t strideC, int64_t ldc, int64_t transposeA,
                             int64_t transposeB, int32_t accumulate) {
  if (batch <= 0 || M <= 0 || N <= 0)
    return;
  GemmTile t = tileOfCall(M, N, K, A, lda, B, ldb, C, ldc, transposeA,
                          transposeB, accumulate);
  auto item = [&](int64_t b) {
    GemmTile s = t;
    s.A = t.A + b * strideA;
    s.B = t.B + b * strideB;
    s.C = t.C + b * strideC;
    return s;
  };
  if (K <= 0) {
    for (int64_t b = 0; b < batch; ++b)
      emptyProduct(item(b));
    return;
  }
  const Config &config = active();
  const double fmas = double(M) * double(N) * double(K);
  int threads = threadsFor(fmas * double(batch));
  if (threads == 1) {
    for (int64_t b = 0; b < batch; ++b)
      config.kernels->gemm(item(b), config.blocking);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    // Whole items first, the same number per thread; then the remainder
    // (fewer items than threads) with every thread taking a share of each.
    // The shares write disjoint parts of C, so no barrier is needed.
    const int tid = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    const int64_t whole = batch / nt * nt;
    const int64_t per = whole / nt;
    for (int64_t b = tid * per; b < (tid + 1) * per; ++b)
      config.kernels->gemm(item(b), config.blocking);
    for (int64_t b = whole; b < batch; ++b)
      runShare(config, item(b), tid, nt);
  }
}

QAF_API void qaf_sgemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K,
                               int64_t A, int64_t strideA, int64_t lda,
                               int64_t B, int64_t strideB, int64_t ldb,
                               int64_t C, int64_t strideC, int64_t ldc,
                               int32_t accumulate) {
  qaf_sgemm_batched_transposed(batch, M, N, K, A, strideA, lda, B, strideB, ldb,
                               C, strideC, ldc, 0, 0, accumulate);
}

QAF_API const char *qaf_cpu_kernels_select(const char *isa) {
  return selectPath(isa, "qaf_cpu_kernels_select").kernels->name;
}

QAF_API const char *qaf_cpu_kernels_isa(void) { return active().kernels->name; }
