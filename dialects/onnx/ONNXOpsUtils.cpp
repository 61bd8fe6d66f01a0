//===- ONNXOpsUtils.cpp - helpers shared by onnx verifiers, folds, inference =//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "ONNXOpsUtils.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APInt.h"
#include "llvm/ADT/SmallVectorExtras.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace qaf::onnx {

/// An integer element as int64, honouring the element type's signedness (i1
/// is a bool, so 0 or 1).
static int64_t toInt64(const APInt &value, IntegerType type) {
  if (type.isUnsigned() || type.getWidth() == 1)
    return static_cast<int64_t>(value.getZExtValue());
  return value.getSExtValue();
}

std::optional<SmallVector<int64_t>> getConstantIntValues(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto elements = dyn_cast<ElementsAttr>(attr);
  if (!elements || elements.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  auto intType = dyn_cast<IntegerType>(elements.getElementType());
  if (!intType || intType.getWidth() > 64)
    return std::nullopt;

  SmallVector<int64_t> result;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (const APInt &element : dense.getValues<APInt>())
      result.push_back(toInt64(element, intType));
    return result;
  }
  // Large initializers arrive as resource blobs; the importer may use them
  // for small int64 tensors too.
  if (auto blob = dyn_cast<DenseI64ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<int64_t>> data = blob.tryGetAsArrayRef())
      return SmallVector<int64_t>(*data);
    return std::nullopt;
  }
  if (auto blob = dyn_cast<DenseI32ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<int32_t>> data = blob.tryGetAsArrayRef())
      return SmallVector<int64_t>(data->begin(), data->end());
    return std::nullopt;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Shape tensors
//===----------------------------------------------------------------------===//

/// How far getShapeTensorEntries follows producers; exporter chains are a
/// handful of ops deep.
static constexpr unsigned kMaxShapeTensorDepth = 16;

using ShapeEntries = SmallVector<ShapeTensorEntry>;

static std::optional<ShapeEntries> evaluateShapeTensor(Value value,
                                                       unsigned depth);

static ShapeTensorEntry makeKnownEntry(int64_t value) {
  ShapeTensorEntry entry;
  entry.value = value;
  return entry;
}

/// Combines the entries of `op`'s operands element-wise, broadcasting
/// operands of one entry (shape tensors are 0-D or 1-D, so that is all the
/// broadcasting there is). `combine` gets the operands' entries at one
/// position.
template <typename CombineFn>
static std::optional<ShapeEntries>
evaluateShapeElementwise(Operation *op, unsigned depth, CombineFn combine) {
  SmallVector<ShapeEntries> operands;
  size_t size = 1;
  for (Value operand : op->getOperands()) {
    std::optional<ShapeEntries> entries =
        evaluateShapeTensor(operand, depth + 1);
    if (!entries)
      return std::nullopt;
    size = std::max(size, entries->size());
    operands.push_back(std::move(*entries));
  }
  for (const ShapeEntries &entries : operands)
    if (entries.size() != size && entries.size() != 1)
      return std::nullopt;
  ShapeEntries result;
  SmallVector<ShapeTensorEntry> arguments;
  for (size_t i = 0; i < size; ++i) {
    arguments.clear();
    for (const ShapeEntries &entries : operands)
      arguments.push_back(entries[entries.size() == 1 ? 0 : i]);
    result.push_back(combine(ArrayRef<ShapeTensorEntry>(arguments)));
  }
  return result;
}

/// Add, Sub, Mul, Div of known entries; an overflow or a zero divisor gives
/// an unknown entry.
static ShapeTensorEntry combineArithmetic(Operation *op,
                                          ArrayRef<ShapeTensorEntry> args) {
  const ShapeTensorEntry &a = args[0], &b = args[1];
  if (!a.isKnown() || !b.isKnown())
    return ShapeTensorEntry();
  int64_t computed = 0;
  bool overflow = false;
  if (isa<AddOp>(op))
    overflow = llvm::AddOverflow(*a.value, *b.value, computed);
  else if (isa<SubOp>(op))
    overflow = llvm::SubOverflow(*a.value, *b.value, computed);
  else if (isa<MulOp>(op))
    overflow = llvm::MulOverflow(*a.value, *b.value, computed);
  else if (*b.value == 0 ||
           (*a.value == std::numeric_limits<int64_t>::min() && *b.value == -1))
    overflow = true;
  else
    computed = *a.value / *b.value; // ONNX Div truncates toward zero.
  if (overflow)
    return ShapeTensorEntry();
  return makeKnownEntry(computed);
}

