//===- Quantizer.cpp - group-wise weight quantizers -----------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// One pass per group over a contiguous copy of the group: range (min/max or
// absmax), then parameters, then codes. Strided views are copied tile by tile
// (a block of rows × one group) so that a transposed ONNX weight is read
// along its memory order.
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/Quantizer.h"

#include "qaf/Support/BitPacking.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>

using namespace qaf;
using namespace qaf::quant;

namespace {

/// The QLoRA / bitsandbytes NF4 table, ascending.
constexpr float kNF4Codebook[16] = {-1.0f,
                                    -0.6961928009986877f,
                                    -0.5250730514526367f,
                                    -0.39491748809814453f,
                                    -0.28444138169288635f,
                                    -0.18477343022823334f,
                                    -0.09105003625154495f,
                                    0.0f,
                                    0.07958029955625534f,
                                    0.16093020141124725f,
                                    0.24611230194568634f,
                                    0.33791524171829224f,
                                    0.44070982933044434f,
                                    0.5626170039176941f,
                                    0.7229568362236023f,
                                    1.0f};
/// NF2: the NF4 endpoints, zero and NF4's 0.338 entry.
constexpr float kNF2Codebook[4] = {-1.0f, 0.0f, 0.33791524171829224f, 1.0f};

/// Rows quantized together: a transposed view reads this many consecutive
/// floats (four cache lines) from each of the group's source rows.
constexpr int64_t kRowBlock = 64;

/// std::nearbyint in the default rounding mode (ties to even): adding and
/// subtracting 2^23 leaves no fraction bits, so the FPU rounds. Unlike
/// nearbyint it vectorizes without SSE4.1 instead of calling libm.
inline float roundHalfToEven(float x) {
  constexpr float kTwo23 = 8388608.0f;
  float magic = std::copysign(kTwo23, x);
  float rounded = (x + magic) - magic;
  // From 2^23 on every float is an integer already.
  return std::fabs(x) < kTwo23 ? rounded : x;
}

/// The largest float t with x > t ⟺ x > m for every float x: the NF
/// decision thresholds are exact midpoints between codebook entries, which
/// a float may not hold.
float getFloatThresholdBelow(double m) {
  float t = static_cast<float>(m);
  if (static_cast<double>(t) > m)
    t = std::nextafter(t, -INFINITY);
  return t;
}

/// A scale that never loses the magnitude of the group: `absmax` · 2^-20,
/// or less of a shift where that would leave the normal float range (so a
/// constant group of tiny values is still reproduced exactly).
float getScaleFloor(float absMax) {
  if (absMax == 0.0f)
    return 0.0f;
  int shift = std::clamp(std::ilogb(absMax) - FLT_MIN_EXP + 1, 0, 20);
  return std::ldexp(absMax, -shift);
}

struct GroupParams {
  float scale;
  float zero;
};

GroupParams quantizeAsymmetricGroup(const float *w, int64_t size,
                                    uint32_t maxCode, uint8_t *codes) {
  float lo = w[0], hi = w[0];
  for (int64_t i = 1; i < size; ++i) {
    lo = std::min(lo, w[i]);
    hi = std::max(hi, w[i]);
  }
  float qMax = static_cast<float>(maxCode);
  float scale = (hi - lo) / qMax;
  // hi − lo overflows only for ranges near ±FLT_MAX.
  if (!std::isfinite(scale))
    scale = hi / qMax - lo / qMax;
  scale =
      std::max(scale, getScaleFloor(std::max(std::fabs(lo), std::fabs(hi))));
  if (scale == 0.0f)
    scale = 1.0f;
  float zero = roundHalfToEven(-lo / scale);
  for (int64_t i = 0; i < size; ++i) {
    float q = std::clamp(roundHalfToEven(w[i] / scale) + zero, 0.0f, qMax);
    codes[i] = static_cast<uint8_t>(q);
  }
  return {scale, zero};
}

GroupParams quantizeSymmetricGroup(const float *w, int64_t size, unsigned bits,
                                   uint8_t *codes) {
  float absMax = 0.0f;
  for (int64_t i = 0; i < size; ++i)
    absMax = std::max(absMax, std::fabs(w[i]));
  float half = static_cast<float>(1u << (bits - 1));
  float scale = absMax / (half - 1.0f);
  if (scale == 0.0f)
    scale = 1.0f;
  float qMax = static_cast<float>((1u << bits) - 1);
  for (int64_t i = 0; i < size; ++i) {
    float q = std::clamp(roundHalfToEven(w[i] / scale) + half, 0.0f, qMax);
    codes[i] = static_cast<uint8_t>(q);
  }
  return {scale, half};
}

/// `thresholds[k]` separates codebook entries k and k + 1; an element's code
/// is the number of thresholds it exceeds (so an exact tie takes the lower
/// entry).
GroupParams quantizeNormalFloatGroup(const float *w, int64_t size,
                                     llvm::ArrayRef<float> thresholds,
                                     uint8_t *codes) {
  float absMax = 0.0f;
  for (int64_t i = 0; i < size; ++i)
    absMax = std::max(absMax, std::fabs(w[i]));
  float scale = absMax == 0.0f ? 1.0f : absMax;
  for (int64_t i = 0; i < size; ++i) {
    float x = w[i] / scale;
    unsigned code = 0;
    for (float t : thresholds)
      code += x > t;
    codes[i] = static_cast<uint8_t>(code);
  }
  return {scale, 0.0f};
}

/// Copies rows [row, row + numRows) × cols [col, col + size) of `view` into
/// `tile` (row-major, `size` wide), walking the smaller stride innermost.
void loadTile(const MatrixView &view, int64_t row, int64_t numRows, int64_t col,
              int64_t size, float *tile) {
  const float *base = view.data + row * view.rowStride + col * view.colStride;
  if (std::abs(view.rowStride) < std::abs(view.colStride)) {
    for (int64_t i = 0; i < size; ++i) {
      const float *src = base + i * view.colStride;
      for (int64_t r = 0; r < numRows; ++r)
        tile[r * size + i] = src[r * view.rowStride];
    }
    return;
  }
  for (int64_t r = 0; r < numRows; ++r) {
    const float *src = base + r * view.rowStride;
    for (int64_t i = 0; i < size; ++i)
      tile[r * size + i] = src[i * view.colStride];
  }
}

} // namespace

