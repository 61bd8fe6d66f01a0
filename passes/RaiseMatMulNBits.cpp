//===- RaiseMatMulNBits.cpp - MatMulNBits weights as qaf.qlinear ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// ONNX Runtime GenAI's int4 models store every linear layer as
// com.microsoft.MatMulNBits. Raising them to qaf.qlinear (the inverse of
// qaf-lower-qlinear-to-onnx) lets the quantized base be fine-tuned as it
// is: the packed codes keep their bytes (MatMulNBits and qaf pack codes the
// same way, first code in the lowest bits; the blob itself, reshaped), the
// scales their values, and the zero points their values (uint8 packed or
// float in, f32 out; absent means ONNX Runtime's 2^(bits - 1)). Nothing is
// dequantized. raiseMatMulNBits is the one implementation: this pass and
// qaf-quantize-weights (which adopts such layers before quantizing the
// float ones) both call it.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "llvm/Support/MathExtras.h"

#include <cstring>

namespace qaf {
#define GEN_PASS_DEF_RAISEMATMULNBITSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// `value`'s defining onnx.Constant if it is one whose element type is
/// `elementType` and which holds `count` elements; otherwise null with the
/// reason in `why`.
onnx::ConstantOp getConstantOperand(Value value, Type elementType,
                                    int64_t count, std::string &why) {
  auto constant = value.getDefiningOp<onnx::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!constant)
    why = "is not a constant";
  else if (!type || type.getElementType() != elementType)
    why = "is not of the expected element type";
  else if (!type.hasStaticShape() || type.getNumElements() != count)
    why = "has an unexpected size";
  else
    return constant;
  return onnx::ConstantOp();
}

bool isF32Tensor(Value value) {
  return cast<ShapedType>(value.getType()).getElementType().isF32();
}

} // namespace

FailureOr<bool> qaf::raiseMatMulNBits(onnx::MatMulNBitsOp op,
                                      std::string &whyLeft) {
  auto leave = [&](const Twine &why) {
    whyLeft = why.str();
    return false;
  };
  MLIRContext *context = op.getContext();
  int64_t k = static_cast<int64_t>(op.getK());
  int64_t n = static_cast<int64_t>(op.getN());
  int64_t bits = static_cast<int64_t>(op.getBits());
  int64_t block = static_cast<int64_t>(op.getBlockSize());
  auto isNone = [](Value value) { return isa<NoneType>(value.getType()); };
  // 2, 4 and 8 bits pack alike in both (whole codes per byte).
  if (bits != 2 && bits != 4 && bits != 8)
    return leave("bits " + Twine(bits) + " has no qaf.qlinear form");
  if (block <= 0 || k % block != 0)
    return leave("K (" + Twine(k) + ") is not a multiple of block_size (" +
                 Twine(block) + ")");
  if (!isNone(op.getGIdx()) || !isNone(op.getBias()))
    return leave("g_idx and bias are not raised");
  if (!isa<RankedTensorType>(op.getA().getType()) || !isF32Tensor(op.getA()) ||
      !isF32Tensor(op.getY()))
    return leave("the input is not a ranked float32 tensor");
  int64_t blocks = k / block;
  Type f32 = Float32Type::get(context);
  Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);

  std::string why;
  onnx::ConstantOp codes =
      getConstantOperand(op.getB(), ui8, n * k * bits / 8, why);
  if (!codes)
    return leave("B " + Twine(why));
  onnx::ConstantOp scales =
      getConstantOperand(op.getScales(), f32, n * blocks, why);
  if (!scales)
    return leave("scales " + Twine(why));
  // Named like qaf-quantize-weights' layers (<weight>.qcodes, .scales,
  // .zero_points): a MatMulNBits that qaf exported reads "<weight>.qcodes".
  std::string codesName = getWeightName(codes, "weight");
  std::string name = StringRef(codesName).rsplit(".qcodes").first.str();
  std::vector<float> zeroValues(n * blocks, float(int64_t(1) << (bits - 1)));
  onnx::ConstantOp zeros;
  if (!isNone(op.getZeroPoints())) {
    Type zeroType =
        cast<ShapedType>(op.getZeroPoints().getType()).getElementType();
    // Float, one per block, or codes packed like B: a row of
    // ceil(blocks · bits / 8) bytes per output.
    int64_t rowBytes = llvm::divideCeil(blocks * bits, 8);
    if (zeroType != f32 && zeroType != ui8)
      return leave("zero_points are neither packed uint8 nor float32");
    zeros =
        getConstantOperand(op.getZeroPoints(), zeroType,
                           zeroType == f32 ? n * blocks : n * rowBytes, why);
    if (!zeros)
      return leave("zero_points " + Twine(why));
    std::vector<char> storage;
    std::string error;
    FailureOr<ArrayRef<char>> bytes = getElementsBytes(
        zeros.getValue(), storage, SubByteLayout::BytePerElement, error);
    if (failed(bytes))
      return op.emitOpError() << "zero points of '" << name << "': " << error;
    if (zeroType == f32) {
      std::memcpy(zeroValues.data(), bytes->data(), bytes->size());
    } else {
      for (int64_t row = 0; row < n; ++row) {
        std::vector<uint8_t> rowCodes = quant::unpackCodes(
            ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(bytes->data()) +
                                  row * rowBytes,
                              rowBytes),
            bits, blocks);
        for (int64_t group = 0; group < blocks; ++group)
          zeroValues[row * blocks + group] = rowCodes[group];
      }
    }
  }

  OpBuilder builder(op);
  quant::QuantFormat format{static_cast<unsigned>(bits), block,
                            quant::Scheme::Asymmetric};
  Value qcodes =
      createReshapedConstant(builder, codes, {n, k * bits / 8}, codesName);
  Value qscales = createReshapedConstant(builder, scales, {n, blocks},
                                         getWeightName(scales, "scales"));
  Value qzeros = createBlobConstant<float>(builder, name + ".zero_points",
                                           {n, blocks}, f32, zeroValues);
  auto layer = QLinearOp::create(builder, op.getLoc(), op.getY().getType(),
                                 op.getA(), qcodes, qscales, qzeros,
                                 getQuantFormatAttr(context, format));
  if (op.getAccuracyLevel() != 0)
    layer->setAttr(kOrtAccuracyLevelAttr,
                   builder.getI64IntegerAttr(op.getAccuracyLevel()));
  op.getY().replaceAllUsesWith(layer.getOutput());
  op.erase();
  for (onnx::ConstantOp constant : {codes, scales, zeros})
    if (constant && constant->use_empty())
      constant.erase();
  return true;
}

namespace {

struct RaiseMatMulNBitsPass
    : qaf::impl::RaiseMatMulNBitsPassBase<RaiseMatMulNBitsPass> {
  void runOnOperation() override {
    SmallVector<onnx::MatMulNBitsOp> layers;
    getOperation().walk([&](onnx::MatMulNBitsOp op) { layers.push_back(op); });
    for (onnx::MatMulNBitsOp op : layers) {
      std::string whyLeft;
      Location loc = op.getLoc();
      FailureOr<bool> raised = raiseMatMulNBits(op, whyLeft);
      if (failed(raised))
        return signalPassFailure();
      // A layer left as it is still lowers as MatMulNBits.
      if (!*raised)
        emitRemark(loc) << "left as MatMulNBits: " << whyLeft;
    }
  }
};

} // namespace
