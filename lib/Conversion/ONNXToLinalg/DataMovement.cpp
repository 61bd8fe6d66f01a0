//===- DataMovement.cpp - onnx data movement ops -> tensor/linalg ---------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Reshapes become tensor.collapse_shape/expand_shape (views after
// bufferization), slices tensor.extract_slice, gathers linalg.generic ops
// that read with tensor.extract. Shape operands (Reshape's shape, Slice's
// bounds, Expand's shape, ...) are used as constants when they are, and read
// element by element at run time when they are not: exporters compute them
// from Shape on dynamic dims. Whatever the result type already knows
// statically (shape inference ran before) is taken from it.
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;

namespace qaf {
namespace {

//===----------------------------------------------------------------------===//
// DataMovementUtils
//===----------------------------------------------------------------------===//

/// Index arithmetic on OpFoldResults: what is known folds at compile time
/// (static dims, constant operands), so static shapes leave no ops behind;
/// the rest becomes arith ops on index values. Conditions are i1 values or
/// bool attributes.
class IndexMath {
public:
  IndexMath(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  OpFoldResult constant(int64_t value) { return b.getIndexAttr(value); }
  /// `ofr` as an SSA value (index, or i1 for a condition).
  Value value(OpFoldResult ofr) {
    if (auto value = dyn_cast<Value>(ofr))
      return value;
    auto attr = cast<IntegerAttr>(cast<Attribute>(ofr));
    if (attr.getType().isInteger(1))
      return arith::ConstantOp::create(b, loc, attr);
    return arith::ConstantIndexOp::create(b, loc, attr.getInt());
  }
  OpFoldResult add(OpFoldResult x, OpFoldResult y) {
    if (isZero(x))
      return y;
    if (isZero(y))
      return x;
    return fold<arith::AddIOp>(x, y, [](int64_t a, int64_t c) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) +
                                  static_cast<uint64_t>(c));
    });
  }
  OpFoldResult sub(OpFoldResult x, OpFoldResult y) {
    if (isZero(y))
      return x;
    return fold<arith::SubIOp>(x, y, [](int64_t a, int64_t c) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) -
                                  static_cast<uint64_t>(c));
    });
  }
  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    if (isOne(x) || isZero(y))
      return y;
    if (isOne(y) || isZero(x))
      return x;
    return fold<arith::MulIOp>(x, y, [](int64_t a, int64_t c) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) *
                                  static_cast<uint64_t>(c));
    });
  }
  /// Signed division; the divisor must not be 0.
  OpFoldResult div(OpFoldResult x, OpFoldResult y) {
    if (isOne(y))
      return x;
    if (!isSafeDivisor(x, y))
      return arith::DivSIOp::create(b, loc, value(x), value(y)).getResult();
    return fold<arith::DivSIOp>(x, y,
                                [](int64_t a, int64_t c) { return a / c; });
  }
  OpFoldResult ceilDiv(OpFoldResult x, OpFoldResult y) {
    if (isOne(y))
      return x;
    if (!isSafeDivisor(x, y))
      return arith::CeilDivSIOp::create(b, loc, value(x), value(y)).getResult();
    return fold<arith::CeilDivSIOp>(x, y, [](int64_t a, int64_t c) {
      int64_t quotient = a / c;
      return (a % c != 0 && (a < 0) == (c < 0)) ? quotient + 1 : quotient;
    });
  }
  OpFoldResult min(OpFoldResult x, OpFoldResult y) {
    return fold<arith::MinSIOp>(
        x, y, [](int64_t a, int64_t c) { return std::min(a, c); });
  }
  OpFoldResult max(OpFoldResult x, OpFoldResult y) {
    return fold<arith::MaxSIOp>(
        x, y, [](int64_t a, int64_t c) { return std::max(a, c); });
  }
  OpFoldResult clamp(OpFoldResult x, OpFoldResult lower, OpFoldResult upper) {
    return min(max(x, lower), upper);
  }
  OpFoldResult cmp(arith::CmpIPredicate predicate, OpFoldResult x,
                   OpFoldResult y) {
    std::optional<int64_t> a = getConstantIntValue(x);
    std::optional<int64_t> c = getConstantIntValue(y);
    if (a && c)
      return b.getBoolAttr(
          arith::applyCmpPredicate(predicate, APInt(64, *a, /*isSigned=*/true),
                                   APInt(64, *c, /*isSigned=*/true)));
    return arith::CmpIOp::create(b, loc, predicate, value(x), value(y))
        .getResult();
  }
  OpFoldResult orI(OpFoldResult x, OpFoldResult y) {
    if (std::optional<int64_t> known = getConstantIntValue(x))
      return *known ? x : y;
    if (std::optional<int64_t> known = getConstantIntValue(y))
      return *known ? y : x;
    return arith::OrIOp::create(b, loc, value(x), value(y)).getResult();
  }
  OpFoldResult select(OpFoldResult condition, OpFoldResult x, OpFoldResult y) {
    if (std::optional<int64_t> known = getConstantIntValue(condition))
      return *known ? x : y;
    if (x == y)
      return x;
    return arith::SelectOp::create(b, loc, value(condition), value(x), value(y))
        .getResult();
  }
  OpFoldResult product(ArrayRef<OpFoldResult> sizes) {
    OpFoldResult result = constant(1);
    for (OpFoldResult size : sizes)
      result = mul(result, size);
    return result;
  }
  /// An integer scalar as index (signed: shape values, bounds, indices).
  OpFoldResult toIndex(Value scalar) {
    if (scalar.getType().isIndex())
      return scalar;
    return getAsOpFoldResult(
        b.createOrFold<arith::IndexCastOp>(loc, b.getIndexType(), scalar));
  }
  /// A run-time check, dropped when it is known to hold.
  void check(OpFoldResult condition, const Twine &message,
             ArrayRef<OpFoldResult> values = {}) {
    if (std::optional<int64_t> known = getConstantIntValue(condition);
        known && *known)
      return;
    SmallVector<Value> formatted;
    for (OpFoldResult each : values)
      formatted.push_back(value(each));
    emitRuntimeCheck(b, loc, value(condition), message, formatted);
  }
  /// A run-time check that a size equals the one it must be; `message`
  /// shows the size as {0} and the expected one as {1}. Dropped when both
  /// are static (inference compared them).
  void checkEqual(OpFoldResult size, OpFoldResult expected,
                  const Twine &message) {
    if (getConstantIntValue(size) && getConstantIntValue(expected))
      return;
    check(cmp(arith::CmpIPredicate::eq, size, expected), message,
          {size, expected});
  }

private:
  static bool isZero(OpFoldResult x) { return isConstantIntValue(x, 0); }
  static bool isOne(OpFoldResult x) { return isConstantIntValue(x, 1); }
  /// Folding must not divide by 0 or overflow (INT64_MIN / -1) in the
  /// compiler; such a quotient stays an op (the callers guard their
  /// divisors, so it is never selected).
  static bool isSafeDivisor(OpFoldResult x, OpFoldResult y) {
    return !isZero(y) &&
           !(isConstantIntValue(y, -1) &&
             isConstantIntValue(x, std::numeric_limits<int64_t>::min()));
  }
  template <typename OpTy>
  OpFoldResult fold(OpFoldResult x, OpFoldResult y,
                    function_ref<int64_t(int64_t, int64_t)> compute) {
    std::optional<int64_t> a = getConstantIntValue(x);
    std::optional<int64_t> c = getConstantIntValue(y);
    if (a && c)
      return b.getIndexAttr(compute(*a, *c));
    return OpTy::create(b, loc, value(x), value(y)).getResult();
  }

  OpBuilder &b;
  Location loc;
};

/// The elements of a 0-D or 1-D integer operand as indices: constants when
/// the ONNX operand `original` is a constant, else `tensor.extract` from the
/// converted operand. Fails when the element count is not static.
FailureOr<SmallVector<OpFoldResult>>
readIndexVector(ConversionPatternRewriter &rw, Location loc, Operation *op,
                Value original, Value converted, StringRef name) {
  IndexMath m(rw, loc);
  SmallVector<OpFoldResult> result;
  if (std::optional<SmallVector<int64_t>> values =
          getConstantIntValues(original)) {
    for (int64_t value : *values)
      result.push_back(m.constant(value));
    return result;
  }
  auto type = dyn_cast<RankedTensorType>(converted.getType());
  if (!type || type.getRank() > 1 || !type.hasStaticShape())
    return reportUnsupported(rw, op,
                             "'" + name +
                                 "' must be a constant or a 1-D tensor of "
                                 "static length");
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    SmallVector<Value> indices;
    if (type.getRank() == 1)
      indices.push_back(arith::ConstantIndexOp::create(rw, loc, i));
    result.push_back(
        m.toIndex(tensor::ExtractOp::create(rw, loc, converted, indices)));
  }
  return result;
}

