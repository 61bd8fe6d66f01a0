//===- Kernels.h - qaf's CPU kernels (C API) --------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The CPU kernels that every compiled model links (docs/artifact-abi.md,
// "CPU kernels"). Plain C symbols: generated code calls them by name with
// addresses passed as integers.
//
// Row-major single precision, threads inside (OpenMP; the count follows
// omp_set_num_threads). The instruction set is chosen once per process from
// the CPU (AVX-512, else AVX2+FMA, else a portable path); the environment
// variable QAF_CPU=avx512|avx2|generic forces one, and a path the CPU lacks is
// refused with a message on stderr.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_RUNTIME_CPU_KERNELS_H
#define QAF_RUNTIME_CPU_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// C[M,N] = A[M,K] * B[K,N], or C += A*B when `accumulate` is non-zero.
/// A, B and C are addresses of float arrays; lda, ldb and ldc are leading
/// dimensions in elements (lda >= K, ldb >= N, ldc >= N). Without
/// `accumulate`, C is only written (it may hold garbage on entry).
void qaf_sgemm(int64_t M, int64_t N, int64_t K, int64_t A, int64_t lda,
               int64_t B, int64_t ldb, int64_t C, int64_t ldc,
               int32_t accumulate);

/// `batch` independent products: item b uses A + b*strideA, B + b*strideB and
/// C + b*strideC (strides in elements; a zero strideA or strideB shares one
/// operand across the batch).
void qaf_sgemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K,
                       int64_t A, int64_t strideA, int64_t lda, int64_t B,
                       int64_t strideB, int64_t ldb, int64_t C, int64_t strideC,
                       int64_t ldc, int32_t accumulate);

/// C[M,N] = op(A) · op(B), or C += with `accumulate`, where op(A) is A [M,K]
/// (row stride lda >= K) or, with a non-zero `transposeA`, Aᵀ for an A
/// stored as [K,M] (lda >= M); op(B) is B [K,N] (ldb >= N) or, with
/// `transposeB`, Bᵀ for a B stored as [N,K] (ldb >= K). The transposed
/// operands are read in place (a backward pass's Xᵀ·dY and dY·Wᵀ), never
/// copied whole. qaf_sgemm is this with both flags zero.
void qaf_sgemm_transposed(int64_t M, int64_t N, int64_t K, int64_t A,
                          int64_t lda, int64_t B, int64_t ldb, int64_t C,
                          int64_t ldc, int64_t transposeA, int64_t transposeB,
                          int32_t accumulate);

/// qaf_sgemm_batched with op(A) and op(B) as in qaf_sgemm_transposed.
void qaf_sgemm_batched_transposed(int64_t batch, int64_t M, int64_t N,
                                  int64_t K, int64_t A, int64_t strideA,
                                  int64_t lda, int64_t B, int64_t strideB,
                                  int64_t ldb, int64_t C, int64_t strideC,
                                  int64_t ldc, int64_t transposeA,
                                  int64_t transposeB, int32_t accumulate);

/// Y[M,N] = X[M,K] · dequant(W)ᵀ (or Y += with `accumulate`) for a group-
/// quantized W [N, K]: `codes` rows of `codesStride` bytes holding `bits`
/// (2, 3, 4 or 8) bits per code, a bit stream with the first code in the
/// lowest bits (groups must be whole bytes: groupSize·bits a multiple of 8);
/// `scales` and `zeros` [N, K / groupSize] floats (row strides in elements);
/// optional int8 `moves` [N, K] (0 for none) added to the codes (LoTA-QAF's
/// ternary update). w[n,k] = s·((q + move) − z). A NormalFloat layer passes
/// a `codebook` of 2^bits floats and no zeros or moves (0): w[n,k] =
/// s·codebook[q]. Never forms the whole dequantized W: few rows of X stream
/// the codes, many rows dequantize a panel at a time for the GEMM kernels.
void qaf_qlinear(int64_t M, int64_t N, int64_t K, int64_t X, int64_t ldx,
                 int64_t codes, int64_t codesStride, int64_t scales,
                 int64_t scalesStride, int64_t zeros, int64_t zerosStride,
                 int64_t moves, int64_t movesStride, int64_t codebook,
                 int64_t Y, int64_t ldy, int64_t bits, int64_t groupSize,
                 int32_t accumulate);

