//===- GradientOpInterface.h - reverse-mode rules of ops --------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The op interface that holds each op's reverse-mode rule (described in
// GradientOpInterface.td) and the registration of the rules of the onnx
// dialect's ops, which are external models (lib/Autodiff).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_INTERFACES_GRADIENTOPINTERFACE_H
#define QAF_INTERFACES_GRADIENTOPINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

#include "qaf/Interfaces/GradientOpInterface.h.inc"

namespace qaf {

/// Attaches GradientOpInterface to the onnx ops that have a rule (the
/// models in lib/Autodiff, one file per group of ops), when the onnx dialect
/// is loaded.
void registerONNXGradientModels(mlir::DialectRegistry &registry);

/// Attaches GradientOpInterface to qaf.qlinear and the adapter ops
/// (lib/Autodiff/QAFGradients.cpp), when the qaf dialect is loaded.
void registerQAFGradientModels(mlir::DialectRegistry &registry);

/// Registers `qaf-test-gradients`, which appends to each function the
/// reverse pass of its body (for testing the rules).
void registerTestGradientsPass();

} // namespace qaf

#endif // QAF_INTERFACES_GRADIENTOPINTERFACE_H
