//===- CUDAKernelPasses.h - qaf's CUDA kernel pass --------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_CUDAKERNELPASSES_H
#define QAF_CONVERSION_CUDAKERNELPASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace qaf {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "qaf/Conversion/CUDAKernelPasses.h.inc"

} // namespace qaf

#endif // QAF_CONVERSION_CUDAKERNELPASSES_H
