//===- ONNXFolds.cpp - constant folding of onnx ops -----------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `fold()` of the onnx ops that declare one. The target is the shape
// arithmetic exporters emit (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape, ConstantOfShape, Range, Cast, comparisons, integer arithmetic)
// plus identities. Rules every fold here keeps:
//   - a folded constant has exactly the op's result type, which must be
//     static; an operand is returned only when its type equals the result's;
//   - new constants hold at most kMaxFoldElements elements unless they are
//     splats, so weights are never duplicated;
//   - values are those ONNX Runtime computes; where that is uncertain (float8,
//     sub-byte casts, out-of-range float to int) the fold declines.
//
//===----------------------------------------------------------------------===//

#include "ONNXOpsUtils.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APSInt.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVectorExtras.h"

using namespace mlir;
using namespace qaf::onnx;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The static ranked type of `value`, if it has one.
static RankedTensorType getStaticType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return {};
  return type;
}

/// A static type small enough for a fold to materialise a non-splat
/// constant of it.
static bool isSmallStaticType(RankedTensorType type) {
  return type && type.getNumElements() <= kMaxFoldElements;
}

/// For each element of a row-major tensor of `resultShape`, the row-major
/// index of the element of a `sourceShape` tensor that NumPy broadcasting
/// maps to it.
static SmallVector<int64_t>
getBroadcastSourceIndices(ArrayRef<int64_t> resultShape,
                          ArrayRef<int64_t> sourceShape) {
  size_t rank = resultShape.size();
  // Source strides aligned with the result's dims; 0 where broadcast.
  SmallVector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < sourceShape.size(); ++i) {
    size_t sourceDim = sourceShape.size() - 1 - i;
    if (sourceShape[sourceDim] != 1)
      strides[rank - 1 - i] = stride;
    stride *= sourceShape[sourceDim];
  }
  int64_t count = 1;
  for (int64_t dim : resultShape)
    count *= dim;
  SmallVector<int64_t> indices(count);
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t remaining = linear, index = 0;
    for (size_t d = rank; d-- > 0;) {
      index += (remaining % resultShape[d]) * strides[d];
      remaining /= resultShape[d];
    }
    indices[linear] = index;
  }
  return indices;
}

/// Whether `type` is the NumPy broadcast of `shapes`: folds index operands
/// through the result shape, so a declared result type that disagrees with
/// the operands (invalid, but not rejected by the verifiers) must not fold.
static bool isBroadcastOf(RankedTensorType type,
                          ArrayRef<ArrayRef<int64_t>> shapes) {
  SmallVector<int64_t> shape;
  for (ArrayRef<int64_t> operandShape : shapes) {
    std::optional<SmallVector<int64_t>> merged =
        broadcastShapes(shape, operandShape);
    if (!merged)
      return false;
    shape = std::move(*merged);
  }
  return ArrayRef<int64_t>(shape) == type.getShape();
}

/// The constant of `type` whose element i is element `sourceIndices[i]` of
/// `source` (the data movement of Gather, Slice, Transpose, Where, ...).
static DenseElementsAttr pickElements(DenseElementsAttr source,
                                      ArrayRef<int64_t> sourceIndices,
                                      ShapedType type) {
  if (source.isSplat())
    return DenseElementsAttr::get(type, source.getSplatValue<Attribute>());
  auto values = source.getValues<Attribute>();
  SmallVector<Attribute> picked;
  picked.reserve(sourceIndices.size());
  for (int64_t index : sourceIndices)
    picked.push_back(*std::next(values.begin(), index));
  return DenseElementsAttr::get(type, picked);
}