/// One scalar integer operand (0-D or one element) as an index.
FailureOr<OpFoldResult> readIndexScalar(ConversionPatternRewriter &rw,
                                        Location loc, Operation *op,
                                        Value original, Value converted,
                                        StringRef name) {
  if (std::optional<SmallVector<int64_t>> values =
          getConstantIntValues(original)) {
    if (values->size() != 1)
      return reportUnsupported(rw, op, "'" + name + "' must hold one value");
    return IndexMath(rw, loc).constant(values->front());
  }
  auto type = dyn_cast<RankedTensorType>(converted.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
    return reportUnsupported(rw, op, "'" + name + "' must hold one value");
  return IndexMath(rw, loc).toIndex(extractScalar(rw, loc, converted));
}

/// The sizes of `type` with its static dims as attributes and the others
/// taken from `sizes` (static result dims are what inference proved).
SmallVector<OpFoldResult> preferStatic(OpBuilder &b, RankedTensorType type,
                                       ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> result(sizes);
  for (int64_t i = 0, e = type.getRank(); i < e; ++i) {
    if (!type.isDynamicDim(i))
      result[i] = b.getIndexAttr(type.getDimSize(i));
    else if (auto value = dyn_cast<Value>(result[i]))
      result[i] = getAsOpFoldResult(value);
  }
  return result;
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared helpers (DataMovementUtils.h)
//===----------------------------------------------------------------------===//

Value expandShape(OpBuilder &b, Location loc, Value source,
                  ArrayRef<ReassociationIndices> groups,
                  ArrayRef<OpFoldResult> sizes) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  // Constant values count as static sizes, for the type and the op alike.
  SmallVector<OpFoldResult> outputSizes;
  for (OpFoldResult size : sizes)
    outputSizes.push_back(
        isa<Value>(size) ? getAsOpFoldResult(cast<Value>(size)) : size);
  SmallVector<int64_t> expandedShape;
  for (OpFoldResult size : outputSizes)
    expandedShape.push_back(
        getConstantIntValue(size).value_or(ShapedType::kDynamic));
  auto expandedType =
      RankedTensorType::get(expandedShape, sourceType.getElementType());
  SmallVector<int64_t> collapsedShape;
  for (const ReassociationIndices &group : groups) {
    int64_t product = 1;
    for (int64_t dim : group) {
      if (ShapedType::isDynamic(expandedShape[dim])) {
        product = ShapedType::kDynamic;
        break;
      }
      product *= expandedShape[dim];
    }
    collapsedShape.push_back(product);
  }
  Value input =
      castToTensorType(b, loc, source, sourceType.clone(collapsedShape));
  return tensor::ExpandShapeOp::create(b, loc, expandedType, input, groups,
                                       outputSizes);
}

/// Dims that are provably the same on both sides (that prefix, equal static
/// sizes at the front and back) stay; the rest of the source collapses into
/// one dim that expands into the rest of the result. Both are views, so
/// this never copies, and it is right for any sizes with the same element
/// count (a guessed reassociation of dynamic dims would not be).
Value reshapeTensor(OpBuilder &b, Location loc, Value source,
                    RankedTensorType resultType, ArrayRef<OpFoldResult> sizes,
                    int64_t knownPrefix) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  Type elementType = sourceType.getElementType();
  int64_t sourceRank = sourceType.getRank();
  int64_t resultRank = resultType.getRank();
  SmallVector<OpFoldResult> resultSizes = preferStatic(b, resultType, sizes);
  SmallVector<OpFoldResult> sourceSizes = getDims(b, loc, source);

  // A 0-D side: the other side holds one element in size-1 dims.
  if (sourceRank == 0) {
    SmallVector<OpFoldResult> ones(resultRank, b.getIndexAttr(1));
    Value expanded = expandShape(b, loc, source, {}, ones);
    return castToTensorType(b, loc, expanded, resultType);
  }
  if (resultRank == 0) {
    Value ones =
        castToTensorType(b, loc, source,
                         RankedTensorType::get(
                             SmallVector<int64_t>(sourceRank, 1), elementType));
    return tensor::CollapseShapeOp::create(b, loc, resultType, ones,
                                           ArrayRef<ReassociationIndices>{});
  }

  auto sameStatic = [](OpFoldResult x, OpFoldResult y) {
    std::optional<int64_t> a = getConstantIntValue(x);
    std::optional<int64_t> c = getConstantIntValue(y);
    return a && c && *a == *c;
  };
  int64_t common = std::min(sourceRank, resultRank);
  int64_t prefix = 0;
  while (prefix < common &&
         (prefix < knownPrefix ||
          sameStatic(sourceSizes[prefix], resultSizes[prefix])))
    ++prefix;
  int64_t suffix = 0;
  while (prefix + suffix < common &&
         sameStatic(sourceSizes[sourceRank - 1 - suffix],
                    resultSizes[resultRank - 1 - suffix]))
    ++suffix;
  if (prefix + suffix == sourceRank && prefix + suffix == resultRank)
    return castToTensorType(b, loc, source, resultType);
  // Both middles need a dim: an empty one (size-1 dims on the other side)
  // borrows a dim that both sides keep.
  if (prefix + suffix == common) {
    if (suffix > 0)
      --suffix;
    else
      --prefix;
  }
  int64_t sourceMiddle = sourceRank - prefix - suffix;
  int64_t resultMiddle = resultRank - prefix - suffix;

  auto makeGroups = [&](int64_t middle) {
    SmallVector<ReassociationIndices> groups;
    for (int64_t i = 0; i < prefix; ++i)
      groups.push_back({i});
    ReassociationIndices group;
    for (int64_t i = 0; i < middle; ++i)
      group.push_back(prefix + i);
    groups.push_back(group);
    for (int64_t i = 0; i < suffix; ++i)
      groups.push_back({prefix + middle + i});
    return groups;
  };

  Value collapsed = source;
  if (sourceMiddle > 1)
    collapsed = tensor::CollapseShapeOp::create(b, loc, source,
                                                makeGroups(sourceMiddle));
  if (resultMiddle == 1)
    return castToTensorType(b, loc, collapsed, resultType);

  SmallVector<OpFoldResult> collapsedSizes = getDims(b, loc, collapsed);
  SmallVector<OpFoldResult> outputSizes;
  for (int64_t i = 0; i < prefix; ++i)
    outputSizes.push_back(collapsedSizes[i]);
  for (int64_t i = 0; i < resultMiddle; ++i)
    outputSizes.push_back(resultSizes[prefix + i]);
  for (int64_t i = 0; i < suffix; ++i)
    outputSizes.push_back(collapsedSizes[prefix + 1 + i]);
  Value expanded =
      expandShape(b, loc, collapsed, makeGroups(resultMiddle), outputSizes);
  return castToTensorType(b, loc, expanded, resultType);
}

namespace {

/// A `tensor.empty` of exactly `type`, its dynamic dims taken from `sizes`.
Value createEmptyOfType(OpBuilder &b, Location loc, RankedTensorType type,
                        ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      dynamicSizes.push_back(getValueOrCreateConstantIndexOp(b, loc, sizes[i]));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

/// `linalg.index` of every loop dim of a generic of rank `rank`.
SmallVector<Value> getLoopIndices(OpBuilder &b, Location loc, int64_t rank) {
  SmallVector<Value> indices;
  for (int64_t i = 0; i < rank; ++i)
    indices.push_back(linalg::IndexOp::create(b, loc, i));
  return indices;
}

/// A linalg.generic over `resultType` (dims `sizes`) whose body computes each
/// element from the loop indices alone (by `tensor.extract` from other
/// tensors): the lowering of gathers and index-dependent fills.
Value buildIndexedGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType,
    ArrayRef<OpFoldResult> sizes, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  MLIRContext *context = b.getContext();
  int64_t rank = resultType.getRank();
  Value init = createEmptyOfType(b, loc, resultType, sizes);
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        SmallVector<Value> indices = getLoopIndices(nested, nestedLoc, rank);
        Value result = body(nested, nestedLoc, indices, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

/// `tensor.extract_slice` as `resultType`; a slice known to be empty is a
/// `tensor.empty` (the verifier rejects offset 0 into a size-0 dim).
Value extractSliceOrEmpty(OpBuilder &b, Location loc, Value source,
                          RankedTensorType resultType,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes,
                          ArrayRef<OpFoldResult> strides) {
  SmallVector<OpFoldResult> staticSizes = preferStatic(b, resultType, sizes);
  if (llvm::any_of(staticSizes, [](OpFoldResult size) {
        return isConstantIntValue(size, 0);
      }))
    return createEmptyOfType(b, loc, resultType, staticSizes);
  Value slice = tensor::ExtractSliceOp::create(b, loc, source, offsets,
                                               staticSizes, strides);
  return castToTensorType(b, loc, slice, resultType);
}

/// Wraps a negative index into range: index < 0 ? index + size : index.
OpFoldResult wrapNegativeIndex(IndexMath &m, OpFoldResult index,
                               OpFoldResult size) {
  OpFoldResult negative =
      m.cmp(arith::CmpIPredicate::slt, index, m.constant(0));
  return m.select(negative, m.add(index, size), index);
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

struct TransposeLowering : LinalgLoweringPattern<onnx::TransposeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::TransposeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    int64_t rank = resultType.getRank();
    SmallVector<int64_t> perm;
    if (std::optional<ArrayRef<int64_t>> attr = op.getPerm())
      perm.assign(attr->begin(), attr->end());
    else
      perm = llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank)));
    SmallVector<OpFoldResult> inputSizes = getDims(rw, loc, data);
    SmallVector<OpFoldResult> sizes;
    for (int64_t axis : perm)
      sizes.push_back(inputSizes[axis]);
    Value init = createEmptyOfType(rw, loc, resultType, sizes);
    Value input = castToTensorType(
        rw, loc, data,
        RankedTensorType::get(
            applyPermutation(cast<RankedTensorType>(init.getType()).getShape(),
                             invertPermutationVector(perm)),
            resultType.getElementType()));
    auto transpose = linalg::TransposeOp::create(rw, loc, input, init, perm);
    return LoweredValues{transpose.getResult().front()};
  }
};

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

