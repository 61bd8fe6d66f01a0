//===- ShareGroupedKV.cpp - grouped-query attention without repeat_kv -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Exporters spell grouped-query attention's repeat_kv out op by op: each of
// the g key/value heads is copied n times,
//     R = Reshape(Expand(Unsqueeze(kv, [2]), [b, g, n, t, d]), [b, g·n, t, d])
// and the attention multiplies the query heads by R (through a Transpose of
// its last two axes for the keys). Lowered as written, every call copies the
// whole cache n times, per layer and per token. Query head h = i·n + r uses
// key/value head i, so the n query heads of a group are one contiguous run:
//     MatMul(Q, Rᵀ) = Reshape(MatMul(Reshape(Q, [b, g, n·s, d]), kvᵀ),
//                             [b, g·n, s, t])
// and likewise MatMul(P, R) with kv. Both Reshapes move no data.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "ONNXGraphBuilder.h"
#include "RepeatedKV.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Matchers.h"

namespace qaf {
#define GEN_PASS_DEF_SHAREGROUPEDKVPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

std::optional<int64_t> qaf::staticDim(Value value, unsigned d) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || d >= type.getRank() || type.isDynamicDim(d))
    return std::nullopt;
  return type.getDimSize(d);
}

std::optional<RepeatedKV> qaf::matchRepeatedKV(Value repeated) {
  auto reshape = repeated.getDefiningOp<onnx::ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto expand = reshape.getData().getDefiningOp<onnx::ExpandOp>();
  if (!expand)
    return std::nullopt;
  auto unsqueeze = expand.getInput().getDefiningOp<onnx::UnsqueezeOp>();
  if (!unsqueeze)
    return std::nullopt;
  DenseIntElementsAttr axes;
  if (!matchPattern(unsqueeze.getAxes(), m_Constant(&axes)) ||
      axes.getNumElements() != 1 || (*axes.begin()).getSExtValue() != 2)
    return std::nullopt;
  Value kv = unsqueeze.getData();
  auto kvType = dyn_cast<RankedTensorType>(kv.getType());
  auto expandType = dyn_cast<RankedTensorType>(expand.getType());
  auto resultType = dyn_cast<RankedTensorType>(repeated.getType());
  if (!kvType || kvType.getRank() != 4 || !expandType ||
      expandType.getRank() != 5 || !resultType || resultType.getRank() != 4)
    return std::nullopt;
  // The Expand repeats the new axis n times and keeps the others: [b, g, n,
  // t, d] with g and d those of kv (static), and the Reshape merges g and n.
  // b and t are dynamic: every exporter's repeat_kv reads them off kv's own
  // shape, which is what this relies on (an Expand that also broadcast a
  // batch or sequence of 1 is not a repeat_kv).
  std::optional<int64_t> groups = staticDim(kv, 1), depth = staticDim(kv, 3);
  std::optional<int64_t> repeats = staticDim(expand, 2);
  if (!groups || !depth || !repeats || *repeats < 2 ||
      staticDim(expand, 1) != groups || staticDim(expand, 4) != depth ||
      staticDim(repeated, 1) != *groups * *repeats ||
      staticDim(repeated, 3) != depth)
    return std::nullopt;
  return RepeatedKV{kv, *groups, *repeats};
}

