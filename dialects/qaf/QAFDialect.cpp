//===- QAFDialect.cpp - the qaf dialect -----------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qaf;

#include "qaf/dialects/qaf/QAFOpsDialect.cpp.inc"

#include "qaf/dialects/qaf/QAFEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qaf/dialects/qaf/QAFAttrs.cpp.inc"

void QAFDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qaf/dialects/qaf/QAFAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "qaf/dialects/qaf/QAFOps.cpp.inc"
      >();
  // The adapters' algebra is built by the lowering's library
  // (registerAdapterAlgebraExternalModels); asking for it where that
  // library was not registered is an error, not a silent null.
  declarePromisedInterfaces<AdapterAlgebraOpInterface, LoTALinearOp,
                            L4QLinearOp, LoRAOp, QALoRAOp, QAHiRAOp, QBaRAOp>();
}

#define GET_OP_CLASSES
#include "qaf/dialects/qaf/QAFOps.cpp.inc"
