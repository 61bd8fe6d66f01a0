//===- QAFGradients.cpp - gradient rules of the qaf ops -------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// GradientOpInterface as external models of qaf.qlinear and the six adapter
// ops, after ../shared/METHODS.md §1–§6. The rules emit onnx ops (typed by
// their own shape inference) and the few qaf ops that read what onnx cannot:
//
// - qaf.qlinear_transposed, the input gradient g · W of a quantized layer,
//   computed from the packed codes (no dequantized W);
// - qaf.lota_update, LoTA-QAF's code moves Ŵ and zero points z − μ, so that
//   its input gradient is the same transposed product on the moved codes;
// - qaf.l4q_quantize, L4Q's u and w̃, which its straight-through rules read.
//
// Frozen weights (codes, scales and zero points of a quantized layer, L4Q's
// W0) get no gradient. The additive adapters go through the rank: the
// activations are flattened to rows [M, ·], and every product is one of
// the factors with a rank-r (or pooled) matrix, never a d_out × d_in one.
// LoTA-QAF and L4Q reduce the dense ∂L/∂W of their layer (METHODS.md) to
// their parameters: in f32 that is qaf.adapter_gradients (lowered to
// qaf.kernel.adapter_gradients, which a CPU kernel computes tile by tile
// and other targets decompose into the dense algebra); in other float
// types the same algebra as onnx ops, the [N, K] gradient formed once per
// layer.
//
//===----------------------------------------------------------------------===//

#include "ONNXGraphBuilder.h"

#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

/// The onnx ops a rule needs beyond ONNXGraphBuilder's: scalars of the
/// activations' element type, row views, products with a scale.
class RuleBuilder : public ONNXGraphBuilder {
public:
  RuleBuilder(OpBuilder &builder, Location loc, Type elementType)
      : ONNXGraphBuilder(builder, loc), builder(builder), loc(loc),
        elementType(elementType) {}

  /// A constant of the element type and `shape`, every element `value`.
  Value constant(double value, ArrayRef<int64_t> shape = {}) {
    auto type = RankedTensorType::get(shape, elementType);
    return onnx::ConstantOp::create(
        builder, loc, type,
        DenseElementsAttr::get(type, builder.getFloatAttr(elementType, value)));
  }

  /// `value` viewed as `shape` (-1 for the one dim to infer).
  Value reshape(Value value, ArrayRef<int64_t> shape) {
    return create<onnx::ReshapeOp>({value, createI64Vector(shape)});
  }

  /// `value` given the shape of `like` (same number of elements).
  Value reshapeLike(Value value, Value like) {
    return create<onnx::ReshapeOp>({value, create<onnx::ShapeOp>({like})});
  }

  /// alpha · op(a) · op(b) for 2-D a and b.
  Value gemm(Value a, Value b, bool transA, bool transB, double alpha = 1.0) {
    Value none = onnx::NoValueOp::create(builder, loc, builder.getNoneType());
    return create<onnx::GemmOp>(
        {a, b, none},
        {builder.getNamedAttr("alpha", builder.getF32FloatAttr(alpha)),
         builder.getNamedAttr("transA", builder.getI64IntegerAttr(transA)),
         builder.getNamedAttr("transB", builder.getI64IntegerAttr(transB))});
  }

  /// The sum (or mean) of `value` over its last dim, [..., d] -> [...]
  /// (kept as size 1 with `keepDims`).
  template <typename ReduceOp>
  Value reduceLast(Value value, int64_t rank, bool keepDims = false) {
    return create<ReduceOp>(
        {value, createI64Vector({rank - 1})},
        {builder.getNamedAttr("keepdims",
                              builder.getI64IntegerAttr(keepDims))});
  }

  Value mul(Value a, Value b) { return create<onnx::MulOp>({a, b}); }
  Value add(Value a, Value b) { return create<onnx::AddOp>({a, b}); }
  Value sub(Value a, Value b) { return create<onnx::SubOp>({a, b}); }

  /// A qaf op, typed by the caller (the qaf ops verify, they do not infer).
  template <typename OpTy, typename... Args> OpTy createQAF(Args &&...args) {
    return OpTy::create(builder, loc, std::forward<Args>(args)...);
  }

private:
  OpBuilder &builder;
  Location loc;
  Type elementType;
};

