//===- FuseAttention.cpp - the attention chain as one kernel op ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Exporters write scaled dot-product attention op by op:
//     O = MatMul(Softmax(Add(Div(MatMul(Q, Transpose(K, [0, 1, 3, 2])), c),
//                            mask), axis = -1), V)
// (Mul by c instead of Div, Q and Kᵀ each scaled by √c instead, no mask,
// or no scaling, depending on the exporter; transformers' exports also
// zero a fully masked row's NaN probabilities with Where(IsNaN(p), 0, p);
// torch.onnx's dynamo exporter transposes K as a 3-D Transpose between
// Reshapes), K and V often through grouped-query attention's repeat_kv.
// Lowered as written, the scores and their softmax are three tensors of
// [batch, heads, queries, keys] written and read back; as one
// qaf.kernel.attention, a target with a fused kernel (CUDA's) never
// materialises them, and reads K and V once per group of query heads.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "RepeatedKV.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"

namespace qaf {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

bool isRank4F32(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 4 && type.getElementType().isF32();
}

/// The value of a one-element f32 constant, or nothing.
std::optional<double> getScalarConstant(Value value) {
  DenseFPElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || attr.getNumElements() != 1 ||
      !attr.getElementType().isF32())
    return std::nullopt;
  return (*attr.value_begin<APFloat>()).convertToDouble();
}

/// An intermediate of the chain: one use, so that fusing it removes it.
bool isFusable(Value value) { return value.hasOneUse() && isRank4F32(value); }

/// The chain's operands, and its ops from the output back (each used only
/// by the one before it, so they can be erased in this order).
struct AttentionChain {
  Value query, key, value, bias;
  double scale = 1;
  bool zeroNanRows = false;
  SmallVector<Operation *> ops;
};

/// `value` as Mul(x, c), Mul(c, x) or Div(x, c) of a one-element constant
/// c (not 0 for Div), used by nothing else: x, and the factor (1 / c for
/// Div); nothing otherwise.
std::optional<std::pair<Value, double>> matchConstantScaling(Value value) {
  Operation *scaling = value.getDefiningOp();
  if (!value.hasOneUse() || !isa_and_nonnull<onnx::DivOp, onnx::MulOp>(scaling))
    return std::nullopt;
  Value lhs = scaling->getOperand(0), rhs = scaling->getOperand(1);
  bool divides = isa<onnx::DivOp>(scaling);
  std::optional<double> factor = getScalarConstant(rhs);
  if (!factor && !divides) {
    factor = getScalarConstant(lhs);
    std::swap(lhs, rhs);
  }
  if (!factor || (divides && *factor == 0) || !isRank4F32(lhs))
    return std::nullopt;
  return std::pair(lhs, divides ? 1 / *factor : *factor);
}

/// The one element of a one-element i64 constant, or nothing.
std::optional<int64_t> getIndexConstant(Value value) {
  DenseIntElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  return (*attr.begin()).getSExtValue();
}

/// Whether `value` is Slice(Shape(`tensor`), [begin], [end]) (axis 0, step
/// 1, bounds as ONNX clamps them) of a rank-4 tensor: its dims [first,
/// last).
bool isShapeSlice(Value value, Value tensor, int64_t first, int64_t last) {
  auto slice = value.getDefiningOp<onnx::SliceOp>();
  if (!slice)
    return false;
  auto shape = slice.getData().getDefiningOp<onnx::ShapeOp>();
  if (!shape || shape.getData() != tensor || shape.getEnd() ||
      shape.getStart() != 0)
    return false;
  // An omitted axes or steps input is a none-typed value.
  auto given = [](Value input) { return !isa<NoneType>(input.getType()); };
  if (given(slice.getAxes()) && getIndexConstant(slice.getAxes()) != 0)
    return false;
  if (given(slice.getSteps()) && getIndexConstant(slice.getSteps()) != 1)
    return false;
  std::optional<int64_t> begin = getIndexConstant(slice.getStarts());
  std::optional<int64_t> end = getIndexConstant(slice.getEnds());
  if (!begin || !end)
    return false;
  auto clampBound = [](int64_t bound) {
    if (bound < 0)
      bound = bound < -4 ? 0 : bound + 4;
    return std::min<int64_t>(bound, 4);
  };
  return clampBound(*begin) == first && clampBound(*end) == last;
}

