//===- ReverseMode.h - the reverse pass of a graph --------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Reverse-mode differentiation of a block of onnx/qaf ops from the ops'
// GradientOpInterface rules: the one walk that the training step
// (qaf-build-training) and the rules' tests (qaf-test-gradients) share.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_AUTODIFF_REVERSEMODE_H
#define QAF_AUTODIFF_REVERSEMODE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

namespace qaf {

/// A value of the graph and the gradient of the loss with respect to it
/// (for a scalar loss, the loss itself and a one of its type).
struct GradientSeed {
  mlir::Value value;
  mlir::Value gradient;
};

/// Builds, at the insertion point of `builder`, the gradients of the loss
/// with respect to each of `targets` (values defined in `body`: its
/// arguments, or results of its ops), from the gradients `seeds` give. The
/// walk visits `body`'s ops backwards and calls the rule of each op that
/// lies on a path from a target to a seed; it adds up the gradients of
/// values used more than once, and skips every op off such a path (no rule
/// needed, no gradient built). The backward ops read the forward values
/// their rules need and no others; gradients built for operands that lead
/// to no target are erased again.
///
/// Returns one gradient per target, in order, null for a target that no
/// seed depends on. Fails with a diagnostic on the op (naming its ONNX node)
/// when an op on such a path has no rule or its rule fails.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
buildReverseMode(mlir::OpBuilder &builder, mlir::Block &body,
                 llvm::ArrayRef<GradientSeed> seeds,
                 llvm::ArrayRef<mlir::Value> targets);

} // namespace qaf

#endif // QAF_AUTODIFF_REVERSEMODE_H
