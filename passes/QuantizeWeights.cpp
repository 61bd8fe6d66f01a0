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

#include "qaf/Quant/Quantizer.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Threading.h"
#include "llvm/Support/Regex.h"

namespace qaf {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// One linear layer to quantize: y = x · W (+ bias) with W read as a
/// d_out × d_in matrix view of the constant's bytes.
struct LinearLayer {
  Operation *op;
  Value input, bias;
  onnx::ConstantOp weight;
  std::string name;
  /// Whether the constant is stored [N, K] (Gemm transB = 1) rather than
  /// ONNX MatMul's [K, N].
  bool outputMajor = false;
  int64_t k = 0, n = 0;
  // Filled in parallel.
  std::vector<char> storage;
  llvm::Expected<quant::QuantizedMatrix> result =
      llvm::createStringError("not quantized");
};

/// Whether `value` only flows to the function's results through ops that
/// move data without computing (the output head: logits).
bool reachesReturn(Value value) {
  for (Operation *user : value.getUsers()) {
    if (isa<func::ReturnOp>(user))
      return true;
    if (isa<onnx::ReshapeOp, onnx::SqueezeOp, onnx::UnsqueezeOp, onnx::CastOp,
            onnx::IdentityOp>(user) &&
        reachesReturn(user->getResult(0)))
      return true;
  }
  return false;
}

/// Whether the weight is also an embedding table (tied embeddings).
bool isEmbedding(onnx::ConstantOp weight) {
  return llvm::any_of(weight->getUsers(), [](Operation *user) {
    return isa<onnx::GatherOp>(user);
  });
}

/// A float32 2-D constant weight, or null.
onnx::ConstantOp getWeightConstant(Value value) {
  auto constant = value.getDefiningOp<onnx::ConstantOp>();
  if (!constant)
    return nullptr;
  auto type = cast<ShapedType>(constant.getValue().getType());
  if (type.getRank() != 2 || !type.getElementType().isF32())
    return nullptr;
  return constant;
}

std::optional<LinearLayer> matchLinearLayer(Operation *op) {
  LinearLayer layer;
  layer.op = op;
  if (auto matmul = dyn_cast<onnx::MatMulOp>(op)) {
    layer.input = matmul.getA();
    layer.weight = getWeightConstant(matmul.getB());
  } else if (auto gemm = dyn_cast<onnx::GemmOp>(op)) {
    // Other Gemms (scaled, transposed A, scaled C) stay float.
    if (gemm.getTransA() != 0 || gemm.getAlpha().convertToFloat() != 1.0f ||
        gemm.getBeta().convertToFloat() != 1.0f)
      return std::nullopt;
    layer.input = gemm.getA();
    layer.weight = getWeightConstant(gemm.getB());
    layer.outputMajor = gemm.getTransB() != 0;
    if (!isa<NoneType>(gemm.getC().getType()))
      layer.bias = gemm.getC();
  } else {
    return std::nullopt;
  }
  if (!layer.weight)
    return std::nullopt;
  auto inputType = dyn_cast<RankedTensorType>(layer.input.getType());
  if (!inputType || inputType.getRank() < 1 ||
      !inputType.getElementType().isF32())
    return std::nullopt;
  ArrayRef<int64_t> shape =
      cast<ShapedType>(layer.weight.getValue().getType()).getShape();
  layer.k = layer.outputMajor ? shape[1] : shape[0];
  layer.n = layer.outputMajor ? shape[0] : shape[1];
  if (!ShapedType::isDynamic(inputType.getShape().back()) &&
      inputType.getShape().back() != layer.k)
    return std::nullopt;
  layer.name = getWeightName(layer.weight);
  return layer;
}

/// A static-shape resource constant holding `data`.
template <typename T>
Value createBlob(OpBuilder &builder, StringRef name, ArrayRef<int64_t> shape,
                 Type elementType, ArrayRef<T> data) {
  auto type = RankedTensorType::get(shape, elementType);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(data);
  return createWeightConstant(builder, name, type, std::move(blob));
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
    llvm::Regex includeRegex(include), excludeRegex(exclude);
    std::string regexError;
    if ((!include.empty() && !includeRegex.isValid(regexError)) ||
        (!exclude.empty() && !excludeRegex.isValid(regexError))) {
      emitError(module.getLoc())
          << "qaf-quantize-weights: bad regex: " << regexError;
      return signalPassFailure();
    }

    // Select the layers.
    std::vector<LinearLayer> layers;
    module.walk([&](Operation *op) {
      std::optional<LinearLayer> layer = matchLinearLayer(op);
      if (!layer)
        return;
      bool selected = include.empty() ? !reachesReturn(op->getResult(0)) &&
                                            !isEmbedding(layer->weight)
                                      : includeRegex.match(layer->name);
      if (!exclude.empty() && excludeRegex.match(layer->name))
        selected = false;
      if (selected)
        layers.push_back(std::move(*layer));
    });
    for (LinearLayer &layer : layers)
      if (llvm::Error error = quant::verifyFormat(format, layer.k)) {
        layer.op->emitError()
            << "cannot quantize weight '" << layer.name << "' (" << layer.k
            << " x " << layer.n << "): " << llvm::toString(std::move(error));
        return signalPassFailure();
      }

    // Quantize in parallel: each layer reads its own weight bytes.
    parallelForEach(&getContext(), layers, [&](LinearLayer &layer) {
      std::string error;
      FailureOr<ArrayRef<char>> bytes =
          getElementsBytes(layer.weight.getValue(), layer.storage,
                           SubByteLayout::BytePerElement, error);
      if (failed(bytes)) {
        layer.result = llvm::createStringError(error);
        return;
      }
      const float *data = reinterpret_cast<const float *>(bytes->data());
      quant::MatrixView view =
          layer.outputMajor
              ? quant::MatrixView::rowMajor(data, layer.n, layer.k)
              : quant::MatrixView::transposed(data, layer.n, layer.k);
      layer.result = quant::quantize(view, format);
    });

    MLIRContext *context = &getContext();
    auto formatAttr = QuantFormatAttr::get(
        context, bits, groupSize, static_cast<QuantScheme>(*parsedScheme));
    Type f32 = Float32Type::get(context);
    Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);
    for (LinearLayer &layer : layers) {
      if (!layer.result) {
        layer.op->emitError()
            << "cannot quantize weight '" << layer.name
            << "': " << llvm::toString(layer.result.takeError());
        return signalPassFailure();
      }
      quant::QuantizedMatrix &matrix = *layer.result;
      OpBuilder builder(layer.op);
      std::vector<uint8_t> packed = quant::packCodes(matrix.codes, bits);
      int64_t groups = matrix.getNumGroups();
      Value codes =
          createBlob<uint8_t>(builder, layer.name + ".qcodes",
                              {layer.n, layer.k * bits / 8}, ui8, packed);
      Value scales = createBlob<float>(builder, layer.name + ".scales",
                                       {layer.n, groups}, f32, matrix.scales);
      Value zeros;
      if (format.scheme != quant::Scheme::NormalFloat)
        zeros = createBlob<float>(builder, layer.name + ".zero_points",
                                  {layer.n, groups}, f32, matrix.zeros);
      auto inputType = cast<RankedTensorType>(layer.input.getType());
      SmallVector<int64_t> resultShape(inputType.getShape());
      resultShape.back() = layer.n;
      auto resultType = RankedTensorType::get(resultShape, f32);
      Value output =
          QLinearOp::create(builder, layer.op->getLoc(), resultType,
                            layer.input, codes, scales, zeros, formatAttr)
              .getOutput();
      if (layer.bias)
        output = onnx::AddOp::create(builder, layer.op->getLoc(), resultType,
                                     output, layer.bias)
                     .getC();
      Value original = layer.op->getResult(0);
      if (original.getType() != output.getType())
        original.setType(output.getType());
      original.replaceAllUsesWith(output);
      onnx::ConstantOp weight = layer.weight;
      layer.op->erase();
      if (weight->use_empty())
        weight->erase();
    }
  }
};

} // namespace
