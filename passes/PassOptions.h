//===- PassOptions.h - checks of numeric pass options -----------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The checks every pass runs on its numeric options before touching the
// module, so that a value out of range (alpha=inf, omega=nan, rank 0) is an
// error naming the pass, the option and the value instead of NaN weights or
// a silently substituted default.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_PASSOPTIONS_H
#define QAF_PASSES_PASSOPTIONS_H

#include "qaf/Quant/Quantizer.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

namespace qaf {

/// `value` is a finite number above 0.
mlir::LogicalResult checkPositiveOption(mlir::Location loc,
                                        llvm::StringRef pass,
                                        llvm::StringRef option, double value);

/// `value` is a finite number, 0 or above.
mlir::LogicalResult checkNonNegativeOption(mlir::Location loc,
                                           llvm::StringRef pass,
                                           llvm::StringRef option,
                                           double value);

/// `value` is at least `minimum`.
mlir::LogicalResult checkAtLeastOption(mlir::Location loc, llvm::StringRef pass,
                                       llvm::StringRef option, int64_t value,
                                       int64_t minimum);

/// The bits, group size and scheme of `format` are ones the quantizer
/// supports (whatever the layers' sizes, which are checked per layer).
mlir::LogicalResult checkQuantFormatOptions(mlir::Location loc,
                                            llvm::StringRef pass,
                                            const quant::QuantFormat &format);

/// Warns that `include`/`exclude` chose no layer: the pass changes nothing.
void warnNoLayerSelected(mlir::Location loc, llvm::StringRef pass,
                         llvm::StringRef include, llvm::StringRef exclude,
                         llvm::StringRef layerKind);

} // namespace qaf

#endif // QAF_PASSES_PASSOPTIONS_H
