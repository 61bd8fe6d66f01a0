//===- LinearLayers.h - the linear layers graph passes rewrite --*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Quantization, LoftQ and L4Q all start from the same thing: an onnx.MatMul
// (or Gemm) with a constant float weight, chosen by name. This file finds
// them, reads their weights in place, and replaces them.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_PASSES_LINEARLAYERS_H
#define QAF_PASSES_LINEARLAYERS_H

#include "qaf/Interfaces/AdapterOpInterface.h"
#include "qaf/Quant/Quantizer.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Threading.h"

#include <optional>
#include <string>
#include <vector>

namespace qaf {

/// One linear layer y = x · W (+ bias); W is read as a d_out × d_in view.
struct LinearLayer {
  mlir::Operation *op = nullptr;
  /// Whether the op is a Gemm with a bias C.
  bool hasBias = false;
  onnx::ConstantOp weight;
  std::string name;
  /// Whether the constant is stored [N, K] (Gemm transB = 1) rather than
  /// ONNX MatMul's [K, N].
  bool outputMajor = false;
  int64_t k = 0, n = 0;
  /// The activation x (and bias): read from the op when needed, because
  /// rewriting an earlier layer of a chain (x · W1 · W2) replaces the value
  /// this layer reads.
  mlir::Value getInput() const { return op->getOperand(0); }
  mlir::Value getBias() const {
    return hasBias ? op->getOperand(2) : mlir::Value();
  }
  /// Backing store when the weight's bytes are not a blob (small dense
  /// constants).
  std::vector<char> storage;
};

/// The selected float linear layers of `module`, in program order. Without
/// `include` every layer except the output head (a MatMul whose result is
/// returned, possibly through shape-only ops) and tied embeddings (weights
/// an onnx.Gather also reads); with it, the layers whose weight names match.
/// `exclude` removes matches. A bad regex is reported (as `passName`).
mlir::FailureOr<std::vector<LinearLayer>>
selectLinearLayers(mlir::ModuleOp module, llvm::StringRef include,
                   llvm::StringRef exclude, llvm::StringRef passName);

/// The weight as a d_out × d_in view of its bytes (no copy for blobs).
mlir::FailureOr<quant::MatrixView> getWeightView(LinearLayer &layer,
                                                 std::string &error);

/// What a per-layer computation gave: its result, or why it failed.
template <typename T> struct LayerOutcome {
  std::optional<T> result;
  std::string error;
};

/// Runs `compute(weightView) -> llvm::Expected<T>` on every layer in
/// parallel (each reads only its own weight).
template <typename T, typename Compute>
std::vector<LayerOutcome<T>> computeForLayers(mlir::MLIRContext *context,
                                              std::vector<LinearLayer> &layers,
                                              Compute compute) {
  std::vector<LayerOutcome<T>> outcomes(layers.size());
  mlir::parallelFor(context, 0, layers.size(), [&](size_t i) {
    mlir::FailureOr<quant::MatrixView> view =
        getWeightView(layers[i], outcomes[i].error);
    if (mlir::failed(view))
      return;
    llvm::Expected<T> result = compute(*view);
    if (!result)
      outcomes[i].error = llvm::toString(result.takeError());
    else
      outcomes[i].result = std::move(*result);
  });
  return outcomes;
}

/// A static-shape resource constant named `name` holding `data`.
template <typename T>
mlir::Value createBlobConstant(mlir::OpBuilder &builder, llvm::StringRef name,
                               llvm::ArrayRef<int64_t> shape,
                               mlir::Type elementType, llvm::ArrayRef<T> data) {
  auto type = mlir::RankedTensorType::get(shape, elementType);
  return createWeightConstant(
             builder, name, type,
             mlir::HeapAsmResourceBlob::allocateAndCopyInferAlign(data))
      .getOutput();
}

/// On a qaf.qlinear adopted from an ONNX Runtime MatMulNBits: the layer's
/// accuracy_level (how ONNX Runtime may round the activations, e.g. to int8
/// at 4), written back when the layer is exported as MatMulNBits so that the
/// round trip computes what the original file did.
inline constexpr llvm::StringLiteral kOrtAccuracyLevelAttr =
    "qaf.ort_accuracy_level";

/// Raises an ONNX Runtime MatMulNBits layer with constant weights (ORT
/// GenAI's int4 models) to the qaf.qlinear it already is, never dequantized
/// and requantized: the same code bytes (the blob itself, reshaped to
/// [N, K * bits / 8]), the same scales ([N, K / block_size]), its zero points
/// as floats (2^(bits - 1) where the file has none) and its accuracy_level
/// as kOrtAccuracyLevelAttr. Returns false, leaving the op (which compiles
/// as it is) with the reason in `whyLeft`, when qaf.qlinear cannot state it
/// (g_idx, bias, other bits or types, K not a whole number of blocks,
/// non-constant weights); failure (diagnosed) when its zero points cannot
/// be read.
mlir::FailureOr<bool> raiseMatMulNBits(onnx::MatMulNBitsOp op,
                                       std::string &whyLeft);

/// `constant`'s data under another (same-size) shape, as a new constant named
/// `name`: the same resource blob when it is one, so nothing is copied.
mlir::Value createReshapedConstant(mlir::OpBuilder &builder,
                                   onnx::ConstantOp constant,
                                   llvm::ArrayRef<int64_t> shape,
                                   llvm::StringRef name);

/// The dialect attribute of a quantizer format.
QuantFormatAttr getQuantFormatAttr(mlir::MLIRContext *context,
                                   const quant::QuantFormat &format);

/// qaf.qlinear over `matrix` (codes packed, scales, zero points as new blobs
/// named after the layer's weight), built before the layer's op.
mlir::Value createQuantizedLinear(mlir::OpBuilder &builder,
                                  const LinearLayer &layer,
                                  const quant::QuantizedMatrix &matrix);

/// The qaf.qlinear whose output an additive adapter's Δy is added to (by
/// qaf-attach-adapters' onnx.Add, the same input on both), with the Add;
/// nothing when its update goes anywhere else.
std::optional<std::pair<onnx::AddOp, QLinearOp>>
findAdditiveBase(AdapterOpInterface adapter);

/// The layer's result type with N as the last dim.
mlir::RankedTensorType getLayerResultType(const LinearLayer &layer);

/// Replaces the layer's op by `output` (plus its bias, if any) and erases
/// the op and, when nothing else reads it, the float weight.
void replaceLinearLayer(LinearLayer &layer, mlir::Value output);

} // namespace qaf

#endif // QAF_PASSES_LINEARLAYERS_H