/// Equal as 0/1. A dimension size is never negative, which decides the
/// `Equal(shape, -1)` exporters put in front of Expand.
static ShapeTensorEntry combineEqual(ArrayRef<ShapeTensorEntry> args) {
  const ShapeTensorEntry &a = args[0], &b = args[1];
  if (a.isKnown() && b.isKnown())
    return makeKnownEntry(*a.value == *b.value);
  auto isDimVsNegative = [](const ShapeTensorEntry &dim,
                            const ShapeTensorEntry &other) {
    return dim.source && other.isKnown() && *other.value < 0;
  };
  if (isDimVsNegative(a, b) || isDimVsNegative(b, a))
    return makeKnownEntry(0);
  return ShapeTensorEntry();
}

/// Where(condition, x, y) picks an entry, symbolic ones included.
static ShapeTensorEntry combineWhere(ArrayRef<ShapeTensorEntry> args) {
  const ShapeTensorEntry &condition = args[0];
  if (!condition.isKnown())
    return args[1].isKnown() && args[2].isKnown() &&
                   args[1].value == args[2].value
               ? args[1]
               : ShapeTensorEntry();
  return *condition.value != 0 ? args[1] : args[2];
}

/// The elements `op` produces as its first result, from its operands.
static std::optional<ShapeEntries> evaluateShapeProducer(Operation *op,
                                                         unsigned depth) {
  if (!op || depth >= kMaxShapeTensorDepth)
    return std::nullopt;
  return llvm::TypeSwitch<Operation *, std::optional<ShapeEntries>>(op)
      .Case([](ShapeOp shape) -> std::optional<ShapeEntries> {
        auto input = dyn_cast<RankedTensorType>(shape.getData().getType());
        if (!input)
          return std::nullopt;
        std::optional<int64_t> end;
        if (std::optional<uint64_t> endAttr = shape.getEnd())
          end = static_cast<int64_t>(*endAttr);
        auto [first, last] = computeShapeOpRange(
            static_cast<int64_t>(shape.getStart()), end, input.getRank());
        ShapeEntries result;
        for (int64_t d = first; d < last; ++d) {
          ShapeTensorEntry entry;
          if (input.isDynamicDim(d)) {
            entry.source = shape.getData();
            entry.dim = d;
          } else {
            entry.value = input.getDimSize(d);
          }
          result.push_back(entry);
        }
        return result;
      })
      .Case([&](ConcatOp concat) -> std::optional<ShapeEntries> {
        ShapeEntries result;
        for (Value input : concat.getInputs()) {
          auto part = evaluateShapeTensor(input, depth + 1);
          if (!part)
            return std::nullopt;
          llvm::append_range(result, *part);
        }
        return result;
      })
      .Case<UnsqueezeOp, SqueezeOp, ReshapeOp, IdentityOp>([&](Operation *op) {
        // Element order is unchanged; only the rank moves.
        return evaluateShapeTensor(op->getOperand(0), depth + 1);
      })
      .Case([&](CastOp castOp) -> std::optional<ShapeEntries> {
        auto to = dyn_cast<IntegerType>(
            cast<TensorType>(castOp.getOutput().getType()).getElementType());
        if (!to || to.getWidth() < 2)
          return std::nullopt;
        auto entries = evaluateShapeTensor(castOp.getInput(), depth + 1);
        if (!entries)
          return std::nullopt;
        // A value that the narrower type cannot hold would wrap.
        for (ShapeTensorEntry &entry : *entries) {
          if (!entry.isKnown() || to.getWidth() >= 64)
            continue;
          bool fits = to.isUnsigned()
                          ? *entry.value >= 0 &&
                                llvm::isUIntN(to.getWidth(), *entry.value)
                          : llvm::isIntN(to.getWidth(), *entry.value);
          if (!fits)
            entry = ShapeTensorEntry();
        }
        return entries;
      })
      .Case([&](GatherOp gather) -> std::optional<ShapeEntries> {
        auto data = evaluateShapeTensor(gather.getData(), depth + 1);
        auto indices = getConstantIntValues(gather.getIndices());
        auto dataType = dyn_cast<RankedTensorType>(gather.getData().getType());
        if (!data || !indices || !dataType || dataType.getRank() != 1)
          return std::nullopt;
        int64_t size = static_cast<int64_t>(data->size());
        ShapeEntries result;
        for (int64_t index : *indices) {
          if (index < -size || index >= size)
            return std::nullopt;
          result.push_back((*data)[index < 0 ? index + size : index]);
        }
        return result;
      })
      .Case([&](SliceOp slice) -> std::optional<ShapeEntries> {
        auto data = evaluateShapeTensor(slice.getData(), depth + 1);
        auto starts = getConstantIntValues(slice.getStarts());
        auto ends = getConstantIntValues(slice.getEnds());
        if (!data || !starts || !ends || starts->size() != 1 ||
            ends->size() != 1)
          return std::nullopt;
        if (!isa<NoneType>(slice.getAxes().getType())) {
          auto axes = getConstantIntValues(slice.getAxes());
          if (!axes || axes->size() != 1 || (*axes)[0] < -1 || (*axes)[0] > 0)
            return std::nullopt;
        }
        int64_t step = 1;
        if (!isa<NoneType>(slice.getSteps().getType())) {
          auto steps = getConstantIntValues(slice.getSteps());
          if (!steps || steps->size() != 1 || (*steps)[0] == 0)
            return std::nullopt;
          step = (*steps)[0];
        }
        SliceRange range = computeSliceRange(
            (*starts)[0], (*ends)[0], step, static_cast<int64_t>(data->size()));
        ShapeEntries result;
        for (int64_t i = 0; i < range.size; ++i)
          result.push_back((*data)[range.start + i * step]);
        return result;
      })
      .Case<AddOp, SubOp, MulOp, DivOp>([&](Operation *op) {
        return evaluateShapeElementwise(op, depth,
                                        [op](ArrayRef<ShapeTensorEntry> args) {
                                          return combineArithmetic(op, args);
                                        });
      })
      .Case([&](EqualOp equal) {
        return evaluateShapeElementwise(equal, depth, combineEqual);
      })
      .Case([&](WhereOp where) {
        return evaluateShapeElementwise(where, depth, combineWhere);
      })
      .Default([](Operation *) { return std::nullopt; });
}

