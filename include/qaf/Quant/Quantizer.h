//===- Quantizer.h - group-wise weight quantizers ---------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The quantizers of ../shared/METHODS.md §0 on plain float arrays, shared by
// the passes (quantize-weights, loftq-init, attach-adapters), the exporter
// and the tests. No MLIR here: a weight is a row-major matrix view.
//
// Layout (qaf's canonical format, DESIGN.md): a weight W is d_out × d_in
// ("rows" × "cols"); a group is `groupSize` consecutive input features of one
// row, G(i) = i / groupSize; codes are unsigned, 0 ≤ q ≤ 2^bits − 1;
//   asymmetric / symmetric:  w = s[o,G] · (q[o,i] − z[o,G])
//   normal float (NF4/NF2):  w = s[o,G] · codebook[q[o,i]]   (no zero point)
//
//===----------------------------------------------------------------------===//

#ifndef QAF_QUANT_QUANTIZER_H
#define QAF_QUANT_QUANTIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace qaf::quant {

enum class Scheme {
  /// RTN min-max: s = (max − min)/q_max, z = round(−min/s).
  Asymmetric,
  /// RTN absmax: s = max|w| / (2^{b−1} − 1), z = 2^{b−1}.
  Symmetric,
  /// NormalFloat codebook (NF4 for 4 bits, NF2 for 2 bits), absmax scale.
  NormalFloat,
};

/// "asym", "sym", "nf".
llvm::StringRef getSchemeName(Scheme scheme);
std::optional<Scheme> parseSchemeName(llvm::StringRef name);

struct QuantFormat {
  unsigned bits = 4;
  int64_t groupSize = 64;
  Scheme scheme = Scheme::Asymmetric;

  uint32_t getMaxCode() const { return (1u << bits) - 1; }
};

/// Checks a format against a matrix with `cols` input features: bits in
/// {2,3,4,8} (NF: 2 or 4), a positive group size that divides `cols`, rows
/// of whole bytes (cols · bits a multiple of 8).
/// The message names what is wrong ("group size 48 does not divide the input
/// dimension 576").
llvm::Error verifyFormat(const QuantFormat &format, int64_t cols);

/// A strided read-only view of a rows × cols float matrix: element (o, i) is
/// data[o * rowStride + i * colStride]. An ONNX MatMul weight (d_in × d_out,
/// row-major) is viewed as {data, d_out, d_in, /*rowStride=*/1,
/// /*colStride=*/d_out} without copying.
struct MatrixView {
  const float *data = nullptr;
  int64_t rows = 0, cols = 0;
  int64_t rowStride = 0, colStride = 1;

  float at(int64_t row, int64_t col) const {
    return data[row * rowStride + col * colStride];
  }
  static MatrixView rowMajor(const float *data, int64_t rows, int64_t cols) {
    return {data, rows, cols, cols, 1};
  }
  /// The transpose of a row-major `cols × rows` array (an ONNX MatMul weight).
  static MatrixView transposed(const float *data, int64_t rows, int64_t cols) {
    return {data, rows, cols, 1, rows};
  }
};

struct QuantizedMatrix {
  int64_t rows = 0, cols = 0;
  QuantFormat format;
  /// rows × cols, one code per byte (see packCodes for storage).
  std::vector<uint8_t> codes;
  /// rows × (cols / groupSize).
  std::vector<float> scales;
  /// rows × (cols / groupSize); empty for Scheme::NormalFloat.
  std::vector<float> zeros;

  int64_t getNumGroups() const { return cols / format.groupSize; }
  /// The dequantized value of element (row, col).
  float dequantize(int64_t row, int64_t col) const;
};

/// Round-to-nearest quantization (round half to even) of `weights` in
/// `format`. A group of equal values (or all zeros) gets a small positive
/// scale, never 0 or NaN; asym and nf reproduce it exactly, sym within an
/// ulp (its scale |v|/(2^{b-1}-1) is rounded). Non-finite weights are an
/// error naming the element.
llvm::Expected<QuantizedMatrix> quantize(const MatrixView &weights,
                                         const QuantFormat &format);

/// Writes the dequantized matrix row-major into `out` (rows × cols).
void dequantize(const QuantizedMatrix &matrix,
                llvm::MutableArrayRef<float> out);

/// The NormalFloat codebook for 4 (16 entries) or 2 (4 entries) bits,
/// ascending, normalised to [−1, 1].
llvm::ArrayRef<float> getNormalFloatCodebook(unsigned bits);

/// Packs one-code-per-byte codes into a little-endian bit stream, first code
/// in the lowest bits (ONNX Runtime's MatMulNBits order for 2/4/8 bits).
/// `codes.size() * bits` must be a multiple of 8.
std::vector<uint8_t> packCodes(llvm::ArrayRef<uint8_t> codes, unsigned bits);
/// The inverse of packCodes: `count` codes.
std::vector<uint8_t> unpackCodes(llvm::ArrayRef<uint8_t> packed, unsigned bits,
                                 int64_t count);

/// L4Q's initial per-group scales (METHODS.md §2), rows × (cols /
/// groupSize): s = max(|min W|/2^{b−1}, max W/(2^{b−1} − 1)), so that W / s
/// lies in the signed grid [−2^{b−1}, 2^{b−1} − 1] and nothing clips at the
/// start; an all-zero group gets 1.
std::vector<float> computeL4QScales(const MatrixView &weights, unsigned bits,
                                    int64_t groupSize);

/// ‖W − dequant(Q)‖²_F and ‖W‖²_F, which add up over layers.
struct ErrorSums {
  double errorSquared = 0, normSquared = 0;

  /// The relative RMS error sqrt(errorSquared / normSquared).
  double relative() const;
  ErrorSums &operator+=(const ErrorSums &other) {
    errorSquared += other.errorSquared;
    normSquared += other.normSquared;
    return *this;
  }
};
ErrorSums getErrorSums(const MatrixView &weights,
                       const QuantizedMatrix &matrix);

/// Relative RMS error ‖W − dequant(Q)‖_F / ‖W‖_F.
double relativeRMSError(const MatrixView &weights,
                        const QuantizedMatrix &matrix);

} // namespace qaf::quant

#endif // QAF_QUANT_QUANTIZER_H
