//===- QAFToLinalg.h - the qaf dialect's lowering to linalg -----*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_QAFTOLINALG_H
#define QAF_CONVERSION_QAFTOLINALG_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {

/// Patterns lowering the qaf dialect's ops (qaf.qlinear and the adapter
/// ops) to linalg, tensor and arith on tensors, and to qaf.kernel.qlinear
/// for the quantized layers the kernel computes. `converter` makes element
/// types signless, as the onnx lowering's does (qaf-convert-onnx-to-linalg
/// lowers both dialects together).
void populateQAFToLinalgPatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);

} // namespace qaf

#endif // QAF_CONVERSION_QAFTOLINALG_H
