//===- InitAll.h - register qaf's dialects, passes and targets --*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_INITALL_H
#define QAF_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace qaf {

/// Registers the dialects qaf's tools read and write: `onnx`, and the
/// upstream dialects its IR uses (func, arith, tensor, ...).
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers every qaf pass and pipeline with the global pass registry.
void registerAllPasses();

/// Registers every target qaf-compile can generate code for.
void registerAllTargetBackends();

} // namespace qaf

#endif // QAF_INITALL_H