struct ReshapeLowering : LinalgLoweringPattern<onnx::ReshapeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ReshapeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    IndexMath m(rw, loc);
    bool allowZero = op.getAllowzero() != 0;
    int64_t rank = resultType.getRank();
    int64_t sourceRank = cast<RankedTensorType>(data.getType()).getRank();
    SmallVector<OpFoldResult> sourceSizes = getDims(rw, loc, data);
    OpFoldResult total = m.product(sourceSizes);

    FailureOr<SmallVector<OpFoldResult>> entries = readIndexVector(
        rw, loc, op, op.getShape(), adaptor.getShape(), "shape");
    if (failed(entries))
      return failure();
    if (static_cast<int64_t>(entries->size()) != rank)
      return reportUnsupported(rw, op,
                               "shape has " + Twine(entries->size()) +
                                   " entries but the result has rank " +
                                   Twine(rank));

    // 0 copies the input dim (unless allowzero), -1 takes what is left.
    // Both are decided per entry at run time when the entry is.
    OpFoldResult zero = m.constant(0), one = m.constant(1);
    OpFoldResult minusOne = m.constant(-1);
    SmallVector<OpFoldResult> values, inferred;
    int64_t knownPrefix = 0;
    bool prefixOpen = true, anyInferred = false;
    OpFoldResult hasMinusOne = rw.getBoolAttr(false);
    for (auto [i, entry] : llvm::enumerate(*entries)) {
      OpFoldResult value = entry;
      int64_t index = static_cast<int64_t>(i);
      if (!allowZero && index < sourceRank)
        value = m.select(m.cmp(arith::CmpIPredicate::eq, entry, zero),
                         sourceSizes[index], entry);
      if (prefixOpen && !allowZero && isConstantIntValue(entry, 0))
        knownPrefix = index + 1;
      else
        prefixOpen = false;
      values.push_back(value);
      // A copied dim is never -1: the entry itself tells. A static result
      // dim needs no inferring.
      inferred.push_back(m.cmp(arith::CmpIPredicate::eq, entry, minusOne));
      hasMinusOne = m.orI(hasMinusOne, inferred.back());
      anyInferred |= !isConstantIntValue(inferred.back(), 0) &&
                     resultType.isDynamicDim(index);
    }
    SmallVector<OpFoldResult> sizes(values);
    if (!isConstantIntValue(hasMinusOne, 0)) {
      OpFoldResult knownProduct = one;
      for (auto [value, isInferred] : llvm::zip_equal(values, inferred))
        knownProduct = m.mul(knownProduct, m.select(isInferred, one, value));
      // The other sizes holding no element leave -1 undetermined: ONNX
      // Runtime (and numpy) refuse such a reshape, even of an empty input.
      m.check(m.select(hasMinusOne,
                       m.cmp(arith::CmpIPredicate::ne, knownProduct, zero),
                       rw.getBoolAttr(true)),
              "onnx.Reshape: cannot infer the -1 of the requested shape: its "
              "other dimensions hold 0 elements (the input holds {0})",
              {total});
      if (anyInferred) {
        // The divisor stays defined where the check failed (and its work
        // is skipped).
        OpFoldResult noElements =
            m.cmp(arith::CmpIPredicate::eq, knownProduct, zero);
        OpFoldResult inferredSize =
            m.select(noElements, zero,
                     m.div(total, m.select(noElements, one, knownProduct)));
        for (auto [size, isInferred] : llvm::zip_equal(sizes, inferred))
          size = m.select(isInferred, inferredSize, size);
      }
    }
    sizes = preferStatic(rw, resultType, sizes);
    OpFoldResult requestedCount = m.product(sizes);
    m.check(m.cmp(arith::CmpIPredicate::eq, requestedCount, total),
            "onnx.Reshape: the requested shape holds {0} elements, the input "
            "{1}",
            {requestedCount, total});
    return LoweredValues{
        reshapeTensor(rw, loc, data, resultType, sizes, knownPrefix)};
  }
};

struct FlattenLowering : LinalgLoweringPattern<onnx::FlattenOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::FlattenOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    if (axis > 0 && axis < rank) {
      ReassociationIndices outer, inner;
      for (int64_t i = 0; i < rank; ++i)
        (i < axis ? outer : inner).push_back(i);
      Value collapsed = tensor::CollapseShapeOp::create(
          rw, loc, input, ArrayRef<ReassociationIndices>{outer, inner});
      return LoweredValues{collapsed};
    }
    // axis 0 or rank: one side is the empty product 1.
    IndexMath m(rw, loc);
    SmallVector<OpFoldResult> resultSizes = {
        rw.getIndexAttr(1), m.product(getDims(rw, loc, input))};
    if (axis != 0)
      std::swap(resultSizes[0], resultSizes[1]);
    return LoweredValues{
        reshapeTensor(rw, loc, input, resultType, resultSizes, 0)};
  }
};

/// The message of the run-time check that a squeezed dim of Squeeze's input
/// is 1 ({0}: its size, {1}: 1); ONNX Runtime refuses any other size.
static std::string squeezeSizeMessage(int64_t dim) {
  return ("onnx.Squeeze: cannot squeeze dimension " + Twine(dim) +
          " of size {0} (it must be {1})")
      .str();
}

/// Squeeze and Unsqueeze whose axes are known only at run time (or
/// Squeeze without axes on dynamic dims): neither moves an element, so they
/// are the reshape to the result sizes. Static result dims are known; the
/// others follow the run-time axes (`axes`, null for Squeeze without axes).
FailureOr<LoweredValues> lowerUnitDimsReshape(ConversionPatternRewriter &rw,
                                              Operation *op, Value data,
                                              RankedTensorType resultType,
                                              Value originalAxes, Value axes,
                                              bool squeeze) {
  Location loc = op->getLoc();
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(rw.getIndexAttr(
        resultType.isDynamicDim(i) ? 1 : resultType.getDimSize(i)));
  if (!resultType.hasStaticShape()) {
    if (!axes)
      return reportUnsupported(rw, op,
                               "cannot tell which dims are squeezed: give "
                               "axes, or static dims");
    FailureOr<SmallVector<OpFoldResult>> values =
        readIndexVector(rw, loc, op, originalAxes, axes, "axes");
    if (failed(values))
      return failure();
    IndexMath m(rw, loc);
    int64_t inputRank = cast<RankedTensorType>(data.getType()).getRank();
    SmallVector<OpFoldResult> inputSizes = getDims(rw, loc, data);
    // Axes count dims of the input (Squeeze) or of the result (Unsqueeze).
    int64_t axesRank = squeeze ? inputRank : rank;
    SmallVector<OpFoldResult> normalized;
    for (OpFoldResult axis : *values)
      normalized.push_back(
          m.select(m.cmp(arith::CmpIPredicate::slt, axis, m.constant(0)),
                   m.add(axis, m.constant(axesRank)), axis));
    auto isAxis = [&](int64_t dim) {
      OpFoldResult named = rw.getBoolAttr(false);
      for (OpFoldResult axis : normalized)
        named = m.orI(named,
                      m.cmp(arith::CmpIPredicate::eq, axis, m.constant(dim)));
      return named;
    };
    auto axesBefore = [&](int64_t dim) {
      OpFoldResult count = m.constant(0);
      for (OpFoldResult axis : normalized)
        count = m.add(count, m.select(m.cmp(arith::CmpIPredicate::slt, axis,
                                            m.constant(dim)),
                                      m.constant(1), m.constant(0)));
      return count;
    };
    if (squeeze) {
      // Result dim j is the kept input dim k with k - (axes before k) == j.
      SmallVector<OpFoldResult> squeezed, position;
      for (int64_t k = 0; k < inputRank; ++k) {
        squeezed.push_back(isAxis(k));
        position.push_back(m.sub(m.constant(k), axesBefore(k)));
        m.check(m.select(squeezed[k],
                         m.cmp(arith::CmpIPredicate::eq, inputSizes[k],
                               m.constant(1)),
                         rw.getBoolAttr(true)),
                squeezeSizeMessage(k), {inputSizes[k], m.constant(1)});
      }
      for (int64_t j = 0; j < rank; ++j) {
        if (!resultType.isDynamicDim(j))
          continue;
        OpFoldResult size = m.constant(1);
        for (int64_t k = 0; k < inputRank; ++k)
          size = m.select(squeezed[k], size,
                          m.select(m.cmp(arith::CmpIPredicate::eq, position[k],
                                         m.constant(j)),
                                   inputSizes[k], size));
        sizes[j] = size;
      }
    } else {
      // Result dim j is 1 if it is an axis, else input dim
      // j - (axes before j).
      for (int64_t j = 0; j < rank; ++j) {
        if (!resultType.isDynamicDim(j))
          continue;
        OpFoldResult source = m.sub(m.constant(j), axesBefore(j));
        OpFoldResult size = m.constant(1);
        for (int64_t k = 0; k < inputRank; ++k)
          size =
              m.select(m.cmp(arith::CmpIPredicate::eq, source, m.constant(k)),
                       inputSizes[k], size);
        sizes[j] = m.select(isAxis(j), m.constant(1), size);
      }
    }
  }
  return LoweredValues{reshapeTensor(rw, loc, data, resultType, sizes, 0)};
}

