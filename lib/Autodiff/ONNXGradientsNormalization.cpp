//===- ONNXGradientsNormalization.cpp - norms, RoPE, cross-entropy --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// GradientOpInterface models of LayerNormalization, the RMS norms
// (SimplifiedLayerNormalization and com.microsoft
// SkipSimplifiedLayerNormalization), com.microsoft RotaryEmbedding and
// SoftmaxCrossEntropyLoss.
//
// The normalisations recompute their statistics from the input in the
// reverse pass rather than reading the op's Mean / InvStdDev results: those
// are in the stash type (f32 for an f64 or f16 input), exporters leave them
// out, and the input is kept for the backward anyway. The scale and bias
// steps (y = x_hat * scale + bias, with broadcasting) are built as onnx.Mul
// and onnx.Add and differentiated by those ops' own rules, so the sum of a
// gradient back to a broadcast operand's shape exists once.
//
//===----------------------------------------------------------------------===//

#include "ONNXGradientsNormalization.h"
#include "ONNXGraphBuilder.h"

#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace qaf {
namespace {

/// A 0-d constant `value` of the float element type of `like`.
Value createFloatScalar(OpBuilder &builder, Location loc, Value like,
                        double value) {
  auto type = RankedTensorType::get({}, getElementTypeOrSelf(like.getType()));
  return onnx::ConstantOp::create(
      builder, loc, type,
      DenseElementsAttr::get(
          type, builder.getFloatAttr(type.getElementType(), value)));
}

/// The gradients of the operands of `op` from its own rule, given the
/// gradient of its one result. `op` was built in the reverse pass to apply
/// the rule: it is erased again when nothing reads its result. Empty after a
/// failure (reported).
SmallVector<Value> differentiateRebuiltOp(OpBuilder &builder, Value result,
                                          Value resultGradient) {
  if (!result)
    return {};
  Operation *op = result.getDefiningOp();
  SmallVector<Value> gradients;
  LogicalResult built = cast<GradientOpInterface>(op).buildGradients(
      builder, {resultGradient}, gradients);
  if (result.use_empty())
    op->erase();
  if (failed(built))
    return {};
  return gradients;
}

/// How a normalisation computes x_hat from x over the trailing dims from
/// `axis` on: centred (LayerNormalization: (x - mean) / sqrt(var + eps)) or
/// not (RMS norms: x / sqrt(mean(x^2) + eps)).
struct NormalizationSpec {
  int64_t axis;
  double epsilon;
  bool centered;
};

/// The reverse pass of one normalisation: x_hat and the inverse standard
/// deviation r recomputed from `x`, then the gradient of x from those of
/// x_hat and of the op's statistic results.
class NormalizationGradient {
public:
  NormalizationGradient(OpBuilder &builder, ONNXGraphBuilder &graph,
                        Operation *op, Value x, NormalizationSpec spec)
      : builder(builder), graph(graph), op(op), x(x), spec(spec) {}

  /// Recomputes x_hat and r; fails (reported) on an unranked input.
  LogicalResult recomputeStatistics() {
    auto type = dyn_cast<RankedTensorType>(x.getType());
    if (!type)
      return op->emitError("the gradient of a normalisation needs a ranked "
                           "input");
    int64_t rank = type.getRank();
    int64_t axis = spec.axis < 0 ? spec.axis + rank : spec.axis;
    normalizedDims = llvm::to_vector(llvm::seq<int64_t>(axis, rank));
    leadingDims = llvm::to_vector(llvm::seq<int64_t>(0, axis));
    normalizedShape = llvm::to_vector(type.getShape().drop_front(axis));
    axes = graph.createI64Vector(normalizedDims);
    Value centered = x;
    if (spec.centered)
      centered = graph.create<onnx::SubOp>(
          {x, graph.create<onnx::ReduceMeanOp>({x, axes})});
    Value meanSquare = graph.create<onnx::ReduceMeanOp>(
        {graph.create<onnx::MulOp>({centered, centered}), axes});
    Value epsilon = createFloatScalar(builder, op->getLoc(), x, spec.epsilon);
    invStdDev = graph.create<onnx::ReciprocalOp>({graph.create<onnx::SqrtOp>(
        {graph.create<onnx::AddOp>({meanSquare, epsilon})})});
    normalized = graph.create<onnx::MulOp>({centered, invStdDev});
    return failure(graph.failed());
  }

