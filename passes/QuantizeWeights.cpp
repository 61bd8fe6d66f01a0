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

/// A tied embedding: one float table read by the embedding's onnx.Gather
/// (axis 0) and by the head's onnx.MatMul (y = x · Eᵀ), one of the two
/// through a Transpose. It is stored either as E [V, H] (torch's exports:
/// the Gather reads it, the head its Transpose) or as Eᵀ [H, V] (ORT GenAI's
/// fp32 builder: the head reads it, the Gather its Transpose).
struct TiedTable {
  onnx::ConstantOp table;
  /// Whether `table` is Eᵀ [H, V].
  bool storedTransposed = false;
  SmallVector<onnx::GatherOp> gathers;
  SmallVector<onnx::MatMulOp> heads;
  SmallVector<onnx::TransposeOp> transposes;
};

std::vector<TiedTable> findTiedTables(ModuleOp module) {
  std::vector<TiedTable> tied;
  module.walk([&](onnx::ConstantOp constant) {
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    if (!type || type.getRank() != 2 || !type.getElementType().isF32())
      return;
    // The readers of the table and of its Transposes, by role.
    SmallVector<onnx::GatherOp> gathers, transposedGathers;
    SmallVector<onnx::MatMulOp> heads, transposedHeads;
    SmallVector<onnx::TransposeOp> transposes;
    // Sorts `reader` of `value` into `gatherList` or `headList`; false for
    // any other reader.
    auto classify = [](Operation *reader, Value value,
                       SmallVector<onnx::GatherOp> &gatherList,
                       SmallVector<onnx::MatMulOp> &headList) {
      if (auto gather = dyn_cast<onnx::GatherOp>(reader);
          gather && gather.getData() == value && gather.getAxis() == 0) {
        gatherList.push_back(gather);
        return true;
      }
      if (auto matmul = dyn_cast<onnx::MatMulOp>(reader);
          matmul && matmul.getB() == value && matmul.getA() != value) {
        headList.push_back(matmul);
        return true;
      }
      return false;
    };
    for (Operation *user : constant->getUsers()) {
      if (classify(user, constant.getOutput(), gathers, heads))
        continue;
      auto transpose = dyn_cast<onnx::TransposeOp>(user);
      std::optional<ArrayRef<int64_t>> perm =
          transpose ? transpose.getPerm() : std::nullopt;
      if (!transpose || (perm && *perm != ArrayRef<int64_t>{1, 0}))
        return;
      for (Operation *reader : transpose->getUsers())
        if (!classify(reader, transpose.getTransposed(), transposedGathers,
                      transposedHeads))
          return;
      transposes.push_back(transpose);
    }
    bool embeddingMajor = !gathers.empty() && !transposedHeads.empty() &&
                          heads.empty() && transposedGathers.empty();
    bool headMajor = !heads.empty() && !transposedGathers.empty() &&
                     gathers.empty() && transposedHeads.empty();
    if (embeddingMajor)
      tied.push_back({constant, false, gathers, transposedHeads, transposes});
    else if (headMajor)
      tied.push_back({constant, true, transposedGathers, heads, transposes});
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
  int64_t v = shape[tied.storedTransposed ? 1 : 0];
  int64_t h = shape[tied.storedTransposed ? 0 : 1];
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
  const float *values = reinterpret_cast<const float *>(bytes->data());
  llvm::Expected<quant::QuantizedMatrix> matrix = quant::quantize(
      tied.storedTransposed ? quant::MatrixView::transposed(values, v, h)
                            : quant::MatrixView::rowMajor(values, v, h),
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
           << "-bit zero points do not fill whole bytes (choose its format "
              "with tied-head-bits and tied-head-group-size)";

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
  for (onnx::MatMulOp matmul : tied.heads) {
    builder.setInsertionPoint(matmul);
    Value head = QLinearOp::create(
                     builder, matmul.getLoc(), matmul->getResult(0).getType(),
                     matmul.getA(), codes, scales, zeros, formatAttr)
                     .getOutput();
    matmul->getResult(0).replaceAllUsesWith(head);
    matmul.erase();
  }
  for (onnx::TransposeOp transpose : tied.transposes)
    transpose.erase();
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
    // Layers that stay MatMulNBits (see raiseMatMulNBits) compile as they
    // are; this pass has no float weight of theirs to quantize.
    for (onnx::MatMulNBitsOp op : shipped) {
      std::string whyLeft;
      if (failed(raiseMatMulNBits(op, whyLeft)))
        return signalPassFailure();
    }
    quant::QuantFormat tiedFormat = format;
    if (tiedHeadBits != 0)
      tiedFormat.bits = tiedHeadBits;
    if (tiedHeadGroupSize != 0)
      tiedFormat.groupSize = tiedHeadGroupSize;
    if ((tiedHeadBits != 0 || tiedHeadGroupSize != 0) &&
        failed(checkQuantFormatOptions(module.getLoc(),
                                       "qaf-quantize-weights (tied-head-bits, "
                                       "tied-head-group-size)",
                                       tiedFormat)))
      return signalPassFailure();
    std::vector<TiedTable> tiedTables;
    if (tiedHead)
      tiedTables = findTiedTables(module);
    for (TiedTable &tied : tiedTables)
      if (failed(quantizeTiedTable(tied, tiedFormat)))
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