/// Kᵀ written as torch.onnx's dynamo exporter transposes the keys:
/// Reshape(Transpose(Reshape(K, [-1, T, D]), [0, 2, 1]), [B, H, D, T]),
/// with T, B and H read off Shape(K): K, and the three ops (outer first);
/// nothing otherwise.
std::optional<Value> matchFlattenedKeyTranspose(Value transposed,
                                                SmallVector<Operation *> &ops) {
  auto outer = transposed.getDefiningOp<onnx::ReshapeOp>();
  if (!outer)
    return std::nullopt;
  auto transpose = outer.getData().getDefiningOp<onnx::TransposeOp>();
  if (!transpose || !transpose->hasOneUse() || !transpose.getPerm() ||
      *transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1})
    return std::nullopt;
  auto inner = transpose.getData().getDefiningOp<onnx::ReshapeOp>();
  if (!inner || !inner->hasOneUse())
    return std::nullopt;
  Value key = inner.getData();
  std::optional<int64_t> depth = staticDim(key, 3);
  if (!isRank4F32(key) || !depth)
    return std::nullopt;
  auto innerShape = inner.getShape().getDefiningOp<onnx::ConcatOp>();
  auto outerShape = outer.getShape().getDefiningOp<onnx::ConcatOp>();
  if (!innerShape || !outerShape || innerShape.getInputs().size() != 3 ||
      outerShape.getInputs().size() != 3)
    return std::nullopt;
  ValueRange in = innerShape.getInputs(), out = outerShape.getInputs();
  // [-1, T, D] and [B, H, D, T] (B and H as one slice [0, 2)).
  if (getIndexConstant(in[0]) != -1 || !isShapeSlice(in[1], key, 2, 3) ||
      getIndexConstant(in[2]) != *depth || !isShapeSlice(out[0], key, 0, 2) ||
      getIndexConstant(out[1]) != *depth || !isShapeSlice(out[2], key, 2, 3))
    return std::nullopt;
  ops.append({outer, transpose, inner});
  return key;
}

/// MatMul(Q, Transpose(K, [0, 1, 3, 2])) with constant factors anywhere
/// on the way (the product, Q, the transposed or the untransposed keys:
/// transformers' exports scale Q and Kᵀ by √scale each): fills the
/// chain's query, key and scale.
bool matchScaledScores(Value scores, AttentionChain &chain) {
  double scale = 1;
  SmallVector<Operation *> ops;
  // `value` with its constant factor taken into the scale.
  auto peel = [&](Value value) {
    std::optional<std::pair<Value, double>> scaled =
        matchConstantScaling(value);
    if (!scaled)
      return value;
    scale *= scaled->second;
    ops.push_back(value.getDefiningOp());
    return scaled->first;
  };
  if (!isFusable(scores))
    return false;
  scores = peel(scores);
  auto product = scores.getDefiningOp<onnx::MatMulOp>();
  if (!product || !scores.hasOneUse())
    return false;
  ops.push_back(product);
  Value query = peel(product.getA());
  Value transposed = peel(product.getB());
  if (!transposed.hasOneUse())
    return false;
  Value key;
  auto transpose = transposed.getDefiningOp<onnx::TransposeOp>();
  if (transpose && transpose.getPerm() &&
      *transpose.getPerm() == ArrayRef<int64_t>{0, 1, 3, 2}) {
    ops.push_back(transpose);
    key = peel(transpose.getData());
  } else if (std::optional<Value> flattened =
                 matchFlattenedKeyTranspose(transposed, ops)) {
    key = *flattened;
  } else {
    return false;
  }
  if (!isRank4F32(query) || !isRank4F32(key))
    return false;
  chain.query = query;
  chain.key = key;
  chain.scale = scale;
  chain.ops.append(ops);
  return true;
}

/// `probabilities` as Where(IsNaN(p), 0, p) (transformers' exports zero
/// the rows a fully masked softmax makes NaN): p, and the two ops, which
/// the chain then owns; nothing otherwise.
std::optional<Value> matchNanRowsZeroed(Value probabilities,
                                        AttentionChain &chain) {
  auto where = probabilities.getDefiningOp<onnx::WhereOp>();
  if (!where || !probabilities.hasOneUse())
    return std::nullopt;
  auto isNaN = where.getCondition().getDefiningOp<onnx::IsNaNOp>();
  std::optional<double> zero = getScalarConstant(where.getX());
  Value softmax = where.getY();
  if (!isNaN || !isNaN->hasOneUse() || isNaN->getOperand(0) != softmax ||
      zero != 0.0 || !isRank4F32(softmax) ||
      llvm::range_size(softmax.getUses()) != 2)
    return std::nullopt;
  chain.zeroNanRows = true;
  chain.ops.append({where, isNaN});
  return softmax;
}

/// Whether a key or value batch can exceed the query's: the fused op's
/// output has the query's batch, so a query batch of 1 against a larger
/// one (which the MatMuls would broadcast) is not fused.
bool mayOutgrowQueryBatch(Value query, Value other) {
  std::optional<int64_t> queryBatch = staticDim(query, 0);
  std::optional<int64_t> otherBatch = staticDim(other, 0);
  return queryBatch == 1 && otherBatch != 1;
}

