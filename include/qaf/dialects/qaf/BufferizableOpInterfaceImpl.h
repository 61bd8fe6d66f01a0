//===- BufferizableOpInterfaceImpl.h - kernel ops in place ------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_QAF_BUFFERIZABLEOPINTERFACEIMPL_H
#define QAF_DIALECTS_QAF_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace qaf {

/// Lets One-Shot Bufferize bufferize the qaf kernel ops (qaf.kernel.*), as
/// linalg's do: in place into their destination.
void registerBufferizableOpInterfaceExternalModels(
    mlir::DialectRegistry &registry);

} // namespace qaf

#endif // QAF_DIALECTS_QAF_BUFFERIZABLEOPINTERFACEIMPL_H
