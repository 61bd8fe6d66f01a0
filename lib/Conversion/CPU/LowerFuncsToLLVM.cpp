//===- LowerFuncsToLLVM.cpp - func -> llvm with one symbol table ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {
#define GEN_PASS_DEF_LOWERFUNCSTOLLVMPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct LowerFuncsToLLVMPass
    : qaf::impl::LowerFuncsToLLVMPassBase<LowerFuncsToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The same type converter the OpenMP lowering would build: default
    // options, so signatures and call sites agree with what it expects.
    LLVMTypeConverter converter(&getContext());
    SymbolTableCollection symbolTables;
    RewritePatternSet patterns(&getContext());
    populateFuncToLLVMConversionPatterns(converter, patterns, &symbolTables);
    LLVMConversionTarget target(getContext());
    target.addIllegalDialect<func::FuncDialect>();
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