/// Element-wise evaluation over constant operands with NumPy broadcasting.
/// `compute` maps the operands' elements (APInt or APFloat, per ElementT) to
/// the result element (APInt, APFloat or bool), or to nullopt to decline.
template <typename ElementT, typename ResultT, typename ComputeFn>
static Attribute evaluateElementwise(Value result,
                                     ArrayRef<DenseElementsAttr> operands,
                                     ComputeFn compute) {
  RankedTensorType resultType = getStaticType(result);
  if (!resultType)
    return {};
  bool allSplat =
      llvm::all_of(operands, [](DenseElementsAttr a) { return a.isSplat(); });
  if (!allSplat && !isSmallStaticType(resultType))
    return {};
  if (!isBroadcastOf(resultType,
                     llvm::map_to_vector(operands, [](DenseElementsAttr a) {
                       return a.getType().getShape();
                     })))
    return {};
  int64_t count = allSplat ? 1 : resultType.getNumElements();

  SmallVector<SmallVector<ElementT>> values;
  SmallVector<SmallVector<int64_t>> sourceIndices;
  for (DenseElementsAttr operand : operands) {
    if (operand.isSplat()) {
      values.push_back({operand.getSplatValue<ElementT>()});
      sourceIndices.push_back(SmallVector<int64_t>(count, 0));
      continue;
    }
    values.push_back(llvm::to_vector(operand.getValues<ElementT>()));
    sourceIndices.push_back(getBroadcastSourceIndices(
        resultType.getShape(), operand.getType().getShape()));
  }
  SmallVector<ResultT> results;
  SmallVector<ElementT> arguments;
  for (int64_t i = 0; i < count; ++i) {
    arguments.clear();
    for (auto [operandValues, indices] : llvm::zip_equal(values, sourceIndices))
      arguments.push_back(operandValues[indices[i]]);
    std::optional<ResultT> element = compute(ArrayRef<ElementT>(arguments));
    if (!element)
      return {};
    results.push_back(*element);
  }
  return DenseElementsAttr::get(resultType, ArrayRef<ResultT>(results));
}

/// The DenseElementsAttr operands of a fold, or an empty vector when one of
/// them is not constant.
static SmallVector<DenseElementsAttr>
getDenseOperands(ArrayRef<Attribute> operands) {
  SmallVector<DenseElementsAttr> dense;
  for (Attribute operand : operands) {
    auto elements = dyn_cast_or_null<DenseElementsAttr>(operand);
    if (!elements)
      return {};
    dense.push_back(elements);
  }
  return dense;
}

/// Float types whose arithmetic ONNX Runtime implements (in float, which
/// rounds these exactly like native arithmetic would).
static bool isArithmeticFloat(Type type) {
  return type.isF16() || type.isBF16() || type.isF32() || type.isF64();
}

/// Integer types ONNX arithmetic accepts (not bool, not sub-byte).
static bool isArithmeticInteger(Type type) {
  auto intType = dyn_cast<IntegerType>(type);
  return intType && intType.getWidth() >= 8;
}

/// A binary arithmetic fold: `intFn(a, b, isUnsigned)` and `floatFn(a, b)`
/// give the element results or nullopt to decline.
template <typename IntFn, typename FloatFn>
static Attribute foldArithmetic(Operation *op, ArrayRef<Attribute> operands,
                                IntFn intFn, FloatFn floatFn) {
  SmallVector<DenseElementsAttr> dense = getDenseOperands(operands);
  if (dense.empty())
    return {};
  Type elementType = dense.front().getElementType();
  if (dense.back().getElementType() != elementType ||
      cast<TensorType>(op->getResult(0).getType()).getElementType() !=
          elementType)
    return {};
  if (isArithmeticInteger(elementType)) {
    bool isUnsigned = elementType.isUnsignedInteger();
    return evaluateElementwise<APInt, APInt>(
        op->getResult(0), dense, [&](ArrayRef<APInt> args) {
          return intFn(args[0], args[1], isUnsigned);
        });
  }
  if (isArithmeticFloat(elementType))
    return evaluateElementwise<APFloat, APFloat>(
        op->getResult(0), dense,
        [&](ArrayRef<APFloat> args) { return floatFn(args[0], args[1]); });
  return {};
}

/// A comparison fold to bool: `intFn(a, b, isUnsigned)`, `floatFn(a, b)`.
template <typename IntFn, typename FloatFn>
static Attribute foldComparison(Operation *op, ArrayRef<Attribute> operands,
                                IntFn intFn, FloatFn floatFn) {
  SmallVector<DenseElementsAttr> dense = getDenseOperands(operands);
  if (dense.empty() ||
      dense.front().getElementType() != dense.back().getElementType())
    return {};
  Type elementType = dense.front().getElementType();
  if (auto intType = dyn_cast<IntegerType>(elementType)) {
    // Bools compare as 0/1.
    bool isUnsigned = intType.isUnsigned() || intType.getWidth() == 1;
    return evaluateElementwise<APInt, bool>(
        op->getResult(0), dense, [&](ArrayRef<APInt> args) {
          return std::optional<bool>(intFn(args[0], args[1], isUnsigned));
        });
  }
  if (isArithmeticFloat(elementType))
    return evaluateElementwise<APFloat, bool>(
        op->getResult(0), dense, [&](ArrayRef<APFloat> args) {
          return std::optional<bool>(floatFn(args[0], args[1]));
        });
  return {};
}

