//===- PrepareEntryPoints.cpp - host calling convention of artifacts ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace qaf {
#define GEN_PASS_DEF_PREPARECPUENTRYPOINTSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct PrepareCPUEntryPointsPass
    : qaf::impl::PrepareCPUEntryPointsPassBase<PrepareCPUEntryPointsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
      func.walk([](func::ReturnOp ret) {
        OpBuilder builder(ret);
        for (OpOperand &operand : ret->getOpOperands()) {
          auto type = dyn_cast<RankedTensorType>(operand.get().getType());
          if (!type)
            continue;
          auto copy = bufferization::AllocTensorOp::create(
              builder, ret.getLoc(), type, /*dynamicSizes=*/ValueRange(),
              /*copy=*/operand.get());
          operand.set(copy);
        }
      });
    }
  }
};

} // namespace
