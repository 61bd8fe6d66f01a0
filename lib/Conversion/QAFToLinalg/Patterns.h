//===- Patterns.h - qaf -> linalg pattern families --------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// One file per family; populateQAFToLinalgPatterns (QAFToLinalg.cpp)
// collects them all. The builders they share with the onnx lowering are in
// ../ONNXToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_LIB_CONVERSION_QAFTOLINALG_PATTERNS_H
#define QAF_LIB_CONVERSION_QAFTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {

/// qaf.qlinear.
void populateQLinearPatterns(const mlir::TypeConverter &converter,
                             mlir::RewritePatternSet &patterns);

/// The qaf adapter ops (LoRA, QA-LoRA, QA-HiRA, Q-BaRA, LoTA-QAF, L4Q).
void populateAdapterPatterns(const mlir::TypeConverter &converter,
                             mlir::RewritePatternSet &patterns);

/// The optimizer updates of a training step (AdamW, t-SignSGD).
void populateOptimizerPatterns(const mlir::TypeConverter &converter,
                               mlir::RewritePatternSet &patterns);

} // namespace qaf

#endif // QAF_LIB_CONVERSION_QAFTOLINALG_PATTERNS_H
