//===- ONNXGradientsMath.cpp - gradient rules of onnx math ops ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The reverse-mode rules of the onnx ops that compute rather than move data:
// the element-wise functions (Pow, Erf, Gelu, Log, Abs, Relu, Max, Min) on
// the shared element-wise model, and MatMul, Gemm, Clip, Cast, Identity, the
// reductions and Softmax/LogSoftmax on a model of their own. Every rule
// emits onnx ops through ONNXGraphBuilder, and reads sizes that may be
// dynamic with Shape/Size ops rather than baking them into constants.
//
//===----------------------------------------------------------------------===//

#include "ElementwiseGradientModel.h"
#include "RuleGradientModel.h"

#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Matchers.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;

namespace qaf {
namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

NamedAttribute getI64Attribute(MLIRContext *context, StringRef name,
                               int64_t value) {
  Builder builder(context);
  return builder.getNamedAttr(name, builder.getI64IntegerAttr(value));
}

bool isNoValue(Value value) { return isa<NoneType>(value.getType()); }

/// 1 where `mask` holds, 0 elsewhere, in the element type of `like`.
Value castMask(ONNXGraphBuilder &graph, Value mask, Value like) {
  return graph.create<onnx::CastLikeOp>({mask, like});
}

/// `value` split by `mask` into where it holds and where it does not, each
/// `zero` in the other places.
std::pair<Value, Value> splitWhere(ONNXGraphBuilder &graph, Value mask,
                                   Value value, Value zero) {
  return {graph.create<onnx::WhereOp>({mask, value, zero}),
          graph.create<onnx::WhereOp>({mask, zero, value})};
}

//===----------------------------------------------------------------------===//
// Element-wise rules: the derivatives of Z = f(X, Y) or Y = f(X), times the
// result gradient g, in the result's shape
//===----------------------------------------------------------------------===//

/// d/dX X^Y = Y X^(Y-1); d/dY X^Y = Z log X where X > 0, and 0 where the
/// logarithm of the base is not real (as a base of 0 or below only has
/// integer powers, which vary in steps). The exponent may have another
/// element type than the base; an integer one gets no gradient.
SmallVector<Value> powRule(ONNXGraphBuilder &graph, onnx::PowOp op, Value g) {
  Value base = op.getX();
  Value exponent = op.getY();
  bool sameType = getElementTypeOrSelf(base) == getElementTypeOrSelf(exponent);
  Value exponentAsBase =
      sameType ? exponent : graph.create<onnx::CastLikeOp>({exponent, base});
  Value one = graph.createScalarLike(base, 1.0);
  Value lowerPower = graph.create<onnx::PowOp>(
      {base, graph.create<onnx::SubOp>({exponentAsBase, one})});
  Value baseGradient = graph.create<onnx::MulOp>(
      {graph.create<onnx::MulOp>({g, exponentAsBase}), lowerPower});
  if (!isa<FloatType>(getElementTypeOrSelf(exponent)))
    return {baseGradient, Value()};

  Value positive =
      graph.create<onnx::GreaterOp>({base, graph.createScalarLike(base, 0.0)});
  // log(1) = 0 where the base is not positive, without computing a NaN.
  Value logBase = graph.create<onnx::LogOp>(
      {graph.create<onnx::WhereOp>({positive, base, one})});
  Value exponentGradient = graph.create<onnx::MulOp>(
      {graph.create<onnx::MulOp>({g, op.getZ()}), logBase});
  if (!sameType)
    exponentGradient =
        graph.create<onnx::CastLikeOp>({exponentGradient, exponent});
  return {baseGradient, exponentGradient};
}

/// d erf(x) = 2 / sqrt(pi) exp(-x^2).
SmallVector<Value> erfRule(ONNXGraphBuilder &graph, onnx::ErfOp op, Value g) {
  Value x = op.getInput();
  Value gaussian = graph.create<onnx::ExpOp>(
      {graph.create<onnx::NegOp>({graph.create<onnx::MulOp>({x, x})})});
  Value scale = graph.createScalarLike(x, 2.0 * llvm::numbers::inv_sqrtpi);
  return {graph.create<onnx::MulOp>(
      {g, graph.create<onnx::MulOp>({gaussian, scale})})};
}

/// Gelu(x) = x Phi(x) with the normal CDF Phi:
/// d/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
Value exactGeluDerivative(ONNXGraphBuilder &graph, Value x) {
  auto scalar = [&](double value) { return graph.createScalarLike(x, value); };
  Value cdf = graph.create<onnx::MulOp>(
      {scalar(0.5),
       graph.create<onnx::AddOp>(
           {scalar(1.0), graph.create<onnx::ErfOp>({graph.create<onnx::MulOp>(
                             {x, scalar(llvm::numbers::inv_sqrt2)})})})});
  Value halfSquare = graph.create<onnx::MulOp>(
      {scalar(-0.5), graph.create<onnx::MulOp>({x, x})});
  Value pdf = graph.create<onnx::MulOp>(
      {scalar(llvm::numbers::inv_sqrtpi * llvm::numbers::inv_sqrt2),
       graph.create<onnx::ExpOp>({halfSquare})});
  return graph.create<onnx::AddOp>({cdf, graph.create<onnx::MulOp>({x, pdf})});
}

/// Gelu(x) = x (1 + t) / 2 with t = tanh(u), u = c (x + a x^3):
/// d/dx = (1 + t) / 2 + x (1 - t^2) c (1 + 3 a x^2) / 2.
Value tanhGeluDerivative(ONNXGraphBuilder &graph, Value x) {
  auto scalar = [&](double value) { return graph.createScalarLike(x, value); };
  // The constants of ONNX's Gelu (approximate = "tanh").
  const double c = std::sqrt(2.0 / llvm::numbers::pi);
  const double a = 0.044715;
  Value square = graph.create<onnx::MulOp>({x, x});
  Value u = graph.create<onnx::MulOp>(
      {graph.create<onnx::MulOp>({x, scalar(c)}),
       graph.create<onnx::AddOp>(
           {scalar(1.0), graph.create<onnx::MulOp>({square, scalar(a)})})});
  Value t = graph.create<onnx::TanhOp>({u});
  Value du = graph.create<onnx::MulOp>(
      {scalar(c), graph.create<onnx::AddOp>(
                      {scalar(1.0),
                       graph.create<onnx::MulOp>({square, scalar(3.0 * a)})})});
  Value tanhSlope = graph.create<onnx::SubOp>(
      {scalar(1.0), graph.create<onnx::MulOp>({t, t})});
  Value sum = graph.create<onnx::AddOp>(
      {graph.create<onnx::AddOp>({scalar(1.0), t}),
       graph.create<onnx::MulOp>(
           {x, graph.create<onnx::MulOp>({tanhSlope, du})})});
  return graph.create<onnx::MulOp>({scalar(0.5), sum});
}

SmallVector<Value> geluRule(ONNXGraphBuilder &graph, onnx::GeluOp op, Value g) {
  Value derivative = op.getApproximate() == "tanh"
                         ? tanhGeluDerivative(graph, op.getX())
                         : exactGeluDerivative(graph, op.getX());
  return {graph.create<onnx::MulOp>({g, derivative})};
}

SmallVector<Value> logRule(ONNXGraphBuilder &graph, onnx::LogOp op, Value g) {
  return {graph.create<onnx::DivOp>({g, op.getInput()})};
}

/// d |x| = sign(x) (0 at 0, as PyTorch).
SmallVector<Value> absRule(ONNXGraphBuilder &graph, onnx::AbsOp op, Value g) {
  Value x = op.getX();
  Value zero = graph.createScalarLike(x, 0.0);
  Value sign = graph.create<onnx::SubOp>(
      {castMask(graph, graph.create<onnx::GreaterOp>({x, zero}), x),
       castMask(graph, graph.create<onnx::LessOp>({x, zero}), x)});
  return {graph.create<onnx::MulOp>({g, sign})};
}

/// d max(x, 0) = [x > 0] (0 at 0, as PyTorch).
SmallVector<Value> reluRule(ONNXGraphBuilder &graph, onnx::ReluOp op, Value g) {
  Value x = op.getX();
  Value zero = graph.createScalarLike(x, 0.0);
  return {graph.create<onnx::WhereOp>(
      {graph.create<onnx::GreaterOp>({x, zero}), g, zero})};
}

/// Max and Min of any number of operands: the gradient goes to the operands
/// equal to the result, shared equally where several tie (as PyTorch's
/// maximum/minimum do for two).
template <typename OpTy>
SmallVector<Value> extremumRule(ONNXGraphBuilder &graph, OpTy op, Value g) {
  if (op->getNumOperands() == 1)
    return {g};
  Value result = op->getResult(0);
  SmallVector<Value> masks =
      llvm::map_to_vector(op->getOperands(), [&](Value operand) {
        return castMask(graph, graph.create<onnx::EqualOp>({operand, result}),
                        result);
      });
  Value ties = masks.front();
  for (Value mask : ArrayRef(masks).drop_front())
    ties = graph.create<onnx::AddOp>({ties, mask});
  Value share = graph.create<onnx::DivOp>({g, ties});
  return llvm::map_to_vector(masks, [&](Value mask) {
    return graph.create<onnx::MulOp>({share, mask});
  });
}

//===----------------------------------------------------------------------===//
// The model of the other ops (one result): `Rule` gives the gradient of each
// operand in its own shape, or fails with a diagnostic on the op
//===----------------------------------------------------------------------===//

/// What the math rules share in the one model (RuleGradientModel.h).
struct MathRules {
  template <typename OpTy>
  using Rule = FailureOr<SmallVector<Value>> (*)(ONNXGraphBuilder &, OpTy,
                                                 Value);