namespace {

/// `value` [d0, d1, d2, d3] reshaped to [d0, d1 / n, d2 · n, d3] (to
/// groups) or [d0, d1 · n, d2 / n, d3] (back to heads), typed `type`. The
/// shape is computed from Shape(value) at run time: a -1 could not be
/// inferred when another dimension is 0 (an empty batch or sequence).
Value regroup(OpBuilder &builder, ONNXGraphBuilder &graph, Value value,
              int64_t repeats, bool toGroups, RankedTensorType type) {
  SmallVector<int64_t> merged = {1, 1, 1, 1}, split = {1, 1, 1, 1};
  merged[toGroups ? 2 : 1] = repeats;
  split[toGroups ? 1 : 2] = repeats;
  Value shape = graph.create<onnx::DivOp>(
      {graph.create<onnx::MulOp>({graph.create<onnx::ShapeOp>({value}),
                                  graph.createI64Vector(merged)}),
       graph.createI64Vector(split)});
  if (graph.failed())
    return {};
  return onnx::ReshapeOp::create(builder, value.getLoc(), type, value, shape);
}

/// `type` [d0, d1, d2, d3] regrouped as `regroup` does, dynamic dimensions
/// kept dynamic.
RankedTensorType regroupedType(RankedTensorType type, int64_t repeats,
                               bool toGroups) {
  SmallVector<int64_t> shape(type.getShape());
  auto scale = [&](int64_t d, bool multiply) {
    if (!ShapedType::isDynamic(shape[d]))
      shape[d] = multiply ? shape[d] * repeats : shape[d] / repeats;
  };
  scale(1, !toGroups);
  scale(2, toGroups);
  return RankedTensorType::get(shape, type.getElementType());
}

/// Rewrites MatMul(x, R) and MatMul(x, Transpose(R, [0, 1, 3, 2])) of a
/// repeat_kv R; leaves any other MatMul. On failure, what was built has no
/// users, and the canonicalizer removes it.
void shareRepeatedKV(onnx::MatMulOp matmul) {
  Value rhs = matmul.getB();
  bool transposed = false;
  if (auto transpose = rhs.getDefiningOp<onnx::TransposeOp>()) {
    std::optional<ArrayRef<int64_t>> perm = transpose.getPerm();
    if (!perm || *perm != ArrayRef<int64_t>{0, 1, 3, 2})
      return;
    rhs = transpose.getData();
    transposed = true;
  }
  std::optional<RepeatedKV> repeated = matchRepeatedKV(rhs);
  auto lhsType = dyn_cast<RankedTensorType>(matmul.getA().getType());
  auto resultType = dyn_cast<RankedTensorType>(matmul.getType());
  if (!repeated || !lhsType || lhsType.getRank() != 4 || !resultType ||
      resultType.getRank() != 4 ||
      staticDim(matmul.getA(), 1) != repeated->groups * repeated->repeats)
    return;
  OpBuilder builder(matmul);
  ONNXGraphBuilder graph(builder, matmul.getLoc());
  Value kv = repeated->kv;
  if (transposed)
    kv = graph.create<onnx::TransposeOp>(
        {kv}, {builder.getNamedAttr(
                  "perm", builder.getDenseI64ArrayAttr({0, 1, 3, 2}))});
  int64_t repeats = repeated->repeats;
  Value grouped =
      regroup(builder, graph, matmul.getA(), repeats, /*toGroups=*/true,
              regroupedType(lhsType, repeats, /*toGroups=*/true));
  Value product = graph.create<onnx::MatMulOp>({grouped, kv});
  // Typed as the product it replaces.
  Value result = product ? regroup(builder, graph, product, repeats,
                                   /*toGroups=*/false, resultType)
                         : Value();
  if (graph.failed() || !result)
    return;
  matmul.getResult().replaceAllUsesWith(result);
  matmul.erase();
}

/// Shape(R) of a repeat_kv R that no product reads any more, as Shape(kv) ·
/// [1, n, 1, 1]: attention masks are sliced to the keys' length read off
/// R, which would otherwise keep the copy alive. Failures are left as in
/// shareRepeatedKV.
void shapeFromKV(onnx::ShapeOp shape) {
  std::optional<RepeatedKV> repeated = matchRepeatedKV(shape.getData());
  if (!repeated || shape.getEnd() || shape.getStart() != 0)
    return;
  OpBuilder builder(shape);
  ONNXGraphBuilder graph(builder, shape.getLoc());
  Value kvShape = graph.create<onnx::ShapeOp>({repeated->kv});
  Value result = graph.create<onnx::MulOp>(
      {kvShape, graph.createI64Vector({1, repeated->repeats, 1, 1})});
  if (graph.failed() || result.getType() != shape.getType())
    return;
  shape.getResult().replaceAllUsesWith(result);
  shape.erase();
}

struct ShareGroupedKVPass
    : qaf::impl::ShareGroupedKVPassBase<ShareGroupedKVPass> {
  void runOnOperation() override {
    SmallVector<onnx::MatMulOp> matmuls;
    getOperation().walk([&](onnx::MatMulOp op) { matmuls.push_back(op); });
    for (onnx::MatMulOp matmul : matmuls)
      shareRepeatedKV(matmul);
    SmallVector<onnx::ShapeOp> shapes;
    getOperation().walk([&](onnx::ShapeOp op) { shapes.push_back(op); });
    for (onnx::ShapeOp shape : shapes)
      shapeFromKV(shape);
  }
};

} // namespace