std::optional<AttentionChain> matchAttention(onnx::MatMulOp output) {
  AttentionChain chain;
  chain.value = output.getB();
  if (!isRank4F32(output.getResult()) || !isRank4F32(chain.value))
    return std::nullopt;
  chain.ops.push_back(output);
  Value probabilities = output.getA();
  if (std::optional<Value> zeroed = matchNanRowsZeroed(probabilities, chain))
    probabilities = *zeroed;
  else if (!isFusable(probabilities))
    return std::nullopt;
  auto softmax = probabilities.getDefiningOp<onnx::SoftmaxOp>();
  if (!softmax || !isRank4F32(probabilities) ||
      (softmax.getAxis() != -1 && softmax.getAxis() != 3))
    return std::nullopt;
  chain.ops.push_back(softmax);
  Value scores = softmax.getInput();
  if (auto add = scores.getDefiningOp<onnx::AddOp>();
      add && isFusable(add.getResult())) {
    chain.ops.push_back(add);
    for (auto [product, bias] : {std::pair(add.getA(), add.getB()),
                                 std::pair(add.getB(), add.getA())}) {
      size_t matched = chain.ops.size();
      if (isRank4F32(bias) && matchScaledScores(product, chain)) {
        chain.bias = bias;
        return chain;
      }
      chain.ops.resize(matched);
    }
    return std::nullopt;
  }
  if (!matchScaledScores(scores, chain))
    return std::nullopt;
  return chain;
}

/// The chain when its operands' batches allow fusing it.
std::optional<AttentionChain> matchFusableAttention(onnx::MatMulOp output) {
  std::optional<AttentionChain> chain = matchAttention(output);
  if (!chain || mayOutgrowQueryBatch(chain->query, chain->key) ||
      mayOutgrowQueryBatch(chain->query, chain->value))
    return std::nullopt;
  return chain;
}

/// Fuses the chain ending at `output`, if it is one; `erased` gets the ops
/// it removes.
void fuse(onnx::MatMulOp output, DenseSet<Operation *> &erased) {
  std::optional<AttentionChain> chain = matchFusableAttention(output);
  if (!chain)
    return;
  // Grouped-query attention reads the shared key/value heads, not their
  // repeat_kv copies.
  std::optional<RepeatedKV> keys = matchRepeatedKV(chain->key);
  std::optional<RepeatedKV> values = matchRepeatedKV(chain->value);
  if (keys && values && keys->groups == values->groups &&
      keys->repeats == values->repeats) {
    chain->key = keys->kv;
    chain->value = values->kv;
  }
  OpBuilder builder(output);
  Location loc = output.getLoc();
  auto type = cast<RankedTensorType>(output.getType());
  // [batch, heads, queries] from the query, the head size from the value.
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < 4; ++dim)
    if (type.isDynamicDim(dim))
      dynamicSizes.push_back(tensor::DimOp::create(
          builder, loc, dim < 3 ? chain->query : chain->value, dim));
  Value init = tensor::EmptyOp::create(builder, loc, type, dynamicSizes);
  auto fused = AttentionKernelOp::create(builder, loc, chain->query, chain->key,
                                         chain->value, chain->bias, init,
                                         chain->scale, chain->zeroNanRows);
  // Shapes the op does not take (heads that do not group, a bias that does
  // not broadcast) leave the chain as it is, silently: it is not attention
  // as the kernel computes it.
  bool valid;
  {
    ScopedDiagnosticHandler quiet(output.getContext(),
                                  [](Diagnostic &) { return success(); });
    valid = succeeded(verify(fused));
  }
  if (!valid) {
    fused.erase();
    Operation *empty = init.getDefiningOp();
    SmallVector<Value> sizes(empty->getOperands());
    empty->erase();
    for (Value size : sizes)
      size.getDefiningOp()->erase();
    return;
  }
  output.getResult().replaceAllUsesWith(fused.getResult());
  // The chain's ops from the output back: each is unused once the one
  // after it is gone (repeat_kv ops are left to the canonicalizer).
  for (Operation *op : chain->ops) {
    erased.insert(op);
    op->erase();
  }
}

struct FuseAttentionPass : qaf::impl::FuseAttentionPassBase<FuseAttentionPass> {
  void runOnOperation() override {
    SmallVector<onnx::MatMulOp> matmuls;
    getOperation().walk([&](onnx::MatMulOp op) { matmuls.push_back(op); });
    // A fused chain erases its scores' MatMul, which may come later in the
    // list.
    DenseSet<Operation *> erased;
    for (onnx::MatMulOp matmul : matmuls)
      if (!erased.contains(matmul))
        fuse(matmul, erased);
  }
};

} // namespace
