//===- LowerQLinearToONNX.cpp - quantized layers as ONNX operators --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Both forms compute exactly x · (s·(q − z))ᵀ, qaf.qlinear's semantics
// (checked against ONNX Runtime 1.30, DESIGN.md): the exported model runs
// the same weights, not an approximation of them.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/Quant/Quantizer.h"
#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstdint>

namespace qaf {
#define GEN_PASS_DEF_LOWERQLINEARTOONNXPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// The constant a weight operand comes from, with its bytes.
struct ConstantWeight {
  onnx::ConstantOp op;
  std::string name;
  std::vector<char> storage;
  ArrayRef<char> bytes;
};

FailureOr<ConstantWeight> readConstant(QLinearOp layer, Value value,
                                       StringRef role) {
  ConstantWeight weight;
  weight.op = value.getDefiningOp<onnx::ConstantOp>();
  if (!weight.op)
    return layer.emitOpError()
           << "cannot be exported: its " << role
           << " are not a constant (export before outlining weights)";
  weight.name = getWeightName(weight.op, role);
  std::string error;
  FailureOr<ArrayRef<char>> bytes =
      getElementsBytes(weight.op.getValue(), weight.storage,
                       SubByteLayout::BytePerElement, error);
  if (failed(bytes))
    return layer.emitOpError() << "cannot be exported: " << role << " '"
                               << weight.name << "': " << error;
  weight.bytes = *bytes;
  return weight;
}

/// Codes one per byte, from the packed rows of a [N, K·bits/8] tensor.
std::vector<uint8_t> unpackRows(ArrayRef<char> packed, unsigned bits, int64_t n,
                                int64_t k) {
  return quant::unpackCodes(
      ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(packed.data()),
                        packed.size()),
      bits, n * k);
}

