//===- ONNXDialect.h - the onnx dialect -------------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_DIALECTS_ONNX_ONNXDIALECT_H
#define QAF_DIALECTS_ONNX_ONNXDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qaf/dialects/onnx/ONNXOpsDialect.h.inc"
#include "qaf/dialects/onnx/ONNXTraits.h"

#include "qaf/dialects/onnx/ONNXInterfaces.h.inc"

#define GET_OP_CLASSES
#include "qaf/dialects/onnx/ONNXOps.h.inc"

#endif // QAF_DIALECTS_ONNX_ONNXDIALECT_H
