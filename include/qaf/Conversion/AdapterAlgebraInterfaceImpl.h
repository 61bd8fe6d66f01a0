//===- AdapterAlgebraInterfaceImpl.h - the adapters' algebra ----*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_ADAPTERALGEBRAINTERFACEIMPL_H
#define QAF_CONVERSION_ADAPTERALGEBRAINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace qaf {

/// Attaches AdapterAlgebraOpInterface (ΔW and the output as linalg on
/// tensors) to the six qaf adapter ops.
void registerAdapterAlgebraExternalModels(mlir::DialectRegistry &registry);

} // namespace qaf

#endif // QAF_CONVERSION_ADAPTERALGEBRAINTERFACEIMPL_H
