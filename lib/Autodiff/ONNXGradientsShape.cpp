//===- ONNXGradientsShape.cpp - gradient rules of data-movement ops -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// GradientOpInterface external models of the onnx ops that move, copy or
// select elements without computing on them: the gradient of each operand
// element is the sum of the result gradients of the result elements it
// became. Sizes are read with Shape where a dim is dynamic, so the rules
// hold for dynamic shapes. Ops that select by index (Slice, Gather,
// GatherElements) scatter-add the result gradient into zeros with
// ScatterND (repeated indices accumulate); the indices are those the op
// itself picks from a range of positions, so each op's index rules
// (negative indices, clamping, steps) are not written twice.
//
// The ops that make constants, shapes and index ranges have models that
// give no gradient: nothing flows through them to a trainable value.
//
//===----------------------------------------------------------------------===//

#include "ONNXGradientRules.h"
#include "RuleGradientModel.h"

#include "qaf/Interfaces/GradientOpInterface.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXShapeHelpers.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace qaf {
namespace {

/// Emits the ops of one rule: onnx ops typed by shape inference, plus the
/// constants and attributes the rules share.
class GradientEmitter : public ONNXGraphBuilder {
public:
  GradientEmitter(OpBuilder &builder, Operation *op)
      : ONNXGraphBuilder(builder, op->getLoc()), builder(builder), op(op) {}

  NamedAttribute attr(StringRef name, int64_t value) {
    return builder.getNamedAttr(name, builder.getI64IntegerAttr(value));
  }

  /// A 0-D constant holding `value`, of the type of `value`.
  Value scalar(TypedAttr value) {
    auto type = RankedTensorType::get({}, value.getType());
    return onnx::ConstantOp::create(builder, op->getLoc(), type,
                                    DenseElementsAttr::get(type, value));
  }
  Value scalarI64(int64_t value) {
    return scalar(builder.getI64IntegerAttr(value));
  }

  /// An omitted optional input.
  Value noValue() {
    return onnx::NoValueOp::create(builder, op->getLoc(),
                                   builder.getNoneType());
  }

  /// The size of dim `dim` of `tensor` as a 1-D int64 tensor of one
  /// element: a constant when static, read with Shape when dynamic.
  Value dimSize(Value tensor, int64_t dim) {
    int64_t size = cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
    if (!ShapedType::isDynamic(size))
      return createI64Vector({size});
    return create<onnx::ShapeOp>({tensor},
                                 {attr("start", dim), attr("end", dim + 1)});
  }

  /// Element `index` of the 1-D int64 `vector`, as a 1-D tensor.
  Value element(Value vector, int64_t index) {
    DenseIntElementsAttr values;
    if (matchPattern(vector, m_Constant(&values)))
      return createI64Vector({values.getValues<APInt>()[index].getSExtValue()});
    return create<onnx::SliceOp>({vector, createI64Vector({index}),
                                  createI64Vector({index + 1}),
                                  createI64Vector({0}), noValue()});
  }

  /// The one element of the 1-D int64 `vector` as a 0-D tensor.
  Value toScalar(Value vector) {
    DenseIntElementsAttr values;
    if (matchPattern(vector, m_Constant(&values)))
      return scalarI64((*values.getValues<APInt>().begin()).getSExtValue());
    return create<onnx::SqueezeOp>({vector, createI64Vector({0})});
  }

  /// Zeros of the shape and element type of `tensor`.
  Value zerosLike(Value tensor) {
    return zerosOfShape(create<onnx::ShapeOp>({tensor}),
                        getElementTypeOrSelf(tensor.getType()));
  }

  /// Zeros of the shape given by the 1-D int64 tensor `shape`.
  Value zerosOfShape(Value shape, Type elementType) {
    auto valueType = RankedTensorType::get({1}, elementType);
    return create<onnx::ConstantOfShapeOp>(
        {shape},
        {builder.getNamedAttr(
            "value", DenseElementsAttr::get(
                         valueType, builder.getFloatAttr(elementType, 0.0)))});
  }

  /// `gradient` reshaped to the shape of `operand` (same element count).
  /// allowzero: a 0 in the shape is a size, not "copy the dim".
  Value reshapeLike(Value gradient, Value operand) {
    return create<onnx::ReshapeOp>({gradient, create<onnx::ShapeOp>({operand})},
                                   {attr("allowzero", 1)});
  }

  Value transpose(Value tensor, ArrayRef<int64_t> perm) {
    return create<onnx::TransposeOp>(
        {tensor},
        {builder.getNamedAttr("perm", builder.getDenseI64ArrayAttr(perm))});
  }