  /// An integer result (a Cast from float) passes no gradient back.
  static bool needsGradients(Operation *op) {
    return hasDifferentiableOperand(cast<GradientOpInterface>(op)) &&
           isa<FloatType>(getElementTypeOrSelf(op->getResult(0)));
  }

  static LogicalResult checkTypes(Operation *) { return success(); }

  template <typename OpTy, Rule<OpTy> PerOpRule>
  static LogicalResult apply(OpBuilder &builder, OpTy op,
                             ArrayRef<Value> resultGradients,
                             MutableArrayRef<Value> operandGradients) {
    ONNXGraphBuilder graph(builder, op->getLoc());
    FailureOr<SmallVector<Value>> local =
        PerOpRule(graph, op, resultGradients.front());
    // A failed shape inference is reported first: the rule only knows that
    // a value it needed is missing.
    if (failed(checkRuleBuilt(graph, op)) || failed(local))
      return failure();
    llvm::copy(*local, operandGradients.begin());
    return success();
  }

  static LogicalResult refine(Operation *, Value, unsigned) {
    return success();
  }
};

template <typename OpTy, MathRules::Rule<OpTy> PerOpRule>
void attachMathModel(MLIRContext *context) {
  attachRuleModel<OpTy, MathRules, PerOpRule>(context);
}

FailureOr<SmallVector<Value>> identityRule(ONNXGraphBuilder &, onnx::IdentityOp,
                                           Value g) {
  return SmallVector<Value>{g};
}

/// A float-to-float cast passes the gradient back cast to the input's type.
FailureOr<SmallVector<Value>> castRule(ONNXGraphBuilder &graph, onnx::CastOp op,
                                       Value g) {
  Type inputType = getElementTypeOrSelf(op.getInput());
  std::optional<int32_t> code = onnx::getDataType(inputType);
  if (!code)
    return op.emitOpError("the gradient needs an ONNX data type for ")
           << inputType;
  return SmallVector<Value>{graph.create<onnx::CastOp>(
      {g}, {getI64Attribute(op->getContext(), "to", *code)})};
}

/// Clip(x, lo, hi) = Min(Max(x, lo), hi), as ONNX Runtime computes it (so hi
/// wins where lo > hi): the gradient of x is g where x was not clipped, that
/// of each bound the sum of g where it was taken.
FailureOr<SmallVector<Value>> clipRule(ONNXGraphBuilder &graph, onnx::ClipOp op,
                                       Value g) {
  Value input = op.getInput();
  Value zero = graph.createScalarLike(input, 0.0);
  Value inputGradient = g;
  SmallVector<Value> gradients(3);
  if (!isNoValue(op.getMax())) {
    Value lowerClipped = isNoValue(op.getMin())
                             ? input
                             : graph.create<onnx::MaxOp>({input, op.getMin()});
    auto [toMax, passed] = splitWhere(
        graph, graph.create<onnx::GreaterOp>({lowerClipped, op.getMax()}),
        inputGradient, zero);
    gradients[2] = sumToOperandShape(graph, op, toMax, op.getMax());
    inputGradient = passed;
  }
  if (!isNoValue(op.getMin())) {
    auto [toMin, passed] =
        splitWhere(graph, graph.create<onnx::LessOp>({input, op.getMin()}),
                   inputGradient, zero);
    gradients[1] = sumToOperandShape(graph, op, toMin, op.getMin());
    inputGradient = passed;
  }
  gradients[0] = inputGradient;
  for (auto [operand, gradient] : llvm::zip_equal(op->getOperands(), gradients))
    if (!isNoValue(operand) && !gradient)
      return failure();
  return gradients;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// `value` (of rank `rank` >= 2) with its last two dims swapped.
Value transposeMatrices(ONNXGraphBuilder &graph, Value value, int64_t rank) {
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 2], perm[rank - 1]);
  Builder builder(value.getContext());
  return graph.create<onnx::TransposeOp>(
      {value},
      {builder.getNamedAttr("perm", builder.getDenseI64ArrayAttr(perm))});
}

