//===- LoftQ.h - quantization-aware LoRA initialisation ---------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// LoftQ (../shared/METHODS.md §5): alternate Q ← q_b(W − L·R) and a rank-r
// truncated SVD of W − Q, T times; keep the best iterate.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_QUANT_LOFTQ_H
#define QAF_QUANT_LOFTQ_H

#include "qaf/Quant/Quantizer.h"

namespace qaf::quant {

struct LoftQOptions {
  int64_t rank = 16;
  /// T, the number of alternating steps (≥ 1).
  int64_t iterations = 5;
  /// The LoRA scale α/r the adapter will be used with: the factors are
  /// divided by sqrt(scale) so that Q + scale·B·A reproduces the
  /// approximation.
  double loraScale = 1.0;
};

struct LoftQResult {
  /// The frozen quantized base Q of the best iterate.
  QuantizedMatrix base;
  /// B = L (rows × rank) and A = R (rank × cols), row-major, already divided
  /// by sqrt(loraScale).
  std::vector<float> loraB, loraA;
  /// ‖W − Q_t − L_t R_t‖_F for t = 1..T (index t − 1), and the plain
  /// quantization error ‖W − q_b(W)‖_F.
  std::vector<double> errors;
  double quantizationError = 0;
  /// The iterate kept (0-based): the one with the smallest error.
  int64_t bestIteration = 0;
};

/// Runs LoftQ on `weights` (rows = d_out, cols = d_in). The rank must be in
/// [1, min(rows, cols)].
llvm::Expected<LoftQResult> runLoftQ(const MatrixView &weights,
                                     const QuantFormat &format,
                                     const LoftQOptions &options);

/// While alive, an optimized BLAS (OpenBLAS) runs each call on its calling
/// thread only, and its own thread count is restored afterwards: LoftQ runs
/// one layer per thread already, and OpenBLAS's threads inside those threads
/// oversubscribe the cores (LoftQ on the 135M decoder: 43 s, 12 s without).
/// Nothing changes with a BLAS that has no threads of its own.
class SingleThreadedBLAS {
public:
  SingleThreadedBLAS();
  ~SingleThreadedBLAS();
  SingleThreadedBLAS(const SingleThreadedBLAS &) = delete;
  SingleThreadedBLAS &operator=(const SingleThreadedBLAS &) = delete;

private:
  int savedThreads = 0;
};

/// Thin SVD of a row-major m × n matrix (LAPACK sgesdd): `u` is m × k,
/// `sigma` k, `vt` k × n with k = min(m, n), all row-major.
llvm::Error computeSVD(llvm::ArrayRef<float> matrix, int64_t m, int64_t n,
                       std::vector<float> &u, std::vector<float> &sigma,
                       std::vector<float> &vt);

/// The `rank` largest singular triplets of a row-major m × n matrix, what
/// LoftQ keeps of each residual's SVD: `u` m × rank, `sigma` rank
/// (descending), `vt` rank × n, row-major. From the eigenvectors of the
/// smaller Gram matrix (AᵀA or AAᵀ) in double precision (LAPACK dsyrk and
/// dsyevr for the top eigenpairs only), an order of magnitude less work than
/// the full SVD; the top singular values of a quantization residual are far
/// above the double rounding of the Gram matrix. A direction whose singular
/// value is zero gets zero vectors.
llvm::Error computeTopSingularTriplets(llvm::ArrayRef<float> matrix, int64_t m,
                                       int64_t n, int64_t rank,
                                       std::vector<float> &u,
                                       std::vector<float> &sigma,
                                       std::vector<float> &vt);

} // namespace qaf::quant

#endif // QAF_QUANT_LOFTQ_H