static std::optional<ShapeEntries> evaluateShapeTensor(Value value,
                                                       unsigned depth) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() > 1 || !isa<IntegerType>(type.getElementType()))
    return std::nullopt;
  if (std::optional<SmallVector<int64_t>> constant =
          getConstantIntValues(value))
    return llvm::map_to_vector(*constant, makeKnownEntry);
  std::optional<ShapeEntries> entries =
      evaluateShapeProducer(value.getDefiningOp(), depth);
  if (entries) {
    // A producer whose declared type disagrees with what it computes is
    // invalid IR; trust neither.
    if (type.hasStaticShape() &&
        type.getNumElements() != static_cast<int64_t>(entries->size()))
      return std::nullopt;
    return entries;
  }
  // Unknown elements of a known count; a count beyond what the readers
  // accept is no shape, and allocating it could exhaust memory.
  if (type.hasStaticShape() && type.getNumElements() <= kMaxFoldElements)
    return ShapeEntries(type.getNumElements());
  return std::nullopt;
}

std::optional<SmallVector<ShapeTensorEntry>>
getShapeTensorEntries(Value value) {
  return evaluateShapeTensor(value, 0);
}

std::optional<SmallVector<int64_t>> getShapeTensorValues(Value value) {
  std::optional<ShapeEntries> entries = evaluateShapeTensor(value, 0);
  if (!entries)
    return std::nullopt;
  return llvm::map_to_vector(*entries, [](const ShapeTensorEntry &entry) {
    return entry.value.value_or(ShapedType::kDynamic);
  });
}

//===----------------------------------------------------------------------===//
// Shape arithmetic
//===----------------------------------------------------------------------===//