llvm::StringRef qaf::quant::getSchemeName(Scheme scheme) {
  switch (scheme) {
  case Scheme::Asymmetric:
    return "asym";
  case Scheme::Symmetric:
    return "sym";
  case Scheme::NormalFloat:
    return "nf";
  }
  llvm_unreachable("unknown quantization scheme");
}

std::optional<Scheme> qaf::quant::parseSchemeName(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Scheme>>(name)
      .Case("asym", Scheme::Asymmetric)
      .Case("sym", Scheme::Symmetric)
      .Case("nf", Scheme::NormalFloat)
      .Default(std::nullopt);
}

llvm::Error qaf::quant::verifyFormat(const QuantFormat &format, int64_t cols) {
  if (format.scheme == Scheme::NormalFloat) {
    if (format.bits != 2 && format.bits != 4)
      return llvm::createStringError("NormalFloat needs 2 or 4 bits, not %u",
                                     format.bits);
  } else if (format.bits != 2 && format.bits != 3 && format.bits != 4 &&
             format.bits != 8) {
    return llvm::createStringError("bits must be 2, 3, 4 or 8, not %u",
                                   format.bits);
  }
  if (format.groupSize <= 0)
    return llvm::createStringError("group size %lld is not positive",
                                   static_cast<long long>(format.groupSize));
  if (cols % format.groupSize != 0)
    return llvm::createStringError(
        "group size %lld does not divide the input dimension %lld",
        static_cast<long long>(format.groupSize), static_cast<long long>(cols));
  // Codes are stored in rows of whole bytes.
  if ((cols * format.bits) % 8 != 0)
    return llvm::createStringError(
        "%lld input features of %u bits do not fill whole bytes",
        static_cast<long long>(cols), format.bits);
  return llvm::Error::success();
}

llvm::ArrayRef<float> qaf::quant::getNormalFloatCodebook(unsigned bits) {
  assert((bits == 2 || bits == 4) && "NormalFloat needs 2 or 4 bits");
  if (bits == 2)
    return kNF2Codebook;
  return kNF4Codebook;
}

float QuantizedMatrix::dequantize(int64_t row, int64_t col) const {
  int64_t group = row * getNumGroups() + col / format.groupSize;
  uint8_t code = codes[row * cols + col];
  if (format.scheme == Scheme::NormalFloat)
    return scales[group] * getNormalFloatCodebook(format.bits)[code];
  return scales[group] * (static_cast<float>(code) - zeros[group]);
}