  /// x_hat (valid after recomputeStatistics).
  Value getNormalized() const { return normalized; }
  /// The dims before `axis` (those a scale or bias is broadcast along).
  ArrayRef<int64_t> getLeadingDims() const { return leadingDims; }

  /// dx = r (g - mean(g) - x_hat mean(g x_hat)) for the gradient g of
  /// x_hat (without the mean(g) term when not centred; null when x_hat gets
  /// none), plus the contributions of the gradients of the op's Mean and
  /// InvStdDev results (null when unused): d mean / dx_i = 1 / N and
  /// d r / dx_i = -r^2 x_hat_i / N.
  Value buildInputGradient(Value normalizedGradient, Value meanGradient,
                           Value invStdDevGradient) {
    Value gradient;
    auto addTerm = [&](Value term) {
      gradient = gradient ? graph.create<onnx::AddOp>({gradient, term}) : term;
    };
    if (normalizedGradient) {
      Value projection = graph.create<onnx::MulOp>(
          {normalized,
           graph.create<onnx::ReduceMeanOp>(
               {graph.create<onnx::MulOp>({normalizedGradient, normalized}),
                axes})});
      Value direction =
          graph.create<onnx::SubOp>({normalizedGradient, projection});
      if (spec.centered)
        direction = graph.create<onnx::SubOp>(
            {direction,
             graph.create<onnx::ReduceMeanOp>({normalizedGradient, axes})});
      addTerm(graph.create<onnx::MulOp>({direction, invStdDev}));
    }
    if (!meanGradient && !invStdDevGradient)
      return gradient;

    // The statistics are per row of N elements.
    int64_t count = 1;
    for (int64_t size : normalizedShape) {
      if (ShapedType::isDynamic(size)) {
        op->emitError("the gradient of a normalisation's statistic results "
                      "needs static normalised dims");
        return {};
      }
      count *= size;
    }
    Value inverseCount = createFloatScalar(builder, op->getLoc(), x,
                                           1.0 / static_cast<double>(count));
    if (meanGradient)
      addTerm(
          graph.create<onnx::MulOp>({castToInput(meanGradient), inverseCount}));
    if (invStdDevGradient) {
      Value rowFactor = graph.create<onnx::MulOp>(
          {graph.create<onnx::MulOp>(
               {graph.create<onnx::MulOp>(
                    {castToInput(invStdDevGradient), invStdDev}),
                invStdDev}),
           inverseCount});
      addTerm(graph.create<onnx::NegOp>(
          {graph.create<onnx::MulOp>({normalized, rowFactor})}));
    }
    return gradient;
  }

private:
  /// A statistic's gradient (in the stash type) in x's element type.
  Value castToInput(Value statisticGradient) {
    if (getElementTypeOrSelf(statisticGradient.getType()) ==
        getElementTypeOrSelf(x.getType()))
      return statisticGradient;
    return graph.create<onnx::CastLikeOp>({statisticGradient, x});
  }