struct SqueezeLowering : LinalgLoweringPattern<onnx::SqueezeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::SqueezeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    auto dataType = cast<RankedTensorType>(data.getType());
    int64_t rank = dataType.getRank();
    SmallVector<bool> squeezed(rank, false);
    if (isNoValue(op.getAxes())) {
      if (!dataType.hasStaticShape())
        return lowerUnitDimsReshape(rw, op, data, resultType, {}, {},
                                    /*squeeze=*/true);
      for (int64_t i = 0; i < rank; ++i)
        squeezed[i] = dataType.getDimSize(i) == 1;
    } else {
      std::optional<SmallVector<int64_t>> axes =
          getConstantIntValues(op.getAxes());
      if (!axes)
        return lowerUnitDimsReshape(rw, op, data, resultType, op.getAxes(),
                                    adaptor.getAxes(), /*squeeze=*/true);
      FailureOr<SmallVector<int64_t>> dims =
          getCheckedAxes(rw, op, *axes, rank);
      if (failed(dims))
        return failure();
      for (int64_t dim : *dims) {
        if (!dataType.isDynamicDim(dim) && dataType.getDimSize(dim) != 1)
          return reportUnsupported(rw, op,
                                   "cannot squeeze dimension " + Twine(dim) +
                                       " of size " +
                                       Twine(dataType.getDimSize(dim)));
        squeezed[dim] = true;
      }
      // A dynamic squeezed dim must be 1 at run time (ONNX Runtime refuses
      // any other size; the collapse below would drop its elements).
      IndexMath m(rw, loc);
      for (int64_t dim : *dims)
        if (dataType.isDynamicDim(dim))
          m.checkEqual(tensor::DimOp::create(rw, loc, data, dim).getResult(),
                       m.constant(1), squeezeSizeMessage(dim));
    }
    // A squeezed dim is 1 (a dynamic one checked at run time above).
    SmallVector<int64_t> shape(dataType.getShape());
    for (int64_t i = 0; i < rank; ++i)
      if (squeezed[i])
        shape[i] = 1;
    Value source = castToTensorType(rw, loc, data, dataType.clone(shape));
    // Each kept dim takes the squeezed dims before it; trailing ones join the
    // last group.
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices pending;
    for (int64_t i = 0; i < rank; ++i) {
      pending.push_back(i);
      if (!squeezed[i]) {
        groups.push_back(pending);
        pending.clear();
      }
    }
    if (!groups.empty())
      llvm::append_range(groups.back(), pending);
    Value collapsed = tensor::CollapseShapeOp::create(rw, loc, source, groups);
    return LoweredValues{collapsed};
  }
};

struct UnsqueezeLowering : LinalgLoweringPattern<onnx::UnsqueezeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::UnsqueezeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    std::optional<SmallVector<int64_t>> axes =
        getConstantIntValues(op.getAxes());
    if (!axes)
      return lowerUnitDimsReshape(rw, op, data, resultType, op.getAxes(),
                                  adaptor.getAxes(), /*squeeze=*/false);
    int64_t rank = resultType.getRank();
    FailureOr<SmallVector<int64_t>> newDims =
        getCheckedAxes(rw, op, *axes, rank);
    if (failed(newDims))
      return failure();
    int64_t dataRank = cast<RankedTensorType>(data.getType()).getRank();
    if (dataRank + static_cast<int64_t>(newDims->size()) != rank)
      return reportUnsupported(rw, op,
                               "inserting " + Twine(newDims->size()) +
                                   " dimensions into rank " + Twine(dataRank) +
                                   " does not give the result rank " +
                                   Twine(rank));
    Value expanded = expandReducedDims(rw, loc, data, *newDims, rank);
    return LoweredValues{expanded};
  }
};

//===----------------------------------------------------------------------===//
// Concat, Split, Slice
//===----------------------------------------------------------------------===//

/// Concat of inputs whose sizes off the axis are not all static: each must
/// match at run time, except an input empty along the axis, which adds
/// nothing and is skipped as ONNX Runtime skips it. The result takes its
/// sizes off the axis from the first input not empty along the axis (the
/// first input when all are). When no input can be empty along the axis
/// that is the first input, as for tensor.concat; else each input is
/// inserted at its offset into a result of those sizes. Inputs statically
/// empty along the axis are left out (see ConcatLowering).
static Value buildCheckedConcat(OpBuilder &b, Location loc, ValueRange inputs,
                                int64_t axis, RankedTensorType resultType) {
  IndexMath m(b, loc);
  int64_t rank = resultType.getRank();
  SmallVector<SmallVector<OpFoldResult>> inputSizes;
  SmallVector<OpFoldResult> emptyAlongAxis;
  SmallVector<Value> kept;
  for (Value input : inputs) {
    inputSizes.push_back(getDims(b, loc, input));
    emptyAlongAxis.push_back(m.cmp(arith::CmpIPredicate::eq,
                                   inputSizes.back()[axis], m.constant(0)));
    if (!isConstantIntValue(emptyAlongAxis.back(), 1))
      kept.push_back(input);
  }
  SmallVector<OpFoldResult> sizes(inputSizes.front());
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (dim == axis)
      continue;
    for (int64_t i = static_cast<int64_t>(inputs.size()) - 1; i >= 0; --i)
      sizes[dim] = m.select(emptyAlongAxis[i], sizes[dim], inputSizes[i][dim]);
  }
  for (auto [i, each] : llvm::enumerate(inputSizes))
    for (int64_t dim = 0; dim < rank; ++dim) {
      if (dim == axis || each[dim] == sizes[dim] ||
          (getConstantIntValue(each[dim]) && getConstantIntValue(sizes[dim])))
        continue;
      m.check(m.orI(emptyAlongAxis[i],
                    m.cmp(arith::CmpIPredicate::eq, each[dim], sizes[dim])),
              "onnx.Concat: sizes off the axis must match: dimension " +
                  Twine(dim) + " of input " + Twine(i) +
                  " has size {0}, not {1}",
              {each[dim], sizes[dim]});
    }
  bool someMayBeEmpty = llvm::any_of(emptyAlongAxis, [](OpFoldResult empty) {
    return !getConstantIntValue(empty);
  });
  if (!someMayBeEmpty)
    return castToTensorType(
        b, loc, tensor::ConcatOp::create(b, loc, axis, kept), resultType);
  OpFoldResult total = m.constant(0);
  for (auto each : inputSizes)
    total = m.add(total, each[axis]);
  sizes[axis] = total;
  Value result = createEmptyTensor(b, loc, preferStatic(b, resultType, sizes),
                                   resultType.getElementType());
  OpFoldResult offset = m.constant(0);
  for (auto [input, each, empty] :
       llvm::zip(inputs, inputSizes, emptyAlongAxis)) {
    if (isConstantIntValue(empty, 1))
      continue;
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    offsets[axis] = offset;
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    result = tensor::InsertSliceOp::create(b, loc, input, result, offsets, each,
                                           strides);
    offset = m.add(offset, each[axis]);
  }
  return castToTensorType(b, loc, result, resultType);
}

struct ConcatLowering : LinalgLoweringPattern<onnx::ConcatOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ConcatOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    int64_t axis =
        normalizeAxis(static_cast<int64_t>(op.getAxis()), resultType.getRank());
    // Inputs of size 0 along the axis add nothing. Kept, they would become
    // zero-sized subviews at the end of the result, whose offset equals the
    // size and which memref.subview's verifier refuses (RotaryEmbedding's
    // expanded function concatenates an empty pass-through part).
    SmallVector<Value> inputs;
    for (Value input : adaptor.getInputs())
      if (cast<RankedTensorType>(input.getType()).getDimSize(axis) != 0)
        inputs.push_back(input);
    // Dynamic sizes off the axis are checked at run time; static ones
    // inference already compared.
    bool dynamicOffAxis = llvm::any_of(inputs, [&](Value input) {
      auto type = cast<RankedTensorType>(input.getType());
      return llvm::any_of(llvm::seq<int64_t>(type.getRank()), [&](int64_t d) {
        return d != axis && type.isDynamicDim(d);
      });
    });
    if (dynamicOffAxis && inputs.size() > 1)
      return LoweredValues{
          buildCheckedConcat(rw, loc, adaptor.getInputs(), axis, resultType)};
    if (inputs.size() == adaptor.getInputs().size()) {
      Value result = inputs.front();
      if (inputs.size() > 1)
        result = tensor::ConcatOp::create(rw, loc, axis, inputs);
      return LoweredValues{result};
    }
    Value result;
    if (inputs.empty()) {
      // Every input is empty along the axis: so is the result.
      SmallVector<OpFoldResult> sizes =
          getDims(rw, loc, adaptor.getInputs().front());
      result =
          tensor::EmptyOp::create(rw, loc, sizes, resultType.getElementType());
    } else {
      result = inputs.size() == 1
                   ? inputs.front()
                   : tensor::ConcatOp::create(rw, loc, axis, inputs);
    }
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rw, loc, resultType, result);
    return LoweredValues{result};
  }
};

