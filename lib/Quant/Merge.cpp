//===- Merge.cpp - trained adapters merged into quantized weights ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/Merge.h"
#include "qaf/Support/Error.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace qaf::quant {

namespace {

Error checkTernary(ArrayRef<int8_t> values, StringRef role) {
  const int8_t *bad = find_if(values, [](int8_t v) { return v < -1 || v > 1; });
  if (bad == values.end())
    return Error::success();
  return makeError(formatv("{0} entry {1} is {2}, not in {{-1, 0, 1}", role,
                           bad - values.begin(), int(*bad)));
}

} // namespace

MergeReport &MergeReport::operator+=(const MergeReport &other) {
  codesMoved += other.codesMoved;
  zeroPointsMoved += other.zeroPointsMoved;
  lossy |= other.lossy;
  maxAbsError = std::max(maxAbsError, other.maxAbsError);
  sumAbsError += other.sumAbsError;
  maxAbsWeight = std::max(maxAbsWeight, other.maxAbsWeight);
  sumAbsWeight += other.sumAbsWeight;
  return *this;
}

Error mergeTernaryAdapter(QuantizedMatrix &layer, ArrayRef<int8_t> a,
                          ArrayRef<int8_t> b, int64_t rank, float omega,
                          MergeReport &report) {
  int64_t n = layer.rows, k = layer.cols, group = layer.format.groupSize;
  if (layer.zeros.empty())
    return makeError("the layer has no zero points to move");
  if (static_cast<int64_t>(a.size()) != rank * k ||
      static_cast<int64_t>(b.size()) != n * rank)
    return makeError(formatv("factors of {0} and {1} entries do not fit rank "
                             "{2} of a {3}x{4} layer",
                             a.size(), b.size(), rank, n, k));
  if (Error error = checkTernary(a, "A_T"))
    return error;
  if (Error error = checkTernary(b, "B_T"))
    return error;
  int32_t maxCode = static_cast<int32_t>(layer.format.getMaxCode());
  int64_t groups = k / group;
  std::vector<int32_t> delta(k);
  for (int64_t o = 0; o < n; ++o) {
    std::fill(delta.begin(), delta.end(), 0);
    for (int64_t j = 0; j < rank; ++j) {
      int32_t left = b[o * rank + j];
      if (left == 0)
        continue;
      for (int64_t i = 0; i < k; ++i)
        delta[i] += left * a[j * k + i];
    }
    for (int64_t g = 0; g < groups; ++g) {
      float remainderSum = 0.0f;
      for (int64_t i = g * group; i < (g + 1) * group; ++i) {
        uint8_t &code = layer.codes[o * k + i];
        float change = static_cast<float>(delta[i]);
        int32_t move = 0;
        if (change > omega && code < maxCode)
          move = 1;
        else if (change < -omega && code > 0)
          move = -1;
        int32_t moved = static_cast<int32_t>(code) + move;
        if (moved < 0 || moved > maxCode)
          return makeError(formatv("code {0} of row {1}, column {2} would "
                                   "move to {3}, outside [0, {4}]",
                                   int(code), o, i, moved, maxCode));
        code = static_cast<uint8_t>(moved);
        report.codesMoved += move != 0;
        // Separate statements: no fused multiply-add, as in the lowering.
        float scaledMove = omega * static_cast<float>(move);
        float remainder = change - scaledMove;
        remainderSum += remainder;
      }
      float mean = remainderSum / static_cast<float>(group);
      float shift = mean / omega;
      float &zero = layer.zeros[o * groups + g];
      float moved = zero - shift;
      report.zeroPointsMoved += moved != zero;
      zero = moved;
    }
  }
  return Error::success();
}

Error absorbIntoZeroPoints(QuantizedMatrix &layer, ArrayRef<float> update,
                           int64_t repeat, double factor, MergeReport &report) {
  int64_t n = layer.rows, groups = layer.getNumGroups();
  if (layer.zeros.empty())
    return makeError("the layer has no zero points to absorb the update");
  if (repeat < 1 || n % repeat != 0 ||
      static_cast<int64_t>(update.size()) != (n / repeat) * groups)
    return makeError(formatv("an update of {0} entries (rows repeated {1} "
                             "times) does not fit {2} rows of {3} groups",
                             update.size(), repeat, n, groups));
  double group = static_cast<double>(layer.format.groupSize);
  for (int64_t o = 0; o < n; ++o)
    for (int64_t g = 0; g < groups; ++g) {
      float &zero = layer.zeros[o * groups + g];
      double shift = factor * update[(o / repeat) * groups + g] /
                     (group * layer.scales[o * groups + g]);
      float moved = static_cast<float>(zero - shift);
      report.zeroPointsMoved += moved != zero;
      zero = moved;
    }
  return Error::success();
}