/// Y = A B as NumPy's matmul: a 1-D A is a row [1, K] and a 1-D B a column
/// [K, 1] whose added dim Y lacks; batch dims broadcast. With both promoted,
/// dA = g B^T and dB = A^T g in the broadcast batch shape; the added dim is
/// dropped again and the batch dims an operand was broadcast along summed.
FailureOr<SmallVector<Value>> matMulRule(ONNXGraphBuilder &graph,
                                         onnx::MatMulOp op, Value g) {
  auto aType = dyn_cast<RankedTensorType>(op.getA().getType());
  auto bType = dyn_cast<RankedTensorType>(op.getB().getType());
  if (!aType || !bType)
    return op.emitOpError("the gradient needs ranked operands");
  bool aIsVector = aType.getRank() == 1;
  bool bIsVector = bType.getRank() == 1;
  Value a = aIsVector ? graph.create<onnx::UnsqueezeOp>(
                            {op.getA(), graph.createI64Vector({0})})
                      : op.getA();
  Value b = bIsVector ? graph.create<onnx::UnsqueezeOp>(
                            {op.getB(), graph.createI64Vector({1})})
                      : op.getB();
  int64_t aRank = std::max<int64_t>(aType.getRank(), 2);
  int64_t bRank = std::max<int64_t>(bType.getRank(), 2);
  // g with the dims that a vector operand removed from Y put back.
  int64_t promotedRank = cast<RankedTensorType>(op.getY().getType()).getRank() +
                         aIsVector + bIsVector;
  SmallVector<int64_t> restoredDims;
  if (aIsVector)
    restoredDims.push_back(promotedRank - 2);
  if (bIsVector)
    restoredDims.push_back(promotedRank - 1);
  Value promotedG = restoredDims.empty()
                        ? g
                        : graph.create<onnx::UnsqueezeOp>(
                              {g, graph.createI64Vector(restoredDims)});

  Value aGradient = graph.create<onnx::MatMulOp>(
      {promotedG, transposeMatrices(graph, b, bRank)});
  if (aIsVector)
    aGradient = graph.create<onnx::SqueezeOp>(
        {aGradient, graph.createI64Vector({promotedRank - 2})});
  Value bGradient = graph.create<onnx::MatMulOp>(
      {transposeMatrices(graph, a, aRank), promotedG});
  if (bIsVector)
    bGradient = graph.create<onnx::SqueezeOp>(
        {bGradient, graph.createI64Vector({promotedRank - 1})});
  Value aSummed = sumToOperandShape(graph, op, aGradient, op.getA());
  Value bSummed = sumToOperandShape(graph, op, bGradient, op.getB());
  if (!aSummed || !bSummed)
    return failure();
  return SmallVector<Value>{aSummed, bSummed};
}

