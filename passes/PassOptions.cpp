//===- PassOptions.cpp - checks of numeric pass options -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "PassOptions.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;

namespace qaf {

namespace {
/// `alpha=inf`, `omega=-1`: the value as a user would have typed it.
std::string formatOption(StringRef option, double value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << option << "=" << llvm::format("%g", value);
  return text;
}
} // namespace

LogicalResult checkPositiveOption(Location loc, StringRef pass,
                                  StringRef option, double value) {
  if (std::isfinite(value) && value > 0)
    return success();
  return emitError(loc) << pass << ": " << formatOption(option, value)
                        << ": must be a finite number above 0";
}

LogicalResult checkNonNegativeOption(Location loc, StringRef pass,
                                     StringRef option, double value) {
  if (std::isfinite(value) && value >= 0)
    return success();
  return emitError(loc) << pass << ": " << formatOption(option, value)
                        << ": must be a finite number, 0 or above";
}

LogicalResult checkAtLeastOption(Location loc, StringRef pass, StringRef option,
                                 int64_t value, int64_t minimum) {
  if (value >= minimum)
    return success();
  return emitError(loc) << pass << ": " << option << "=" << value
                        << ": must be at least " << minimum;
}

LogicalResult checkQuantFormatOptions(Location loc, StringRef pass,
                                      const quant::QuantFormat &format) {
  // Columns that any positive group size divides into whole bytes, so that
  // only the options themselves are judged here.
  int64_t columns =
      format.groupSize > 0 && format.groupSize < (int64_t(1) << 32)
          ? format.groupSize * 8
          : format.groupSize;
  if (llvm::Error error = quant::verifyFormat(format, columns))
    return emitError(loc) << pass << ": bits=" << format.bits
                          << " group-size=" << format.groupSize << ": "
                          << llvm::toString(std::move(error));
  return success();
}

void warnNoLayerSelected(Location loc, StringRef pass, StringRef include,
                         StringRef exclude, StringRef layerKind) {
  emitWarning(loc) << pass << ": no " << layerKind << " matches (include='"
                   << include << "', exclude='" << exclude
                   << "'): the model is unchanged";
}

} // namespace qaf