  OpBuilder &builder;
  ONNXGraphBuilder &graph;
  Operation *op;
  Value x;
  NormalizationSpec spec;
  SmallVector<int64_t> normalizedDims, leadingDims, normalizedShape;
  Value axes, invStdDev, normalized;
};

/// The gradients of x_hat and of `scale` (and `bias`, when given) through
/// y = x_hat * scale (+ bias), by the rules of onnx.Mul and onnx.Add.
/// Returns {d x_hat, d scale, d bias}; empty after a failure.
SmallVector<Value> differentiateAffine(OpBuilder &builder,
                                       ONNXGraphBuilder &graph,
                                       Value normalized, Value scale,
                                       Value bias, Value outputGradient) {
  Value scaled = graph.create<onnx::MulOp>({normalized, scale});
  Value scaledGradient = outputGradient;
  Value biasGradient;
  if (bias) {
    SmallVector<Value> addGradients = differentiateRebuiltOp(
        builder, graph.create<onnx::AddOp>({scaled, bias}), outputGradient);
    if (addGradients.empty())
      return {};
    scaledGradient = addGradients[0];
    biasGradient = addGradients[1];
  }
  SmallVector<Value> mulGradients =
      differentiateRebuiltOp(builder, scaled, scaledGradient);
  if (mulGradients.empty())
    return {};
  return {mulGradients[0], mulGradients[1], biasGradient};
}

/// A normalisation y = x_hat(x) * scale (+ bias) and the gradients of its
/// results: y, and its Mean and InvStdDev statistics (null when the op has
/// no such result or it gets no gradient).
struct NormalizationInstance {
  Value x, scale, bias;
  NormalizationSpec spec;
  Value outputGradient, meanGradient, invStdDevGradient;
};

/// The gradients of a normalisation's x, scale and bias.
struct NormalizationGradients {
  Value input, scale, bias;
};

/// The gradients of the operands of `norm`, an instance of `op`. Fails with
/// a diagnostic on `op`.
FailureOr<NormalizationGradients>
differentiateNormalization(OpBuilder &builder, Operation *op,
                           const NormalizationInstance &norm) {
  ONNXGraphBuilder graph(builder, op->getLoc());
  NormalizationGradient reverse(builder, graph, op, norm.x, norm.spec);
  if (failed(reverse.recomputeStatistics()))
    return failure();
  NormalizationGradients gradients;
  Value normalizedGradient;
  if (norm.outputGradient) {
    SmallVector<Value> affine =
        differentiateAffine(builder, graph, reverse.getNormalized(), norm.scale,
                            norm.bias, norm.outputGradient);
    if (affine.empty())
      return failure();
    normalizedGradient = affine[0];
    gradients.scale = affine[1];
    gradients.bias = affine[2];
  }
  gradients.input = reverse.buildInputGradient(
      normalizedGradient, norm.meanGradient, norm.invStdDevGradient);
  if (graph.failed() || !gradients.input)
    return failure();
  return gradients;
}

//===----------------------------------------------------------------------===//
// LayerNormalization, SimplifiedLayerNormalization
//===----------------------------------------------------------------------===//

/// Results: Y, Mean, InvStdDev. Operands: X, Scale, B (optional).
NormalizationInstance describeNormalization(onnx::LayerNormalizationOp op,
                                            ArrayRef<Value> resultGradients) {
  bool hasBias = !isa<NoneType>(op.getB().getType());
  return {op.getX(),
          op.getScale(),
          hasBias ? op.getB() : Value(),
          {static_cast<int64_t>(op.getAxis()),
           op.getEpsilon().convertToDouble(), /*centered=*/true},
          resultGradients[0],
          resultGradients[1],
          resultGradients[2]};
}

/// Results: Y, inv_std_var. Operands: X, scale.
NormalizationInstance
describeNormalization(onnx::SimplifiedLayerNormalizationOp op,
                      ArrayRef<Value> resultGradients) {
  return {op.getX(),
          op.getScale(),
          Value(),
          {static_cast<int64_t>(op.getAxis()),
           op.getEpsilon().convertToDouble(), /*centered=*/false},
          resultGradients[0],
          Value(),
          resultGradients[1]};
}

template <typename OpTy>
struct NormalizationGradientModel
    : GradientOpInterface::ExternalModel<NormalizationGradientModel<OpTy>,
                                         OpTy> {
  LogicalResult buildGradients(Operation *op, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    FailureOr<NormalizationGradients> gradients = differentiateNormalization(
        builder, op, describeNormalization(cast<OpTy>(op), resultGradients));
    if (failed(gradients))
      return failure();
    operandGradients.assign(
        {gradients->input, gradients->scale, gradients->bias});
    operandGradients.truncate(op->getNumOperands());
    return success();
  }
};

/// Results: output, mean (empty in ONNX Runtime), inv_std_var,
/// input_skip_bias_sum. Operands: input, skip, gamma, bias (optional). The
/// normalised sum s = input + skip (+ bias) is rebuilt as onnx.Add ops,
/// whose rules take its gradient back to the (broadcast) operands.
struct SkipSimplifiedLayerNormalizationGradientModel
    : GradientOpInterface::ExternalModel<
          SkipSimplifiedLayerNormalizationGradientModel,
          onnx::SkipSimplifiedLayerNormalizationOp> {
  LogicalResult buildGradients(Operation *operation, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    auto op = cast<onnx::SkipSimplifiedLayerNormalizationOp>(operation);
    operandGradients.assign(op->getNumOperands(), Value());
    if (resultGradients[1])
      return op.emitError("the mean output of "
                          "SkipSimplifiedLayerNormalization is not defined "
                          "(ONNX Runtime leaves it empty): no gradient");
    ONNXGraphBuilder graph(builder, op.getLoc());
    bool hasBias = !isa<NoneType>(op.getBias().getType());
    Value inputPlusSkip =
        graph.create<onnx::AddOp>({op.getInput(), op.getSkip()});
    Value sum = hasBias
                    ? graph.create<onnx::AddOp>({inputPlusSkip, op.getBias()})
                    : inputPlusSkip;
    if (graph.failed())
      return failure();
    FailureOr<NormalizationGradients> normGradients =
        differentiateNormalization(
            builder, op,
            {sum,
             op.getGamma(),
             Value(),
             {-1, op.getEpsilon().convertToDouble(), /*centered=*/false},
             resultGradients[0],
             Value(),
             resultGradients[2]});
    if (failed(normGradients))
      return failure();
    operandGradients[2] = normGradients->scale;
    Value sumGradient = normGradients->input;
    if (Value residualGradient = resultGradients[3])
      sumGradient = graph.create<onnx::AddOp>({sumGradient, residualGradient});
    if (hasBias) {
      SmallVector<Value> biasStep =
          differentiateRebuiltOp(builder, sum, sumGradient);
      if (biasStep.empty())
        return failure();
      sumGradient = biasStep[0];
      operandGradients[3] = biasStep[1];
    }
    SmallVector<Value> skipStep =
        differentiateRebuiltOp(builder, inputPlusSkip, sumGradient);
    if (skipStep.empty())
      return failure();
    operandGradients[0] = skipStep[0];
    operandGradients[1] = skipStep[1];
    return failure(graph.failed());
  }
};

/// The model of an op whose operand 0 alone carries a gradient (the others
/// are caches, positions, labels or class weights, even when float).
template <typename Derived, typename OpTy>
struct FirstOperandGradientModel
    : GradientOpInterface::ExternalModel<Derived, OpTy> {
  bool isDifferentiableOperand(Operation *op, unsigned index) const {
    return index == 0;
  }
};

//===----------------------------------------------------------------------===//
// com.microsoft RotaryEmbedding
//===----------------------------------------------------------------------===//

/// The rotation by theta is orthogonal: its adjoint is the rotation by
/// -theta, the same op with the sine cache negated (cos(-t) = cos(t),
/// sin(-t) = -sin(t)); the dims past rotary_embedding_dim pass through both
/// ways. The caches and positions get no gradient.
struct RotaryEmbeddingGradientModel
    : FirstOperandGradientModel<RotaryEmbeddingGradientModel,
                                onnx::RotaryEmbeddingOp> {
  LogicalResult buildGradients(Operation *operation, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    auto op = cast<onnx::RotaryEmbeddingOp>(operation);
    operandGradients.assign(op->getNumOperands(), Value());
    if (!resultGradients[0])
      return success();
    ONNXGraphBuilder graph(builder, op.getLoc());
    Value negatedSin = graph.create<onnx::NegOp>({op.getSinCache()});
    operandGradients[0] = graph.create<onnx::RotaryEmbeddingOp>(
        {resultGradients[0], op.getPositionIds(), op.getCosCache(), negatedSin},
        op->getAttrs());
    return failure(graph.failed());
  }
};

//===----------------------------------------------------------------------===//
// SoftmaxCrossEntropyLoss
//===----------------------------------------------------------------------===//

/// d loss_e / d scores[n, :, d...] = w_e (softmax - one_hot(label)) for each
/// element e = (n, d...) with weight w_e (0 when its label is ignore_index,
/// weights[label] or 1 otherwise); "sum" adds these up, "mean" also divides
/// by the sum of the w_e (the count of counted labels without weights).
/// The gradient of log_prob, when used, is log_softmax's: g - softmax *
/// sum(g) over the classes. Labels and weights get no gradient.
struct SoftmaxCrossEntropyLossGradientModel
    : FirstOperandGradientModel<SoftmaxCrossEntropyLossGradientModel,
                                onnx::SoftmaxCrossEntropyLossOp> {
  LogicalResult buildGradients(Operation *operation, OpBuilder &builder,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    auto op = cast<onnx::SoftmaxCrossEntropyLossOp>(operation);
    operandGradients.assign(op->getNumOperands(), Value());
    auto scoresType = dyn_cast<RankedTensorType>(op.getScores().getType());
    if (!scoresType)
      return op.emitError("the gradient of SoftmaxCrossEntropyLoss needs "
                          "ranked scores");
    Location loc = op.getLoc();
    ONNXGraphBuilder graph(builder, loc);
    Value scores = op.getScores();
    Value labels = op.getLabels();
    auto classDimAttr =
        builder.getNamedAttr("axis", builder.getI64IntegerAttr(1));
    Value softmax = graph.create<onnx::SoftmaxOp>({scores}, {classDimAttr});
    Value classAxis = graph.createI64Vector({1});
    Value gradient;

    if (Value outputGradient = resultGradients[0]) {
      // One-hot labels: labels (N, 1, d...) == class ids (1, C, 1...).
      auto shapeEnd = builder.getNamedAttr("end", builder.getI64IntegerAttr(2));
      auto shapeStart =
          builder.getNamedAttr("start", builder.getI64IntegerAttr(1));
      Value classCount = graph.create<onnx::ReshapeOp>(
          {graph.create<onnx::ShapeOp>({scores}, {shapeStart, shapeEnd}),
           graph.createI64Vector({})});
      Value classIds = graph.create<onnx::RangeOp>(
          {createIntegerScalar(builder, loc, builder.getI64Type(), 0),
           classCount,
           createIntegerScalar(builder, loc, builder.getI64Type(), 1)});
      SmallVector<int64_t> classIdsShape(scoresType.getRank(), 1);
      classIdsShape[1] = -1;
      classIds = graph.create<onnx::ReshapeOp>(
          {classIds, graph.createI64Vector(classIdsShape)});
      if (!getElementTypeOrSelf(labels.getType()).isInteger(64))
        classIds = graph.create<onnx::CastLikeOp>({classIds, labels});
      Value oneHot = graph.create<onnx::CastLikeOp>(
          {graph.create<onnx::EqualOp>(
               {graph.create<onnx::UnsqueezeOp>({labels, classAxis}),
                classIds}),
           scores});

      Value elementWeights = buildElementWeights(builder, graph, op);
      // g has the labels' shape ("none") or is a scalar.
      Value elementFactors =
          graph.create<onnx::MulOp>({elementWeights, outputGradient});
      StringRef reduction = op.getReduction();
      if (reduction == "mean") {
        int64_t labelsRank = scoresType.getRank() - 1;
        Value weightSum = graph.create<onnx::ReduceSumOp>(
            {elementWeights, graph.createI64Vector(llvm::to_vector(
                                 llvm::seq<int64_t>(0, labelsRank)))},
            {builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0))});
        elementFactors = graph.create<onnx::DivOp>({elementFactors, weightSum});
      }
      gradient = graph.create<onnx::MulOp>(
          {graph.create<onnx::SubOp>({softmax, oneHot}),
           graph.create<onnx::UnsqueezeOp>({elementFactors, classAxis})});
    }