/// Y = alpha op(A) op(B) + beta C with P = op(A), Q = op(B):
/// dP = alpha g Q^T and dQ = alpha P^T g, each a Gemm again (A and B are
/// transposed back where the forward transposed them); dC = beta g summed
/// over the dims C was broadcast along.
FailureOr<SmallVector<Value>> gemmRule(ONNXGraphBuilder &graph, onnx::GemmOp op,
                                       Value g) {
  MLIRContext *context = op->getContext();
  bool transA = op.getTransA() != 0;
  bool transB = op.getTransB() != 0;
  auto gemm = [&](Value lhs, Value rhs, bool transposeLhs, bool transposeRhs) {
    SmallVector<NamedAttribute> attributes = {
        getI64Attribute(context, "transA", transposeLhs),
        getI64Attribute(context, "transB", transposeRhs)};
    if (FloatAttr alpha = op.getAlphaAttr())
      attributes.push_back(NamedAttribute(op.getAlphaAttrName(), alpha));
    return graph.create<onnx::GemmOp>({lhs, rhs, graph.createNoValue()},
                                      attributes);
  };
  // transA = 0: dA = dP = alpha g Q^T; transA = 1: dA = dP^T = alpha Q g^T.
  Value aGradient = transA ? gemm(op.getB(), g, transB, true)
                           : gemm(g, op.getB(), false, !transB);
  // transB = 0: dB = dQ = alpha P^T g; transB = 1: dB = dQ^T = alpha g^T P.
  Value bGradient = transB ? gemm(g, op.getA(), true, transA)
                           : gemm(op.getA(), g, !transA, false);
  SmallVector<Value> gradients = {aGradient, bGradient, Value()};
  if (isNoValue(op.getC()))
    return gradients;
  double beta = op.getBeta().convertToDouble();
  Value scaled =
      beta == 1.0
          ? g
          : graph.create<onnx::MulOp>({g, graph.createScalarLike(g, beta)});
  gradients[2] = sumToOperandShape(graph, op, scaled, op.getC());
  if (!gradients[2])
    return failure();
  return gradients;
}

