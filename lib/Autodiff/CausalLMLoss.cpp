//===- CausalLMLoss.cpp - the causal language-modelling loss --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Autodiff/CausalLMLoss.h"

#include "ONNXGraphBuilder.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include <limits>

using namespace mlir;

namespace qaf {

FailureOr<CausalLMLoss> buildCausalLMLoss(OpBuilder &builder, Location loc,
                                          Value logits, Value labels,
                                          StringRef reduction,
                                          int64_t ignoreIndex) {
  auto logitsType = dyn_cast<RankedTensorType>(logits.getType());
  auto labelsType = dyn_cast<RankedTensorType>(labels.getType());
  if (!logitsType || logitsType.getRank() != 3 ||
      !isa<FloatType>(logitsType.getElementType()))
    return emitError(loc, "the causal-LM loss needs float logits of rank 3 "
                          "(batch, sequence, vocabulary), got ")
           << logits.getType();
  if (!labelsType || labelsType.getRank() != 2 ||
      !labelsType.getElementType().isSignlessInteger() ||
      (labelsType.getElementType().getIntOrFloatBitWidth() != 32 &&
       labelsType.getElementType().getIntOrFloatBitWidth() != 64))
    return emitError(loc, "the causal-LM loss needs int32/int64 labels of "
                          "rank 2 (batch, sequence), got ")
           << labels.getType();
  if (reduction != "mean" && reduction != "sum")
    return emitError(loc, "the causal-LM loss reduction must be \"mean\" or "
                          "\"sum\", got \"")
           << reduction << "\"";

  ONNXGraphBuilder graph(builder, loc);
  Value sequenceAxis = graph.createI64Vector({1});
  Value none = onnx::NoValueOp::create(builder, loc, builder.getNoneType());
  // logits[:, :-1] and labels[:, 1:].
  Value predicting = graph.create<onnx::SliceOp>(
      {logits, graph.createI64Vector({0}), graph.createI64Vector({-1}),
       sequenceAxis, none});
  Value targets = graph.create<onnx::SliceOp>(
      {labels, graph.createI64Vector({1}),
       graph.createI64Vector({std::numeric_limits<int64_t>::max()}),
       sequenceAxis, none});
  Value scores = graph.create<onnx::TransposeOp>(
      {predicting},
      {builder.getNamedAttr("perm", builder.getDenseI64ArrayAttr({0, 2, 1}))});
  if (graph.failed())
    return failure();

  // Two results (loss, log_prob): built here, typed by its shape inference.
  Type placeholder = UnrankedTensorType::get(logitsType.getElementType());
  auto loss = onnx::SoftmaxCrossEntropyLossOp::create(
      builder, loc, TypeRange{placeholder, placeholder},
      ValueRange{scores, targets, none},
      {builder.getNamedAttr("ignore_index",
                            builder.getI64IntegerAttr(ignoreIndex)),
       builder.getNamedAttr("reduction", builder.getStringAttr(reduction))});
  if (failed(loss.inferShapes()))
    return failure();

  auto targetsType = RankedTensorType::get({}, labelsType.getElementType());
  Value ignored = onnx::ConstantOp::create(
      builder, loc, targetsType,
      DenseElementsAttr::get(
          targetsType,
          builder.getIntegerAttr(labelsType.getElementType(), ignoreIndex)));
  Value counted = graph.create<onnx::NotOp>(
      {graph.create<onnx::EqualOp>({targets, ignored})});
  Value tokenCount = graph.create<onnx::ReduceSumOp>(
      {graph.create<onnx::CastOp>(
           {counted}, {builder.getNamedAttr(
                          "to", builder.getI64IntegerAttr(static_cast<int64_t>(
                                    onnx::DataType::Int64)))}),
       graph.createI64Vector({0, 1})},
      {builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0))});
  if (graph.failed())
    return failure();
  return CausalLMLoss{loss.getOutput(), tokenCount};
}

} // namespace qaf