    if (Value logProbGradient = resultGradients[1]) {
      Value logSoftmaxGradient = graph.create<onnx::SubOp>(
          {logProbGradient, graph.create<onnx::MulOp>(
                                {softmax, graph.create<onnx::ReduceSumOp>(
                                              {logProbGradient, classAxis})})});
      gradient = gradient
                     ? graph.create<onnx::AddOp>({gradient, logSoftmaxGradient})
                     : logSoftmaxGradient;
    }
    if (!gradient) {
      softmax.getDefiningOp()->erase();
      return success();
    }
    operandGradients[0] = gradient;
    return failure(graph.failed());
  }

private:
  /// A 0-d integer constant of `elementType`.
  static Value createIntegerScalar(OpBuilder &builder, Location loc,
                                   Type elementType, int64_t value) {
    auto type = RankedTensorType::get({}, elementType);
    return onnx::ConstantOp::create(
        builder, loc, type,
        DenseElementsAttr::get(type,
                               builder.getIntegerAttr(elementType, value)));
  }

  /// w_e per element (labels' shape, scores' element type): 0 where the
  /// label is ignore_index, else weights[label] (1 without weights).
  static Value buildElementWeights(OpBuilder &builder, ONNXGraphBuilder &graph,
                                   onnx::SoftmaxCrossEntropyLossOp op) {
    Location loc = op.getLoc();
    Value labels = op.getLabels();
    Value scores = op.getScores();
    Type labelType = getElementTypeOrSelf(labels.getType());
    bool hasWeights = !isa<NoneType>(op.getWeights().getType());
    Value ignored;
    if (std::optional<uint64_t> ignoreIndex = op.getIgnoreIndex())
      ignored = graph.create<onnx::EqualOp>(
          {labels, createIntegerScalar(builder, loc, labelType,
                                       static_cast<int64_t>(*ignoreIndex))});
    Value weights;
    if (hasWeights) {
      // Ignored labels may lie outside [0, C): they read class 0.
      Value classes =
          ignored
              ? graph.create<onnx::WhereOp>(
                    {ignored, createIntegerScalar(builder, loc, labelType, 0),
                     labels})
              : labels;
      weights = graph.create<onnx::GatherOp>({op.getWeights(), classes});
    }
    if (!ignored)
      return weights ? weights
                     : graph.create<onnx::ExpandOp>(
                           {createFloatScalar(builder, loc, scores, 1.0),
                            graph.create<onnx::ShapeOp>({labels})});
    Value counted = graph.create<onnx::CastLikeOp>(
        {graph.create<onnx::NotOp>({ignored}), scores});
    return weights ? graph.create<onnx::MulOp>({weights, counted}) : counted;
  }
};

} // namespace

void registerONNXNormalizationGradientModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, onnx::ONNXDialect *) {
    onnx::LayerNormalizationOp::attachInterface<
        NormalizationGradientModel<onnx::LayerNormalizationOp>>(*context);
    onnx::SimplifiedLayerNormalizationOp::attachInterface<
        NormalizationGradientModel<onnx::SimplifiedLayerNormalizationOp>>(
        *context);
    onnx::SkipSimplifiedLayerNormalizationOp::attachInterface<
        SkipSimplifiedLayerNormalizationGradientModel>(*context);
    onnx::RotaryEmbeddingOp::attachInterface<RotaryEmbeddingGradientModel>(
        *context);
    onnx::SoftmaxCrossEntropyLossOp::attachInterface<
        SoftmaxCrossEntropyLossGradientModel>(*context);
  });
}

} // namespace qaf
