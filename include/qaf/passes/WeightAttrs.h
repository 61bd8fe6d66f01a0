//===- WeightAttrs.h - how weights are named and stored in IR ---*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_WEIGHTATTRS_H
#define QAF_PASSES_WEIGHTATTRS_H

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace qaf {

namespace onnx {
class ConstantOp;
} // namespace onnx

inline constexpr llvm::StringLiteral kWeightNameAttr = "qaf.weight_name";
inline constexpr llvm::StringLiteral kWeightValueAttr = "qaf.weight_value";
/// On a result of a training step: the name (kWeightNameAttr) of the
/// argument whose new value it is, written in place by the compiled code.
inline constexpr llvm::StringLiteral kUpdatesAttr = "qaf.updates";
/// On an argument of an entry point: a trained parameter that no adapter op
/// reads as a trainable operand there (qaf-build-training's eval_step, which
/// folds QA-LoRA and QA-HiRA updates into zero points as the merge does).
inline constexpr llvm::StringLiteral kParameterAttr = "qaf.parameter";
/// On a qaf.qlinear: its product rounds x to int8 as ONNX Runtime does at
/// MatMulNBits accuracy_level 4 (set by qaf-select-int8-activations; the
/// lowering's qaf.kernel.qlinear `int8_activations`).
inline constexpr llvm::StringLiteral kInt8ActivationsAttr =
    "qaf.int8_activations";
/// What kUpdatesAttr becomes on a compiled entry point, whose argument
/// names are gone: the index of the argument the result is stored into.
/// Such a result is not an output of the entry point (the target's lowering
/// stores it into the argument's buffer and drops it).
inline constexpr llvm::StringLiteral kUpdatesArgumentAttr =
    "qaf.updates_argument";

/// The name of a weight constant: the initializer name the importer kept as
/// its location (a NameLoc, possibly inside a FusedLoc), else its resource
/// blob's key, else `fallback`.
std::string getWeightName(mlir::Operation *op,
                          llvm::StringRef fallback = "weight");

/// A new `onnx.Constant` holding `blob` as a resource named `name` (its
/// location names it too, so later passes and the exporter see the name).
onnx::ConstantOp createWeightConstant(mlir::OpBuilder &builder,
                                      llvm::StringRef name,
                                      mlir::RankedTensorType type,
                                      mlir::AsmResourceBlob blob);

} // namespace qaf

#endif // QAF_PASSES_WEIGHTATTRS_H
