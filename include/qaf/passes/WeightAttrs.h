//===- WeightAttrs.h - how outlined weights are marked ----------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_WEIGHTATTRS_H
#define QAF_PASSES_WEIGHTATTRS_H

#include "llvm/ADT/StringRef.h"

namespace qaf {

/// Argument attribute of an entry point: the weight's name in the weights
/// file (and the manifest).
inline constexpr llvm::StringLiteral kWeightNameAttr = "qaf.weight_name";
/// Argument attribute of an entry point: the weight's value (an ElementsAttr
/// sharing the imported blob), removed once the weights file is written.
inline constexpr llvm::StringLiteral kWeightValueAttr = "qaf.weight_value";

} // namespace qaf

#endif // QAF_PASSES_WEIGHTATTRS_H