ArrayRef<int64_t> getShape(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

/// The part of a rule that differs per op: the gradients of `op`'s operands
/// from its result's gradient `g`, as (operand index, gradient) pairs.
template <typename OpTy>
using Rule = SmallVector<std::pair<unsigned, Value>> (*)(RuleBuilder &, OpTy,
                                                         Value g);

/// The model of every qaf op with one result: which operands carry a
/// gradient (`Differentiable`, by index) and the rule building them.
template <typename OpTy, Rule<OpTy> BuildRule, unsigned... Differentiable>
struct QAFGradientModel
    : GradientOpInterface::ExternalModel<
          QAFGradientModel<OpTy, BuildRule, Differentiable...>, OpTy> {
  bool isDifferentiableOperand(Operation *, unsigned index) const {
    return ((index == Differentiable) || ...);
  }

  LogicalResult buildGradients(Operation *op, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    operandGradients.assign(op->getNumOperands(), Value());
    Value g = resultGradients.front();
    if (!g)
      return success();
    auto typed = cast<OpTy>(op);
    RuleBuilder rules(builder, op->getLoc(), getElementTypeOrSelf(g));
    SmallVector<std::pair<unsigned, Value>> gradients =
        BuildRule(rules, typed, g);
    if (rules.failed())
      return failure();
    for (auto [index, gradient] : gradients)
      operandGradients[index] = gradient;
    return success();
  }
};

//===----------------------------------------------------------------------===//
// qaf.qlinear: dX = dY · W, from the codes
//===----------------------------------------------------------------------===//

/// The type of dX for input `x` of a quantized product: x's, with the
/// input features (static: the scales' groups times the group size) as its
/// last dimension, which qaf.qlinear_transposed requires static even where
/// x's is not (an exporter's reshape of the attention heads).
Type getInputGradientType(Value x, Value scales, QuantFormatAttr format) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = cast<RankedTensorType>(scales.getType()).getDimSize(1) *
                 format.getGroupSize();
  return type.clone(shape);
}

SmallVector<std::pair<unsigned, Value>> qlinearRule(RuleBuilder &rules,
                                                    QLinearOp op, Value g) {
  Value dx = rules.createQAF<QLinearTransposedOp>(
      getInputGradientType(op.getInput(), op.getScales(), op.getFormat()), g,
      op.getCodes(), op.getScales(), op.getZeroPoints(), /*moves=*/Value(),
      op.getFormat());
  return {{0, dx}};
}

//===----------------------------------------------------------------------===//
// LoRA, QA-LoRA, QA-HiRA, Q-BaRA: through the rank
//===----------------------------------------------------------------------===//

/// The additive adapters' common form (METHODS.md §3, §4, §6):
///   Δy[o] = scale · (B · A · Pool_p(x))[o / λ],   A [r, K/p], B [N/λ, r]
/// with QA-HiRA's single factor M in A's place and no B.
struct PooledAdapter {
  unsigned firstIndex, secondIndex = 0; // operand indices of A (M) and B
  Value first, second;                  // second is null for QA-HiRA
  int64_t pool = 1, repeat = 1;
  double scale = 1.0;
};

PooledAdapter describe(LoRAOp op) {
  return {1, 2, op.getA(), op.getB(), 1, 1, op.getScale().convertToDouble()};
}
PooledAdapter describe(QALoRAOp op) {
  return {1,
          2,
          op.getA(),
          op.getB(),
          static_cast<int64_t>(op.getGroupSize()),
          1,
          op.getScale().convertToDouble()};
}
PooledAdapter describe(QAHiRAOp op) {
  return {1,
          0,
          op.getM(),
          Value(),
          static_cast<int64_t>(op.getGroupSize()),
          static_cast<int64_t>(op.getRepeatOut()),
          op.getAlpha().convertToDouble()};
}
PooledAdapter describe(QBaRAOp op) {
  int64_t pool = static_cast<int64_t>(op.getPool());
  return {
      1, 2, op.getA(), op.getB(), pool, pool, op.getScale().convertToDouble()};
}