struct SplitLowering : LinalgLoweringPattern<onnx::SplitOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::SplitOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    IndexMath m(rw, loc);
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    int64_t axis = normalizeAxis(static_cast<int64_t>(op.getAxis()), rank);
    SmallVector<OpFoldResult> inputSizes = getDims(rw, loc, input);
    OpFoldResult dim = inputSizes[axis];
    int64_t count = op.getNumResults();

    SmallVector<OpFoldResult> sizes;
    if (!isNoValue(op.getSplit())) {
      FailureOr<SmallVector<OpFoldResult>> split = readIndexVector(
          rw, loc, op, op.getSplit(), adaptor.getSplit(), "split");
      if (failed(split))
        return failure();
      sizes = std::move(*split);
    } else {
      // Chunks of ceil(dim / count); the last one may be smaller (opset 18).
      OpFoldResult chunk = m.ceilDiv(dim, m.constant(count));
      for (int64_t i = 0; i < count; ++i) {
        OpFoldResult left =
            m.max(m.sub(dim, m.mul(chunk, m.constant(i))), m.constant(0));
        sizes.push_back(m.min(chunk, left));
      }
    }
    if (static_cast<int64_t>(sizes.size()) != count)
      return reportUnsupported(rw, op,
                               "split has " + Twine(sizes.size()) +
                                   " entries for " + Twine(count) + " outputs");
    bool staticSizesPinned = false;
    for (int64_t i = 0; i < count; ++i)
      if (!resultTypes[i].isDynamicDim(axis)) {
        staticSizesPinned |= !getConstantIntValue(sizes[i]);
        sizes[i] = m.constant(resultTypes[i].getDimSize(axis));
      }
    // Given sizes (or result sizes inference pinned) must cover the axis
    // exactly, each at least 0, or the slices below read past the input
    // (ONNX Runtime refuses). Computed chunks cover it by construction.
    if (!isNoValue(op.getSplit()) || staticSizesPinned) {
      OpFoldResult total = m.constant(0);
      for (int64_t i = 0; i < count; ++i) {
        m.check(m.cmp(arith::CmpIPredicate::sge, sizes[i], m.constant(0)),
                "onnx.Split: split size " + Twine(i) + " is {0}, below 0",
                {sizes[i]});
        total = m.add(total, sizes[i]);
      }
      m.checkEqual(total, dim,
                   "onnx.Split: the split sizes add up to {0}, not to the "
                   "size {1} of axis " +
                       Twine(axis));
    }

    SmallVector<Value> results;
    OpFoldResult offset = m.constant(0);
    for (int64_t i = 0; i < count; ++i) {
      SmallVector<OpFoldResult> offsets(rank, rw.getIndexAttr(0));
      SmallVector<OpFoldResult> sliceSizes(inputSizes);
      SmallVector<OpFoldResult> strides(rank, rw.getIndexAttr(1));
      offsets[axis] = offset;
      sliceSizes[axis] = sizes[i];
      results.push_back(extractSliceOrEmpty(rw, loc, input, resultTypes[i],
                                            offsets, sliceSizes, strides));
      offset = m.add(offset, sizes[i]);
    }
    return results;
  }
};

struct SliceLowering : LinalgLoweringPattern<onnx::SliceOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::SliceOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    IndexMath m(rw, loc);
    int64_t rank = resultType.getRank();
    FailureOr<SmallVector<OpFoldResult>> starts = readIndexVector(
        rw, loc, op, op.getStarts(), adaptor.getStarts(), "starts");
    if (failed(starts))
      return failure();
    FailureOr<SmallVector<OpFoldResult>> ends =
        readIndexVector(rw, loc, op, op.getEnds(), adaptor.getEnds(), "ends");
    if (failed(ends))
      return failure();
    size_t count = starts->size();
    if (ends->size() != count)
      return reportUnsupported(rw, op, "starts and ends differ in length");

    SmallVector<OpFoldResult> steps;
    if (isNoValue(op.getSteps())) {
      steps.assign(count, m.constant(1));
    } else {
      FailureOr<SmallVector<OpFoldResult>> values = readIndexVector(
          rw, loc, op, op.getSteps(), adaptor.getSteps(), "steps");
      if (failed(values))
        return failure();
      steps = std::move(*values);
    }
    if (steps.size() != count)
      return reportUnsupported(rw, op,
                               "starts, ends and steps differ in length");
    SmallVector<int64_t> axes;
    if (isNoValue(op.getAxes())) {
      axes = llvm::to_vector(llvm::seq<int64_t>(0, count));
    } else if (std::optional<SmallVector<int64_t>> values =
                   getConstantIntValues(op.getAxes())) {
      for (int64_t axis : *values)
        axes.push_back(normalizeAxis(axis, rank));
    } else {
      // Axes known at run time: every dim gets the bounds of the entry that
      // names it, or the whole dim (0, INT64_MAX, 1) when none does.
      FailureOr<SmallVector<OpFoldResult>> axisValues =
          readIndexVector(rw, loc, op, op.getAxes(), adaptor.getAxes(), "axes");
      if (failed(axisValues))
        return failure();
      if (axisValues->size() != count)
        return reportUnsupported(rw, op, "axes and starts differ in length");
      SmallVector<OpFoldResult> dimStarts, dimEnds, dimSteps;
      for (int64_t d = 0; d < rank; ++d) {
        OpFoldResult start = m.constant(0), step = m.constant(1);
        OpFoldResult end = m.constant(std::numeric_limits<int64_t>::max());
        for (size_t i = 0; i < axisValues->size(); ++i) {
          OpFoldResult axis = (*axisValues)[i];
          axis = m.select(m.cmp(arith::CmpIPredicate::slt, axis, m.constant(0)),
                          m.add(axis, m.constant(rank)), axis);
          OpFoldResult named =
              m.cmp(arith::CmpIPredicate::eq, axis, m.constant(d));
          start = m.select(named, (*starts)[i], start);
          end = m.select(named, (*ends)[i], end);
          step = m.select(named, steps[i], step);
        }
        dimStarts.push_back(start);
        dimEnds.push_back(end);
        dimSteps.push_back(step);
      }
      *starts = std::move(dimStarts);
      *ends = std::move(dimEnds);
      steps = std::move(dimSteps);
      count = rank;
      axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    }
    if (axes.size() != count)
      return reportUnsupported(rw, op, "axes and starts differ in length");

    SmallVector<OpFoldResult> sizes = getDims(rw, loc, data);
    SmallVector<OpFoldResult> offsets(rank, m.constant(0));
    SmallVector<OpFoldResult> strides(rank, m.constant(1));
    SmallVector<OpFoldResult> resultSizes(sizes);
    bool allPositive = true;
    OpFoldResult zero = m.constant(0), one = m.constant(1);
    OpFoldResult minusOne = m.constant(-1);
    for (size_t i = 0; i < count; ++i) {
      int64_t axis = axes[i];
      OpFoldResult dim = sizes[axis];
      OpFoldResult step = steps[i];
      std::optional<int64_t> knownStep = getConstantIntValue(step);
      if (knownStep && *knownStep == 0)
        return reportUnsupported(rw, op, "a step is 0");
      m.check(m.cmp(arith::CmpIPredicate::ne, step, zero),
              "onnx.Slice: a step is 0");
      // The clamping rules of the spec: negative bounds count from the end;
      // starts clamp to [0, dim] going forward and [0, dim - 1] going
      // backward, ends to [0, dim] and [-1, dim - 1].
      auto wrap = [&](OpFoldResult bound) {
        return m.select(m.cmp(arith::CmpIPredicate::slt, bound, zero),
                        m.add(bound, dim), bound);
      };
      OpFoldResult start = wrap((*starts)[i]);
      OpFoldResult end = wrap((*ends)[i]);
      OpFoldResult forward = m.cmp(arith::CmpIPredicate::sgt, step, zero);
      OpFoldResult forwardStart, forwardSize, backwardStart, backwardSize;
      if (!isConstantIntValue(forward, 0)) {
        forwardStart = m.clamp(start, zero, dim);
        OpFoldResult forwardEnd = m.clamp(end, zero, dim);
        forwardSize =
            m.max(m.ceilDiv(m.sub(forwardEnd, forwardStart), step), zero);
      }
      if (!isConstantIntValue(forward, 1) && !isConstantIntValue(forward, -1)) {
        OpFoldResult dimMinusOne = m.sub(dim, one);
        backwardStart = m.clamp(start, zero, dimMinusOne);
        OpFoldResult backwardEnd = m.clamp(end, minusOne, dimMinusOne);
        backwardSize = m.max(
            m.ceilDiv(m.sub(backwardStart, backwardEnd), m.sub(zero, step)),
            zero);
      }
      offsets[axis] = m.select(forward, forwardStart, backwardStart);
      resultSizes[axis] = m.select(forward, forwardSize, backwardSize);
      strides[axis] = step;
      allPositive &= knownStep && *knownStep > 0;
    }

    Value result;
    if (allPositive) {
      result = extractSliceOrEmpty(rw, loc, data, resultType, offsets,
                                   resultSizes, strides);
    } else {
      // Negative (or run-time) steps: read data[offset + i * step] per dim.
      Value source = data;
      result = buildIndexedGeneric(
          rw, loc, resultType, resultSizes, {}, {},
          [&](OpBuilder &b, Location nestedLoc, ValueRange indices,
              ValueRange) -> Value {
            IndexMath nm(b, nestedLoc);
            SmallVector<Value> coords;
            for (int64_t d = 0; d < rank; ++d)
              coords.push_back(
                  nm.value(nm.add(offsets[d], nm.mul(indices[d], strides[d]))));
            return tensor::ExtractOp::create(b, nestedLoc, source, coords);
          });
    }
    return LoweredValues{result};
  }
};