  /// `zeros` with `updates` added at the slabs that `indices` (int64,
  /// [..., depth]) address, repeated indices accumulating.
  Value scatterAdd(Value zeros, Value indices, Value updates) {
    return create<onnx::ScatterNDOp>(
        {zeros, indices, updates},
        {builder.getNamedAttr("reduction", builder.getStringAttr("add"))});
  }

  /// The gradient of gathering slabs along `axis`: `gradient` has the
  /// gathered tensor's dims with the index dims (those of `indices`, int64
  /// and non-negative) at `axis`; the result has `axisSize` (1-D) there
  /// and, at each position, the sum of the gradient's slabs gathered from
  /// it. The index dims go to the front for the ScatterND and the axis
  /// back to its place after it.
  Value scatterAddAlongAxis(Value gradient, Value indices, int64_t axis,
                            Value axisSize) {
    int64_t indicesRank = cast<RankedTensorType>(indices.getType()).getRank();
    int64_t gradientRank = cast<RankedTensorType>(gradient.getType()).getRank();
    SmallVector<int64_t> indexDimsFirst =
        llvm::to_vector(llvm::seq<int64_t>(axis, axis + indicesRank));
    llvm::append_range(indexDimsFirst, llvm::seq<int64_t>(0, axis));
    llvm::append_range(indexDimsFirst,
                       llvm::seq<int64_t>(axis + indicesRank, gradientRank));
    Value slabs = axis == 0 ? gradient : transpose(gradient, indexDimsFirst);
    Value zeros = zerosOfShape(
        create<onnx::ConcatOp>(
            {axisSize,
             create<onnx::ShapeOp>({slabs}, {attr("start", indicesRank)})},
            {attr("axis", 0)}),
        getElementTypeOrSelf(gradient.getType()));
    Value scattered = scatterAdd(
        zeros, create<onnx::UnsqueezeOp>({indices, createI64Vector({-1})}),
        slabs);
    if (axis == 0)
      return scattered;
    // [axis, before..., after...] back to [before..., axis, after...].
    int64_t resultRank = gradientRank - indicesRank + 1;
    SmallVector<int64_t> axisBack =
        llvm::to_vector(llvm::seq<int64_t>(1, axis + 1));
    axisBack.push_back(0);
    llvm::append_range(axisBack, llvm::seq<int64_t>(axis + 1, resultRank));
    return transpose(scattered, axisBack);
  }

  /// Reports an error on the op; the rule then fails.
  InFlightDiagnostic emitError() {
    hasReportedError = true;
    return op->emitError();
  }

  /// Whether an op failed to build or the rule reported an error.
  bool failed() const { return ONNXGraphBuilder::failed() || hasReportedError; }

  /// `axis` normalised against `rank`, or nullopt after a diagnostic.
  std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
    std::optional<int64_t> normalized = onnx::normalizeAxis(axis, rank);
    if (!normalized)
      emitError() << "axis " << axis << " is out of range for rank " << rank;
    return normalized;
  }

  OpBuilder &builder;
  Operation *op;

private:
  bool hasReportedError = false;
};

/// The per-op part of a rule: fills `operandGradients` (one slot per
/// operand, all null on entry) from `resultGradients` (one per result, at
/// least one not null). Ops of the emitter that fail leave it failed.
template <typename OpTy>
using ShapeRule = void (*)(GradientEmitter &, OpTy,
                           ArrayRef<Value> resultGradients,
                           MutableArrayRef<Value> operandGradients);

/// The merge of `gradient`'s type with `operandType`: a dim static in
/// either is static. A gradient has its operand's shape, which shape
/// inference does not always see through (a size read with Shape). Every
/// rule returns results of ops it has just built, so retyping one changes
/// no other use.
LogicalResult refineToOperandType(Operation *op, Value gradient,
                                  Type operandType) {
  auto inferred = cast<RankedTensorType>(gradient.getType());
  auto declared = cast<RankedTensorType>(operandType);
  if (inferred == declared)
    return success();
  if (inferred.getRank() != declared.getRank() ||
      inferred.getElementType() != declared.getElementType() ||
      failed(verifyCompatibleShape(inferred, declared)))
    return op->emitError() << "the gradient rule built " << inferred
                           << " for an operand of type " << declared;
  SmallVector<int64_t> dims;
  for (auto [a, b] : llvm::zip_equal(inferred.getShape(), declared.getShape()))
    dims.push_back(ShapedType::isDynamic(a) ? b : a);
  gradient.setType(inferred.clone(dims));
  return success();
}

/// What the data-movement rules share in the one model
/// (RuleGradientModel.h).
struct ShapeRules {
  template <typename OpTy> using Rule = ShapeRule<OpTy>;

