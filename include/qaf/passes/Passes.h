//===- Passes.h - qaf's graph-level passes ----------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_PASSES_H
#define QAF_PASSES_PASSES_H

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace qaf {

#define GEN_PASS_DECL
#include "qaf/passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qaf/passes/Passes.h.inc"

/// Registers every pass declared in Passes.td with the global registry.
inline void registerPasses() { registerQAFPasses(); }

} // namespace qaf

#endif // QAF_PASSES_PASSES_H
