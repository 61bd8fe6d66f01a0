//===- ONNXToLinalg.cpp - the onnx -> linalg conversion pass --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "qaf/Conversion/Passes.h"
#include "qaf/Conversion/QAFToLinalg.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qaf {
#define GEN_PASS_DEF_CONVERTONNXTOLINALGPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace qaf {

ONNXToLinalgTypeConverter::ONNXToLinalgTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](RankedTensorType type) -> Type {
    auto integer = dyn_cast<IntegerType>(type.getElementType());
    if (!integer || integer.isSignless())
      return type;
    return type.clone(IntegerType::get(type.getContext(), integer.getWidth()));
  });
  // Values cross between the two types only as tensors of the same bits.
  auto materialize = [](OpBuilder &builder, Type type, ValueRange inputs,
                        Location loc) -> Value {
    if (inputs.size() != 1)
      return {};
    return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
        .getResult(0);
  };
  addSourceMaterialization(materialize);
  addTargetMaterialization(materialize);
}

namespace {

struct ConvertONNXToLinalgPass
    : impl::ConvertONNXToLinalgPassBase<ConvertONNXToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ONNXToLinalgTypeConverter converter;
    RewritePatternSet patterns(context);
    populateElementwisePatterns(converter, patterns);
    populateNormalizationPatterns(converter, patterns);
    populateLossPatterns(converter, patterns);
    populateDataMovementPatterns(converter, patterns);
    populateLinearAlgebraPatterns(converter, patterns);
    populateAttentionPatterns(converter, patterns, fuseAttention);
    populateQuantizationPatterns(converter, patterns);
    populateQAFToLinalgPatterns(converter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*context);
    target.addLegalDialect<
        arith::ArithDialect, bufferization::BufferizationDialect,
        cf::ControlFlowDialect, linalg::LinalgDialect, math::MathDialect,
        scf::SCFDialect, tensor::TensorDialect>();
    target.addIllegalDialect<onnx::ONNXDialect, QAFDialect>();
    // The lowering's output: kernel ops for what a target may call.
    target.addLegalOp<ModuleOp, QLinearKernelOp, AdapterGradientsKernelOp,
                      AttentionKernelOp, CheckOp>();
    // `onnx.NoValue` has no lowering: the patterns read an omitted input
    // from the original op. It is visited before its users, so it stays
    // legal during the conversion and the dead ones are erased after it.
    target.addLegalOp<onnx::NoValueOp>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp op) { return converter.isLegal(op); });
    if (failed(
            applyFullConversion(getOperation(), target, std::move(patterns)))) {
      signalPassFailure();
      return;
    }
    getOperation().walk([](onnx::NoValueOp op) {
      if (op->use_empty())
        op->erase();
    });
  }
};

} // namespace
} // namespace qaf
