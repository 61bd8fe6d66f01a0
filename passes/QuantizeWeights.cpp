//===- QuantizeWeights.cpp - linear layers become qaf.qlinear -------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The numbers come from lib/Quant (METHODS.md §0); this pass only decides
// which layers, reads their weights in place (an ONNX MatMul weight [K, N]
// is viewed transposed, never copied) and writes the quantized tensors as
// new resource blobs. Layers are quantized in parallel.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"
#include "PassOptions.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace qaf {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

struct QuantizeWeightsPass
    : qaf::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<quant::Scheme> parsedScheme = quant::parseSchemeName(scheme);
    if (!parsedScheme) {
      emitError(module.getLoc()) << "qaf-quantize-weights: unknown scheme '"
                                 << scheme << "' (asym, sym or nf)";
      return signalPassFailure();
    }
    quant::QuantFormat format{bits, groupSize, *parsedScheme};
    if (failed(checkQuantFormatOptions(module.getLoc(), "qaf-quantize-weights",
                                       format)))
      return signalPassFailure();
    FailureOr<std::vector<LinearLayer>> layers =
        selectLinearLayers(module, include, exclude, "qaf-quantize-weights");
    if (failed(layers))
      return signalPassFailure();
    if (layers->empty())
      warnNoLayerSelected(module.getLoc(), "qaf-quantize-weights", include,
                          exclude, "linear layer");
    for (LinearLayer &layer : *layers)
      if (llvm::Error error = quant::verifyFormat(format, layer.k)) {
        layer.op->emitError()
            << "cannot quantize weight '" << layer.name << "' (" << layer.k
            << " x " << layer.n << "): " << llvm::toString(std::move(error));
        return signalPassFailure();
      }

    // Quantize in parallel: each layer reads its own weight bytes.
    struct Quantized {
      quant::QuantizedMatrix matrix;
      // For report-errors.
      quant::ErrorSums weightError;
    };
    std::vector<LayerOutcome<Quantized>> outcomes = computeForLayers<Quantized>(
        &getContext(), *layers,
        [&](const quant::MatrixView &view) -> llvm::Expected<Quantized> {
          llvm::Expected<quant::QuantizedMatrix> matrix =
              quant::quantize(view, format);
          if (!matrix)
            return matrix.takeError();
          Quantized quantized{std::move(*matrix), {}};
          if (reportErrors)
            quantized.weightError = quant::getErrorSums(view, quantized.matrix);
          return quantized;
        });
    quant::ErrorSums total;
    for (auto [layer, outcome] : llvm::zip_equal(*layers, outcomes)) {
      if (!outcome.result) {
        layer.op->emitError() << "cannot quantize weight '" << layer.name
                              << "': " << outcome.error;
        return signalPassFailure();
      }
      if (reportErrors) {
        layer.op->emitRemark()
            << "weight '" << layer.name << "': relative RMS error "
            << llvm::formatv("{0:e4}", outcome.result->weightError.relative());
        total += outcome.result->weightError;
      }
      OpBuilder builder(layer.op);
      replaceLinearLayer(
          layer, createQuantizedLinear(builder, layer, outcome.result->matrix));
    }
    if (reportErrors)
      emitRemark(module.getLoc())
          << "quantized " << layers->size() << " layers: relative RMS error "
          << llvm::formatv("{0:e4}", total.relative());
  }
};

} // namespace
