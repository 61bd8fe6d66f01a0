//===- Buffers.h - What a memref value is a view of ------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_BUFFERS_H
#define QAF_CONVERSION_BUFFERS_H

#include "mlir/IR/Value.h"

namespace qaf {

/// The buffer `value` is a view of, through view-like ops and
/// `memref.extract_strided_metadata`: an allocation, a global, a function's
/// argument or a block argument.
mlir::Value getRootBuffer(mlir::Value value);

} // namespace qaf

#endif // QAF_CONVERSION_BUFFERS_H
