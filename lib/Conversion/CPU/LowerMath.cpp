//===- LowerMath.cpp - math -> llvm/libm on the math ops only -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToFuncs/MathToFuncs.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qaf {
#define GEN_PASS_DEF_LOWERMATHPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct LowerMathPass : qaf::impl::LowerMathPassBase<LowerMathPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> mathOps = collectMathOps();
    if (!mathOps.empty() && failed(lowerMathOps(mathOps)))
      return signalPassFailure();
    // The memref and func conversions before leave chains of descriptor
    // insertvalue/extractvalue ops (and their casts) that fold away: a walk
    // with folding and no patterns removes them for a fraction of what
    // LLVM's InstCombine takes on them (8-block train step: 18.6 s of
    // optimize+emit without it, 11.5 s with).
    // (Not reaching a fixed point in the driver's iterations is no error.)
    // Blocks stay as they are (region simplification is a dataflow over
    // every block, most of this walk's time and nothing LLVM needs).
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    (void)applyPatternsGreedily(module, FrozenRewritePatternSet(), config);
  }

  LogicalResult lowerMathOps(SmallVector<Operation *> &mathOps) {
    ModuleOp module = getOperation();

    // What convert-math-to-funcs lowers with its default options.
    if (llvm::any_of(mathOps, llvm::IsaPred<math::IPowIOp, math::FPowIOp>)) {
      OpPassManager toFuncs(ModuleOp::getOperationName());
      toFuncs.addPass(createConvertMathToFuncs());
      if (failed(runPipeline(toFuncs, module)))
        return failure();
      mathOps = collectMathOps();
    }

    // convert-math-to-llvm's conversion, on the math ops instead of a walk
    // over the module; ops without an intrinsic stay for libm.
    LLVMTypeConverter converter(&getContext());
    RewritePatternSet patterns(&getContext());
    populateMathToLLVMConversionPatterns(converter, patterns);
    LLVMConversionTarget target(getContext());
    if (failed(applyPartialConversion(mathOps, target, std::move(patterns))))
      return failure();

    if (collectMathOps().empty())
      return success();
    OpPassManager toLibm(ModuleOp::getOperationName());
    toLibm.addPass(createConvertMathToLibmPass());
    return runPipeline(toLibm, module);
  }

  SmallVector<Operation *> collectMathOps() {
    SmallVector<Operation *> mathOps;
    getOperation()->walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()))
        mathOps.push_back(op);
    });
    return mathOps;
  }
};

} // namespace