/// qaf_qlinear with the activations rounded to int8 as ONNX Runtime rounds a
/// MatMulNBits input at accuracy_level 4: each group (block) of a row
/// of X scaled by 127 / max|x| and rounded to nearest (ties to even), the
/// products of the codes with these integers summed exactly, then scaled.
/// It runs on AVX512-VNNI CPUs for codes in groups of a multiple of 32
/// without moves or codebook: 4-bit codes by dot products for few rows of X,
/// 4- and 8-bit codes by an int8 GEMM for many; elsewhere it is qaf_qlinear,
/// the exact product. Same arguments as qaf_qlinear.
void qaf_qlinear_int8(int64_t M, int64_t N, int64_t K, int64_t X, int64_t ldx,
                      int64_t codes, int64_t codesStride, int64_t scales,
                      int64_t scalesStride, int64_t zeros, int64_t zerosStride,
                      int64_t moves, int64_t movesStride, int64_t codebook,
                      int64_t Y, int64_t ldy, int64_t bits, int64_t groupSize,
                      int32_t accumulate);

/// X[M,K] = G[M,N] · dequant(W) (or X += with `accumulate`): the product with
/// the quantized W of qaf_qlinear (same weight arguments) untransposed, the
/// input gradient of its layer. Never forms the whole dequantized W: each
/// thread dequantizes a block of whole groups of columns at a time.
void qaf_qlinear_transposed(int64_t M, int64_t N, int64_t K, int64_t G,
                            int64_t ldg, int64_t codes, int64_t codesStride,
                            int64_t scales, int64_t scalesStride, int64_t zeros,
                            int64_t zerosStride, int64_t moves,
                            int64_t movesStride, int64_t codebook, int64_t X,
                            int64_t ldx, int64_t bits, int64_t groupSize,
                            int32_t accumulate);

/// LoTA-QAF's straight-through gradients of its ternary factors
/// (../shared/METHODS.md §1), accumulated: with Gw = Gᵀ · X [N, K] and
/// D = s⊙Gw + (1/ω)·P_g(s⊙Gw) (P_g: the mean of each group of `groupSize`
/// columns, broadcast back), dA [rank, K] += Bᵀ · D and dB [N, rank] +=
/// D · Aᵀ. G [M, N] is the layer's output gradient, X [M, K] its input,
/// `scales` [N, K / groupSize] floats, A [rank, K] and B [N, rank] int8.
/// Never forms Gw or D whole (tiles of output rows); deterministic: the
/// same bytes for any thread count. Row strides in elements.
void qaf_lota_factor_gradients(int64_t M, int64_t N, int64_t K, int64_t rank,
                               int64_t G, int64_t ldg, int64_t X, int64_t ldx,
                               int64_t scales, int64_t scalesStride, int64_t A,
                               int64_t aStride, int64_t B, int64_t bStride,
                               int64_t dA, int64_t ldda, int64_t dB,
                               int64_t lddb, int64_t groupSize, double omega);

/// L4Q's straight-through gradients (../shared/METHODS.md §2), accumulated:
/// with Gw = Gᵀ · X [N, K], u = `normalized` and w̃ = `codes` [N, K] floats,
/// M = [−2^(bits−1) ≤ u ≤ 2^(bits−1) − 1]: dA [rank, K] += α·Bᵀ(M⊙Gw),
/// dB [N, rank] += α·(M⊙Gw)·Aᵀ, and per group of `groupSize` columns
/// dScales += Σ Gw⊙(w̃ − M⊙u), dOffsets += Σ Gw⊙(1 − M) ([N, K / groupSize]).
/// A [rank, K] and B [N, rank] floats. Tiled and deterministic like
/// qaf_lota_factor_gradients.
void qaf_l4q_gradients(int64_t M, int64_t N, int64_t K, int64_t rank, int64_t G,
                       int64_t ldg, int64_t X, int64_t ldx, int64_t normalized,
                       int64_t normalizedStride, int64_t codes,
                       int64_t codesStride, int64_t A, int64_t aStride,
                       int64_t B, int64_t bStride, int64_t dA, int64_t ldda,
                       int64_t dB, int64_t lddb, int64_t dScales,
                       int64_t dScalesStride, int64_t dOffsets,
                       int64_t dOffsetsStride, int64_t bits, int64_t groupSize,
                       double alpha);

/// Forces a kernel path: "avx512", "avx2" or "generic"; NULL or "" restores
/// the automatic choice (which honours QAF_CPU). A path this CPU lacks is
/// refused with a message on stderr and the best supported one is used.
/// Returns the name of the path in use afterwards. For tests and benchmarks;
/// not to be called while a GEMM runs on another thread.
const char *qaf_cpu_kernels_select(const char *isa);

/// The name of the kernel path in use ("avx512", "avx2" or "generic").
const char *qaf_cpu_kernels_isa(void);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // QAF_RUNTIME_CPU_KERNELS_H