//===----------------------------------------------------------------------===//
// Gather, GatherElements, ScatterND
//===----------------------------------------------------------------------===//

/// Checks once per op, before the gather reads anything, that every element
/// of `indices` lies in [-size, size) (ONNX's rule; ONNX Runtime reports
/// "indices element out of data bounds"): one pass over the indices computes
/// their minimum and maximum, and the check names the one out of range.
static void checkIndicesInRange(OpBuilder &b, Location loc, Value indices,
                                OpFoldResult size, int64_t axis,
                                StringRef opName) {
  auto indicesType = cast<RankedTensorType>(indices.getType());
  auto elementType = cast<IntegerType>(indicesType.getElementType());
  unsigned width = elementType.getWidth();
  auto constant = [&](const APInt &value) -> Value {
    return arith::ConstantOp::create(b, loc,
                                     IntegerAttr::get(elementType, value));
  };
  auto scalarType = RankedTensorType::get({}, elementType);
  Value minInit =
      linalg::FillOp::create(
          b, loc, constant(APInt::getSignedMaxValue(width)),
          tensor::EmptyOp::create(b, loc, scalarType, ValueRange{}).getResult())
          .getResult(0);
  Value maxInit =
      linalg::FillOp::create(
          b, loc, constant(APInt::getSignedMinValue(width)),
          tensor::EmptyOp::create(b, loc, scalarType, ValueRange{}).getResult())
          .getResult(0);
  int64_t rank = indicesType.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, context),
      AffineMap::get(rank, 0, context), AffineMap::get(rank, 0, context)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto extremes = linalg::GenericOp::create(
      b, loc, TypeRange{scalarType, scalarType}, ValueRange{indices},
      ValueRange{minInit, maxInit}, maps, iterators,
      [](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{arith::MinSIOp::create(nb, nl, args[0], args[1]),
                       arith::MaxSIOp::create(nb, nl, args[0], args[2])});
      });
  Value smallest =
      tensor::ExtractOp::create(b, loc, extremes.getResult(0), ValueRange{});
  Value largest =
      tensor::ExtractOp::create(b, loc, extremes.getResult(1), ValueRange{});
  Value sizeValue = arith::IndexCastOp::create(
      b, loc, elementType, getValueOrCreateConstantIndexOp(b, loc, size));
  Value negativeSize =
      arith::SubIOp::create(b, loc, constant(APInt::getZero(width)), sizeValue);
  Value tooSmall = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         smallest, negativeSize);
  Value tooLarge = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge,
                                         largest, sizeValue);
  Value inRange = arith::XOrIOp::create(
      b, loc, arith::OrIOp::create(b, loc, tooSmall, tooLarge),
      arith::ConstantIntOp::create(b, loc, 1, 1));
  Value offending =
      arith::SelectOp::create(b, loc, tooSmall, smallest, largest);
  emitRuntimeCheck(b, loc, inRange,
                   opName +
                       ": indices element out of data bounds: index {0} on "
                       "axis " +
                       Twine(axis) +
                       " of size {1} (valid indices are -{1} to {1}-1)",
                   {offending, sizeValue});
}

struct GatherLowering : LinalgLoweringPattern<onnx::GatherOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::GatherOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    Value indices = adaptor.getIndices();
    int64_t dataRank = cast<RankedTensorType>(data.getType()).getRank();
    int64_t indicesRank = cast<RankedTensorType>(indices.getType()).getRank();
    int64_t rank = resultType.getRank();
    int64_t axis = normalizeAxis(static_cast<int64_t>(op.getAxis()), dataRank);

    // out[a..., j..., b...] = data[a..., indices[j...], b...]
    SmallVector<OpFoldResult> dataSizes = getDims(rw, loc, data);
    SmallVector<OpFoldResult> indicesSizes = getDims(rw, loc, indices);
    SmallVector<OpFoldResult> sizes(dataSizes.begin(),
                                    dataSizes.begin() + axis);
    llvm::append_range(sizes, indicesSizes);
    sizes.append(dataSizes.begin() + axis + 1, dataSizes.end());
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indicesRank; ++i)
      indexExprs.push_back(rw.getAffineDimExpr(axis + i));
    AffineMap indicesMap = AffineMap::get(rank, 0, indexExprs, rw.getContext());
    OpFoldResult axisSize = dataSizes[axis];
    checkIndicesInRange(rw, loc, indices, axisSize, axis, "onnx.Gather");
    Value source = data;
    Value result = buildIndexedGeneric(
        rw, loc, resultType, sizes, {indices}, {indicesMap},
        [&](OpBuilder &b, Location nestedLoc, ValueRange loopIndices,
            ValueRange args) -> Value {
          IndexMath nm(b, nestedLoc);
          SmallVector<Value> coords(loopIndices.begin(),
                                    loopIndices.begin() + axis);
          coords.push_back(
              nm.value(wrapNegativeIndex(nm, nm.toIndex(args[0]), axisSize)));
          coords.append(loopIndices.begin() + axis + indicesRank,
                        loopIndices.end());
          return tensor::ExtractOp::create(b, nestedLoc, source, coords);
        });
    return LoweredValues{result};
  }
};

struct GatherElementsLowering : LinalgLoweringPattern<onnx::GatherElementsOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::GatherElementsOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    Value indices = adaptor.getIndices();
    int64_t rank = resultType.getRank();
    int64_t axis = normalizeAxis(static_cast<int64_t>(op.getAxis()), rank);
    SmallVector<OpFoldResult> dataSizes = getDims(rw, loc, data);
    SmallVector<OpFoldResult> indicesSizes = getDims(rw, loc, indices);
    // Off the axis the result reads the data where the indices are: they
    // must not be larger (ONNX Runtime refuses).
    IndexMath m(rw, loc);
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis || (getConstantIntValue(indicesSizes[i]) &&
                        getConstantIntValue(dataSizes[i])))
        continue;
      m.check(m.cmp(arith::CmpIPredicate::sle, indicesSizes[i], dataSizes[i]),
              "onnx.GatherElements: dimension " + Twine(i) +
                  " of the indices (size {0}) exceeds the data's size {1}",
              {indicesSizes[i], dataSizes[i]});
    }
    OpFoldResult axisSize = dataSizes[axis];
    checkIndicesInRange(rw, loc, indices, axisSize, axis,
                        "onnx.GatherElements");
    Value source = data;
    // out[i...] = data[i... with i_axis replaced by indices[i...]]
    Value result = buildIndexedGeneric(
        rw, loc, resultType, indicesSizes, {indices},
        {AffineMap::getMultiDimIdentityMap(rank, rw.getContext())},
        [&](OpBuilder &b, Location nestedLoc, ValueRange loopIndices,
            ValueRange args) -> Value {
          IndexMath nm(b, nestedLoc);
          SmallVector<Value> coords(loopIndices);
          coords[axis] =
              nm.value(wrapNegativeIndex(nm, nm.toIndex(args[0]), axisSize));
          return tensor::ExtractOp::create(b, nestedLoc, source, coords);
        });
    return LoweredValues{result};
  }
};

/// Checks that ScatterND's updates have the shape indices.shape[:-1] +
/// data.shape[depth:] (ONNX Runtime refuses any other): the scatter loop
/// reads one update slice of the data's trailing sizes per index tuple.
/// Fails when the ranks cannot agree.
static LogicalResult
checkScatterUpdatesShape(IndexMath &m, ArrayRef<OpFoldResult> updatesSizes,
                         ArrayRef<OpFoldResult> indicesSizes,
                         ArrayRef<OpFoldResult> dataSizes, int64_t depth) {
  int64_t tupleRank = static_cast<int64_t>(indicesSizes.size()) - 1;
  if (depth > static_cast<int64_t>(dataSizes.size()) ||
      static_cast<int64_t>(updatesSizes.size()) !=
          tupleRank + static_cast<int64_t>(dataSizes.size()) - depth)
    return failure();
  for (auto [dim, size] : llvm::enumerate(updatesSizes)) {
    int64_t i = static_cast<int64_t>(dim);
    OpFoldResult expected =
        i < tupleRank ? indicesSizes[i] : dataSizes[depth + i - tupleRank];
    m.checkEqual(size, expected,
                 "onnx.ScatterND: dimension " + Twine(i) +
                     " of the updates has size {0}, not {1} (updates must "
                     "have the shape indices.shape[:-1] + data.shape[" +
                     Twine(depth) + ":])");
  }
  return success();
}