/// With rows x̄ = Pool_p(x) [M, K/p], dU = Σ over each run of λ outputs of
/// dY [M, N/λ], and h = x̄ · Aᵀ [M, r]:
///   dB = scale · dUᵀ · h,  dH = scale · dU · B,  dA = dHᵀ · x̄,  dx̄ = dH · A
/// (QA-HiRA: dM = α · dUᵀ · x̄, dx̄ = α · dU · M), and dx spreads each dx̄
/// over its pool, divided by p.
template <typename OpTy>
SmallVector<std::pair<unsigned, Value>> pooledRule(RuleBuilder &rules, OpTy op,
                                                   Value g) {
  PooledAdapter adapter = describe(op);
  int64_t pooled = getShape(adapter.first)[1];
  int64_t k = pooled * adapter.pool;
  int64_t n = getShape(op.getOutput()).back();
  Value x = op.getInput();

  Value rows = rules.reshape(x, {-1, k});
  if (adapter.pool > 1)
    rows = rules.reduceLast<onnx::ReduceMeanOp>(
        rules.reshape(rows, {-1, pooled, adapter.pool}), 3);
  Value dU = rules.reshape(g, {-1, n});
  if (adapter.repeat > 1)
    dU = rules.reduceLast<onnx::ReduceSumOp>(
        rules.reshape(dU, {-1, n / adapter.repeat, adapter.repeat}), 3);

  SmallVector<std::pair<unsigned, Value>> gradients;
  Value dPooled;
  if (!adapter.second) {
    gradients.push_back(
        {adapter.firstIndex, rules.gemm(dU, rows, true, false, adapter.scale)});
    dPooled = rules.gemm(dU, adapter.first, false, false, adapter.scale);
  } else {
    Value hidden = rules.gemm(rows, adapter.first, false, true);
    gradients.push_back({adapter.secondIndex,
                         rules.gemm(dU, hidden, true, false, adapter.scale)});
    Value dHidden = rules.gemm(dU, adapter.second, false, false, adapter.scale);
    gradients.push_back(
        {adapter.firstIndex, rules.gemm(dHidden, rows, true, false)});
    dPooled = rules.gemm(dHidden, adapter.first, false, false);
  }
  if (adapter.pool > 1)
    dPooled = rules.mul(
        rules.reshape(dPooled, {-1, pooled, 1}),
        rules.constant(1.0 / double(adapter.pool), {1, 1, adapter.pool}));
  gradients.push_back({0, rules.reshapeLike(dPooled, x)});
  return gradients;
}

//===----------------------------------------------------------------------===//
// LoTA-QAF and L4Q: the parameters' gradients by one op
//===----------------------------------------------------------------------===//

/// Whether the kernel op takes these operands: f32 is all it computes.
bool isKernelF32(ArrayRef<Value> values) {
  return llvm::all_of(values, [](Value v) {
    return getElementTypeOrSelf(v.getType()).isF32();
  });
}

/// qaf.adapter_gradients of `method` on `inputs`: gradients of `shapes`.
AdapterGradientsOp createAdapterGradients(
    RuleBuilder &rules, MLIRContext *context, ArrayRef<Value> inputs,
    ArrayRef<SmallVector<int64_t, 2>> shapes, StringRef method,
    int64_t groupSize, APFloat coefficient, IntegerAttr bits) {
  SmallVector<Type> types;
  for (ArrayRef<int64_t> shape : shapes)
    types.push_back(RankedTensorType::get(shape, Float32Type::get(context)));
  Builder builder(context);
  return rules.createQAF<AdapterGradientsOp>(
      types, inputs, builder.getStringAttr(method),
      builder.getI64IntegerAttr(groupSize),
      builder.getF64FloatAttr(coefficient.convertToDouble()), bits);
}

//===----------------------------------------------------------------------===//
// LoTA-QAF: the threshold's straight-through estimator
//===----------------------------------------------------------------------===//