  static bool needsGradients(Operation *) { return true; }

  static LogicalResult checkTypes(Operation *op) {
    auto isUnrankedData = [](Value value) {
      return isa<UnrankedTensorType>(value.getType());
    };
    if (llvm::any_of(op->getOperands(), isUnrankedData) ||
        llvm::any_of(op->getResults(), isUnrankedData))
      return op->emitError() << "the gradient of '" << op->getName()
                             << "' needs ranked operand and result types";
    return success();
  }

  template <typename OpTy, Rule<OpTy> PerOpRule>
  static LogicalResult apply(OpBuilder &builder, OpTy op,
                             ArrayRef<Value> resultGradients,
                             MutableArrayRef<Value> operandGradients) {
    GradientEmitter emitter(builder, op);
    PerOpRule(emitter, op, resultGradients, operandGradients);
    return failure(emitter.failed());
  }

  static LogicalResult refine(Operation *op, Value gradient, unsigned index) {
    return refineToOperandType(op, gradient, op->getOperand(index).getType());
  }
};

/// Ops whose results carry no gradient back: constants, shapes, ranges.
template <typename OpTy>
struct NoGradientModel
    : GradientOpInterface::ExternalModel<NoGradientModel<OpTy>, OpTy> {
  bool isDifferentiableOperand(Operation *, unsigned) const { return false; }

  LogicalResult buildGradients(Operation *op, OpBuilder &,
                               ArrayRef<Value> resultGradients,
                               SmallVectorImpl<Value> &operandGradients) const {
    operandGradients.assign(op->getNumOperands(), Value());
    return success();
  }
};

int64_t getRank(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

//===----------------------------------------------------------------------===//
// The rules
//===----------------------------------------------------------------------===//

/// The inverse permutation.
void transposeRule(GradientEmitter &emit, onnx::TransposeOp op,
                   ArrayRef<Value> g, MutableArrayRef<Value> gradients) {
  int64_t rank = getRank(op.getData());
  SmallVector<int64_t> perm =
      op.getPerm() ? llvm::to_vector(*op.getPerm())
                   : llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(rank)));
  SmallVector<int64_t> inverse(rank);
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = static_cast<int64_t>(i);
  gradients[0] = emit.transpose(g[0], inverse);
}

/// Reshape, Flatten, Squeeze, Unsqueeze keep the elements in order: the
/// gradient is the result gradient read in the input's shape.
template <typename OpTy>
void reshapeRule(GradientEmitter &emit, OpTy op, ArrayRef<Value> g,
                 MutableArrayRef<Value> gradients) {
  gradients[0] = emit.reshapeLike(g[0], op->getOperand(0));
}

/// Each input's gradient is its slab of the result gradient along the
/// axis. The offsets add static sizes as numbers and dynamic ones (read
/// with Shape) in the graph.
void concatRule(GradientEmitter &emit, onnx::ConcatOp op, ArrayRef<Value> g,
                MutableArrayRef<Value> gradients) {
  int64_t rank = getRank(op.getConcatResult());
  std::optional<int64_t> axis =
      emit.normalizeAxis(static_cast<int64_t>(op.getAxis()), rank);
  if (!axis)
    return;
  int64_t staticOffset = 0;
  Value dynamicOffset; // the sum of the dynamic sizes so far
  auto offset = [&]() -> Value {
    if (!dynamicOffset)
      return emit.createI64Vector({staticOffset});
    if (staticOffset == 0)
      return dynamicOffset;
    return emit.create<onnx::AddOp>(
        {dynamicOffset, emit.createI64Vector({staticOffset})});
  };
  Value axes = emit.createI64Vector({*axis});
  Value start = offset();
  for (auto [index, input] : llvm::enumerate(op.getInputs())) {
    int64_t size = cast<RankedTensorType>(input.getType()).getDimSize(*axis);
    if (!ShapedType::isDynamic(size))
      staticOffset += size;
    else if (dynamicOffset)
      dynamicOffset =
          emit.create<onnx::AddOp>({dynamicOffset, emit.dimSize(input, *axis)});
    else
      dynamicOffset = emit.dimSize(input, *axis);
    Value end = offset();
    gradients[index] =
        emit.create<onnx::SliceOp>({g[0], start, end, axes, emit.noValue()});
    start = end;
  }
}