llvm::Expected<QuantizedMatrix>
qaf::quant::quantize(const MatrixView &weights, const QuantFormat &format) {
  if (weights.rows < 0 || weights.cols < 0)
    return llvm::createStringError("matrix dimensions %lld x %lld are negative",
                                   static_cast<long long>(weights.rows),
                                   static_cast<long long>(weights.cols));
  if (llvm::Error error = verifyFormat(format, weights.cols))
    return std::move(error);

  QuantizedMatrix result;
  result.rows = weights.rows;
  result.cols = weights.cols;
  result.format = format;
  int64_t groupSize = format.groupSize;
  int64_t numGroups = result.getNumGroups();
  result.codes.resize(weights.rows * weights.cols);
  result.scales.resize(weights.rows * numGroups);
  if (format.scheme != Scheme::NormalFloat)
    result.zeros.resize(weights.rows * numGroups);

  float thresholds[15];
  llvm::ArrayRef<float> thresholdsRef;
  if (format.scheme == Scheme::NormalFloat) {
    llvm::ArrayRef<float> codebook = getNormalFloatCodebook(format.bits);
    for (size_t k = 0; k + 1 < codebook.size(); ++k)
      thresholds[k] = getFloatThresholdBelow(
          (static_cast<double>(codebook[k]) + codebook[k + 1]) / 2);
    thresholdsRef = llvm::ArrayRef<float>(thresholds, codebook.size() - 1);
  }

  // A row-major view is quantized in place; any other is copied a tile at a
  // time. The tile is the only allocation besides the result.
  bool contiguousRows = weights.colStride == 1;
  std::vector<float> tile;
  if (!contiguousRows)
    tile.resize(std::min(kRowBlock, weights.rows) * groupSize);

  for (int64_t row = 0; row < weights.rows; row += kRowBlock) {
    int64_t numRows = std::min(kRowBlock, weights.rows - row);
    for (int64_t group = 0; group < numGroups; ++group) {
      int64_t col = group * groupSize;
      if (!contiguousRows)
        loadTile(weights, row, numRows, col, groupSize, tile.data());
      for (int64_t r = 0; r < numRows; ++r) {
        const float *w =
            contiguousRows ? weights.data + (row + r) * weights.rowStride + col
                           : tile.data() + r * groupSize;
        // Non-finite weights have no code; reject them instead of casting
        // NaN to an integer.
        for (int64_t i = 0; i < groupSize; ++i)
          if (!std::isfinite(w[i]))
            return llvm::createStringError("weight (%lld, %lld) is not finite",
                                           static_cast<long long>(row + r),
                                           static_cast<long long>(col + i));
        uint8_t *codes = result.codes.data() + (row + r) * weights.cols + col;
        GroupParams params;
        switch (format.scheme) {
        case Scheme::Asymmetric:
          params =
              quantizeAsymmetricGroup(w, groupSize, format.getMaxCode(), codes);
          break;
        case Scheme::Symmetric:
          params = quantizeSymmetricGroup(w, groupSize, format.bits, codes);
          break;
        case Scheme::NormalFloat:
          params = quantizeNormalFloatGroup(w, groupSize, thresholdsRef, codes);
          break;
        }
        int64_t index = (row + r) * numGroups + group;
        result.scales[index] = params.scale;
        if (format.scheme != Scheme::NormalFloat)
          result.zeros[index] = params.zero;
      }
    }
  }
  return result;
}

void qaf::quant::dequantize(const QuantizedMatrix &matrix,
                            llvm::MutableArrayRef<float> out) {
  assert(out.size() == static_cast<size_t>(matrix.rows * matrix.cols) &&
         "output size does not match the matrix");
  int64_t groupSize = matrix.format.groupSize;
  int64_t numGroups = matrix.getNumGroups();
  bool normalFloat = matrix.format.scheme == Scheme::NormalFloat;
  llvm::ArrayRef<float> codebook;
  if (normalFloat)
    codebook = getNormalFloatCodebook(matrix.format.bits);
  for (int64_t row = 0; row < matrix.rows; ++row) {
    for (int64_t group = 0; group < numGroups; ++group) {
      int64_t index = row * numGroups + group;
      int64_t offset = row * matrix.cols + group * groupSize;
      const uint8_t *codes = matrix.codes.data() + offset;
      float *dst = out.data() + offset;
      float scale = matrix.scales[index];
      if (normalFloat) {
        for (int64_t i = 0; i < groupSize; ++i)
          dst[i] = scale * codebook[codes[i]];
        continue;
      }
      float zero = matrix.zeros[index];
      for (int64_t i = 0; i < groupSize; ++i)
        dst[i] = scale * (static_cast<float>(codes[i]) - zero);
    }
  }
}