/// METHODS.md §1, masks ignored:
///   Gw = dYᵀ · x [N, K],  ∂L/∂ΔW = s⊙Gw + (1/ω)·P_g(s⊙Gw),
///   ∂L/∂B_T = ∂L/∂ΔW · A_Tᵀ,  ∂L/∂A_T = B_Tᵀ · ∂L/∂ΔW
/// (float gradients of the ternary int8 factors, for t-SignSGD); the input
/// gradient multiplies by w_eff = s·((q + Ŵ) − (z − μ)) from the codes.
SmallVector<std::pair<unsigned, Value>> lotaRule(RuleBuilder &rules,
                                                 LoTALinearOp op, Value g) {
  QuantFormatAttr format = op.getFormat();
  int64_t n = getShape(op.getCodes())[0];
  int64_t k = getShape(op.getA())[1];
  int64_t group = format.getGroupSize();
  Value x = op.getInput();

  auto update = rules.createQAF<LoTAUpdateOp>(
      TypeRange{
          RankedTensorType::get({n, k}, IntegerType::get(op.getContext(), 8)),
          op.getZeroPoints().getType()},
      op.getCodes(), op.getZeroPoints(), op.getA(), op.getB(), format,
      op.getOmegaAttr());
  Value dx = rules.createQAF<QLinearTransposedOp>(
      getInputGradientType(x, op.getScales(), format), g, op.getCodes(),
      op.getScales(), update.getMovedZeroPoints(), update.getMoves(), format);

  Value gradientRows = rules.reshape(g, {-1, n});
  Value inputRows = rules.reshape(x, {-1, k});
  if (isKernelF32({g, x, op.getScales()})) {
    int64_t rank = getShape(op.getA())[0];
    auto kernel = createAdapterGradients(
        rules, op.getContext(),
        {gradientRows, inputRows, op.getScales(), op.getA(), op.getB()},
        {{rank, k}, {n, rank}}, "lota", group, op.getOmega(), IntegerAttr());
    return {{0, dx}, {4, kernel.getResult(0)}, {5, kernel.getResult(1)}};
  }
  Value weightGradient = rules.gemm(gradientRows, inputRows, true, false);
  Value scaled = rules.mul(rules.reshape(weightGradient, {n, k / group, group}),
                           rules.reshape(op.getScales(), {n, k / group, 1}));
  double omega = op.getOmega().convertToDouble();
  Value groupMeans = rules.reduceLast<onnx::ReduceMeanOp>(scaled, 3, true);
  Value deltaGradient = rules.reshape(
      rules.add(scaled, rules.mul(groupMeans, rules.constant(1.0 / omega))),
      {n, k});
  auto asFloat = [&](Value ternary) {
    return rules.create<onnx::CastLikeOp>({ternary, deltaGradient});
  };
  Value da = rules.gemm(asFloat(op.getB()), deltaGradient, true, false);
  Value db = rules.gemm(deltaGradient, asFloat(op.getA()), false, true);
  return {{0, dx}, {4, da}, {5, db}};
}

//===----------------------------------------------------------------------===//
// L4Q: fake quantization's straight-through estimator
//===----------------------------------------------------------------------===//