//===----------------------------------------------------------------------===//
// Reductions (opset 18: axes is an optional input, maybe a run-time one)
//===----------------------------------------------------------------------===//

/// `value` (the result of `op`, or its gradient) in the shape it has with
/// keepdims=1, so that it broadcasts against the reduced data. Unsqueeze
/// reads the same axes as the reduction (negative ones count from the
/// data's rank, which is Unsqueeze's output rank); without axes the result
/// is 0-D (all dims reduced) or the data's shape (noop_with_empty_axes).
template <typename ReduceOpT>
Value keepReducedDims(ONNXGraphBuilder &graph, ReduceOpT op, Value value) {
  if (op.getKeepdims() != 0 || isNoValue(op.getAxes()))
    return value;
  DenseIntElementsAttr axes;
  if (matchPattern(op.getAxes(), m_Constant(&axes)) && axes.empty())
    return value;
  return graph.create<onnx::UnsqueezeOp>({value, op.getAxes()});
}

/// `value` broadcast to the shape of the reduced data (read at run time).
template <typename ReduceOpT>
Value expandToData(ONNXGraphBuilder &graph, ReduceOpT op, Value value) {
  return graph.create<onnx::ExpandOp>(
      {value, graph.create<onnx::ShapeOp>({op.getData()})});
}

FailureOr<SmallVector<Value>> reduceSumRule(ONNXGraphBuilder &graph,
                                            onnx::ReduceSumOp op, Value g) {
  return SmallVector<Value>{
      expandToData(graph, op, keepReducedDims(graph, op, g))};
}

/// 1 / (the number of elements each mean averages) = |Y| / |X|: a constant
/// for static shapes, else from Size at run time.
Value getMeanScale(ONNXGraphBuilder &graph, onnx::ReduceMeanOp op) {
  auto dataType = dyn_cast<RankedTensorType>(op.getData().getType());
  auto resultType = dyn_cast<RankedTensorType>(op.getReduced().getType());
  if (dataType && resultType && dataType.hasStaticShape() &&
      resultType.hasStaticShape() && dataType.getNumElements() != 0)
    return graph.createScalarLike(
        op.getData(), static_cast<double>(resultType.getNumElements()) /
                          static_cast<double>(dataType.getNumElements()));
  auto countOf = [&](Value value) {
    return graph.create<onnx::CastLikeOp>(
        {graph.create<onnx::SizeOp>({value}), op.getData()});
  };
  return graph.create<onnx::DivOp>(
      {countOf(op.getReduced()), countOf(op.getData())});
}

FailureOr<SmallVector<Value>> reduceMeanRule(ONNXGraphBuilder &graph,
                                             onnx::ReduceMeanOp op, Value g) {
  Value scaled = graph.create<onnx::MulOp>(
      {keepReducedDims(graph, op, g), getMeanScale(graph, op)});
  return SmallVector<Value>{expandToData(graph, op, scaled)};
}

