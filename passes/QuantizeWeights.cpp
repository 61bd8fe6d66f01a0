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

/// A tied embedding: one float table E [V, H] gathered by onnx.Gather
/// (axis 0) and, through Transpose, the right operand of the head's
/// onnx.MatMul (y = x · Eᵀ).
struct TiedTable {
  onnx::ConstantOp table;
  SmallVector<onnx::GatherOp> gathers;
  SmallVector<std::pair<onnx::TransposeOp, onnx::MatMulOp>> heads;
};

std::vector<TiedTable> findTiedTables(ModuleOp module) {
  std::vector<TiedTable> tied;
  module.walk([&](onnx::ConstantOp constant) {
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    if (!type || type.getRank() != 2 || !type.getElementType().isF32())
      return;
    TiedTable candidate{constant, {}, {}};
    for (Operation *user : constant->getUsers()) {
      if (auto gather = dyn_cast<onnx::GatherOp>(user);
          gather && gather.getData() == constant.getOutput() &&
          gather.getAxis() == 0) {
        candidate.gathers.push_back(gather);
        continue;
      }
      auto transpose = dyn_cast<onnx::TransposeOp>(user);
      std::optional<ArrayRef<int64_t>> perm =
          transpose ? transpose.getPerm() : std::nullopt;
      if (!transpose || (perm && *perm != ArrayRef<int64_t>{1, 0}))
        return;
      for (Operation *reader : transpose->getUsers()) {
        auto matmul = dyn_cast<onnx::MatMulOp>(reader);
        if (!matmul || matmul.getB() != transpose.getTransposed())
          return;
        candidate.heads.push_back({transpose, matmul});
      }
    }
    if (!candidate.gathers.empty() && !candidate.heads.empty())
      tied.push_back(std::move(candidate));
  });
  return tied;
}

/// Quantizes a tied table once: the head becomes qaf.qlinear and every
/// Gather a com.microsoft.GatherBlockQuantized over the same code blob (as
/// ORT GenAI's int4 models share them), so the table is stored and read at
/// `format`'s width by both.
LogicalResult quantizeTiedTable(TiedTable &tied,
                                const quant::QuantFormat &format) {
  std::string name = getWeightName(tied.table, "embedding");
  auto shape = cast<RankedTensorType>(tied.table.getType()).getShape();
  int64_t v = shape[0], h = shape[1];
  if (format.scheme == quant::Scheme::NormalFloat || format.bits == 3)
    return tied.table.emitError()
           << "cannot quantize tied embedding '" << name << "': "
           << "GatherBlockQuantized takes 2-, 4- or 8-bit integer codes "
              "(asym or sym)";
  if (llvm::Error error = quant::verifyFormat(format, h))
    return tied.table.emitError() << "cannot quantize tied embedding '" << name
                                  << "': " << llvm::toString(std::move(error));
  std::vector<char> storage;
  std::string error;
  FailureOr<ArrayRef<char>> bytes = getElementsBytes(
      tied.table.getValue(), storage, SubByteLayout::BytePerElement, error);
  if (failed(bytes))
    return tied.table.emitError()
           << "tied embedding '" << name << "': " << error;
  llvm::Expected<quant::QuantizedMatrix> matrix =
      quant::quantize(quant::MatrixView::rowMajor(
                          reinterpret_cast<const float *>(bytes->data()), v, h),
                      format);
  if (!matrix)
    return tied.table.emitError()
           << "cannot quantize tied embedding '" << name
           << "': " << llvm::toString(matrix.takeError());
  // GatherBlockQuantized's zero points are codes (uint8, packed like the
  // data): the asymmetric ones must be integers in the code range.
  int64_t groups = matrix->getNumGroups();
  int64_t maxCode = (int64_t(1) << format.bits) - 1;
  for (auto [i, zero] : llvm::enumerate(matrix->zeros))
    if (zero < 0.0f || zero > static_cast<float>(maxCode))
      return tied.table.emitError()
             << "cannot quantize tied embedding '" << name << "': row "
             << i / groups << ", group " << i % groups << " has zero point "
             << zero << ", outside the codes [0, " << maxCode
             << "] GatherBlockQuantized stores (its values share one sign; "
                "scheme=sym has no such group)";
  if ((groups * format.bits) % 8 != 0)
    return tied.table.emitError()
           << "cannot quantize tied embedding '" << name << "': its " << groups
           << " groups per row of " << format.bits
           << "-bit zero points do not fill whole bytes";

  OpBuilder builder(tied.table);
  MLIRContext *context = builder.getContext();
  Type f32 = Float32Type::get(context);
  Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  Value codes = createBlobConstant<uint8_t>(
      builder, name + ".qcodes", {v, h * format.bits / 8}, ui8,
      quant::packCodes(matrix->codes, format.bits));
  Value scales = createBlobConstant<float>(builder, name + ".scales",
                                           {v, groups}, f32, matrix->scales);
  Value zeros = createBlobConstant<float>(builder, name + ".zero_points",
                                          {v, groups}, f32, matrix->zeros);
  std::vector<uint8_t> zeroCodes(matrix->zeros.begin(), matrix->zeros.end());
  Value packedZeros = createBlobConstant<uint8_t>(
      builder, name + ".zero_points_u8", {v, groups * format.bits / 8}, ui8,
      quant::packCodes(zeroCodes, format.bits));
  QuantFormatAttr formatAttr = getQuantFormatAttr(context, format);
  auto i64 = [&](int64_t value) { return builder.getI64IntegerAttr(value); };
  for (onnx::GatherOp gather : tied.gathers) {
    builder.setInsertionPoint(gather);
    OperationState state(gather.getLoc(),
                         onnx::GatherBlockQuantizedOp::getOperationName());
    state.addOperands({codes, gather.getIndices(), scales, packedZeros});
    state.addTypes(gather.getOutput().getType());
    state.addAttribute("gather_axis", i64(0));
    state.addAttribute("quantize_axis", i64(1));
    state.addAttribute("block_size", i64(format.groupSize));
    state.addAttribute("bits", i64(format.bits));
    gather.getOutput().replaceAllUsesWith(builder.create(state)->getResult(0));
    gather.erase();
  }
  for (auto [transpose, matmul] : tied.heads) {
    builder.setInsertionPoint(matmul);
    Value head = QLinearOp::create(
                     builder, matmul.getLoc(), matmul->getResult(0).getType(),
                     matmul.getA(), codes, scales, zeros, formatAttr)
                     .getOutput();
    matmul->getResult(0).replaceAllUsesWith(head);
    matmul.erase();
    if (transpose->use_empty())
      transpose.erase();
  }
  tied.table.erase();
  return success();
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
    std::vector<TiedTable> tiedTables;
    if (tiedHead)
      tiedTables = findTiedTables(module);
    for (TiedTable &tied : tiedTables)
      if (failed(quantizeTiedTable(tied, format)))
        return signalPassFailure();
    FailureOr<std::vector<LinearLayer>> layers =
        selectLinearLayers(module, include, exclude, "qaf-quantize-weights");
    if (failed(layers))
      return signalPassFailure();
    if (layers->empty() && shipped.empty() && tiedTables.empty())
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