struct ScatterNDLowering : LinalgLoweringPattern<onnx::ScatterNDOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ScatterNDOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value data = adaptor.getData();
    Value indices = adaptor.getIndices();
    Value updates = adaptor.getUpdates();
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto updatesType = cast<RankedTensorType>(updates.getType());
    int64_t rank = resultType.getRank();
    int64_t depth = indicesType.getShape().back();
    if (ShapedType::isDynamic(depth))
      return reportUnsupported(rw, op,
                               "the last dim of indices must be static");
    Type elementType = resultType.getElementType();
    IndexMath m(rw, loc);

    // Flatten the update tuples: indices [n, depth], updates [n, rest...].
    int64_t tupleRank = indicesType.getRank() - 1;
    SmallVector<OpFoldResult> indicesSizes = getDims(rw, loc, indices);
    SmallVector<OpFoldResult> updatesSizes = getDims(rw, loc, updates);
    SmallVector<OpFoldResult> dataSizes = getDims(rw, loc, data);
    if (failed(checkScatterUpdatesShape(m, updatesSizes, indicesSizes,
                                        dataSizes, depth)))
      return reportUnsupported(
          rw, op,
          "the ranks of data, indices and updates do not agree (updates "
          "must have rank indices rank - 1 + data rank - indices.shape[-1])");
    OpFoldResult count =
        m.product(ArrayRef<OpFoldResult>(indicesSizes).take_front(tupleRank));
    SmallVector<int64_t> flatIndicesShape = {ShapedType::kDynamic, depth};
    Value flatIndices = reshapeTensor(
        rw, loc, indices,
        RankedTensorType::get(flatIndicesShape, indicesType.getElementType()),
        {count, rw.getIndexAttr(depth)}, 0);
    // Component j of every tuple indexes dimension j of data: each column of
    // the flat indices is checked once, before the loop writes anything.
    for (int64_t j = 0; j < depth; ++j) {
      SmallVector<OpFoldResult> offsets = {rw.getIndexAttr(0),
                                           rw.getIndexAttr(j)};
      SmallVector<OpFoldResult> sizes = {count, rw.getIndexAttr(1)};
      SmallVector<OpFoldResult> strides(2, rw.getIndexAttr(1));
      RankedTensorType columnType =
          tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
              1, cast<RankedTensorType>(flatIndices.getType()), sizes);
      Value column = tensor::ExtractSliceOp::create(
          rw, loc, columnType, flatIndices, offsets, sizes, strides);
      checkIndicesInRange(rw, loc, column, dataSizes[j], j, "onnx.ScatterND");
    }
    SmallVector<OpFoldResult> restSizes(updatesSizes.begin() + tupleRank,
                                        updatesSizes.end());
    SmallVector<int64_t> flatUpdatesShape = {ShapedType::kDynamic};
    llvm::append_range(flatUpdatesShape,
                       updatesType.getShape().drop_front(tupleRank));
    SmallVector<OpFoldResult> flatUpdatesSizes = {count};
    llvm::append_range(flatUpdatesSizes, restSizes);
    Value flatUpdates = reshapeTensor(
        rw, loc, updates, RankedTensorType::get(flatUpdatesShape, elementType),
        flatUpdatesSizes, 0);

    StringRef reduction = op.getReduction();
    bool isUnsigned = isUnsignedElementType(op.getData().getType());
    auto combine = [&](OpBuilder &b, Location l, Value old,
                       Value update) -> Value {
      bool isFloat = isa<FloatType>(elementType);
      bool isBool = elementType.isInteger(1);
      if (reduction == "add") {
        if (isFloat)
          return arith::AddFOp::create(b, l, old, update);
        if (isBool)
          return arith::OrIOp::create(b, l, old, update);
        return arith::AddIOp::create(b, l, old, update);
      }
      if (reduction == "mul") {
        if (isFloat)
          return arith::MulFOp::create(b, l, old, update);
        if (isBool)
          return arith::AndIOp::create(b, l, old, update);
        return arith::MulIOp::create(b, l, old, update);
      }
      if (reduction == "max") {
        if (isFloat)
          return arith::MaximumFOp::create(b, l, old, update);
        if (isUnsigned || isBool)
          return arith::MaxUIOp::create(b, l, old, update);
        return arith::MaxSIOp::create(b, l, old, update);
      }
      if (isFloat)
        return arith::MinimumFOp::create(b, l, old, update);
      if (isUnsigned || isBool)
        return arith::MinUIOp::create(b, l, old, update);
      return arith::MinSIOp::create(b, l, old, update);
    };

    // Updates apply in order (duplicates: the last one wins, as ONNX
    // Runtime does), so this is a sequential loop over the tuples.
    Value initial = castToTensorType(
        rw, loc, data,
        RankedTensorType::get(cast<RankedTensorType>(data.getType()).getShape(),
                              elementType));
    auto loop = scf::ForOp::create(
        rw, loc, m.value(m.constant(0)), m.value(count), m.value(m.constant(1)),
        ValueRange{initial},
        [&](OpBuilder &b, Location l, Value n, ValueRange iterArgs) {
          IndexMath lm(b, l);
          Value acc = iterArgs[0];
          SmallVector<Value> coords;
          for (int64_t j = 0; j < depth; ++j) {
            Value index = tensor::ExtractOp::create(
                b, l, flatIndices, ValueRange{n, lm.value(lm.constant(j))});
            coords.push_back(lm.value(
                wrapNegativeIndex(lm, lm.toIndex(index), dataSizes[j])));
          }
          Value next;
          if (depth == rank) {
            Value update =
                tensor::ExtractOp::create(b, l, flatUpdates, ValueRange{n});
            if (reduction != "none")
              update = combine(
                  b, l, tensor::ExtractOp::create(b, l, acc, coords), update);
            next = tensor::InsertOp::create(b, l, update, acc, coords);
          } else {
            int64_t restRank = rank - depth;
            auto sliceType = RankedTensorType::get(
                flatUpdatesShape.size() > 1
                    ? ArrayRef<int64_t>(flatUpdatesShape).drop_front()
                    : ArrayRef<int64_t>{},
                elementType);
            SmallVector<OpFoldResult> updateOffsets(restRank + 1,
                                                    b.getIndexAttr(0));
            updateOffsets[0] = n;
            SmallVector<OpFoldResult> updateSizes = {b.getIndexAttr(1)};
            llvm::append_range(updateSizes, restSizes);
            SmallVector<OpFoldResult> ones(restRank + 1, b.getIndexAttr(1));
            Value update = tensor::ExtractSliceOp::create(
                b, l, sliceType, flatUpdates, updateOffsets, updateSizes, ones);
            SmallVector<OpFoldResult> offsets(getAsOpFoldResult(coords));
            offsets.append(restRank, b.getIndexAttr(0));
            SmallVector<OpFoldResult> sizes(depth, b.getIndexAttr(1));
            llvm::append_range(sizes, restSizes);
            SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
            if (reduction != "none") {
              Value old = tensor::ExtractSliceOp::create(
                  b, l, sliceType, acc, offsets, sizes, strides);
              update = buildElementwise(
                  b, l, {old, update}, getDims(b, l, old), elementType,
                  [&](OpBuilder &nb, Location nl, ValueRange scalars) {
                    return combine(nb, nl, scalars[0], scalars[1]);
                  });
            }
            next = tensor::InsertSliceOp::create(b, l, update, acc, offsets,
                                                 sizes, strides);
          }
          scf::YieldOp::create(b, l, next);
        });
    return LoweredValues{loop.getResult(0)};
  }
};

//===----------------------------------------------------------------------===//
// Expand, Tile
//===----------------------------------------------------------------------===//

struct ExpandLowering : LinalgLoweringPattern<onnx::ExpandOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ExpandOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value input = adaptor.getInput();
    FailureOr<SmallVector<OpFoldResult>> shape = readIndexVector(
        rw, loc, op, op.getShape(), adaptor.getShape(), "shape");
    if (failed(shape))
      return failure();
    // The result is the NumPy broadcast of the input's shape and the
    // requested one, as for the element-wise ops: a run-time 1 on either
    // side takes the other's size.
    SmallVector<OpFoldResult> inputSizes = getDims(rw, loc, input);
    FailureOr<SmallVector<OpFoldResult>> broadcast = computeBroadcastSizes(
        rw, loc, {inputSizes, *shape}, op->getName().getStringRef());
    if (failed(broadcast))
      return reportUnsupported(
          rw, op, "the input's shape does not broadcast with 'shape'");
    if (static_cast<int64_t>(broadcast->size()) != resultType.getRank())
      return reportUnsupported(
          rw, op,
          "the broadcast has rank " + Twine(broadcast->size()) +
              " but the result has rank " + Twine(resultType.getRank()));
    // Static result dims are what inference proved; the computed sizes must
    // agree with them at run time.
    IndexMath m(rw, loc);
    SmallVector<OpFoldResult> sizes = preferStatic(rw, resultType, *broadcast);
    for (auto [i, computed, size] : llvm::enumerate(*broadcast, sizes))
      if (computed != size)
        m.check(m.cmp(arith::CmpIPredicate::eq, computed, size),
                "onnx.Expand: dimension " + Twine(i) +
                    " has size {0}, not the result's {1}",
                {computed, size});
    input = broadcastDynamicDims(rw, loc, input, inputSizes, sizes);
    Value result = buildElementwise(
        rw, loc, {input}, sizes, resultType.getElementType(),
        [](OpBuilder &, Location, ValueRange scalars) { return scalars[0]; });
    return LoweredValues{result};
  }
};