struct LowerQLinearToONNXPass
    : qaf::impl::LowerQLinearToONNXPassBase<LowerQLinearToONNXPass> {
  using Base::Base;

  void runOnOperation() override {
    if (format != "matmulnbits" && format != "dequantizelinear") {
      emitError(getOperation().getLoc())
          << "qaf-lower-qlinear-to-onnx: unknown format '" << format
          << "' (matmulnbits or dequantizelinear)";
      return signalPassFailure();
    }
    if (zeroPointForm != "auto" && zeroPointForm != "uint8" &&
        zeroPointForm != "float") {
      emitError(getOperation().getLoc())
          << "qaf-lower-qlinear-to-onnx: unknown zero-points form '"
          << zeroPointForm << "' (auto, uint8 or float)";
      return signalPassFailure();
    }
    SmallVector<QLinearOp> layers;
    getOperation().walk([&](QLinearOp op) { layers.push_back(op); });
    for (QLinearOp layer : layers) {
      // The export reads scales and zero points as f32 (what the quantizer
      // writes); other float types are refused rather than misread.
      auto isF32 = [](Value value) {
        return !value ||
               cast<ShapedType>(value.getType()).getElementType().isF32();
      };
      if (!isF32(layer.getScales()) || !isF32(layer.getZeroPoints())) {
        layer.emitOpError("cannot be exported: its scales and zero points "
                          "must be f32");
        return signalPassFailure();
      }
      if (layer.getFormat().getScheme() == QuantScheme::NormalFloat) {
        layer.emitOpError("cannot be exported: nf weights are codebook "
                          "values, which neither MatMulNBits nor "
                          "DequantizeLinear expresses");
        return signalPassFailure();
      }
      OpBuilder builder(layer);
      FailureOr<Value> lowered = format == "matmulnbits"
                                     ? lowerToMatMulNBits(builder, layer)
                                     : lowerToDequantizeLinear(builder, layer);
      if (failed(lowered))
        return signalPassFailure();
      layer.replaceAllUsesWith(*lowered);
      SmallVector<Operation *> producers;
      for (Value operand : layer->getOperands())
        if (Operation *producer = operand.getDefiningOp())
          producers.push_back(producer);
      layer.erase();
      for (Operation *producer : producers)
        if (producer->use_empty() && isa<onnx::ConstantOp>(producer))
          producer->erase();
    }
  }

  FailureOr<Value> lowerToMatMulNBits(OpBuilder &builder, QLinearOp layer) {
    QuantFormatAttr format = layer.getFormat();
    int64_t bits = format.getBits(), block = format.getGroupSize();
    auto codesType = cast<RankedTensorType>(layer.getCodes().getType());
    int64_t n = codesType.getShape()[0];
    int64_t k = codesType.getShape()[1] * 8 / bits;
    if (block < 16 || !llvm::isPowerOf2_64(block))
      return layer.emitOpError("cannot be exported as MatMulNBits: its group "
                               "size ")
             << block
             << " is not a power of two >= 16 (use the dequantizelinear "
                "format)";
    int64_t blocks = k / block;
    auto codes = layer.getCodes().getDefiningOp<onnx::ConstantOp>();
    auto scales = layer.getScales().getDefiningOp<onnx::ConstantOp>();
    auto zeros = layer.getZeroPoints().getDefiningOp<onnx::ConstantOp>();
    if (!codes || !scales || !zeros)
      return layer.emitOpError("cannot be exported: its codes, scales and "
                               "zero points must be constants (export "
                               "before outlining weights)");
    std::string name = getWeightName(codes, "weight");
    StringRef base = StringRef(name).rsplit(".qcodes").first;

    // 3-bit codes go into a 4-bit container (2/4/8 are MatMulNBits' own).
    int64_t storedBits = bits == 3 ? 4 : bits;
    Value packedCodes;
    SmallVector<int64_t> blobShape = {n, blocks, block * storedBits / 8};
    if (storedBits == bits) {
      packedCodes = createReshapedConstant(builder, codes, blobShape, name);
    } else {
      FailureOr<ConstantWeight> read = readConstant(layer, codes, "codes");
      if (failed(read))
        return failure();
      std::vector<uint8_t> repacked =
          quant::packCodes(unpackRows(read->bytes, bits, n, k), storedBits);
      packedCodes = createBlobConstant<uint8_t>(
          builder, (base + ".qcodes4").str(), blobShape,
          IntegerType::get(builder.getContext(), 8, IntegerType::Unsigned),
          repacked);
    }
    Value flatScales = createReshapedConstant(builder, scales, {n * blocks},
                                              (base + ".scales").str());
    Value none =
        onnx::NoValueOp::create(builder, layer.getLoc(), builder.getNoneType());
    FailureOr<Value> zeroPoints =
        buildZeroPoints(builder, layer, zeros, base, n, blocks, storedBits);
    if (failed(zeroPoints))
      return failure();
    auto i64 = [&](int64_t value) { return builder.getI64IntegerAttr(value); };
    OperationState state(layer.getLoc(),
                         onnx::MatMulNBitsOp::getOperationName());
    state.addOperands({layer.getInput(), packedCodes, flatScales,
                       *zeroPoints ? *zeroPoints : none, none, none});
    state.addTypes(layer.getType());
    state.addAttribute("K", i64(k));
    state.addAttribute("N", i64(n));
    state.addAttribute("bits", i64(storedBits));
    state.addAttribute("block_size", i64(block));
    if (auto accuracy =
            layer->getAttrOfType<IntegerAttr>(kOrtAccuracyLevelAttr))
      state.addAttribute("accuracy_level", accuracy);
    return builder.create(state)->getResult(0);
  }

  /// MatMulNBits' zero-point operand, in the form `zero-points` asks for:
  /// uint8 codes packed like B's, (N, ceil(blocks · bits / 8)) bytes; null
  /// (no operand) when every zero point is ONNX Runtime's default
  /// 2^(bits − 1); or the f32 zero points as they are. ONNX Runtime (1.30)
  /// takes float zero points only for 2 and 4 bits, and runs them on a much
  /// slower path (bench/results/ort_zero_points.md), so `auto` keeps them
  /// only where some are fractional (merged adapters leave such).
  FailureOr<Value> buildZeroPoints(OpBuilder &builder, QLinearOp layer,
                                   onnx::ConstantOp zeros, StringRef base,
                                   int64_t n, int64_t blocks, int64_t bits) {
    FailureOr<ConstantWeight> read =
        readConstant(layer, layer.getZeroPoints(), "zero points");
    if (failed(read))
      return failure();
    ArrayRef<float> values(reinterpret_cast<const float *>(read->bytes.data()),
                           n * blocks);
    int64_t maxCode = (int64_t(1) << bits) - 1;
    auto isCode = [&](float zero) {
      return zero == std::nearbyint(zero) && zero >= 0 &&
             zero <= static_cast<float>(maxCode);
    };
    const float *notCode = llvm::find_if_not(values, isCode);
    bool allCodes = notCode == values.end();
    if (bits != 8 &&
        (zeroPointForm == "float" || (zeroPointForm == "auto" && !allCodes)))
      return createReshapedConstant(builder, zeros, {n * blocks},
                                    (base + ".zero_points").str());
    if (!allCodes) {
      int64_t i = notCode - values.begin();
      InFlightDiagnostic diag = layer.emitOpError();
      diag << "cannot be exported as " << bits
           << "-bit MatMulNBits: zero point " << *notCode << " of row "
           << i / blocks << ", group " << i % blocks << " of '" << base
           << "' is not an integer in [0, " << maxCode << "] (";
      if (bits == 8)
        diag << "ONNX Runtime takes float zero points only for 2 and 4 "
                "bits; use the dequantizelinear format)";
      else
        diag << "uint8 zero points were asked for; fractional ones, which "
                "merges leave, need zero-points=auto or float)";
      return diag;
    }
    float defaultZero = static_cast<float>(int64_t(1) << (bits - 1));
    if (zeroPointForm == "auto" &&
        llvm::all_of(values, [&](float zero) { return zero == defaultZero; }))
      return Value();
    // Each row starts on a byte: pad it to whole bytes of codes.
    int64_t perByte = 8 / bits;
    int64_t rowCodes = llvm::divideCeil(blocks, perByte) * perByte;
    std::vector<uint8_t> codes(n * rowCodes, 0);
    for (int64_t row = 0; row < n; ++row)
      for (int64_t block = 0; block < blocks; ++block)
        codes[row * rowCodes + block] =
            static_cast<uint8_t>(values[row * blocks + block]);
    return createBlobConstant<uint8_t>(
        builder, (base + ".zero_points_u8").str(), {n, rowCodes * bits / 8},
        IntegerType::get(builder.getContext(), 8, IntegerType::Unsigned),
        quant::packCodes(codes, bits));
  }

  FailureOr<Value> lowerToDequantizeLinear(OpBuilder &builder,
                                           QLinearOp layer) {
    QuantFormatAttr format = layer.getFormat();
    int64_t bits = format.getBits(), group = format.getGroupSize();
    auto codesType = cast<RankedTensorType>(layer.getCodes().getType());
    int64_t n = codesType.getShape()[0];
    int64_t k = codesType.getShape()[1] * 8 / bits;
    int64_t groups = k / group;
    FailureOr<ConstantWeight> codes =
        readConstant(layer, layer.getCodes(), "codes");
    FailureOr<ConstantWeight> scales =
        readConstant(layer, layer.getScales(), "scales");
    FailureOr<ConstantWeight> zeros =
        readConstant(layer, layer.getZeroPoints(), "zero points");
    if (failed(codes) || failed(scales) || failed(zeros))
      return failure();
    StringRef base = StringRef(codes->name).rsplit(".qcodes").first;
    ArrayRef<float> zeroValues(
        reinterpret_cast<const float *>(zeros->bytes.data()), n * groups);
    ArrayRef<float> scaleValues(
        reinterpret_cast<const float *>(scales->bytes.data()), n * groups);

    // Zero points must be integers; their range picks the integer type.
    int64_t low = 0, high = (1 << bits) - 1;
    for (auto [i, zero] : llvm::enumerate(zeroValues)) {
      if (zero != std::nearbyint(zero))
        return layer.emitOpError("cannot be exported as DequantizeLinear: "
                                 "zero point ")
               << zero << " of row " << i / groups << ", group " << i % groups
               << " is not an integer (merged adapters leave fractional "
                  "zero points; use the matmulnbits format)";
      // int32 is the widest zero point DequantizeLinear takes (compared in
      // double: 2^31 − 1 has no float).
      if (double(zero) < double(INT32_MIN) || double(zero) > double(INT32_MAX))
        return layer.emitOpError("cannot be exported as DequantizeLinear: "
                                 "zero point ")
               << zero << " of row " << i / groups << ", group " << i % groups
               << " is outside int32";
      low = std::min(low, static_cast<int64_t>(zero));
      high = std::max(high, static_cast<int64_t>(zero));
    }
    MLIRContext *context = builder.getContext();
    struct Container {
      unsigned width;
      bool isSigned;
      int64_t min, max;
    };
    static const Container containers[] = {{4, false, 0, 15},
                                           {8, false, 0, 255},
                                           {8, true, -128, 127},
                                           {16, true, -32768, 32767},
                                           {32, true, INT32_MIN, INT32_MAX}};
    const Container *container = nullptr;
    for (const Container &candidate : containers)
      if (low >= candidate.min && high <= candidate.max) {
        container = &candidate;
        break;
      }
    if (!container)
      return layer.emitOpError("cannot be exported as DequantizeLinear: its "
                               "zero points span [")
             << low << ", " << high << "], wider than int32";
    Type intType = IntegerType::get(
        context, container->width,
        container->isSigned ? IntegerType::Signed : IntegerType::Unsigned);

    // [N, K] codes -> [K, N] values; [N, G] scales and zeros -> [G, N].
    std::vector<uint8_t> codeValues = unpackRows(codes->bytes, bits, n, k);
    auto transposed = [&](auto element, ArrayRef<int64_t> shape) {
      using T = decltype(element);
      int64_t rows = shape[0], cols = shape[1];
      return [=](auto at) {
        std::vector<T> out(rows * cols);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c)
            out[c * rows + r] = static_cast<T>(at(r * cols + c));
        return out;
      };
    };
    auto codeAt = [&](int64_t i) { return codeValues[i]; };
    auto zeroAt = [&](int64_t i) { return zeroValues[i]; };
    auto scaleAt = [&](int64_t i) { return scaleValues[i]; };
    Value x, zeroPoint;
    // One element per byte (sub-byte types too: the exporter packs them).
    auto build = [&](auto element) {
      using T = decltype(element);
      std::vector<T> xData = transposed(T(), {n, k})(codeAt);
      std::vector<T> zData = transposed(T(), {n, groups})(zeroAt);
      x = createBlobConstant<T>(builder, (base + ".qcodes_kn").str(), {k, n},
                                intType, xData);
      zeroPoint =
          createBlobConstant<T>(builder, (base + ".zero_points_gn").str(),
                                {groups, n}, intType, zData);
    };
    switch (container->width) {
    case 4:
    case 8:
      if (container->isSigned)
        build(int8_t());
      else
        build(uint8_t());
      break;
    case 16:
      build(int16_t());
      break;
    default:
      build(int32_t());
      break;
    }
    std::vector<float> scaleData = transposed(float(), {n, groups})(scaleAt);
    Value scale = createBlobConstant<float>(
        builder, (base + ".scales_gn").str(), {groups, n},
        Float32Type::get(context), scaleData);
    auto weightType = RankedTensorType::get({k, n}, Float32Type::get(context));
    OperationState dq(layer.getLoc(),
                      onnx::DequantizeLinearOp::getOperationName());
    dq.addOperands({x, scale, zeroPoint});
    dq.addTypes(weightType);
    dq.addAttribute("axis", builder.getI64IntegerAttr(0));
    dq.addAttribute("block_size", builder.getI64IntegerAttr(group));
    Value weight = builder.create(dq)->getResult(0);
    return onnx::MatMulOp::create(builder, layer.getLoc(), layer.getType(),
                                  layer.getInput(), weight)
        .getResult();
  }
};

} // namespace