/// ReduceMax and ReduceMin: the gradient goes to the elements equal to the
/// extremum, shared equally where several tie.
template <typename ReduceOpT>
FailureOr<SmallVector<Value>> reduceExtremumRule(ONNXGraphBuilder &graph,
                                                 ReduceOpT op, Value g) {
  Value data = op.getData();
  Value extremum = keepReducedDims(graph, op, op.getReduced());
  Value mask =
      castMask(graph, graph.create<onnx::EqualOp>({data, extremum}), data);
  SmallVector<NamedAttribute> sameAxes;
  if (op.getNoopWithEmptyAxes() != 0)
    sameAxes.push_back(
        getI64Attribute(op->getContext(), "noop_with_empty_axes", 1));
  Value ties = graph.create<onnx::ReduceSumOp>({mask, op.getAxes()}, sameAxes);
  return SmallVector<Value>{
      graph.create<onnx::MulOp>({graph.create<onnx::DivOp>({mask, ties}),
                                 keepReducedDims(graph, op, g)})};
}

//===----------------------------------------------------------------------===//
// Softmax and LogSoftmax along `axis` (ReduceSum keeps the dim by default)
//===----------------------------------------------------------------------===//

/// dX = Y (g - sum(g Y)).
FailureOr<SmallVector<Value>> softmaxRule(ONNXGraphBuilder &graph,
                                          onnx::SoftmaxOp op, Value g) {
  Value y = op.getOutput();
  Value weighted = graph.create<onnx::ReduceSumOp>(
      {graph.create<onnx::MulOp>({g, y}),
       graph.createI64Vector({static_cast<int64_t>(op.getAxis())})});
  return SmallVector<Value>{
      graph.create<onnx::MulOp>({y, graph.create<onnx::SubOp>({g, weighted})})};
}

/// dX = g - exp(Y) sum(g).
FailureOr<SmallVector<Value>> logSoftmaxRule(ONNXGraphBuilder &graph,
                                             onnx::LogSoftmaxOp op, Value g) {
  Value total = graph.create<onnx::ReduceSumOp>(
      {g, graph.createI64Vector({static_cast<int64_t>(op.getAxis())})});
  Value softmax = graph.create<onnx::ExpOp>({op.getOutput()});
  return SmallVector<Value>{graph.create<onnx::SubOp>(
      {g, graph.create<onnx::MulOp>({softmax, total})})};
}

} // namespace

void registerONNXMathGradientModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, onnx::ONNXDialect *) {
    attachElementwiseModel<onnx::PowOp, powRule>(context);
    attachElementwiseModel<onnx::ErfOp, erfRule>(context);
    attachElementwiseModel<onnx::GeluOp, geluRule>(context);
    attachElementwiseModel<onnx::LogOp, logRule>(context);
    attachElementwiseModel<onnx::AbsOp, absRule>(context);
    attachElementwiseModel<onnx::ReluOp, reluRule>(context);
    attachElementwiseModel<onnx::MaxOp, extremumRule<onnx::MaxOp>>(context);
    attachElementwiseModel<onnx::MinOp, extremumRule<onnx::MinOp>>(context);
    attachMathModel<onnx::IdentityOp, identityRule>(context);
    attachMathModel<onnx::CastOp, castRule>(context);
    attachMathModel<onnx::ClipOp, clipRule>(context);
    attachMathModel<onnx::MatMulOp, matMulRule>(context);
    attachMathModel<onnx::GemmOp, gemmRule>(context);
    attachMathModel<onnx::ReduceSumOp, reduceSumRule>(context);
    attachMathModel<onnx::ReduceMeanOp, reduceMeanRule>(context);
    attachMathModel<onnx::ReduceMaxOp, reduceExtremumRule<onnx::ReduceMaxOp>>(
        context);
    attachMathModel<onnx::ReduceMinOp, reduceExtremumRule<onnx::ReduceMinOp>>(
        context);
    attachMathModel<onnx::SoftmaxOp, softmaxRule>(context);
    attachMathModel<onnx::LogSoftmaxOp, logSoftmaxRule>(context);
  });
}

} // namespace qaf
