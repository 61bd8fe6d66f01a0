//===- LinearLayers.cpp - the linear layers graph passes rewrite ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LinearLayers.h"

#include "qaf/Support/ElementsBytes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace qaf {

namespace {

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
    layer.weight = getWeightConstant(matmul.getB());
  } else if (auto gemm = dyn_cast<onnx::GemmOp>(op)) {
    // Other Gemms (scaled, transposed A, scaled C) stay float.
    if (gemm.getTransA() != 0 || gemm.getAlpha().convertToFloat() != 1.0f ||
        gemm.getBeta().convertToFloat() != 1.0f)
      return std::nullopt;
    layer.weight = getWeightConstant(gemm.getB());
    layer.outputMajor = gemm.getTransB() != 0;
    if (!isa<NoneType>(gemm.getC().getType()))
      layer.hasBias = true;
  } else {
    return std::nullopt;
  }
  if (!layer.weight)
    return std::nullopt;
  auto inputType = dyn_cast<RankedTensorType>(layer.getInput().getType());
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

} // namespace

FailureOr<std::vector<LinearLayer>> selectLinearLayers(ModuleOp module,
                                                       StringRef include,
                                                       StringRef exclude,
                                                       StringRef passName) {
  llvm::Regex includeRegex(include), excludeRegex(exclude);
  std::string regexError;
  if ((!include.empty() && !includeRegex.isValid(regexError)) ||
      (!exclude.empty() && !excludeRegex.isValid(regexError)))
    return emitError(module.getLoc())
           << passName << ": bad regex: " << regexError;
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
  return layers;
}

FailureOr<quant::MatrixView> getWeightView(LinearLayer &layer,
                                           std::string &error) {
  FailureOr<ArrayRef<char>> bytes =
      getElementsBytes(layer.weight.getValue(), layer.storage,
                       SubByteLayout::BytePerElement, error);
  if (failed(bytes))
    return failure();
  const float *data = reinterpret_cast<const float *>(bytes->data());
  return layer.outputMajor
             ? quant::MatrixView::rowMajor(data, layer.n, layer.k)
             : quant::MatrixView::transposed(data, layer.n, layer.k);
}

QuantFormatAttr getQuantFormatAttr(MLIRContext *context,
                                   const quant::QuantFormat &format) {
  QuantScheme scheme = QuantScheme::Asymmetric;
  switch (format.scheme) {
  case quant::Scheme::Asymmetric:
    scheme = QuantScheme::Asymmetric;
    break;
  case quant::Scheme::Symmetric:
    scheme = QuantScheme::Symmetric;
    break;
  case quant::Scheme::NormalFloat:
    scheme = QuantScheme::NormalFloat;
    break;
  }
  return QuantFormatAttr::get(context, format.bits, format.groupSize, scheme);
}

RankedTensorType getLayerResultType(const LinearLayer &layer) {
  auto inputType = cast<RankedTensorType>(layer.getInput().getType());
  SmallVector<int64_t> shape(inputType.getShape());
  shape.back() = layer.n;
  return RankedTensorType::get(shape, inputType.getElementType());
}

Value createReshapedConstant(OpBuilder &builder, onnx::ConstantOp constant,
                             ArrayRef<int64_t> shape, StringRef name) {
  auto type = RankedTensorType::get(
      shape, cast<ShapedType>(constant.getType()).getElementType());
  ElementsAttr value = constant.getValue();
  Attribute reshaped;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    reshaped = DenseResourceElementsAttr::get(type, resource.getRawHandle());
  else
    reshaped = cast<DenseElementsAttr>(value).reshape(type);
  return onnx::ConstantOp::create(builder,
                                  NameLoc::get(builder.getStringAttr(name)),
                                  type, cast<ElementsAttr>(reshaped))
      .getOutput();
}

Value createQuantizedLinear(OpBuilder &builder, const LinearLayer &layer,
                            const quant::QuantizedMatrix &matrix) {
  MLIRContext *context = builder.getContext();
  const quant::QuantFormat &format = matrix.format;
  Type f32 = Float32Type::get(context);
  Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  int64_t groups = matrix.getNumGroups();
  std::vector<uint8_t> packed = quant::packCodes(matrix.codes, format.bits);
  Value codes = createBlobConstant<uint8_t>(
      builder, layer.name + ".qcodes", {layer.n, layer.k * format.bits / 8},
      ui8, packed);
  Value scales = createBlobConstant<float>(
      builder, layer.name + ".scales", {layer.n, groups}, f32, matrix.scales);
  Value zeros;
  if (format.scheme != quant::Scheme::NormalFloat)
    zeros = createBlobConstant<float>(builder, layer.name + ".zero_points",
                                      {layer.n, groups}, f32, matrix.zeros);
  return QLinearOp::create(builder, layer.op->getLoc(),
                           getLayerResultType(layer), layer.getInput(), codes,
                           scales, zeros, getQuantFormatAttr(context, format))
      .getOutput();
}

void replaceLinearLayer(LinearLayer &layer, Value output) {
  OpBuilder builder(layer.op);
  if (layer.hasBias)
    output = onnx::AddOp::create(builder, layer.op->getLoc(), output.getType(),
                                 output, layer.getBias())
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

std::optional<std::pair<onnx::AddOp, QLinearOp>>
findAdditiveBase(AdapterOpInterface adapter) {
  Value delta = adapter->getResult(0);
  auto add = delta.hasOneUse()
                 ? dyn_cast<onnx::AddOp>(*delta.getUsers().begin())
                 : onnx::AddOp();
  if (add) {
    Value other = add.getA() == delta ? add.getB() : add.getA();
    auto base = other.getDefiningOp<QLinearOp>();
    if (base && base.getInput() == adapter.getAdapterInput())
      return std::make_pair(add, base);
  }
  return std::nullopt;
}

} // namespace qaf
