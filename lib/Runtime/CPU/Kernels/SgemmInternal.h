//===- SgemmInternal.h - driver and ISA paths interface ---------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The driver (Sgemm.cpp) owns dispatch and threads; each instruction-set path
// (SgemmAvx512.cpp, SgemmAvx2.cpp, SgemmGeneric.cpp) provides a
// single-threaded GEMM of any shape. Nothing here is exported from the
// library: only the C API of qaf/Runtime/CPU/Kernels.h is.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_RUNTIME_CPU_KERNELS_SGEMMINTERNAL_H
#define QAF_LIB_RUNTIME_CPU_KERNELS_SGEMMINTERNAL_H

#include <cstdint>

namespace qaf {
namespace cpu {

/// One single-threaded product C[M,N] (+)= op(A) * op(B), row-major: op(A)
/// is A [M, K] (row stride lda), or with transA the transpose of A stored as
/// [K, M]; op(B) is B [K, N] (row stride ldb), or with transB the transpose
/// of B stored as [N, K]. The transposed forms are what backward passes
/// multiply by (Xᵀ·dY, dY·Wᵀ): the kernels read them in place while packing,
/// so no transposed copy is ever materialised.
struct GemmTile {
  int64_t M, N, K;
  const float *A;
  int64_t lda;
  const float *B;
  int64_t ldb;
  float *C;
  int64_t ldc;
  bool accumulate;
  bool transA = false;
  bool transB = false;
  /// With packB, B is not read (it may be null): the packed path asks this
  /// for each panel of op(B) instead, so a B that is made rather than stored
  /// (a quantized weight, dequantized) goes straight into the packed layout.
  /// K panels then start at multiples of kPackedBDepthUnit.
  const struct BPanelPacker *packB = nullptr;
};

/// Writes the panel op(B)[pc : pc + kc, jc : jc + n] in the packed layout:
/// kc rows of `nr` floats (nr >= n, rows nr floats apart), columns past n
/// zero. pc and kc are multiples of kPackedBDepthUnit (kc of the last panel
/// excepted when K is not), and kc is at most kPackedBMaxDepth.
struct BPanelPacker {
  void (*pack)(const void *context, int64_t pc, int64_t kc, int64_t jc,
               int64_t n, int nr, float *panel);
  const void *context;
};
constexpr int64_t kPackedBDepthUnit = 32;
/// The deepest K panel of any path (their kKcMax).
constexpr int64_t kPackedBMaxDepth = 384;

/// Cache blocking of the packed path, in elements (see Sgemm.cpp for how the
/// sizes follow from the caches).
struct Blocking {
  int64_t kc; // depth of one packed panel pair, <= the path's kcMax
  int64_t mc; // rows of A packed at once (multiple of mr)
  int64_t nc; // columns of B packed at once (multiple of nr)
};

/// What an instruction-set path offers the driver.
struct KernelSet {
  const char *name;
  int mr;    // rows of the register tile
  int nr;    // columns of the register tile
  int kcMax; // deepest panel the packed A layout holds
  /// False only for a tile with packB when no packing memory is left.
  bool (*gemm)(const GemmTile &tile, const Blocking &blocking);
};

extern const KernelSet kGenericKernels;
#if defined(__x86_64__) || defined(__i386__)
extern const KernelSet kAvx2Kernels;
extern const KernelSet kAvx512Kernels;
#endif

/// Per-thread packing memory, at least `floats` elements, 64-byte aligned;
/// nullptr when memory is exhausted (the caller then takes an unpacked path).
float *threadWorkspace(int64_t floats);

/// One product on the calling thread with the active path (for kernels that
/// split work among threads themselves, like the quantized linear kernel).
/// False only for a tile with packB when no packing memory is left (nothing
/// of C is then written).
bool gemmOnThisThread(const GemmTile &tile);

/// The active instruction-set path.
enum class Isa { Generic, Avx2, Avx512 };
Isa activeIsa();

/// dst[c, r] (+)= src[r, c] for r < rows, c < cols (row strides lds and ldd
/// in elements), in 8 x 8 register tiles on the x86 paths.
void transposeMatrix(const float *src, int64_t lds, int64_t rows, int64_t cols,
                     float *dst, int64_t ldd, bool accumulate, Isa isa);

/// Threads for `fmas` multiply-adds (fewer for small work, one inside a
/// parallel region).
int threadsForWork(double fmas);

/// Threads for C[M, N] = A[M, K] · B[K, N], counting B's reading (or
/// unpacking) as work too, which dominates when M is small.
int threadsForProduct(int64_t M, int64_t N, int64_t K);

} // namespace cpu
} // namespace qaf

// Code-generation helpers of the kernel bodies (SgemmImpl.inc).
#define QAF_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define QAF_UNROLL QAF_PRAGMA(unroll)
#define QAF_UNROLL_BY(n) QAF_PRAGMA(unroll n)
#define QAF_NO_UNROLL QAF_PRAGMA(nounroll)
#elif defined(__GNUC__)
#define QAF_UNROLL QAF_PRAGMA(GCC unroll 16)
#define QAF_UNROLL_BY(n) QAF_PRAGMA(GCC unroll n)
#define QAF_NO_UNROLL QAF_PRAGMA(GCC unroll 1)
#else
#define QAF_UNROLL
#define QAF_UNROLL_BY(n)
#define QAF_NO_UNROLL
#endif
#define QAF_INLINE inline __attribute__((always_inline))
#define QAF_NOINLINE __attribute__((noinline))

#endif // QAF_LIB_RUNTIME_CPU_KERNELS_SGEMMINTERNAL_H
