//===- BuildTraining.cpp - the training and evaluation steps --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// How parameters and optimizer state travel: as entry point arguments,
// updated in place. Every trainable parameter (and its optimizer state) is
// an argument with `qaf.weight_name` and its initial value in
// `qaf.weight_value`, as outlined weights are; the artifact's manifest
// lists them as parameters, which the runtime holds in one writable buffer
// each, shared by every entry point. The graph stays functional: the new
// value of such an argument is a result of `@train_step` tied to it by
// `qaf.updates = "<name>"` (as IREE's tied operands and XLA's input-output
// aliases), so the passes that follow and the tests see plain values; the
// lowering is to store each tied result into its argument's buffer instead
// of returning it, which is what makes the update in place (and the
// artifact writer to count a tied argument as a parameter).
//
// The entry points follow qaf-run's calling convention, which is written
// down once, in include/qaf/Runtime/TrainingEntryPoints.h: `step` is the
// 1-based number of this train_step call. With accumulate = k
// micro-batches, optimizer step t = (step − 1) / k + 1; each call adds its
// gradient into a `<name>.grad_accum` state, and the call with
// (step − 1) % k = k − 1 applies the optimizer to the mean and clears the
// sums (the other calls leave parameters and moments as they were).
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"
#include "ONNXGraphBuilder.h"
#include "PassOptions.h"

#include "qaf/Autodiff/ReverseMode.h"
#include "qaf/Interfaces/AdapterOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <numeric>

