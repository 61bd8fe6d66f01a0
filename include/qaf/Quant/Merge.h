//===- Merge.h - trained adapters merged into quantized weights -*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The merge arithmetic of ../shared/METHODS.md §1–§4 on plain arrays, beside
// the quantizers it reuses: each adapter op's merge rule
// (AdapterOpInterface::mergeInto) calls one of these with its attributes.
// A merge rewrites a QuantizedMatrix in place; it never clamps a code (a
// code a merge would push out of range is an error).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_QUANT_MERGE_H
#define QAF_QUANT_MERGE_H

#include "qaf/Quant/Quantizer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace qaf::quant {

/// What one merge changed and, for a lossy one, lost. Errors compare the
/// float weight W + ΔW with the requantized weight Ŵ element by element:
/// max relative error max|W − Ŵ| / max|W|, mean relative error
/// Σ|W − Ŵ| / Σ|W|. Reports of several layers add up.
struct MergeReport {
  /// LoTA-QAF: codes with Ŵ ≠ 0 (each moved by one).
  int64_t codesMoved = 0;
  /// Zero points that changed.
  int64_t zeroPointsMoved = 0;
  bool lossy = false;
  double maxAbsError = 0, sumAbsError = 0;
  double maxAbsWeight = 0, sumAbsWeight = 0;

  double maxRelativeError() const {
    return maxAbsWeight > 0 ? maxAbsError / maxAbsWeight : 0;
  }
  double meanRelativeError() const {
    return sumAbsWeight > 0 ? sumAbsError / sumAbsWeight : 0;
  }
  MergeReport &operator+=(const MergeReport &other);
};

/// LoTA-QAF (§1): ΔW = B_T·A_T (`a` [r, K], `b` [N, r], entries in
/// {−1, 0, 1}), Ŵ = ±1 where |ΔW| > ω and the code can move that way,
/// q' = q + Ŵ, z' = z − μ with μ the group mean of (ΔW − ω·Ŵ)/ω; scales are
/// left alone. z' is computed in f32 with the operations, in the order, of
/// qaf.lota_linear's lowering, so the merged layer multiplies by the same
/// weight bit for bit. `layer` must have zero points.
llvm::Error mergeTernaryAdapter(QuantizedMatrix &layer,
                                llvm::ArrayRef<int8_t> a,
                                llvm::ArrayRef<int8_t> b, int64_t rank,
                                float omega, MergeReport &report);

/// QA-LoRA and QA-HiRA (§3): an update constant over every group, `update`
/// [N / repeat, K / g] (QA-LoRA's B·A, QA-HiRA's M, row o / repeat serving
/// output o), folds into the zero points: z'[o, G] = z[o, G] −
/// factor·update[o / repeat, G] / (g·s[o, G]). Codes and scales are left
/// alone.
llvm::Error absorbIntoZeroPoints(QuantizedMatrix &layer,
                                 llvm::ArrayRef<float> update, int64_t repeat,
                                 double factor, MergeReport &report);

/// L4Q (§2): the trained quantizer is the layer. `layer` has its rows, cols
/// and format (bits, group size) set; `w0` is the frozen weight, `a`
/// [r, K], `b` [N, r], `scales` and `offsets` [N, K / g]. Codes become
/// w̃ + 2^(b−1) with w̃ = round(clamp((W0 + α·B·A − β)/s, Q_N, Q_P)) computed
/// as qaf.l4q_linear's lowering does, scales s, zero points 2^(b−1) − β/s.
llvm::Error exportTrainedQuantizer(QuantizedMatrix &layer, const MatrixView &w0,
                                   llvm::ArrayRef<float> a,
                                   llvm::ArrayRef<float> b, int64_t rank,
                                   float alpha, llvm::ArrayRef<float> scales,
                                   llvm::ArrayRef<float> offsets);

/// A low-rank update with pooled input and repeated output as a dense
/// [N, K] matrix: ΔW[o, i] = scale·(B·A)[o / pool, i / pool] / pool, `a`
/// [r', K / pool], `b` [N / pool, r'] (LoRA: pool 1; Q-BaRA §4: λ).
std::vector<float> densifyPooledUpdate(llvm::ArrayRef<float> a,
                                       llvm::ArrayRef<float> b, int64_t n,
                                       int64_t k, int64_t pool, double scale);

/// The same update as two plain factors, Δy = (x · first) · second with
/// `first` [K, r'] and `second` [r', N] (ONNX MatMul layout): pooling and
/// the scale folded in, for a graph that keeps the adapter in float.
void unpoolFactors(llvm::ArrayRef<float> a, llvm::ArrayRef<float> b, int64_t n,
                   int64_t k, int64_t pool, double scale,
                   std::vector<float> &first, std::vector<float> &second);

/// The lossy merge (§4–§6): W = dequant(layer) + `deltaW` ([N, K]) is
/// quantized again in the layer's format (round to nearest), and the
/// report records the weight error against W. A NormalFloat layer (LoftQ's
/// NF2/NF4 base) is quantized again as affine (asym) codes of the same bits
/// and groups: the merge is for integer-weight deployment, and codebook
/// values are what no ONNX operator (MatMulNBits, DequantizeLinear)
/// expresses.
llvm::Error requantizeWithUpdate(QuantizedMatrix &layer,
                                 llvm::ArrayRef<float> deltaW,
                                 MergeReport &report);

} // namespace qaf::quant

#endif // QAF_QUANT_MERGE_H
