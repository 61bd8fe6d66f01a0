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
#include "qaf/Support/ElementsBytes.h"
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

/// `value`'s defining onnx.Constant, or null (also for an omitted operand).
onnx::ConstantOp getConstant(Value value) {
  return value ? value.getDefiningOp<onnx::ConstantOp>() : onnx::ConstantOp();
}

bool isF32Tensor(Value value) {
  return cast<ShapedType>(value.getType()).getElementType().isF32();
}

/// An ONNX Runtime MatMulNBits layer with constant weights becomes the
/// qaf.qlinear it already is (ORT GenAI's int4 models): the same code bytes
/// (the blob itself, reshaped), the same scales, and its zero points as
/// floats (2^(bits - 1) where the file has none), never dequantized and
/// requantized, so adapters attach to the model as it was shipped. Returns
/// false, leaving the op (which compiles as it is), when qaf.qlinear cannot
/// state it: a g_idx or bias, non-f32 values, or K not a whole number of
/// blocks.
FailureOr<bool> adoptMatMulNBits(onnx::MatMulNBitsOp op) {
  int64_t bits = op.getBits(), block = op.getBlockSize();
  int64_t k = op.getK(), n = op.getN();
  auto isAbsent = [](Value value) { return isa<NoneType>(value.getType()); };
  onnx::ConstantOp codes = getConstant(op.getB());
  onnx::ConstantOp scales = getConstant(op.getScales());
  onnx::ConstantOp zeros = isAbsent(op.getZeroPoints())
                               ? onnx::ConstantOp()
                               : getConstant(op.getZeroPoints());
  quant::QuantFormat format{static_cast<unsigned>(bits), block,
                            quant::Scheme::Asymmetric};
  if (!codes || !scales || (!isAbsent(op.getZeroPoints()) && !zeros) ||
      !isAbsent(op.getGIdx()) || !isAbsent(op.getBias()) ||
      !isF32Tensor(op.getA()) || !isF32Tensor(op.getScales()) ||
      !isF32Tensor(op.getY()) || k % block != 0)
    return false;
  if (llvm::Error error = quant::verifyFormat(format, k)) {
    llvm::consumeError(std::move(error));
    return false;
  }
  int64_t blocks = k / block;
  std::string name = getWeightName(codes, "weight");
  std::vector<float> zeroValues(n * blocks,
                                static_cast<float>(int64_t(1) << (bits - 1)));
  if (zeros) {
    std::vector<char> storage;
    std::string error;
    FailureOr<ArrayRef<char>> bytes = getElementsBytes(
        zeros.getValue(), storage, SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return op.emitOpError() << "zero points of '" << name << "': " << error;
    if (isF32Tensor(op.getZeroPoints())) {
      if (bytes->size() != zeroValues.size() * sizeof(float))
        return false;
      std::memcpy(zeroValues.data(), bytes->data(), bytes->size());
    } else {
      // Packed like B, each row padded to whole bytes.
      int64_t rowBytes = llvm::divideCeil(blocks * bits, 8);
      if (static_cast<int64_t>(bytes->size()) != n * rowBytes)
        return false;
      for (int64_t row = 0; row < n; ++row) {
        std::vector<uint8_t> rowCodes = quant::unpackCodes(
            ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bytes->data()) +
                                  row * rowBytes,
                              rowBytes),
            bits, blocks);
        for (int64_t b = 0; b < blocks; ++b)
          zeroValues[row * blocks + b] = rowCodes[b];
      }
    }
  }
  OpBuilder builder(op);
  MLIRContext *context = builder.getContext();
  Value qcodes =
      createReshapedConstant(builder, codes, {n, k * bits / 8}, name);
  Value qscales = createReshapedConstant(builder, scales, {n, blocks},
                                         getWeightName(scales, "scales"));
  Value qzeros =
      createBlobConstant<float>(builder, name + ".zero_points", {n, blocks},
                                Float32Type::get(context), zeroValues);
  auto layer = QLinearOp::create(builder, op.getLoc(), op.getY().getType(),
                                 op.getA(), qcodes, qscales, qzeros,
                                 getQuantFormatAttr(context, format));
  if (op.getAccuracyLevel() != 0)
    layer->setAttr(kOrtAccuracyLevelAttr,
                   builder.getI64IntegerAttr(op.getAccuracyLevel()));
  Value output = layer.getOutput();
  op.getY().replaceAllUsesWith(output);
  op.erase();
  for (onnx::ConstantOp constant : {codes, scales, zeros})
    if (constant && constant->use_empty())
      constant.erase();
  return true;
}

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
    SmallVector<onnx::MatMulNBitsOp> shipped;
    module.walk([&](onnx::MatMulNBitsOp op) { shipped.push_back(op); });
    for (onnx::MatMulNBitsOp op : shipped)
      if (failed(adoptMatMulNBits(op)))
        return signalPassFailure();
    FailureOr<std::vector<LinearLayer>> layers =
        selectLinearLayers(module, include, exclude, "qaf-quantize-weights");
    if (failed(layers))
      return signalPassFailure();
    if (layers->empty() && shipped.empty())
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