struct TileLowering : LinalgLoweringPattern<onnx::TileOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::TileOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value input = adaptor.getInput();
    FailureOr<SmallVector<OpFoldResult>> repeats = readIndexVector(
        rw, loc, op, op.getRepeats(), adaptor.getRepeats(), "repeats");
    if (failed(repeats))
      return failure();
    int64_t rank = resultType.getRank();
    if (static_cast<int64_t>(repeats->size()) != rank)
      return reportUnsupported(rw, op, "repeats must have one entry per dim");
    if (rank == 0)
      return LoweredValues{input};
    // Broadcast [d0, d1, ...] to [r0, d0, r1, d1, ...] (a copy that reads
    // the input in order), then merge each (r, d) pair: the pair's row-major
    // order is exactly the tiling.
    SmallVector<OpFoldResult> inputSizes = getDims(rw, loc, input);
    SmallVector<OpFoldResult> pairSizes;
    SmallVector<AffineExpr> inputExprs;
    SmallVector<ReassociationIndices> groups;
    for (int64_t i = 0; i < rank; ++i) {
      pairSizes.push_back((*repeats)[i]);
      pairSizes.push_back(inputSizes[i]);
      inputExprs.push_back(rw.getAffineDimExpr(2 * i + 1));
      groups.push_back({2 * i, 2 * i + 1});
    }
    MLIRContext *context = rw.getContext();
    Value init =
        createEmptyTensor(rw, loc, pairSizes, resultType.getElementType());
    SmallVector<AffineMap> maps = {
        AffineMap::get(2 * rank, 0, inputExprs, context),
        AffineMap::getMultiDimIdentityMap(2 * rank, context)};
    SmallVector<utils::IteratorType> iterators(2 * rank,
                                               utils::IteratorType::parallel);
    auto broadcast = linalg::GenericOp::create(
        rw, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
        maps, iterators, [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    Value tiled = tensor::CollapseShapeOp::create(
        rw, loc, broadcast.getResult(0), groups);
    return LoweredValues{tiled};
  }
};

//===----------------------------------------------------------------------===//
// Shape, Size, ConstantOfShape, Range, Trilu
//===----------------------------------------------------------------------===//

/// A 1-D (or 0-D when `scalar`) i64 tensor of `values`, constant when all
/// are.
Value buildI64Tensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> values,
                     bool scalar) {
  Type i64 = b.getI64Type();
  auto type =
      scalar
          ? RankedTensorType::get({}, i64)
          : RankedTensorType::get({static_cast<int64_t>(values.size())}, i64);
  SmallVector<int64_t> known;
  for (OpFoldResult value : values)
    if (std::optional<int64_t> constant = getConstantIntValue(value))
      known.push_back(*constant);
  if (known.size() == values.size())
    return arith::ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(type, ArrayRef<int64_t>(known)));
  SmallVector<Value> elements;
  for (OpFoldResult value : values)
    elements.push_back(b.createOrFold<arith::IndexCastOp>(
        loc, i64, getValueOrCreateConstantIndexOp(b, loc, value)));
  return tensor::FromElementsOp::create(b, loc, type, elements);
}

struct ShapeLowering : LinalgLoweringPattern<onnx::ShapeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ShapeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    int64_t rank = cast<RankedTensorType>(data.getType()).getRank();
    // Negative start/end count from the back; both clamp to [0, rank].
    auto normalize = [&](int64_t value) {
      return std::clamp<int64_t>(value < 0 ? value + rank : value, 0, rank);
    };
    int64_t first = normalize(static_cast<int64_t>(op.getStart()));
    int64_t last = rank;
    if (std::optional<uint64_t> end = op.getEnd())
      last = normalize(static_cast<int64_t>(*end));
    SmallVector<OpFoldResult> sizes = getDims(rw, loc, data);
    SmallVector<OpFoldResult> values(sizes.begin() + first,
                                     sizes.begin() + std::max(first, last));
    return LoweredValues{buildI64Tensor(rw, loc, values, false)};
  }
};

struct SizeLowering : LinalgLoweringPattern<onnx::SizeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::SizeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    IndexMath m(rw, loc);
    OpFoldResult count = m.product(getDims(rw, loc, data));
    return LoweredValues{buildI64Tensor(rw, loc, {count}, true)};
  }
};

struct ConstantOfShapeLowering
    : LinalgLoweringPattern<onnx::ConstantOfShapeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::ConstantOfShapeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Type elementType = resultType.getElementType();
    TypedAttr fillValue;
    if (std::optional<ElementsAttr> value = op.getValue()) {
      auto dense = dyn_cast_if_present<DenseElementsAttr>(
          getSignlessElementsAttr(*value));
      if (!dense)
        return reportUnsupported(rw, op, "value must be a dense constant");
      fillValue = cast<TypedAttr>(*dense.value_begin<Attribute>());
    } else {
      fillValue = rw.getZeroAttr(elementType);
    }
    FailureOr<SmallVector<OpFoldResult>> shape = readIndexVector(
        rw, loc, op, op.getInput(), adaptor.getInput(), "input");
    if (failed(shape))
      return failure();
    if (static_cast<int64_t>(shape->size()) != resultType.getRank())
      return reportUnsupported(rw, op,
                               "the shape length differs from the "
                               "result rank");
    Value init = createEmptyOfType(rw, loc, resultType, *shape);
    Value scalar = arith::ConstantOp::create(rw, loc, fillValue);
    Value filled =
        linalg::FillOp::create(rw, loc, ValueRange{scalar}, ValueRange{init})
            .getResult(0);
    return LoweredValues{filled};
  }
};

struct RangeLowering : LinalgLoweringPattern<onnx::RangeOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::RangeOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Type elementType = resultType.getElementType();
    for (Value operand : adaptor.getOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.getType());
      if (!type || !type.hasStaticShape() || type.getNumElements() != 1)
        return reportUnsupported(rw, op,
                                 "start, limit and delta must be scalars");
    }
    Value start = extractScalar(rw, loc, adaptor.getStart());
    Value limit = extractScalar(rw, loc, adaptor.getLimit());
    Value delta = extractScalar(rw, loc, adaptor.getDelta());
    IndexMath m(rw, loc);
    // max(ceil((limit - start) / delta), 0), as ONNX Runtime computes it
    // (the float difference is divided in double precision).
    Value lengthValue;
    if (isa<FloatType>(elementType)) {
      Type f64 = rw.getF64Type();
      Value difference = arith::SubFOp::create(rw, loc, limit, start);
      Value quotient = arith::DivFOp::create(
          rw, loc, convertScalar(rw, loc, difference, f64, false, false),
          convertScalar(rw, loc, delta, f64, false, false));
      Value ceiled = math::CeilOp::create(rw, loc, quotient);
      lengthValue =
          convertScalar(rw, loc, ceiled, rw.getI64Type(), false, false);
    } else {
      bool isUnsigned = isUnsignedElementType(op.getStart().getType());
      Type i64 = rw.getI64Type();
      auto widen = [&](Value v) {
        return convertScalar(rw, loc, v, i64, isUnsigned, false);
      };
      lengthValue = rw.createOrFold<arith::CeilDivSIOp>(
          loc, rw.createOrFold<arith::SubIOp>(loc, widen(limit), widen(start)),
          widen(delta));
    }
    OpFoldResult length = m.max(m.toIndex(lengthValue), m.constant(0));
    // out[i] = start + i * delta (ONNX Runtime accumulates instead; the two
    // agree exactly for integers and differ by rounding for floats).
    Value result = buildIndexedGeneric(
        rw, loc, resultType, {length}, {}, {},
        [&](OpBuilder &b, Location l, ValueRange indices, ValueRange) {
          Value i = convertScalar(
              b, l,
              arith::IndexCastOp::create(b, l, b.getI64Type(), indices[0]),
              elementType, false, false);
          if (isa<FloatType>(elementType))
            return arith::AddFOp::create(b, l, start,
                                         arith::MulFOp::create(b, l, i, delta))
                .getResult();
          return arith::AddIOp::create(b, l, start,
                                       arith::MulIOp::create(b, l, i, delta))
              .getResult();
        });
    return LoweredValues{result};
  }
};

struct TriluLowering : LinalgLoweringPattern<onnx::TriluOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::TriluOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value input = adaptor.getInput();
    IndexMath m(rw, loc);
    OpFoldResult k = m.constant(0);
    if (!isNoValue(op.getK())) {
      FailureOr<OpFoldResult> value =
          readIndexScalar(rw, loc, op, op.getK(), adaptor.getK(), "k");
      if (failed(value))
        return failure();
      k = *value;
    }
    Value diagonalOffset = m.value(k);
    int64_t rank = resultType.getRank();
    bool upper = op.getUpper() != 0;
    Type elementType = resultType.getElementType();
    // Upper keeps col - row >= k, lower keeps col - row <= k.
    Value result = buildIndexedGeneric(
        rw, loc, resultType, getDims(rw, loc, input), {input},
        {AffineMap::getMultiDimIdentityMap(rank, rw.getContext())},
        [&](OpBuilder &b, Location l, ValueRange indices, ValueRange args) {
          Value diagonal =
              arith::SubIOp::create(b, l, indices[rank - 1], indices[rank - 2]);
          Value keep = arith::CmpIOp::create(b, l,
                                             upper ? arith::CmpIPredicate::sge
                                                   : arith::CmpIPredicate::sle,
                                             diagonal, diagonalOffset);
          Value zero =
              arith::ConstantOp::create(b, l, b.getZeroAttr(elementType));
          return arith::SelectOp::create(b, l, keep, args[0], zero).getResult();
        });
    return LoweredValues{result};
  }
};

} // namespace

void populateDataMovementPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns) {
  patterns
      .add<ConcatLowering, ConstantOfShapeLowering, ExpandLowering,
           FlattenLowering, GatherElementsLowering, GatherLowering,
           RangeLowering, ReshapeLowering, ScatterNDLowering, ShapeLowering,
           SizeLowering, SliceLowering, SplitLowering, SqueezeLowering,
           TileLowering, TransposeLowering, TriluLowering, UnsqueezeLowering>(
          converter, patterns.getContext());
}

} // namespace qaf