namespace qaf {
#define GEN_PASS_DEF_BUILDTRAININGPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

constexpr StringLiteral kPass = "qaf-build-training";

/// ONNX TensorProto data types (Cast's `to`).
constexpr int64_t kOnnxFloat = 1;
constexpr int64_t kOnnxUInt8 = 2;
constexpr int64_t kOnnxInt32 = 6;
constexpr int64_t kOnnxInt64 = 7;
constexpr int64_t kOnnxDouble = 11;

/// Cast's `to` attribute: `onnxType` (one of the above).
NamedAttribute castTo(OpBuilder &builder, int64_t onnxType) {
  return builder.getNamedAttr("to", builder.getI64IntegerAttr(onnxType));
}

enum class Optimizer { AdamW, TSignSGD };

/// A trainable parameter: an argument of the training functions.
struct Parameter {
  std::string name;
  ElementsAttr initialValue;
  RankedTensorType type;
  Location loc;
  Optimizer optimizer;
};

RankedTensorType getScalarType(Type element) {
  return RankedTensorType::get({}, element);
}

Value createF32Scalar(OpBuilder &builder, Location loc, double value) {
  auto type = getScalarType(builder.getF32Type());
  return onnx::ConstantOp::create(
      builder, loc, type,
      DenseElementsAttr::get(type, static_cast<float>(value)));
}

Value createI64Scalar(OpBuilder &builder, Location loc, int64_t value) {
  auto type = getScalarType(builder.getI64Type());
  return onnx::ConstantOp::create(builder, loc, type,
                                  DenseElementsAttr::get(type, value));
}

/// ReduceSum over every dim of `value`, to a 0-d tensor.
Value sumAll(ONNXGraphBuilder &graph, OpBuilder &builder, Value value) {
  int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
  if (rank == 0)
    return value;
  return graph.create<onnx::ReduceSumOp>(
      {value, graph.createI64Vector(llvm::to_vector(llvm::seq<int64_t>(rank)))},
      {builder.getNamedAttr("keepdims", builder.getI64IntegerAttr(0))});
}

//===----------------------------------------------------------------------===//
// The causal-LM loss. This is the one place to swap for
// include/qaf/Autodiff/CausalLMLoss.h (onnx.SoftmaxCrossEntropyLoss and its
// gradient rule) once that lands: buildCausalLMLoss's callers need only the
// token loss sum, the token count and the gradient of the mean at the
// logits.
//===----------------------------------------------------------------------===//

struct CausalLMLoss {
  /// Σ over the labelled tokens of −log softmax(logits)[label], 0-d f32.
  Value tokenLossSum;
  /// The number of labelled tokens (labels ≥ 0), 0-d f32.
  Value tokenCount;
  /// For training (else null): tokenLossSum / max(tokenCount, 1), 0-d f32,
  /// and its gradient at the logits, (softmax − onehot(label))·[label ≥ 0]
  /// / max(count, 1), [B, S, V].
  Value meanLoss;
  Value logitsGradient;
};

/// The loss of `logits` [B, S, V] against `labels` [B, S] (i64; negative
/// labels, −100 by convention, are ignored) from LogSoftmax, GatherElements
/// and ReduceSum, with its gradient at the logits written out (so the
/// backward pass needs no rule for the loss's own ops).
FailureOr<CausalLMLoss> buildCausalLMLoss(OpBuilder &builder, Location loc,
                                          Value logits, Value labels,
                                          bool forTraining) {
  ONNXGraphBuilder graph(builder, loc);
  auto i64 = [&](int64_t value) {
    return builder.getNamedAttr("axis", builder.getI64IntegerAttr(value));
  };
  Value zero = createI64Scalar(builder, loc, 0);
  Value labelled = graph.create<onnx::GreaterOrEqualOp>({labels, zero});
  Value safeLabels = graph.create<onnx::WhereOp>({labelled, labels, zero});
  Value lastAxis = graph.createI64Vector({2});
  Value labelIndex = graph.create<onnx::UnsqueezeOp>({safeLabels, lastAxis});
  Value logProbs = graph.create<onnx::LogSoftmaxOp>({logits}, {i64(2)});
  Value picked =
      graph.create<onnx::GatherElementsOp>({logProbs, labelIndex}, {i64(2)});
  Value mask =
      graph.create<onnx::CastOp>({labelled}, {castTo(builder, kOnnxFloat)});
  Value mask3 = graph.create<onnx::UnsqueezeOp>({mask, lastAxis});
  Value tokenLosses =
      graph.create<onnx::MulOp>({graph.create<onnx::NegOp>({picked}), mask3});
  CausalLMLoss loss;
  loss.tokenLossSum = sumAll(graph, builder, tokenLosses);
  loss.tokenCount = sumAll(graph, builder, mask);
  if (forTraining) {
    Value denominator = graph.create<onnx::MaxOp>(
        {loss.tokenCount, createF32Scalar(builder, loc, 1.0)});
    loss.meanLoss = graph.create<onnx::DivOp>({loss.tokenLossSum, denominator});
    int64_t vocabulary = cast<RankedTensorType>(logits.getType()).getDimSize(2);
    Value classes =
        graph.create<onnx::RangeOp>({createI64Scalar(builder, loc, 0),
                                     createI64Scalar(builder, loc, vocabulary),
                                     createI64Scalar(builder, loc, 1)});
    Value oneHot = graph.create<onnx::CastOp>(
        {graph.create<onnx::EqualOp>({classes, labelIndex})},
        {castTo(builder, kOnnxFloat)});
    Value probs = graph.create<onnx::ExpOp>({logProbs});
    loss.logitsGradient = graph.create<onnx::MulOp>(
        {graph.create<onnx::SubOp>({probs, oneHot}),
         graph.create<onnx::DivOp>({mask3, denominator})});
  }
  if (graph.failed())
    return failure();
  return loss;
}

//===----------------------------------------------------------------------===//
// Lossless adapters evaluated as their merge
//===----------------------------------------------------------------------===//

/// What a zero-point adapter (QA-LoRA, QA-HiRA) folds into its base layer's
/// zero points, as its mergeInto hands it to quant::absorbIntoZeroPoints:
/// the update [N/repeat, K/g] is `left`·`right` (QA-LoRA's B·A, summed in
/// double over the rank and rounded to float once, as multiplyFactors in
/// QAFAdapterOps.cpp does) or `left` itself (QA-HiRA's M); each of its
/// values averages `pool` inputs (the merge needs exactly the layer's
/// groups).
struct ZeroPointAdapter {
  Value left, right;
  int64_t pool = 1, repeat = 1;
  double factor = 1.0;
};

std::optional<ZeroPointAdapter> getZeroPointAdapter(Operation *op) {
  if (auto qalora = dyn_cast<QALoRAOp>(op))
    return ZeroPointAdapter{qalora.getB(), qalora.getA(),
                            static_cast<int64_t>(qalora.getGroupSize()), 1,
                            qalora.getScale().convertToDouble()};
  if (auto qahira = dyn_cast<QAHiRAOp>(op))
    return ZeroPointAdapter{qahira.getM(), Value(),
                            static_cast<int64_t>(qahira.getGroupSize()),
                            static_cast<int64_t>(qahira.getRepeatOut()),
                            qahira.getAlpha().convertToDouble()};
  return std::nullopt;
}

/// The adapter's update as float32 [N/repeat, K/g].
Value buildZeroPointUpdate(ONNXGraphBuilder &graph, OpBuilder &builder,
                           const ZeroPointAdapter &adapter) {
  if (!adapter.right)
    return adapter.left;
  auto toDouble = [&](Value value) {
    return graph.create<onnx::CastOp>({value}, {castTo(builder, kOnnxDouble)});
  };
  return graph.create<onnx::CastOp>(
      {graph.create<onnx::MatMulOp>(
          {toDouble(adapter.left), toDouble(adapter.right)})},
      {castTo(builder, kOnnxFloat)});
}

/// Marks the adapter's trained values as parameters of `evalStep`: once the
/// adapter op is gone, nothing else tells the artifact that they are.
void keepTrainedValuesAsParameters(func::FuncOp evalStep,
                                   AdapterOpInterface adapter) {
  for (Value trainable : adapter.getTrainableOperands())
    if (auto argument = dyn_cast<BlockArgument>(trainable);
        argument && argument.getOwner()->getParentOp() == evalStep)
      evalStep.setArgAttr(argument.getArgNumber(), kParameterAttr,
                          UnitAttr::get(evalStep.getContext()));
}

/// In @eval_step, each zero-point adapter and the qaf.qlinear its Δy is
/// added to become one qaf.qlinear whose zero points are the merged ones,
/// z' = float(z − factor·update / (g·s)) in double, the arithmetic of
/// quant::absorbIntoZeroPoints step for step. The evaluation then runs
/// the very kernel calls of the merged model on the very operands, so its
/// perplexity is the merged model's to the last digit (the train step
/// keeps the adapter's own form, whose gradients it needs). Adapters the
/// merge would refuse (no zero points, pooling other than the groups, an
/// update not added to its base layer) stay as they are.
LogicalResult absorbZeroPointAdapters(func::FuncOp evalStep) {
  SmallVector<AdapterOpInterface> adapters;
  evalStep.walk([&](AdapterOpInterface adapter) {
    if (adapter.getMergeKind() == AdapterMerge::ZeroPoints)
      adapters.push_back(adapter);
  });
  for (AdapterOpInterface adapter : adapters) {
    Operation *op = adapter.getOperation();
    std::optional<std::pair<onnx::AddOp, QLinearOp>> found =
        findAdditiveBase(adapter);
    if (!found || !found->second.getZeroPoints())
      continue;
    auto [add, base] = *found;
    int64_t group = base.getFormat().getGroupSize();
    std::optional<ZeroPointAdapter> update = getZeroPointAdapter(op);
    if (!update || update->pool != group)
      continue;
    OpBuilder builder(add);
    ONNXGraphBuilder graph(builder, op->getLoc());
    auto zeroType = cast<RankedTensorType>(base.getZeroPoints().getType());
    int64_t rows = zeroType.getShape()[0], groups = zeroType.getShape()[1];
    // (QA-LoRA's update comes back to double from float on purpose: the
    // merge rounds B·A to float before it divides.)
    Value shiftRows = graph.create<onnx::CastOp>(
        {buildZeroPointUpdate(graph, builder, *update)},
        {castTo(builder, kOnnxDouble)});
    if (update->repeat > 1) {
      // Row o of the layer takes row o / repeat of the update.
      int64_t kept = rows / update->repeat;
      shiftRows = graph.create<onnx::ReshapeOp>(
          {graph.create<onnx::ExpandOp>(
               {graph.create<onnx::ReshapeOp>(
                    {shiftRows, graph.createI64Vector({kept, 1, groups})}),
                graph.createI64Vector({kept, update->repeat, groups})}),
           graph.createI64Vector({rows, groups})});
    }
    Value scales = graph.create<onnx::CastOp>({base.getScales()},
                                              {castTo(builder, kOnnxDouble)});
    Value shift = graph.create<onnx::DivOp>(
        {graph.create<onnx::MulOp>(
             {shiftRows, graph.createScalarLike(shiftRows, update->factor)}),
         graph.create<onnx::MulOp>(
             {graph.createScalarLike(scales, static_cast<double>(group)),
              scales})});
    Value zeros = graph.create<onnx::CastOp>(
        {graph.create<onnx::SubOp>(
            {graph.create<onnx::CastOp>({base.getZeroPoints()},
                                        {castTo(builder, kOnnxDouble)}),
             shift})},
        {castTo(builder, kOnnxFloat)});
    if (graph.failed())
      return op->emitOpError("cannot be evaluated in its merged form: the "
                             "zero-point update did not build");
    auto merged = QLinearOp::create(
        builder, op->getLoc(), add.getResult().getType(), base.getInput(),
        base.getCodes(), base.getScales(), zeros, base.getFormat());
    add.getResult().replaceAllUsesWith(merged.getOutput());
    keepTrainedValuesAsParameters(evalStep, adapter);
    add->erase();
    op->erase();
    if (base->use_empty())
      base->erase();
  }
  return success();
}

/// Codes in [0, 2^bits) held as float integers [N, K], packed as
/// quant::packCodes packs them: a little-endian bit stream, code i at bit
/// i·bits of its row. Each run of `perChunk` codes fills `chunkBytes` whole
/// bytes (2 codes in 1 byte at 4 bits, 8 codes in 3 bytes at 3), and the
/// run's value Σ code_j·2^(bits·j) < 2^24 is exact in float. Byte t of it is
/// the value scaled by 2^(−8t) (exact), truncated to an integer and cut to
/// its low 8 bits, as Cast to uint8 cuts an integer.
Value buildPackedCodes(ONNXGraphBuilder &graph, OpBuilder &builder, Value codes,
                       int64_t rows, int64_t cols, unsigned bits) {
  int64_t perChunk = 8 / std::gcd<int64_t>(8, bits);
  int64_t chunkBytes = perChunk * bits / 8;
  Type f32 = builder.getF32Type();
  auto floatConstant = [&](ArrayRef<int64_t> shape, ArrayRef<float> values) {
    auto type = RankedTensorType::get(shape, f32);
    return onnx::ConstantOp::create(builder, codes.getLoc(), type,
                                    DenseElementsAttr::get(type, values));
  };
  SmallVector<float> placeValues, byteScales;
  for (int64_t j = 0; j < perChunk; ++j)
    placeValues.push_back(std::ldexp(1.0f, static_cast<int>(bits * j)));
  for (int64_t t = 0; t < chunkBytes; ++t)
    byteScales.push_back(std::ldexp(1.0f, static_cast<int>(-8 * t)));
  Value chunks = graph.create<onnx::MatMulOp>(
      {graph.create<onnx::ReshapeOp>(
           {codes, graph.createI64Vector({rows, cols / perChunk, perChunk})}),
       floatConstant({perChunk, 1}, placeValues)});
  Value shifted = graph.create<onnx::MulOp>(
      {chunks, floatConstant({chunkBytes}, byteScales)});
  Value bytes = graph.create<onnx::CastOp>(
      {graph.create<onnx::CastOp>({shifted}, {castTo(builder, kOnnxInt32)})},
      {castTo(builder, kOnnxUInt8)});
  return graph.create<onnx::ReshapeOp>(
      {bytes, graph.createI64Vector({rows, cols * bits / 8})});
}

/// In @eval_step, each L4Q layer becomes the qaf.qlinear qaf-merge-adapters
/// exports from it, its operands computed in the graph as
/// quant::exportTrainedQuantizer computes them: codes w̃ + 2^(b−1) from
/// qaf.l4q_quantize (the forward's own quantizer, whose w̃ the export
/// reproduces), packed; scales s; zero points 2^(b−1) − β/s in float; the
/// symmetric format. The evaluation then runs the merged model's kernel on
/// the merged model's operands, where the adapted forward's fake-quantized
/// weight s·w̃ + β rounds differently from s·(q − z).
LogicalResult quantizeTrainedQuantizers(func::FuncOp evalStep) {
  SmallVector<L4QLinearOp> layers;
  evalStep.walk([&](L4QLinearOp op) { layers.push_back(op); });
  for (L4QLinearOp op : layers) {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t cols = weightType.getDimSize(0), rows = weightType.getDimSize(1);
    auto bits = static_cast<unsigned>(op.getBits());
    auto group = static_cast<int64_t>(op.getGroupSize());
    OpBuilder builder(op);
    ONNXGraphBuilder graph(builder, op.getLoc());
    auto denseType = RankedTensorType::get({rows, cols}, builder.getF32Type());
    auto quantize = L4QQuantizeOp::create(
        builder, op.getLoc(), TypeRange{denseType, denseType}, op.getWeight(),
        op.getA(), op.getB(), op.getScales(), op.getOffsets(), op.getBitsAttr(),
        op.getGroupSizeAttr(), op.getAlphaAttr());
    double half = std::ldexp(1.0, static_cast<int>(bits) - 1);
    Value codes = graph.create<onnx::AddOp>(
        {quantize.getCodes(), graph.createScalarLike(op.getScales(), half)});
    Value packed = buildPackedCodes(graph, builder, codes, rows, cols, bits);
    Value zeros = graph.create<onnx::SubOp>(
        {graph.createScalarLike(op.getScales(), half),
         graph.create<onnx::DivOp>({op.getOffsets(), op.getScales()})});
    if (graph.failed())
      return op.emitOpError("cannot be evaluated in its merged form: the "
                            "packed codes did not build");
    auto format = QuantFormatAttr::get(builder.getContext(), bits, group,
                                       QuantScheme::Symmetric);
    auto merged =
        QLinearOp::create(builder, op.getLoc(), op.getOutput().getType(),
                          op.getInput(), packed, op.getScales(), zeros, format);
    op.getOutput().replaceAllUsesWith(merged.getOutput());
    keepTrainedValuesAsParameters(evalStep, op);
    op->erase();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct BuildTrainingPass : qaf::impl::BuildTrainingPassBase<BuildTrainingPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkOptions(module.getLoc())))
      return signalPassFailure();
    auto forward = module.lookupSymbol<func::FuncOp>(onnx::kMainGraphName);
    if (!forward || !forward.getBody().hasOneBlock()) {
      module.emitError() << kPass << ": no @" << onnx::kMainGraphName
                         << " function (one block) to train";
      return signalPassFailure();
    }
    for (StringRef name : {"train_step", "eval_step"})
      if (module.lookupSymbol(name)) {
        module.emitError() << kPass << ": the module already has a symbol @"
                           << name;
        return signalPassFailure();
      }
    // Evaluation alone also serves models without adapters (a merged one).
    bool collects = !evalOnly || !getTrainableValues(forward).empty();
    SmallVector<Parameter> parameters;
    if ((collects && failed(collectParameters(forward, parameters))) ||
        failed(checkLogits(forward)))
      return signalPassFailure();