/// Folds an op producing a small int64 shape tensor whose values are all
/// known from its producers (e.g. a Gather of a Shape whose selected dims
/// are static) although its operands are not all constants.
static Attribute foldKnownShapeTensor(Value result) {
  RankedTensorType type = getStaticType(result);
  if (!type || type.getRank() > 1 ||
      !type.getElementType().isSignlessInteger(64))
    return {};
  std::optional<SmallVector<int64_t>> values = getShapeTensorValues(result);
  if (!values || llvm::any_of(*values, ShapedType::isDynamic))
    return {};
  return DenseElementsAttr::get(type, ArrayRef<int64_t>(*values));
}

/// Reshape, Squeeze, Unsqueeze: the data is unchanged, only the type. An
/// operand of the result type is the result; a constant is re-typed (a
/// resource blob keeps its handle, so no bytes are copied).
static OpFoldResult foldReshapeLike(Value result, Value input,
                                    Attribute inputAttr) {
  // Equal types prove equal shapes only when they are static: a reshape of
  // ?x?x? to ?x?x? may well move elements between dimensions.
  auto inputType = dyn_cast<RankedTensorType>(input.getType());
  if (input.getType() == result.getType() && inputType &&
      inputType.hasStaticShape())
    return input;
  RankedTensorType type = getStaticType(result);
  if (!type || !inputAttr)
    return {};
  if (auto dense = dyn_cast<DenseElementsAttr>(inputAttr)) {
    if (dense.getElementType() != type.getElementType() ||
        dense.getNumElements() != type.getNumElements() ||
        (!dense.isSplat() && !isSmallStaticType(type)))
      return {};
    return dense.reshape(type);
  }
  if (auto blob = dyn_cast<DenseResourceElementsAttr>(inputAttr)) {
    if (blob.getType().getElementType() != type.getElementType() ||
        blob.getType().getNumElements() != type.getNumElements())
      return {};
    return DenseResourceElementsAttr::get(type, blob.getRawHandle());
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Identities and element-wise arithmetic
//===----------------------------------------------------------------------===//

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a + b;
      },
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.add(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a - b;
      },
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.subtract(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a * b;
      },
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.multiply(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b,
         bool isUnsigned) -> std::optional<APInt> {
        // ONNX Div truncates integer quotients toward zero (C++ semantics);
        // division by zero and INT_MIN / -1 are undefined there.
        if (b.isZero())
          return std::nullopt;
        if (isUnsigned)
          return a.udiv(b);
        if (a.isMinSignedValue() && b.isAllOnes())
          return std::nullopt;
        return a.sdiv(b);
      },
      [](APFloat a, const APFloat &b) -> std::optional<APFloat> {
        a.divide(b, APFloat::rmNearestTiesToEven);
        return a;
      });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  SmallVector<DenseElementsAttr> dense = getDenseOperands(adaptor.getX());
  if (dense.empty() || dense.front().getType() != getX().getType())
    return {};
  Type elementType = dense.front().getElementType();
  // ONNX Neg is defined on signed integers and floats only.
  if (isArithmeticInteger(elementType) && !elementType.isUnsignedInteger())
    return evaluateElementwise<APInt, APInt>(
        getY(), dense,
        [](ArrayRef<APInt> args) -> std::optional<APInt> { return -args[0]; });
  if (isArithmeticFloat(elementType))
    return evaluateElementwise<APFloat, APFloat>(
        getY(), dense, [](ArrayRef<APFloat> args) -> std::optional<APFloat> {
          return neg(args[0]);
        });
  return {};
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool) { return a == b; },
      [](const APFloat &a, const APFloat &b) {
        return a.compare(b) == APFloat::cmpEqual;
      });
}

OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldComparison(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool isUnsigned) {
        return isUnsigned ? a.ult(b) : a.slt(b);
      },
      [](const APFloat &a, const APFloat &b) {
        return a.compare(b) == APFloat::cmpLessThan;
      });
}

OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldComparison(
      *this, adaptor.getOperands(),
      [](const APInt &a, const APInt &b, bool isUnsigned) {
        return isUnsigned ? a.ugt(b) : a.sgt(b);
      },
      [](const APFloat &a, const APFloat &b) {
        return a.compare(b) == APFloat::cmpGreaterThan;
      });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  auto condition = dyn_cast_or_null<DenseElementsAttr>(adaptor.getCondition());
  if (!condition || !condition.getElementType().isInteger(1))
    return {};
  // A uniform condition selects one operand whole, if it already has the
  // broadcast result type.
  if (condition.isSplat()) {
    Value chosen = condition.getSplatValue<bool>() ? getX() : getY();
    if (chosen.getType() == getOutput().getType())
      return chosen;
  }
  auto x = dyn_cast_or_null<DenseElementsAttr>(adaptor.getX());
  auto y = dyn_cast_or_null<DenseElementsAttr>(adaptor.getY());
  RankedTensorType type = getStaticType(getOutput());
  if (!x || !y || !type || x.getElementType() != type.getElementType() ||
      y.getElementType() != type.getElementType() ||
      !isBroadcastOf(type, {condition.getType().getShape(),
                            x.getType().getShape(), y.getType().getShape()}))
    return {};
  if (condition.isSplat() && x.isSplat() && y.isSplat())
    return DenseElementsAttr::get(type, condition.getSplatValue<bool>()
                                            ? x.getSplatValue<Attribute>()
                                            : y.getSplatValue<Attribute>());
  if (!isSmallStaticType(type))
    return {};
  SmallVector<int64_t> conditionIndices = getBroadcastSourceIndices(
      type.getShape(), condition.getType().getShape());
  SmallVector<int64_t> xIndices =
      getBroadcastSourceIndices(type.getShape(), x.getType().getShape());
  SmallVector<int64_t> yIndices =
      getBroadcastSourceIndices(type.getShape(), y.getType().getShape());
  auto conditions = llvm::to_vector(condition.getValues<bool>());
  auto xValues = llvm::to_vector(x.getValues<Attribute>());
  auto yValues = llvm::to_vector(y.getValues<Attribute>());
  SmallVector<Attribute> values;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    values.push_back(conditions[conditionIndices[i]] ? xValues[xIndices[i]]
                                                     : yValues[yIndices[i]]);
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

/// One element of a Cast, as ONNX Runtime's static_cast computes it; nullopt
/// where the result would be undefined (NaN or out-of-range float to int).
static std::optional<Attribute> castElement(Attribute element, Type to) {
  Type from = cast<TypedAttr>(element).getType();
  if (auto toInt = dyn_cast<IntegerType>(to)) {
    unsigned width = toInt.getWidth();
    if (auto intAttr = dyn_cast<IntegerAttr>(element)) {
      APInt value = intAttr.getValue();
      if (width == 1)
        return IntegerAttr::get(to, APInt(1, value.isZero() ? 0 : 1));
      // Bools and unsigned sources widen with zeros, the others with sign.
      bool sourceSigned =
          !from.isUnsignedInteger() && from.getIntOrFloatBitWidth() != 1;
      return IntegerAttr::get(to, sourceSigned ? value.sextOrTrunc(width)
                                               : value.zextOrTrunc(width));
    }
    APFloat value = cast<FloatAttr>(element).getValue();
    if (value.isNaN() || value.isInfinity())
      return std::nullopt;
    if (width == 1)
      return IntegerAttr::get(to, APInt(1, value.isZero() ? 0 : 1));
    llvm::APSInt result(width, toInt.isUnsigned());
    bool isExact = false;
    if (value.convertToInteger(result, APFloat::rmTowardZero, &isExact) &
        APFloat::opInvalidOp)
      return std::nullopt;
    return IntegerAttr::get(to, static_cast<const APInt &>(result));
  }
  auto toFloat = cast<FloatType>(to);
  APFloat result(toFloat.getFloatSemantics());
  if (auto intAttr = dyn_cast<IntegerAttr>(element)) {
    bool sourceSigned =
        !from.isUnsignedInteger() && from.getIntOrFloatBitWidth() != 1;
    result.convertFromAPInt(intAttr.getValue(), sourceSigned,
                            APFloat::rmNearestTiesToEven);
    return FloatAttr::get(to, result);
  }
  result = cast<FloatAttr>(element).getValue();
  bool losesInfo = false;
  result.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                 &losesInfo);
  return FloatAttr::get(to, result);
}