Error exportTrainedQuantizer(QuantizedMatrix &layer, const MatrixView &w0,
                             ArrayRef<float> a, ArrayRef<float> b, int64_t rank,
                             float alpha, ArrayRef<float> scales,
                             ArrayRef<float> offsets) {
  int64_t n = layer.rows, k = layer.cols, group = layer.format.groupSize;
  int64_t groups = k / group;
  if (static_cast<int64_t>(a.size()) != rank * k ||
      static_cast<int64_t>(b.size()) != n * rank ||
      static_cast<int64_t>(scales.size()) != n * groups ||
      static_cast<int64_t>(offsets.size()) != n * groups)
    return makeError(formatv("factors, scales or offsets do not fit rank {0} "
                             "of a {1}x{2} layer in groups of {3}",
                             rank, n, k, group));
  int64_t half = int64_t(1) << (layer.format.bits - 1);
  float lowest = static_cast<float>(-half);
  float highest = static_cast<float>(half - 1);
  layer.codes.assign(n * k, 0);
  layer.scales.assign(scales.begin(), scales.end());
  layer.zeros.resize(n * groups);
  for (int64_t o = 0; o < n; ++o) {
    for (int64_t g = 0; g < groups; ++g) {
      float scale = scales[o * groups + g];
      // Training may move a scale through zero: any finite non-zero one
      // is a layer (w = s·(q − z) holds for either sign).
      if (scale == 0 || !std::isfinite(scale))
        return makeError(formatv("scale {0} of row {1}, group {2} is not a "
                                 "finite non-zero number",
                                 scale, o, g));
      // w = s·w̃ + β = s·(q − z) with q = w̃ + 2^(b−1), z = 2^(b−1) − β/s.
      layer.zeros[o * groups + g] =
          static_cast<float>(half) - offsets[o * groups + g] / scale;
    }
    for (int64_t i = 0; i < k; ++i) {
      // As the lowering: B·A accumulated in f32 over j, then each step a
      // separate f32 operation.
      float product = 0.0f;
      for (int64_t j = 0; j < rank; ++j) {
        float term = b[o * rank + j] * a[j * k + i];
        product += term;
      }
      float scaledProduct = alpha * product;
      float combined = w0.at(o, i) + scaledProduct;
      float shifted = combined - offsets[o * groups + i / group];
      float normalized = shifted / scales[o * groups + i / group];
      if (std::isnan(normalized))
        return makeError(formatv("weight of row {0}, column {1} is not a "
                                 "number after training",
                                 o, i));
      float rounded =
          std::nearbyint(std::min(std::max(normalized, lowest), highest));
      layer.codes[o * k + i] =
          static_cast<uint8_t>(static_cast<int64_t>(rounded) + half);
    }
  }
  return Error::success();
}

std::vector<float> densifyPooledUpdate(ArrayRef<float> a, ArrayRef<float> b,
                                       int64_t n, int64_t k, int64_t pool,
                                       double scale) {
  int64_t inner = static_cast<int64_t>(a.size()) / (k / pool);
  int64_t pooledK = k / pool, pooledN = n / pool;
  std::vector<double> product(pooledN * pooledK, 0.0);
  for (int64_t o = 0; o < pooledN; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      double left = b[o * inner + j];
      for (int64_t i = 0; i < pooledK; ++i)
        product[o * pooledK + i] += left * a[j * pooledK + i];
    }
  std::vector<float> dense(n * k);
  double factor = scale / static_cast<double>(pool);
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i)
      dense[o * k + i] =
          static_cast<float>(factor * product[(o / pool) * pooledK + i / pool]);
  return dense;
}

void unpoolFactors(ArrayRef<float> a, ArrayRef<float> b, int64_t n, int64_t k,
                   int64_t pool, double scale, std::vector<float> &first,
                   std::vector<float> &second) {
  int64_t pooledK = k / pool;
  int64_t inner = static_cast<int64_t>(a.size()) / pooledK;
  first.assign(k * inner, 0.0f);
  second.assign(inner * n, 0.0f);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < inner; ++j)
      first[i * inner + j] = static_cast<float>(a[j * pooledK + i / pool] /
                                                static_cast<double>(pool));
  for (int64_t j = 0; j < inner; ++j)
    for (int64_t o = 0; o < n; ++o)
      second[j * n + o] = static_cast<float>(scale * b[(o / pool) * inner + j]);
}

Error requantizeWithUpdate(QuantizedMatrix &layer, ArrayRef<float> deltaW,
                           MergeReport &report) {
  int64_t n = layer.rows, k = layer.cols;
  if (static_cast<int64_t>(deltaW.size()) != n * k)
    return makeError(formatv("an update of {0} entries does not fit a {1}x{2} "
                             "layer",
                             deltaW.size(), n, k));
  std::vector<float> weights(n * k);
  dequantize(layer, weights);
  for (auto [weight, delta] : zip_equal(weights, deltaW))
    weight += delta;
  QuantFormat format = layer.format;
  if (format.scheme == Scheme::NormalFloat)
    format.scheme = Scheme::Asymmetric;
  Expected<QuantizedMatrix> requantized =
      quantize(MatrixView::rowMajor(weights.data(), n, k), format);
  if (!requantized)
    return requantized.takeError();
  report.lossy = true;
  for (int64_t o = 0; o < n; ++o)
    for (int64_t i = 0; i < k; ++i) {
      double weight = weights[o * k + i];
      double error = std::fabs(weight - requantized->dequantize(o, i));
      report.maxAbsError = std::max(report.maxAbsError, error);
      report.sumAbsError += error;
      report.maxAbsWeight = std::max(report.maxAbsWeight, std::fabs(weight));
      report.sumAbsWeight += std::fabs(weight);
    }
  layer = std::move(*requantized);
  return Error::success();
}

} // namespace qaf::quant
