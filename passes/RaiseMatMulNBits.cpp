//===- RaiseMatMulNBits.cpp - MatMulNBits weights as qaf.qlinear ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// ONNX Runtime GenAI's int4 models store every linear layer as
// com.microsoft.MatMulNBits. Raising them to qaf.qlinear (the inverse of
// qaf-lower-qlinear-to-onnx) lets the quantized base be fine-tuned as it
// is: the packed codes keep their bytes (MatMulNBits and qaf pack codes the
// same way, first code in the lowest bits), the scales their values, and
// the zero points their values (uint8 packed or float in, f32 out; absent
// means ONNX Runtime's 2^(bits - 1)). Nothing is dequantized.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include <cstring>

namespace qaf {
#define GEN_PASS_DEF_RAISEMATMULNBITSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// The bytes of a constant operand of `type` elements, or failure with the
/// reason in `why`.
FailureOr<ArrayRef<char>> readBytes(Value value, Type elementType,
                                    std::vector<char> &storage,
                                    std::string &why) {
  auto constant = value.getDefiningOp<onnx::ConstantOp>();
  if (!constant) {
    why = "is not a constant";
    return failure();
  }
  if (cast<TensorType>(value.getType()).getElementType() != elementType) {
    why = "is not of the expected element type";
    return failure();
  }
  return getElementsBytes(constant.getValue(), storage,
                          SubByteLayout::BytePerElement, why);
}

struct RaiseMatMulNBitsPass
    : qaf::impl::RaiseMatMulNBitsPassBase<RaiseMatMulNBitsPass> {
  void runOnOperation() override {
    SmallVector<onnx::MatMulNBitsOp> layers;
    getOperation().walk([&](onnx::MatMulNBitsOp op) { layers.push_back(op); });
    for (onnx::MatMulNBitsOp op : layers)
      raise(op);
  }

  /// Raises `op`, or leaves it (it still lowers as MatMulNBits) with a
  /// remark saying why.
  void raise(onnx::MatMulNBitsOp op) {
    auto leave = [&](const Twine &why) {
      op.emitRemark() << "left as MatMulNBits: " << why;
    };
    MLIRContext *context = op.getContext();
    int64_t k = static_cast<int64_t>(op.getK());
    int64_t n = static_cast<int64_t>(op.getN());
    int64_t bits = static_cast<int64_t>(op.getBits());
    int64_t block = static_cast<int64_t>(op.getBlockSize());
    auto isNone = [](Value value) { return isa<NoneType>(value.getType()); };
    if (bits != 2 && bits != 4 && bits != 8)
      return leave("bits " + Twine(bits) + " has no qaf.qlinear form");
    if (block <= 0 || k % block != 0)
      return leave("K (" + Twine(k) + ") is not a multiple of block_size (" +
                   Twine(block) + ")");
    if (!isNone(op.getGIdx()) || !isNone(op.getBias()))
      return leave("g_idx and bias are not raised");
    auto inputType = dyn_cast<RankedTensorType>(op.getA().getType());
    if (!inputType || !inputType.getElementType().isF32())
      return leave("the input is not a ranked float32 tensor");
    int64_t blocks = k / block;
    Type f32 = Float32Type::get(context);
    Type ui8 = IntegerType::get(context, 8, IntegerType::Unsigned);

    std::string why;
    std::vector<char> codeStorage, scaleStorage, zeroStorage;
    FailureOr<ArrayRef<char>> codeBytes =
        readBytes(op.getB(), ui8, codeStorage, why);
    if (failed(codeBytes) || int64_t(codeBytes->size()) != n * k * bits / 8)
      return leave("B " + Twine(why.empty() ? "has an unexpected size" : why));
    FailureOr<ArrayRef<char>> scaleBytes =
        readBytes(op.getScales(), f32, scaleStorage, why);
    if (failed(scaleBytes) ||
        int64_t(scaleBytes->size()) != n * blocks * int64_t(sizeof(float)))
      return leave("scales " +
                   Twine(why.empty() ? "have an unexpected size" : why));

    quant::QuantizedMatrix matrix;
    matrix.rows = n;
    matrix.cols = k;
    matrix.format.bits = bits;
    matrix.format.groupSize = block;
    matrix.format.scheme = quant::Scheme::Asymmetric;
    matrix.codes = quant::unpackCodes(
        ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(codeBytes->data()),
                          codeBytes->size()),
        bits, n * k);
    matrix.scales.resize(n * blocks);
    std::memcpy(matrix.scales.data(), scaleBytes->data(), scaleBytes->size());
    matrix.zeros.assign(n * blocks, float(int64_t(1) << (bits - 1)));
    if (!isNone(op.getZeroPoints())) {
      Type zeroType =
          cast<TensorType>(op.getZeroPoints().getType()).getElementType();
      FailureOr<ArrayRef<char>> zeroBytes =
          readBytes(op.getZeroPoints(), zeroType, zeroStorage, why);
      if (failed(zeroBytes))
        return leave("zero_points " + Twine(why));
      if (zeroType.isF32() &&
          int64_t(zeroBytes->size()) == n * blocks * int64_t(sizeof(float))) {
        std::memcpy(matrix.zeros.data(), zeroBytes->data(), zeroBytes->size());
      } else if (zeroType == ui8) {
        // Packed like B: a row of ceil(blocks · bits / 8) bytes per output.
        int64_t perByte = 8 / bits;
        int64_t rowBytes = (blocks + perByte - 1) / perByte;
        if (int64_t(zeroBytes->size()) != n * rowBytes)
          return leave("zero_points have an unexpected size");
        for (int64_t row = 0; row < n; ++row)
          for (int64_t group = 0; group < blocks; ++group) {
            uint8_t byte = static_cast<uint8_t>(
                (*zeroBytes)[row * rowBytes + group / perByte]);
            matrix.zeros[row * blocks + group] = float(
                (byte >> ((group % perByte) * bits)) & ((1u << bits) - 1));
          }
      } else {
        return leave("zero_points are neither packed uint8 nor float32");
      }
    }

    LinearLayer layer;
    layer.op = op;
    layer.weight = op.getB().getDefiningOp<onnx::ConstantOp>();
    // Named like qaf-quantize-weights' layers (<weight>.qcodes, .scales,
    // .zero_points): a MatMulNBits that qaf exported reads "<weight>.qcodes".
    layer.name =
        StringRef(getWeightName(layer.weight)).rsplit(".qcodes").first.str();
    layer.k = k;
    layer.n = n;
    OpBuilder builder(op);
    Value output = createQuantizedLinear(builder, layer, matrix);
    SmallVector<Operation *> producers;
    for (Value operand : {Value(op.getScales()), Value(op.getZeroPoints())})
      if (Operation *producer = operand.getDefiningOp())
        producers.push_back(producer);
    replaceLinearLayer(layer, output);
    for (Operation *producer : producers)
      if (producer->use_empty())
        producer->erase();
  }
};

} // namespace