std::vector<uint8_t> qaf::quant::packCodes(llvm::ArrayRef<uint8_t> codes,
                                           unsigned bits) {
  assert(bits >= 1 && bits <= 8 && "bad code width");
  assert(codes.size() * bits % 8 == 0 && "codes do not fill whole bytes");
  // Widths that divide 8 are the shared packBits layout; 3 bits is the same
  // little-endian stream with codes straddling bytes.
  if (8 % bits == 0)
    return packBits(codes, bits);
  std::vector<uint8_t> packed(codes.size() * bits / 8, 0);
  uint32_t mask = (1u << bits) - 1;
  for (size_t i = 0, e = codes.size(); i != e; ++i) {
    size_t bit = i * bits;
    uint32_t value = (codes[i] & mask) << (bit % 8);
    packed[bit / 8] |= static_cast<uint8_t>(value);
    if (value >> 8)
      packed[bit / 8 + 1] |= static_cast<uint8_t>(value >> 8);
  }
  return packed;
}

std::vector<uint8_t> qaf::quant::unpackCodes(llvm::ArrayRef<uint8_t> packed,
                                             unsigned bits, int64_t count) {
  assert(bits >= 1 && bits <= 8 && "bad code width");
  assert(packed.size() * 8 >= static_cast<size_t>(count) * bits &&
         "short input");
  if (8 % bits == 0)
    return unpackBits(packed, count, bits, /*signExtend=*/false);
  std::vector<uint8_t> codes(count);
  uint32_t mask = (1u << bits) - 1;
  for (int64_t i = 0; i < count; ++i) {
    size_t bit = i * bits;
    uint32_t window = packed[bit / 8];
    if (bit % 8 + bits > 8)
      window |= static_cast<uint32_t>(packed[bit / 8 + 1]) << 8;
    codes[i] = static_cast<uint8_t>((window >> (bit % 8)) & mask);
  }
  return codes;
}

qaf::quant::ErrorSums qaf::quant::getErrorSums(const MatrixView &weights,
                                               const QuantizedMatrix &matrix) {
  assert(weights.rows == matrix.rows && weights.cols == matrix.cols &&
         "shape mismatch");
  ErrorSums sums;
  for (int64_t row = 0; row < matrix.rows; ++row) {
    for (int64_t col = 0; col < matrix.cols; ++col) {
      double w = weights.at(row, col);
      double diff = w - matrix.dequantize(row, col);
      sums.errorSquared += diff * diff;
      sums.normSquared += w * w;
    }
  }
  return sums;
}

double qaf::quant::ErrorSums::relative() const {
  if (normSquared == 0)
    return errorSquared == 0 ? 0 : INFINITY;
  return std::sqrt(errorSquared / normSquared);
}

double qaf::quant::relativeRMSError(const MatrixView &weights,
                                    const QuantizedMatrix &matrix) {
  return getErrorSums(weights, matrix).relative();
}

std::vector<float> qaf::quant::computeL4QScales(const MatrixView &weights,
                                                unsigned bits,
                                                int64_t groupSize) {
  int64_t groups = weights.cols / groupSize;
  float lowest = static_cast<float>(int64_t(1) << (bits - 1));
  float highest = lowest - 1.0f;
  std::vector<float> scales(weights.rows * groups);
  for (int64_t row = 0; row < weights.rows; ++row)
    for (int64_t group = 0; group < groups; ++group) {
      float minimum = 0.0f, maximum = 0.0f;
      for (int64_t col = group * groupSize; col < (group + 1) * groupSize;
           ++col) {
        float value = weights.at(row, col);
        minimum = std::min(minimum, value);
        maximum = std::max(maximum, value);
      }
      float scale = std::max(-minimum / lowest, maximum / highest);
      scales[row * groups + group] = scale > 0.0f ? scale : 1.0f;
    }
  return scales;
}
