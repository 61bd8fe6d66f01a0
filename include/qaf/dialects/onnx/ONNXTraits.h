//===- ONNXTraits.h - semantic traits of onnx ops ---------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The C++ side of the ONNX_Elementwise and ONNX_MultidirectionalBroadcast
// traits of ONNXOps.td (described there). They carry no verifier: shape
// inference checks that operands broadcast. Passes read them with
// `op->hasTrait<...>()`.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXTRAITS_H
#define QAF_DIALECTS_ONNX_ONNXTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace qaf::onnx::OpTrait {

/// Each result element is a function of the operand elements at the same
/// (broadcast) index; every operand is data of that function.
template <typename ConcreteType>
class Elementwise : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {
};

/// The operands broadcast together NumPy-style (ONNX "multidirectional
/// broadcasting"); implies Elementwise.
template <typename ConcreteType>
class MultidirectionalBroadcast
    : public mlir::OpTrait::TraitBase<ConcreteType, MultidirectionalBroadcast> {
};

} // namespace qaf::onnx::OpTrait

#endif // QAF_DIALECTS_ONNX_ONNXTRAITS_H