/// Element types Cast folds from and to: byte-or-wider integers, bool and
/// the floats ONNX Runtime converts natively (float8 saturation and
/// sub-byte packing are left to the runtime).
static bool isFoldableCastType(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return intType.getWidth() == 1 || intType.getWidth() >= 8;
  return isArithmeticFloat(type);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  RankedTensorType type = getStaticType(getOutput());
  if (!input || !type || (!input.isSplat() && !isSmallStaticType(type)))
    return {};
  Type to = type.getElementType();
  if (!isFoldableCastType(input.getElementType()) || !isFoldableCastType(to))
    return {};
  if (input.isSplat()) {
    std::optional<Attribute> element =
        castElement(input.getSplatValue<Attribute>(), to);
    if (!element)
      return {};
    return DenseElementsAttr::get(type, *element);
  }
  SmallVector<Attribute> values;
  for (Attribute element : input.getValues<Attribute>()) {
    std::optional<Attribute> converted = castElement(element, to);
    if (!converted)
      return {};
    values.push_back(*converted);
  }
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  auto inputType = dyn_cast<RankedTensorType>(getData().getType());
  if (!inputType)
    return {};
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> perm;
  if (std::optional<ArrayRef<int64_t>> attr = getPerm())
    perm.assign(attr->begin(), attr->end());
  else
    perm = llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank)));
  if (static_cast<int64_t>(perm.size()) != rank)
    return {};
  bool isIdentity = llvm::equal(perm, llvm::seq<int64_t>(0, rank));
  if (isIdentity && getData().getType() == getTransposed().getType())
    return getData();

  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getData());
  RankedTensorType type = getStaticType(getTransposed());
  if (!input || !type || type.getElementType() != input.getElementType() ||
      type.getRank() != rank)
    return {};
  for (int64_t d = 0; d < rank; ++d)
    if (type.getDimSize(d) != inputType.getDimSize(perm[d]))
      return {};
  if (input.isSplat())
    return DenseElementsAttr::get(type, input.getSplatValue<Attribute>());
  if (!isSmallStaticType(type))
    return {};
  // Result element (i_0, ..., i_n) is input element with i_k at perm[k].
  ArrayRef<int64_t> inputShape = input.getType().getShape();
  SmallVector<int64_t> inputStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inputStrides[d] = inputStrides[d + 1] * inputShape[d + 1];
  SmallVector<int64_t> indices;
  for (int64_t linear = 0, e = type.getNumElements(); linear < e; ++linear) {
    int64_t remaining = linear, index = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      index += (remaining % type.getDimSize(d)) * inputStrides[perm[d]];
      remaining /= type.getDimSize(d);
    }
    indices.push_back(index);
  }
  return pickElements(input, indices, type);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getReshaped(), getData(), adaptor.getData());
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getSqueezed(), getData(), adaptor.getData());
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getExpanded(), getData(), adaptor.getData());
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 &&
      getInputs().front().getType() == getConcatResult().getType())
    return getInputs().front();
  RankedTensorType type = getStaticType(getConcatResult());
  SmallVector<DenseElementsAttr> inputs = getDenseOperands(adaptor.getInputs());
  if (!isSmallStaticType(type) || inputs.empty())
    return {};
  std::optional<int64_t> axis =
      normalizeAxis(static_cast<int64_t>(getAxis()), type.getRank());
  if (!axis)
    return {};
  // Walk the result in order: for each outer index, each input's slab of
  // dim_k * inner consecutive elements.
  ArrayRef<int64_t> shape = type.getShape();
  int64_t outer = getProductOrDynamic(shape.take_front(*axis));
  int64_t inner = getProductOrDynamic(shape.drop_front(*axis + 1));
  SmallVector<SmallVector<Attribute>> values;
  for (DenseElementsAttr input : inputs) {
    if (input.getElementType() != type.getElementType() ||
        input.getType().getRank() != type.getRank())
      return {};
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != *axis && input.getType().getDimSize(d) != type.getDimSize(d))
        return {};
    values.push_back(llvm::to_vector(input.getValues<Attribute>()));
  }
  SmallVector<Attribute> result;
  for (int64_t o = 0; o < outer; ++o)
    for (auto [input, inputValues] : llvm::zip_equal(inputs, values)) {
      int64_t slab = input.getType().getDimSize(*axis) * inner;
      llvm::append_range(result, ArrayRef(inputValues).slice(o * slab, slab));
    }
  if (static_cast<int64_t>(result.size()) != type.getNumElements())
    return {};
  return DenseElementsAttr::get(type, result);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  std::optional<SmallVector<int64_t>> steps;
  if (!isa<NoneType>(getSteps().getType()))
    steps = getConstantIntValues(getSteps());
  // Same static type with forward steps: the slice takes every element.
  RankedTensorType inputType = getStaticType(getData());
  bool forward =
      isa<NoneType>(getSteps().getType()) ||
      (steps && llvm::all_of(*steps, [](int64_t s) { return s > 0; }));
  if (inputType && forward && inputType == getOutput().getType())
    return getData();

  if (Attribute known = foldKnownShapeTensor(getOutput()))
    return known;

  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getData());
  RankedTensorType type = getStaticType(getOutput());
  if (!input || !isSmallStaticType(type) ||
      input.getElementType() != type.getElementType())
    return {};
  std::optional<SmallVector<int64_t>> starts =
      getConstantIntValues(getStarts());
  std::optional<SmallVector<int64_t>> ends = getConstantIntValues(getEnds());
  if (!starts || !ends || starts->size() != ends->size())
    return {};
  int64_t rank = input.getType().getRank();
  SmallVector<int64_t> axes;
  if (isa<NoneType>(getAxes().getType())) {
    axes = llvm::to_vector(llvm::seq<int64_t>(0, starts->size()));
  } else if (std::optional<SmallVector<int64_t>> values =
                 getConstantIntValues(getAxes())) {
    axes = *values;
  } else {
    return {};
  }
  if (!steps)
    steps = SmallVector<int64_t>(starts->size(), 1);
  if (axes.size() != starts->size() || steps->size() != starts->size())
    return {};

  // Per input dim: first index and stride of the selection.
  ArrayRef<int64_t> inputShape = input.getType().getShape();
  SmallVector<int64_t> first(rank, 0), stride(rank, 1), sizes(inputShape);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    std::optional<int64_t> dim = normalizeAxis(axis, rank);
    if (!dim || (*steps)[i] == 0)
      return {};
    SliceRange range = computeSliceRange((*starts)[i], (*ends)[i], (*steps)[i],
                                         inputShape[*dim]);
    first[*dim] = range.start;
    stride[*dim] = (*steps)[i];
    sizes[*dim] = range.size;
  }
  if (ArrayRef<int64_t>(sizes) != type.getShape())
    return {};
  SmallVector<int64_t> inputStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    inputStrides[d] = inputStrides[d + 1] * inputShape[d + 1];
  SmallVector<int64_t> indices;
  for (int64_t linear = 0, e = type.getNumElements(); linear < e; ++linear) {
    int64_t remaining = linear, index = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coordinate = remaining % sizes[d];
      remaining /= sizes[d];
      index += (first[d] + coordinate * stride[d]) * inputStrides[d];
    }
    indices.push_back(index);
  }
  return pickElements(input, indices, type);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  if (Attribute known = foldKnownShapeTensor(getOutput()))
    return known;
  auto data = dyn_cast_or_null<DenseElementsAttr>(adaptor.getData());
  RankedTensorType type = getStaticType(getOutput());
  std::optional<SmallVector<int64_t>> indices =
      getConstantIntValues(getIndices());
  if (!data || !indices || !isSmallStaticType(type) ||
      data.getElementType() != type.getElementType())
    return {};
  ArrayRef<int64_t> dataShape = data.getType().getShape();
  std::optional<int64_t> axis =
      normalizeAxis(static_cast<int64_t>(getAxis()), dataShape.size());
  if (!axis)
    return {};
  // data viewed as (outer, dim, inner); the result as (outer, indices, inner).
  int64_t outer = getProductOrDynamic(dataShape.take_front(*axis));
  int64_t dim = dataShape[*axis];
  int64_t inner = getProductOrDynamic(dataShape.drop_front(*axis + 1));
  if (outer * static_cast<int64_t>(indices->size()) * inner !=
      type.getNumElements())
    return {};
  SmallVector<int64_t> sourceIndices;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : *indices) {
      // Out-of-bounds indices are a run-time error, not something to fold.
      if (index < -dim || index >= dim)
        return {};
      int64_t row = index < 0 ? index + dim : index;
      for (int64_t i = 0; i < inner; ++i)
        sourceIndices.push_back((o * dim + row) * inner + i);
    }
  return pickElements(data, sourceIndices, type);
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto input = dyn_cast<RankedTensorType>(getData().getType());
  RankedTensorType type = getStaticType(getShape());
  if (!input || !type)
    return {};
  std::optional<int64_t> end;
  if (std::optional<uint64_t> endAttr = getEnd())
    end = static_cast<int64_t>(*endAttr);
  auto [first, last] = computeShapeOpRange(static_cast<int64_t>(getStart()),
                                           end, input.getRank());
  ArrayRef<int64_t> dims = input.getShape().slice(first, last - first);
  if (llvm::any_of(dims, ShapedType::isDynamic) ||
      type.getNumElements() != static_cast<int64_t>(dims.size()) ||
      !type.getElementType().isSignlessInteger(64))
    return {};
  return DenseElementsAttr::get(type, dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  RankedTensorType input = getStaticType(getData());
  RankedTensorType type = getStaticType(getSize());
  if (!input || !type || type.getRank() != 0 ||
      !type.getElementType().isSignlessInteger(64))
    return {};
  return DenseElementsAttr::get(type, input.getNumElements());
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  // A static result type fixes the shape whatever the input's values; the
  // splat costs one element however large the tensor.
  RankedTensorType type = getStaticType(getOutput());
  if (!type)
    return {};
  std::optional<ElementsAttr> value = getValue();
  if (!value)
    return type.getElementType().isF32()
               ? DenseElementsAttr::get(
                     type, FloatAttr::get(type.getElementType(), 0.0))
               : Attribute();
  auto dense = dyn_cast<DenseElementsAttr>(*value);
  if (!dense || dense.getElementType() != type.getElementType() ||
      dense.getNumElements() != 1)
    return {};
  return DenseElementsAttr::get(type, *dense.getValues<Attribute>().begin());
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  RankedTensorType type = getStaticType(getOutput());
  auto start = dyn_cast_or_null<DenseElementsAttr>(adaptor.getStart());
  auto delta = dyn_cast_or_null<DenseElementsAttr>(adaptor.getDelta());
  if (!isSmallStaticType(type) || !start || !delta ||
      start.getElementType() != type.getElementType())
    return {};
  std::optional<int64_t> length =
      computeRangeLength(start, adaptor.getLimit(), delta);
  if (!length || *length != type.getNumElements())
    return {};
  // ONNX Runtime accumulates: y[i] = y[i-1] + delta, in the element type.
  Type elementType = type.getElementType();
  if (isArithmeticInteger(elementType)) {
    APInt value = *start.getValues<APInt>().begin();
    APInt step = *delta.getValues<APInt>().begin();
    SmallVector<APInt> values;
    for (int64_t i = 0; i < *length; ++i, value += step)
      values.push_back(value);
    return DenseElementsAttr::get(type, values);
  }
  // Its kernel exists for float and double only.
  if (elementType.isF32() || elementType.isF64()) {
    APFloat value = *start.getValues<APFloat>().begin();
    APFloat step = *delta.getValues<APFloat>().begin();
    SmallVector<APFloat> values;
    for (int64_t i = 0; i < *length; ++i) {
      values.push_back(value);
      value.add(step, APFloat::rmNearestTiesToEven);
    }
    return DenseElementsAttr::get(type, values);
  }
  return {};
}
