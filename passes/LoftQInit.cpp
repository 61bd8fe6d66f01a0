//===- LoftQInit.cpp - quantized base + LoRA that makes up the error ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"
#include "PassOptions.h"

#include "qaf/Quant/LoftQ.h"

namespace qaf {
#define GEN_PASS_DEF_LOFTQINITPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

struct LoftQInitPass : qaf::impl::LoftQInitPassBase<LoftQInitPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<quant::Scheme> parsedScheme = quant::parseSchemeName(scheme);
    if (!parsedScheme) {
      emitError(module.getLoc()) << "qaf-loftq-init: unknown scheme '" << scheme
                                 << "' (nf, asym or sym)";
      return signalPassFailure();
    }
    constexpr StringLiteral pass = "qaf-loftq-init";
    Location loc = module.getLoc();
    quant::QuantFormat format{bits, groupSize, *parsedScheme};
    if (failed(checkAtLeastOption(loc, pass, "rank", rank, 1)) ||
        failed(checkAtLeastOption(loc, pass, "iters", iters, 1)) ||
        failed(checkPositiveOption(loc, pass, "alpha", alpha)) ||
        failed(checkQuantFormatOptions(loc, pass, format)))
      return signalPassFailure();
    quant::LoftQOptions options;
    options.rank = rank;
    options.iterations = iters;
    options.loraScale = alpha / static_cast<double>(rank);

    FailureOr<std::vector<LinearLayer>> layers =
        selectLinearLayers(module, include, exclude, "qaf-loftq-init");
    if (failed(layers))
      return signalPassFailure();
    if (layers->empty())
      warnNoLayerSelected(loc, pass, include, exclude, "linear layer");
    for (LinearLayer &layer : *layers) {
      llvm::Error error = quant::verifyFormat(format, layer.k);
      if (!error && rank > std::min(layer.k, layer.n))
        error = llvm::createStringError(
            "rank " + std::to_string(rank) + " exceeds min(" +
            std::to_string(layer.n) + ", " + std::to_string(layer.k) + ")");
      if (error) {
        layer.op->emitError()
            << "cannot initialise weight '" << layer.name << "' (" << layer.k
            << " x " << layer.n
            << ") with LoftQ: " << llvm::toString(std::move(error));
        return signalPassFailure();
      }
    }

    quant::SingleThreadedBLAS oneThreadPerLayer;
    std::vector<LayerOutcome<quant::LoftQResult>> outcomes =
        computeForLayers<quant::LoftQResult>(
            &getContext(), *layers, [&](const quant::MatrixView &view) {
              return quant::runLoftQ(view, format, options);
            });

    Type f32 = Float32Type::get(&getContext());
    for (auto [layer, outcome] : llvm::zip_equal(*layers, outcomes)) {
      if (!outcome.result) {
        layer.op->emitError() << "LoftQ failed on weight '" << layer.name
                              << "': " << outcome.error;
        return signalPassFailure();
      }
      OpBuilder builder(layer.op);
      Location loc = layer.op->getLoc();
      Value base = createQuantizedLinear(builder, layer, outcome.result->base);
      Value loraA = createBlobConstant<float>(builder, layer.name + ".lora_A",
                                              {rank, layer.k}, f32,
                                              outcome.result->loraA);
      Value loraB = createBlobConstant<float>(builder, layer.name + ".lora_B",
                                              {layer.n, rank}, f32,
                                              outcome.result->loraB);
      Value delta =
          LoRAOp::create(builder, loc, base.getType(), layer.getInput(), loraA,
                         loraB, builder.getF64FloatAttr(options.loraScale))
              .getOutput();
      Value sum =
          onnx::AddOp::create(builder, loc, base.getType(), base, delta).getC();
      replaceLinearLayer(layer, sum);
    }
  }
};

} // namespace