/// The result gradients concatenated back along the axis; a result without
/// a gradient contributes zeros.
void splitRule(GradientEmitter &emit, onnx::SplitOp op, ArrayRef<Value> g,
               MutableArrayRef<Value> gradients) {
  SmallVector<Value> parts;
  for (auto [result, gradient] : llvm::zip_equal(op.getOutputs(), g))
    parts.push_back(gradient ? gradient : emit.zerosLike(result));
  gradients[0] = emit.create<onnx::ConcatOp>(
      parts, {emit.attr("axis", static_cast<int64_t>(op.getAxis()))});
}

/// One sliced axis at a time: the positions along the axis that the slice
/// keeps (the same Slice applied to 0, 1, ..., size - 1, which keeps its
/// rules for negative bounds, clamping and steps in one place) receive the
/// gradient's slabs, the others zeros.
void sliceRule(GradientEmitter &emit, onnx::SliceOp op, ArrayRef<Value> g,
               MutableArrayRef<Value> gradients) {
  Value data = op.getData();
  int64_t rank = getRank(data);
  SmallVector<int64_t> axes;
  if (isa<NoneType>(op.getAxes().getType())) {
    auto startsType = dyn_cast<RankedTensorType>(op.getStarts().getType());
    if (!startsType || startsType.isDynamicDim(0)) {
      emit.emitError() << "the gradient of 'onnx.Slice' needs a static number "
                          "of starts";
      return;
    }
    axes = llvm::to_vector(llvm::seq<int64_t>(0, startsType.getDimSize(0)));
  } else {
    DenseIntElementsAttr constantAxes;
    if (!matchPattern(op.getAxes(), m_Constant(&constantAxes))) {
      emit.emitError() << "the gradient of 'onnx.Slice' needs constant axes";
      return;
    }
    axes = llvm::map_to_vector(constantAxes.getValues<APInt>(),
                               [](const APInt &a) { return a.getSExtValue(); });
  }
  Value zeroAxis = emit.createI64Vector({0});
  Value gradient = g[0];
  for (auto [i, ax] : llvm::enumerate(axes)) {
    std::optional<int64_t> axis = emit.normalizeAxis(ax, rank);
    if (!axis)
      return;
    int64_t index = static_cast<int64_t>(i);
    auto entry = [&](Value bounds) -> Value {
      if (isa<NoneType>(bounds.getType()))
        return bounds;
      return emit.element(bounds, index);
    };
    Value axisSize = emit.dimSize(data, *axis);
    Value positions = emit.create<onnx::RangeOp>(
        {emit.scalarI64(0), emit.toScalar(axisSize), emit.scalarI64(1)});
    Value kept = emit.create<onnx::SliceOp>({positions, entry(op.getStarts()),
                                             entry(op.getEnds()), zeroAxis,
                                             entry(op.getSteps())});
    gradient = emit.scatterAddAlongAxis(gradient, kept, *axis, axisSize);
  }
  gradients[0] = gradient;
}

/// Each result element came from the data element whose row-major
/// position GatherElements picks from a tensor of positions (so its index
/// rules, negative indices included, stay in one place); the result
/// gradient is scatter-added there, one element at a time.
void gatherElementsRule(GradientEmitter &emit, onnx::GatherElementsOp op,
                        ArrayRef<Value> g, MutableArrayRef<Value> gradients) {
  Value data = op.getData();
  Value count = emit.create<onnx::SizeOp>({data});
  Value positions = emit.reshapeLike(
      emit.create<onnx::RangeOp>({emit.scalarI64(0), count, emit.scalarI64(1)}),
      data);
  Value picked = emit.create<onnx::GatherElementsOp>(
      {positions, op.getIndices()},
      {emit.attr("axis", static_cast<int64_t>(op.getAxis()))});
  Value flatZeros = emit.zerosOfShape(
      emit.create<onnx::UnsqueezeOp>({count, emit.createI64Vector({0})}),
      getElementTypeOrSelf(g[0].getType()));
  Value flat = emit.scatterAdd(
      flatZeros,
      emit.create<onnx::UnsqueezeOp>({picked, emit.createI64Vector({-1})}),
      g[0]);
  gradients[0] = emit.reshapeLike(flat, data);
}

