//===- QAFToLinalg.cpp - the qaf dialect's lowering to linalg -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/QAFToLinalg.h"

#include "Patterns.h"

namespace qaf {

void populateQAFToLinalgPatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns) {
  populateQLinearPatterns(converter, patterns);
  populateAdapterPatterns(converter, patterns);
  populateOptimizerPatterns(converter, patterns);
}

} // namespace qaf