    auto evalStep = cast<func::FuncOp>(forward->clone());
    evalStep.setSymName("eval_step");
    module.insert(std::next(Block::iterator(forward)), evalStep);
    if (failed(buildEvalStep(evalStep)))
      return signalPassFailure();
    if (evalOnly)
      return;
    auto trainStep = cast<func::FuncOp>(forward->clone());
    trainStep.setSymName("train_step");
    module.insert(std::next(Block::iterator(forward)), trainStep);
    if (failed(buildTrainStep(trainStep, parameters)))
      return signalPassFailure();
  }

private:
  LogicalResult checkOptions(Location loc) {
    auto unknown = [&](StringRef option, StringRef value, StringRef choices) {
      return emitError(loc) << kPass << ": unknown " << option << " '" << value
                            << "' (" << choices << ")";
    };
    if (loss != "causal-lm")
      return unknown("loss", loss, "causal-lm");
    if (optimizer != "auto" && optimizer != "adamw" && optimizer != "t-signsgd")
      return unknown("optimizer", optimizer, "auto, adamw or t-signsgd");
    if (schedule != "constant" && schedule != "cosine")
      return unknown("schedule", schedule, "constant or cosine");
    if (failed(checkNonNegativeOption(loc, kPass, "lr", lr)) ||
        failed(checkAtLeastOption(loc, kPass, "total-steps", totalSteps, 1)) ||
        failed(checkAtLeastOption(loc, kPass, "warmup", warmup, 0)) ||
        failed(
            checkNonNegativeOption(loc, kPass, "weight-decay", weightDecay)) ||
        failed(
            checkNonNegativeOption(loc, kPass, "max-grad-norm", maxGradNorm)) ||
        failed(checkAtLeastOption(loc, kPass, "accumulate", accumulate, 1)) ||
        failed(checkPositiveOption(loc, kPass, "eps", eps)))
      return failure();
    if (warmup > totalSteps)
      return emitError(loc)
             << kPass << ": warmup (" << static_cast<int64_t>(warmup)
             << ") exceeds total-steps (" << static_cast<int64_t>(totalSteps)
             << ")";
    for (auto [name, beta] : {std::pair<StringRef, double>{"beta1", beta1},
                              std::pair<StringRef, double>{"beta2", beta2}})
      if (!(beta >= 0 && beta < 1)) {
        std::string value;
        llvm::raw_string_ostream(value) << llvm::format("%g", beta);
        return emitError(loc) << kPass << ": " << name << "=" << value
                              << ": must lie in [0, 1)";
      }
    return success();
  }

  /// The optimizer of a parameter of element type `element`.
  FailureOr<Optimizer> chooseOptimizer(Location loc, StringRef name,
                                       Type element) {
    bool ternary = element.isInteger(8);
    if (optimizer == "auto")
      return ternary ? Optimizer::TSignSGD : Optimizer::AdamW;
    if (optimizer == "adamw" && !ternary)
      return Optimizer::AdamW;
    if (optimizer == "t-signsgd" && ternary)
      return Optimizer::TSignSGD;
    return emitError(loc) << kPass << ": optimizer " << optimizer
                          << " cannot train parameter '" << name << "' of "
                          << (ternary ? "ternary" : "float")
                          << " type (t-signsgd trains ternary factors, adamw "
                             "float ones; optimizer=auto picks)";
  }

  /// Turns the adapters' trainable constants into leading arguments of
  /// `forward` (see the file comment).
  LogicalResult collectParameters(func::FuncOp forward,
                                  SmallVectorImpl<Parameter> &parameters) {
    SmallVector<Value> trainable = getTrainableValues(forward);
    if (trainable.empty())
      return forward.emitError()
             << kPass
             << ": the model has no trainable parameters (attach adapters "
                "first: qaf-attach-adapters)";
    llvm::StringSet<> names;
    for (auto [index, value] : llvm::enumerate(trainable)) {
      auto constant = value.getDefiningOp<onnx::ConstantOp>();
      auto type = dyn_cast<RankedTensorType>(value.getType());
      if (!constant || !type || !type.hasStaticShape())
        return emitError(value.getLoc())
               << kPass << ": a trainable parameter must be a constant of "
               << "static shape (its initial value), not " << value;
      std::string name =
          getWeightName(constant, "parameter_" + std::to_string(index));
      if (!names.insert(name).second)
        return constant.emitError()
               << kPass << ": two trainable parameters are named '" << name
               << "'";
      FailureOr<Optimizer> chosen =
          chooseOptimizer(constant.getLoc(), name, type.getElementType());
      if (failed(chosen))
        return failure();
      parameters.push_back(
          {name, constant.getValue(), type, constant.getLoc(), *chosen});
      if (failed(insertNamedArgument(forward, index, type, name,
                                     constant.getValue(), constant.getLoc())))
        return failure();
      constant.getOutput().replaceAllUsesWith(forward.getArgument(index));
      constant.erase();
    }
    return success();
  }

  LogicalResult insertNamedArgument(func::FuncOp func, unsigned index,
                                    Type type, StringRef name,
                                    ElementsAttr initialValue, Location loc) {
    Builder builder(func.getContext());
    return func.insertArgument(
        index, type,
        builder.getDictionaryAttr(
            {builder.getNamedAttr(kWeightNameAttr, builder.getStringAttr(name)),
             builder.getNamedAttr(kWeightValueAttr, initialValue)}),
        loc);
  }

  LogicalResult checkLogits(func::FuncOp forward) {
    if (forward.getNumResults() == 0)
      return forward.emitError() << kPass << ": @" << onnx::kMainGraphName
                                 << " returns nothing (it must return the "
                                    "logits first)";
    auto type = dyn_cast<RankedTensorType>(forward.getResultTypes()[0]);
    if (!type || type.getRank() != 3 || !type.getElementType().isF32() ||
        type.isDynamicDim(2))
      return forward.emitError()
             << kPass << ": the first result must be the logits, f32 [batch, "
             << "sequence, vocabulary] with a static vocabulary, not "
             << forward.getResultTypes()[0];
    return success();
  }

  /// Appends an input argument named `name`, with symbolic dimension names
  /// `dimParams` (may be null).
  static Value appendInput(func::FuncOp func, Type type, StringRef name,
                           ArrayAttr dimParams = nullptr) {
    Builder builder(func.getContext());
    unsigned index = func.getNumArguments();
    SmallVector<NamedAttribute> attrs = {builder.getNamedAttr(
        onnx::kValueNameAttr, builder.getStringAttr(name))};
    if (dimParams)
      attrs.push_back(builder.getNamedAttr(onnx::kDimParamsAttr, dimParams));
    // Inserting fails only where a body cannot take an argument; a
    // func.func's single block can.
    (void)func.insertArgument(index, type, builder.getDictionaryAttr(attrs),
                              func.getLoc());
    return func.getArgument(index);
  }

  /// Appends the `labels` input: the shape of the logits' first two
  /// dimensions, with their symbolic names (the convention wants labels
  /// shaped as input_ids, whose batch and sequence the logits share).
  static Value appendLabels(func::FuncOp func, Value logits) {
    ArrayAttr dimParams;
    if (auto logitsDims =
            func.getResultAttrOfType<ArrayAttr>(0, onnx::kDimParamsAttr);
        logitsDims && logitsDims.size() == 3)
      dimParams = ArrayAttr::get(func.getContext(),
                                 logitsDims.getValue().take_front(2));
    return appendInput(func, getLabelsType(logits), "labels", dimParams);
  }

  static RankedTensorType getLabelsType(Value logits) {
    auto type = cast<RankedTensorType>(logits.getType());
    return RankedTensorType::get(type.getShape().take_front(2),
                                 IntegerType::get(type.getContext(), 64));
  }

  /// Replaces `func`'s results by `results`, named by `names`, tied to the
  /// arguments `updates` names (empty: not tied).
  static void setResults(func::FuncOp func, ValueRange results,
                         ArrayRef<std::string> names,
                         ArrayRef<std::string> updates) {
    Builder builder(func.getContext());
    Operation *ret = func.getBody().front().getTerminator();
    ret->setOperands(results);
    func.setFunctionType(builder.getFunctionType(
        func.getBody().front().getArgumentTypes(), results.getTypes()));
    SmallVector<DictionaryAttr> attrs;
    for (auto [name, update] : llvm::zip_equal(names, updates)) {
      SmallVector<NamedAttribute> entries = {builder.getNamedAttr(
          onnx::kValueNameAttr, builder.getStringAttr(name))};
      if (!update.empty())
        entries.push_back(
            builder.getNamedAttr(kUpdatesAttr, builder.getStringAttr(update)));
      attrs.push_back(builder.getDictionaryAttr(entries));
    }
    func.setAllResultAttrs(attrs);
  }

  LogicalResult buildEvalStep(func::FuncOp evalStep) {
    if (failed(absorbZeroPointAdapters(evalStep)) ||
        failed(quantizeTrainedQuantizers(evalStep)))
      return failure();
    Block &body = evalStep.getBody().front();
    Operation *ret = body.getTerminator();
    Value logits = ret->getOperand(0);
    Value labels = appendLabels(evalStep, logits);
    OpBuilder builder(ret);
    FailureOr<CausalLMLoss> loss = buildCausalLMLoss(
        builder, evalStep.getLoc(), logits, labels, /*forTraining=*/false);
    if (failed(loss))
      return failure();
    ONNXGraphBuilder graph(builder, evalStep.getLoc());
    Value count = graph.create<onnx::CastOp>({loss->tokenCount},
                                             {castTo(builder, kOnnxInt64)});
    if (graph.failed())
      return failure();
    setResults(evalStep, {loss->tokenLossSum, count},
               {"loss_sum", "token_count"}, {"", ""});
    return success();
  }

  LogicalResult buildTrainStep(func::FuncOp trainStep,
                               ArrayRef<Parameter> parameters) {
    Block &body = trainStep.getBody().front();
    Operation *ret = body.getTerminator();
    Location loc = trainStep.getLoc();
    Value logits = ret->getOperand(0);
    Value labels = appendLabels(trainStep, logits);
    Value step = appendInput(
        trainStep, getScalarType(IntegerType::get(&getContext(), 64)), "step");
    SmallVector<Value> parameterValues = llvm::map_to_vector(
        llvm::seq<unsigned>(parameters.size()),
        [&](unsigned i) -> Value { return trainStep.getArgument(i); });

    OpBuilder builder(ret);
    FailureOr<CausalLMLoss> loss =
        buildCausalLMLoss(builder, loc, logits, labels, /*forTraining=*/true);
    if (failed(loss))
      return failure();
    FailureOr<SmallVector<Value>> gradients = buildReverseMode(
        builder, body, {{logits, loss->logitsGradient}}, parameterValues);
    if (failed(gradients))
      return failure();
    for (auto [parameter, gradient] : llvm::zip_equal(parameters, *gradients))
      if (!gradient)
        return emitError(parameter.loc)
               << kPass << ": parameter '" << parameter.name
               << "' gets no gradient from the loss";

    // Optimizer state: new leading arguments after the parameters, zeros.
    unsigned nextStateIndex = parameters.size();
    auto addState = [&](const Parameter &parameter, StringRef suffix,
                        RankedTensorType type) -> FailureOr<Value> {
      std::string name = parameter.name + "." + suffix.str();
      ElementsAttr zeros = DenseElementsAttr::get(
          type, builder.getZeroAttr(type.getElementType()));
      unsigned index = nextStateIndex++;
      if (failed(insertNamedArgument(trainStep, index, type, name, zeros,
                                     parameter.loc)))
        return failure();
      return Value(trainStep.getArgument(index));
    };

    ONNXGraphBuilder graph(builder, loc);
    Value one = createI64Scalar(builder, loc, 1);
    Value optimizerStep;
    // The last micro-batch of an optimizer step applies it.
    Value applies;
    if (accumulate == 1) {
      optimizerStep = step;
    } else {
      Value earlierCalls = graph.create<onnx::SubOp>({step, one});
      Value microBatches = createI64Scalar(builder, loc, accumulate);
      Value completedSteps =
          graph.create<onnx::DivOp>({earlierCalls, microBatches});
      optimizerStep = graph.create<onnx::AddOp>({completedSteps, one});
      Value phase = graph.create<onnx::SubOp>(
          {earlierCalls,
           graph.create<onnx::MulOp>({completedSteps, microBatches})});
      applies = graph.create<onnx::EqualOp>(
          {phase, createI64Scalar(builder, loc, accumulate - 1)});
    }

    SmallVector<Value> results = {loss->meanLoss};
    SmallVector<std::string> names = {"loss"}, updates = {""};
    auto addResult = [&](Value value, StringRef argumentName) {
      results.push_back(value);
      names.push_back(argumentName.str());
      updates.push_back(argumentName.str());
    };

    // The gradients the optimizers apply: the means over the micro-batches,
    // clipped.
    SmallVector<Value> updateGradients(*gradients);
    if (accumulate > 1) {
      Value scale = createF32Scalar(builder, loc, 1.0 / accumulate);
      Value zero = createF32Scalar(builder, loc, 0.0);
      for (auto [parameter, gradient] :
           llvm::zip_equal(parameters, updateGradients)) {
        auto type = cast<RankedTensorType>(gradient.getType());
        FailureOr<Value> sum = addState(parameter, "grad_accum", type);
        if (failed(sum))
          return failure();
        Value newSum = graph.create<onnx::AddOp>({*sum, gradient});
        addResult(graph.create<onnx::WhereOp>({applies, zero, newSum}),
                  parameter.name + ".grad_accum");
        gradient = graph.create<onnx::MulOp>({newSum, scale});
      }
    }

    // Clipping by the global norm over every trainable parameter, as
    // torch.nn.utils.clip_grad_norm_: scale by min(1, max / (norm + 1e-6)).
    // t-SignSGD reads only the order of |g|, so scaling it is skipped.
    bool anyAdamW = llvm::any_of(parameters, [](const Parameter &parameter) {
      return parameter.optimizer == Optimizer::AdamW;
    });
    if (maxGradNorm > 0 && anyAdamW) {
      Value sumOfSquares;
      for (Value gradient : updateGradients) {
        Value squares = sumAll(graph, builder,
                               graph.create<onnx::MulOp>({gradient, gradient}));
        sumOfSquares = sumOfSquares
                           ? graph.create<onnx::AddOp>({sumOfSquares, squares})
                           : squares;
      }
      Value norm = graph.create<onnx::SqrtOp>({sumOfSquares});
      Value coefficient = graph.create<onnx::MinOp>(
          {createF32Scalar(builder, loc, 1.0),
           graph.create<onnx::DivOp>(
               {createF32Scalar(builder, loc, maxGradNorm),
                graph.create<onnx::AddOp>(
                    {norm, createF32Scalar(builder, loc, 1e-6)})})});
      for (auto [parameter, gradient] :
           llvm::zip_equal(parameters, updateGradients))
        if (parameter.optimizer == Optimizer::AdamW)
          gradient = graph.create<onnx::MulOp>({gradient, coefficient});
    }
    if (graph.failed())
      return failure();

    auto gate = [&](Value updated, Value old) {
      return applies ? graph.create<onnx::WhereOp>({applies, updated, old})
                     : updated;
    };
    SmallVector<std::pair<Value, std::string>> newParameters;
    for (auto [index, parameter] : llvm::enumerate(parameters)) {
      Value value = parameterValues[index];
      Value gradient = updateGradients[index];
      if (parameter.optimizer == Optimizer::TSignSGD) {
        Value updated = TSignSGDUpdateOp::create(
            builder, parameter.loc, parameter.type, value, gradient,
            optimizerStep, builder.getI64IntegerAttr(totalSteps));
        newParameters.push_back({gate(updated, value), parameter.name});
        continue;
      }
      FailureOr<Value> expAvg = addState(parameter, "exp_avg", parameter.type);
      FailureOr<Value> expAvgSq =
          addState(parameter, "exp_avg_sq", parameter.type);
      if (failed(expAvg) || failed(expAvgSq))
        return failure();
      auto update = AdamWUpdateOp::create(
          builder, parameter.loc,
          TypeRange{parameter.type, parameter.type, parameter.type}, value,
          gradient, *expAvg, *expAvgSq, optimizerStep,
          builder.getF64FloatAttr(lr), builder.getStringAttr(schedule),
          builder.getI64IntegerAttr(warmup),
          builder.getI64IntegerAttr(totalSteps), builder.getF64FloatAttr(beta1),
          builder.getF64FloatAttr(beta2), builder.getF64FloatAttr(eps),
          builder.getF64FloatAttr(weightDecay));
      newParameters.push_back(
          {gate(update.getNewParam(), value), parameter.name});
      addResult(gate(update.getNewExpAvg(), *expAvg),
                parameter.name + ".exp_avg");
      addResult(gate(update.getNewExpAvgSq(), *expAvgSq),
                parameter.name + ".exp_avg_sq");
    }
    if (graph.failed())
      return failure();
    // Parameters first, then their state, in argument order.
    SmallVector<Value> ordered = {results.front()};
    SmallVector<std::string> orderedNames = {names.front()},
                             orderedUpdates = {updates.front()};
    for (auto &[value, name] : newParameters) {
      ordered.push_back(value);
      orderedNames.push_back(name);
      orderedUpdates.push_back(name);
    }
    for (unsigned i = 1; i < results.size(); ++i) {
      ordered.push_back(results[i]);
      orderedNames.push_back(names[i]);
      orderedUpdates.push_back(updates[i]);
    }
    setResults(trainStep, ordered, orderedNames, orderedUpdates);
    return success();
  }
};

} // namespace