/// The embedding rule: row `indices[j...]` of the data gradient (along the
/// axis) accumulates the result gradient's rows j...; negative indices
/// count from the end, as in Gather.
void gatherRule(GradientEmitter &emit, onnx::GatherOp op, ArrayRef<Value> g,
                MutableArrayRef<Value> gradients) {
  Value data = op.getData();
  std::optional<int64_t> axis =
      emit.normalizeAxis(static_cast<int64_t>(op.getAxis()), getRank(data));
  if (!axis)
    return;
  Type i64 = emit.builder.getI64Type();
  Value indices = op.getIndices();
  if (getElementTypeOrSelf(indices.getType()) != i64)
    indices = emit.create<onnx::CastOp>(
        {indices}, {emit.attr("to", /*TensorProto INT64=*/7)});
  Value axisSize = emit.dimSize(data, *axis);
  // Negative indices wrapped here rather than left to ScatterND, whose
  // spec does not promise to wrap them; the size added is 0-D, so that
  // 0-D indices stay 0-D.
  indices = emit.create<onnx::WhereOp>(
      {emit.create<onnx::LessOp>({indices, emit.scalarI64(0)}),
       emit.create<onnx::AddOp>({indices, emit.toScalar(axisSize)}), indices});
  gradients[0] = emit.scatterAddAlongAxis(g[0], indices, *axis, axisSize);
}

/// The result gradient summed over the dims the input was broadcast along.
void expandRule(GradientEmitter &emit, onnx::ExpandOp op, ArrayRef<Value> g,
                MutableArrayRef<Value> gradients) {
  gradients[0] = sumToOperandShape(emit, op, g[0], op.getInput());
}

/// The result gradient, of shape [r0 d0, r1 d1, ...], read as
/// [r0, d0, r1, d1, ...] and summed over the repeats.
void tileRule(GradientEmitter &emit, onnx::TileOp op, ArrayRef<Value> g,
              MutableArrayRef<Value> gradients) {
  Value input = op.getInput();
  int64_t rank = getRank(input);
  SmallVector<Value> interleaved;
  SmallVector<int64_t> repeatDims;
  for (int64_t i = 0; i < rank; ++i) {
    interleaved.push_back(emit.element(op.getRepeats(), i));
    interleaved.push_back(emit.dimSize(input, i));
    repeatDims.push_back(2 * i);
  }
  Value blocks = emit.create<onnx::ReshapeOp>(
      {g[0], emit.create<onnx::ConcatOp>(interleaved, {emit.attr("axis", 0)})},
      {emit.attr("allowzero", 1)});
  gradients[0] = emit.create<onnx::ReduceSumOp>(
      {blocks, emit.createI64Vector(repeatDims)}, {emit.attr("keepdims", 0)});
}

/// X gets the result gradient where the condition holds, Y where it does
/// not, each summed back over the dims it was broadcast along.
void whereRule(GradientEmitter &emit, onnx::WhereOp op, ArrayRef<Value> g,
               MutableArrayRef<Value> gradients) {
  Value zero = emit.scalar(
      emit.builder.getZeroAttr(getElementTypeOrSelf(g[0].getType())));
  Value condition = op.getCondition();
  gradients[1] = sumToOperandShape(
      emit, op, emit.create<onnx::WhereOp>({condition, g[0], zero}), op.getX());
  gradients[2] = sumToOperandShape(
      emit, op, emit.create<onnx::WhereOp>({condition, zero, g[0]}), op.getY());
}

template <typename OpTy, ShapeRule<OpTy> PerOpRule>
void attachShapeModel(MLIRContext *context) {
  attachRuleModel<OpTy, ShapeRules, PerOpRule>(context);
}

template <typename... OpTys> void attachNoGradientModels(MLIRContext *context) {
  (OpTys::template attachInterface<NoGradientModel<OpTys>>(*context), ...);
}

} // namespace

void registerONNXShapeGradientModels(MLIRContext *context) {
  attachShapeModel<onnx::TransposeOp, transposeRule>(context);
  attachShapeModel<onnx::ReshapeOp, reshapeRule<onnx::ReshapeOp>>(context);
  attachShapeModel<onnx::FlattenOp, reshapeRule<onnx::FlattenOp>>(context);
  attachShapeModel<onnx::SqueezeOp, reshapeRule<onnx::SqueezeOp>>(context);
  attachShapeModel<onnx::UnsqueezeOp, reshapeRule<onnx::UnsqueezeOp>>(context);
  attachShapeModel<onnx::ConcatOp, concatRule>(context);
  attachShapeModel<onnx::SplitOp, splitRule>(context);
  attachShapeModel<onnx::SliceOp, sliceRule>(context);
  attachShapeModel<onnx::GatherOp, gatherRule>(context);
  attachShapeModel<onnx::GatherElementsOp, gatherElementsRule>(context);
  attachShapeModel<onnx::ExpandOp, expandRule>(context);
  attachShapeModel<onnx::TileOp, tileRule>(context);
  attachShapeModel<onnx::WhereOp, whereRule>(context);
  attachNoGradientModels<onnx::ConstantOp, onnx::ShapeOp, onnx::SizeOp,
                         onnx::ConstantOfShapeOp, onnx::RangeOp>(context);
}

} // namespace qaf
