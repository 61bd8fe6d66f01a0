//===- QAFDialect.h - the qaf dialect ---------------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_QAF_QAFDIALECT_H
#define QAF_DIALECTS_QAF_QAFDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qaf/Interfaces/AdapterOpInterface.h"

#include "qaf/dialects/qaf/QAFOpsDialect.h.inc"

#include "qaf/dialects/qaf/QAFEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qaf/dialects/qaf/QAFAttrs.h.inc"

#define GET_OP_CLASSES
#include "qaf/dialects/qaf/QAFOps.h.inc"

#endif // QAF_DIALECTS_QAF_QAFDIALECT_H