SliceRange computeSliceRange(int64_t start, int64_t end, int64_t step,
                             int64_t dim) {
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    if (end <= start)
      return {start, 0};
    return {start, (end - start - 1) / step + 1};
  }
  // Walking backwards: start is the last valid index at most, and end may be
  // -1 (one before the first element).
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  if (start <= end || dim == 0)
    return {start, 0};
  // -step as unsigned: step may be INT64_MIN.
  uint64_t stride = 0 - static_cast<uint64_t>(step);
  return {start, static_cast<int64_t>(
                     static_cast<uint64_t>(start - end - 1) / stride + 1)};
}

std::pair<int64_t, int64_t>
computeShapeOpRange(int64_t start, std::optional<int64_t> end, int64_t rank) {
  auto clampIndex = [rank](int64_t index) {
    if (index < 0)
      index += rank;
    return std::clamp<int64_t>(index, 0, rank);
  };
  int64_t first = clampIndex(start);
  int64_t last = end ? clampIndex(*end) : rank;
  return {first, std::max(first, last)};
}

std::optional<int64_t> computeRangeLength(int64_t start, int64_t limit,
                                          int64_t delta) {
  if (delta == 0)
    return std::nullopt;
  // 128 bits hold the difference of any two int64 values exactly.
  APInt difference = APInt(128, limit, /*isSigned=*/true) -
                     APInt(128, start, /*isSigned=*/true);
  APInt step(128, delta, /*isSigned=*/true);
  APInt quotient, remainder;
  APInt::sdivrem(difference, step, quotient, remainder);
  // sdiv truncates; ceil needs one more when the exact quotient is positive
  // and not whole.
  if (!remainder.isZero() && difference.isNegative() == step.isNegative())
    quotient += 1;
  if (quotient.isNegative())
    return 0;
  if (quotient.getActiveBits() > 62)
    return std::nullopt;
  return quotient.getSExtValue();
}

std::optional<int64_t> computeRangeLength(Attribute startAttr,
                                          Attribute limitAttr,
                                          Attribute deltaAttr) {
  auto start = dyn_cast_or_null<DenseElementsAttr>(startAttr);
  auto limit = dyn_cast_or_null<DenseElementsAttr>(limitAttr);
  auto delta = dyn_cast_or_null<DenseElementsAttr>(deltaAttr);
  if (!start || !limit || !delta || start.getNumElements() != 1 ||
      limit.getNumElements() != 1 || delta.getNumElements() != 1)
    return std::nullopt;
  Type elementType = start.getElementType();
  if (limit.getElementType() != elementType ||
      delta.getElementType() != elementType)
    return std::nullopt;

  if (auto intType = dyn_cast<IntegerType>(elementType)) {
    if (intType.getWidth() > 64)
      return std::nullopt;
    auto value = [&](DenseElementsAttr attr) -> std::optional<int64_t> {
      APInt element = *attr.getValues<APInt>().begin();
      // A uint64 beyond INT64_MAX has no int64 value.
      if (intType.isUnsigned() && element.getActiveBits() > 63)
        return std::nullopt;
      return toInt64(element, intType);
    };
    std::optional<int64_t> first = value(start), bound = value(limit),
                           step = value(delta);
    if (!first || !bound || !step)
      return std::nullopt;
    return computeRangeLength(*first, *bound, *step);
  }

  if (!isa<FloatType>(elementType))
    return std::nullopt;
  // ONNX Runtime: ceil(double(limit - start) / double(delta)), the
  // difference taken in the element type.
  APFloat difference = *limit.getValues<APFloat>().begin();
  difference.subtract(*start.getValues<APFloat>().begin(),
                      APFloat::rmNearestTiesToEven);
  APFloat step = *delta.getValues<APFloat>().begin();
  bool lostInfo = false;
  difference.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                     &lostInfo);
  step.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lostInfo);
  if (step.isZero())
    return std::nullopt;
  double count =
      std::ceil(difference.convertToDouble() / step.convertToDouble());
  if (std::isnan(count) || count > 4.0e18)
    return std::nullopt;
  return count <= 0 ? 0 : static_cast<int64_t>(count);
}

int64_t getProductOrDynamic(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t dim : dims) {
    if (ShapedType::isDynamic(dim))
      return ShapedType::kDynamic;
    product *= dim;
  }
  return product;
}

} // namespace qaf::onnx