/// METHODS.md §2, with G = ∂L/∂W_q = dYᵀ · x [N, K] and M = [Q_N ≤ u ≤ Q_P]:
///   ∂L/∂s = Σ_group G⊙(w̃ − M⊙u)   (w̃ − u inside the range, the clamp
///                                   value outside)
///   ∂L/∂β = Σ_group G⊙(1 − M),  ∂L/∂A = α·Bᵀ(M⊙G),  ∂L/∂B = α·(M⊙G)·Aᵀ
/// and dx = dY · W_q with W_q = s·w̃ + β.
SmallVector<std::pair<unsigned, Value>> l4qRule(RuleBuilder &rules,
                                                L4QLinearOp op, Value g) {
  int64_t k = getShape(op.getWeight())[0], n = getShape(op.getWeight())[1];
  int64_t group = static_cast<int64_t>(op.getGroupSize());
  int64_t bits = static_cast<int64_t>(op.getBits());
  double alpha = op.getAlpha().convertToDouble();
  Value x = op.getInput();

  Type weightType = RankedTensorType::get(
      {n, k}, getElementTypeOrSelf(op.getWeight().getType()));
  auto quantize = rules.createQAF<L4QQuantizeOp>(
      TypeRange{weightType, weightType}, op.getWeight(), op.getA(), op.getB(),
      op.getScales(), op.getOffsets(), op.getBitsAttr(), op.getGroupSizeAttr(),
      op.getAlphaAttr());
  // Per-group views: [N, K/g, g] against [N, K/g, 1].
  auto grouped = [&](Value value) {
    return rules.reshape(value, {n, k / group, group});
  };
  auto perGroup = [&](Value value) {
    return rules.reshape(value, {n, k / group, 1});
  };
  Value codes = grouped(quantize.getCodes());
  Value normalized = grouped(quantize.getNormalized());

  Value weight =
      rules.reshape(rules.add(rules.mul(codes, perGroup(op.getScales())),
                              perGroup(op.getOffsets())),
                    {n, k});
  Value gradientRows = rules.reshape(g, {-1, n});
  Value dx = rules.reshapeLike(
      rules.create<onnx::MatMulOp>({gradientRows, weight}), x);

  Value inputRows = rules.reshape(x, {-1, k});
  if (isKernelF32({g, x, op.getA(), op.getB(), op.getScales()})) {
    int64_t rank = getShape(op.getA())[0];
    auto kernel = createAdapterGradients(
        rules, op.getContext(),
        {gradientRows, inputRows, quantize.getNormalized(), quantize.getCodes(),
         op.getA(), op.getB()},
        {{rank, k}, {n, rank}, {n, k / group}, {n, k / group}}, "l4q", group,
        op.getAlpha(), op.getBitsAttr());
    return {{0, dx},
            {2, kernel.getResult(0)},
            {3, kernel.getResult(1)},
            {4, kernel.getResult(2)},
            {5, kernel.getResult(3)}};
  }
  Value weightGradient =
      grouped(rules.gemm(gradientRows, inputRows, true, false));
  Value inRange = rules.create<onnx::AndOp>(
      {rules.create<onnx::GreaterOrEqualOp>(
           {normalized, rules.constant(-double(int64_t(1) << (bits - 1)))}),
       rules.create<onnx::LessOrEqualOp>(
           {normalized,
            rules.constant(double((int64_t(1) << (bits - 1)) - 1))})});
  Value maskedGradient = rules.create<onnx::WhereOp>(
      {inRange, weightGradient, rules.constant(0.0)});
  Value dScales = rules.reduceLast<onnx::ReduceSumOp>(
      rules.sub(rules.mul(weightGradient, codes),
                rules.mul(maskedGradient, normalized)),
      3);
  Value dOffsets = rules.reduceLast<onnx::ReduceSumOp>(
      rules.sub(weightGradient, maskedGradient), 3);
  Value masked = rules.reshape(maskedGradient, {n, k});
  Value da = rules.gemm(op.getB(), masked, true, false, alpha);
  Value db = rules.gemm(masked, op.getA(), false, true, alpha);
  return {{0, dx}, {2, da}, {3, db}, {4, dScales}, {5, dOffsets}};
}

template <typename OpTy, Rule<OpTy> BuildRule, unsigned... Differentiable>
void attachModel(MLIRContext *context) {
  OpTy::template attachInterface<
      QAFGradientModel<OpTy, BuildRule, Differentiable...>>(*context);
}

} // namespace

void registerQAFGradientModels(DialectRegistry &registry) {
  // onnx ops are what the rules emit: the dialect must be loaded with qaf.
  registry.insert<onnx::ONNXDialect>();
  registry.addExtension(+[](MLIRContext *context, QAFDialect *) {
    attachModel<QLinearOp, qlinearRule, 0>(context);
    attachModel<LoRAOp, pooledRule<LoRAOp>, 0, 1, 2>(context);
    attachModel<QALoRAOp, pooledRule<QALoRAOp>, 0, 1, 2>(context);
    attachModel<QAHiRAOp, pooledRule<QAHiRAOp>, 0, 1>(context);
    attachModel<QBaRAOp, pooledRule<QBaRAOp>, 0, 1, 2>(context);
    attachModel<LoTALinearOp, lotaRule, 0, 4, 5>(context);
    attachModel<L4QLinearOp, l4qRule, 0, 2, 3, 4, 5>(context);
  });
}

} // namespace qaf
