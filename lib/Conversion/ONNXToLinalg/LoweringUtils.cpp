//===- LoweringUtils.cpp - helpers shared by the onnx -> linalg patterns --===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXShapeHelpers.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;

namespace qaf {

//===----------------------------------------------------------------------===//
// Types and constants
//===----------------------------------------------------------------------===//

bool isUnsignedElementType(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  return type.isUnsignedInteger();
}

Type getComputeType(Type elementType) {
  if (auto floatType = dyn_cast<FloatType>(elementType))
    if (floatType.getWidth() < 32)
      return Float32Type::get(elementType.getContext());
  return elementType;
}

Type getSignlessElementType(Type elementType) {
  auto integer = dyn_cast<IntegerType>(elementType);
  if (!integer || integer.isSignless())
    return elementType;
  return IntegerType::get(elementType.getContext(), integer.getWidth());
}

ElementsAttr getSignlessElementsAttr(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  Type signless = getSignlessElementType(type.getElementType());
  if (signless == type.getElementType())
    return attr;
  ShapedType newType = type.clone(signless);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return cast<ElementsAttr>(dense.bitcast(signless));
  // Same bytes, new type: the blob handle is shared, never copied.
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    return cast<ElementsAttr>(
        DenseResourceElementsAttr::get(newType, resource.getRawHandle()));
  return {};
}

Value createScalarConstant(OpBuilder &builder, Location loc, Type type,
                           double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(builder, loc,
                                     builder.getFloatAttr(floatType, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(builder, loc,
                                          static_cast<int64_t>(value));
  return arith::ConstantOp::create(
      builder, loc,
      builder.getIntegerAttr(type, APInt(type.getIntOrFloatBitWidth(),
                                         static_cast<int64_t>(value),
                                         /*isSigned=*/true,
                                         /*implicitTrunc=*/true)));
}

ElementsAttr getConstantElements(Value value) {
  // Look through the conversion's casts (signedness changes, not values).
  while (auto cast = value.getDefiningOp<UnrealizedConversionCastOp>()) {
    if (cast.getNumOperands() != 1)
      return {};
    value = cast.getOperand(0);
  }
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    return dyn_cast<ElementsAttr>(constant.getValue());
  if (auto constant = value.getDefiningOp<onnx::ConstantOp>())
    return constant.getValue();
  return {};
}

std::optional<SmallVector<int64_t>> getConstantIntValues(Value value) {
  auto dense =
      dyn_cast_if_present<DenseIntElementsAttr>(getConstantElements(value));
  if (!dense)
    return std::nullopt;
  bool zeroExtend = dense.getElementType().isUnsignedInteger() ||
                    dense.getElementType().isInteger(1);
  SmallVector<int64_t> values;
  values.reserve(dense.getNumElements());
  for (const APInt &element : dense.getValues<APInt>())
    values.push_back(zeroExtend ? static_cast<int64_t>(element.getZExtValue())
                                : element.getSExtValue());
  return values;
}

bool isNoValue(Value value) { return isa<NoneType>(value.getType()); }

LogicalResult reportUnsupported(RewriterBase &rewriter, Operation *op,
                                const Twine &message) {
  op->emitError() << message;
  return rewriter.notifyMatchFailure(op, message);
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

FailureOr<int64_t> getCheckedAxis(RewriterBase &rewriter, Operation *op,
                                  int64_t axis, int64_t rank) {
  // The rule of shape inference and the verifiers.
  std::optional<int64_t> dim = onnx::normalizeAxis(axis, rank);
  if (!dim)
    return reportUnsupported(rewriter, op,
                             "axis " + Twine(axis) +
                                 " is out of range for rank " + Twine(rank));
  return *dim;
}

FailureOr<SmallVector<int64_t>> getCheckedAxes(RewriterBase &rewriter,
                                               Operation *op,
                                               ArrayRef<int64_t> axes,
                                               int64_t rank) {
  SmallVector<int64_t> dims;
  for (int64_t axis : axes) {
    FailureOr<int64_t> dim = getCheckedAxis(rewriter, op, axis, rank);
    if (failed(dim))
      return failure();
    if (llvm::is_contained(dims, *dim))
      return reportUnsupported(rewriter, op,
                               "axes name dimension " + Twine(*dim) + " twice");
    dims.push_back(*dim);
  }
  llvm::sort(dims);
  return dims;
}

//===----------------------------------------------------------------------===//
// Shapes and broadcasting
//===----------------------------------------------------------------------===//

SmallVector<OpFoldResult> getDims(OpBuilder &builder, Location loc,
                                  Value tensor) {
  return tensor::getMixedSizes(builder, loc, tensor);
}

Value createEmptyTensor(OpBuilder &builder, Location loc,
                        ArrayRef<OpFoldResult> dims, Type elementType) {
  return tensor::EmptyOp::create(builder, loc, dims, elementType);
}

/// The ONNX node name the importer gave `loc` (a NameLoc, possibly inside
/// fused or call-site locations), or "".
static std::string nodeNameOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (std::string name = nodeNameOf(inner); !name.empty())
        return name;
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return nodeNameOf(callSite.getCallee());
  return "";
}

void emitRuntimeCheck(OpBuilder &builder, Location loc, Value condition,
                      const Twine &message, ValueRange values) {
  if (matchPattern(condition, m_One()))
    return;
  std::string node = nodeNameOf(loc);
  std::string text =
      node.empty() ? message.str() : ("node '" + node + "': " + message).str();
  CheckOp::create(builder, loc, condition, values, text);
}

FailureOr<SmallVector<OpFoldResult>>
computeBroadcastSizes(OpBuilder &builder, Location loc,
                      ArrayRef<SmallVector<OpFoldResult>> shapes,
                      StringRef opName) {
  int64_t rank = 0;
  for (const SmallVector<OpFoldResult> &shape : shapes)
    rank = std::max(rank, static_cast<int64_t>(shape.size()));
  Value one;
  auto getOne = [&] {
    if (!one)
      one = arith::ConstantIndexOp::create(builder, loc, 1);
    return one;
  };
  auto isEqual = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq, x, y);
  };

  SmallVector<OpFoldResult> result;
  result.reserve(rank);
  for (int64_t dim = 0; dim < rank; ++dim) {
    // The static size other than 1, if any, and the dynamic sizes.
    std::optional<int64_t> staticSize;
    SmallVector<Value> dynamicSizes;
    for (const SmallVector<OpFoldResult> &shape : shapes) {
      int64_t operandDim = dim - (rank - static_cast<int64_t>(shape.size()));
      if (operandDim < 0)
        continue;
      OpFoldResult size = shape[operandDim];
      if (std::optional<int64_t> known = getConstantIntValue(size)) {
        if (*known == 1)
          continue;
        if (staticSize && *staticSize != *known)
          return failure();
        staticSize = *known;
        continue;
      }
      dynamicSizes.push_back(cast<Value>(size));
    }
    // A static size decides the result; each dynamic size is it or 1.
    if (staticSize) {
      Value expected;
      if (!dynamicSizes.empty())
        expected = arith::ConstantIndexOp::create(builder, loc, *staticSize);
      for (Value size : dynamicSizes) {
        Value broadcasts = arith::OrIOp::create(
            builder, loc, isEqual(size, expected), isEqual(size, getOne()));
        emitRuntimeCheck(builder, loc, broadcasts,
                         opName + ": dimension " + Twine(dim) +
                             " of size {0} does not broadcast with the "
                             "static size {1} of another operand",
                         {size, expected});
      }
      result.push_back(builder.getIndexAttr(*staticSize));
      continue;
    }
    if (dynamicSizes.empty()) {
      result.push_back(builder.getIndexAttr(1));
      continue;
    }
    // Only dynamic sizes: the running result takes each size in turn when
    // it is 1, and any size other than 1 must equal it.
    Value size = dynamicSizes.front();
    for (Value next : llvm::drop_begin(dynamicSizes)) {
      Value sizeIsOne = isEqual(size, getOne());
      Value broadcasts = arith::OrIOp::create(
          builder, loc,
          arith::OrIOp::create(builder, loc, isEqual(next, size), sizeIsOne),
          isEqual(next, getOne()));
      emitRuntimeCheck(builder, loc, broadcasts,
                       opName + ": sizes {0} and {1} of dimension " +
                           Twine(dim) + " do not broadcast",
                       {size, next});
      size = arith::SelectOp::create(builder, loc, sizeIsOne, next, size);
    }
    result.push_back(size);
  }
  return result;
}

Value broadcastDynamicDims(OpBuilder &builder, Location loc, Value operand,
                           ArrayRef<OpFoldResult> sizes,
                           ArrayRef<OpFoldResult> resultDims) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t rank = type.getRank();
  int64_t leading = static_cast<int64_t>(resultDims.size()) - rank;
  SmallVector<OpFoldResult> offsets(rank, builder.getIndexAttr(0));
  SmallVector<OpFoldResult> viewSizes(sizes);
  SmallVector<OpFoldResult> strides(rank, builder.getIndexAttr(1));
  bool stretched = false;
  for (int64_t dim = 0; dim < rank; ++dim) {
    OpFoldResult resultSize = resultDims[leading + dim];
    // A size that is the result's own (the only dynamic size of its dim)
    // reads straight through.
    if (!type.isDynamicDim(dim) || sizes[dim] == resultSize)
      continue;
    Value size = getValueOrCreateConstantIndexOp(builder, loc, sizes[dim]);
    Value result = getValueOrCreateConstantIndexOp(builder, loc, resultSize);
    // Equal sizes step through the operand; otherwise it is a 1 (the
    // broadcast's check) whose element repeats. Once canonicalization finds
    // the sizes equal, the stride folds to 1 and the slice to the operand.
    Value same = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                       size, result);
    strides[dim] =
        arith::SelectOp::create(builder, loc, same,
                                arith::ConstantIndexOp::create(builder, loc, 1),
                                arith::ConstantIndexOp::create(builder, loc, 0))
            .getResult();
    viewSizes[dim] = resultSize;
    stretched = true;
  }
  if (!stretched)
    return operand;
  return tensor::ExtractSliceOp::create(builder, loc, operand, offsets,
                                        viewSizes, strides);
}

FailureOr<BroadcastOperands> broadcastOperands(OpBuilder &builder, Location loc,
                                               ValueRange operands,
                                               StringRef opName) {
  SmallVector<SmallVector<OpFoldResult>> shapes;
  for (Value operand : operands)
    shapes.push_back(getDims(builder, loc, operand));
  FailureOr<SmallVector<OpFoldResult>> dims =
      computeBroadcastSizes(builder, loc, shapes, opName);
  if (failed(dims))
    return failure();
  BroadcastOperands result;
  result.dims = std::move(*dims);
  for (auto [operand, shape] : llvm::zip_equal(operands, shapes))
    result.operands.push_back(
        broadcastDynamicDims(builder, loc, operand, shape, result.dims));
  return result;
}

AffineMap getBroadcastIndexingMap(ShapedType operandType, int64_t resultRank,
                                  MLIRContext *context) {
  int64_t rank = operandType.getRank();
  int64_t leading = resultRank - rank;
  SmallVector<int64_t> broadcastDims =
      onnx::getBroadcastDims(operandType.getShape(), resultRank);
  SmallVector<AffineExpr> exprs;
  exprs.reserve(rank);
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (llvm::is_contained(broadcastDims, leading + dim))
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(leading + dim, context));
  }
  return AffineMap::get(resultRank, /*symbolCount=*/0, exprs, context);
}

Value castToTensorType(OpBuilder &builder, Location loc, Value value,
                       Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(builder, loc, type, value);
}

//===----------------------------------------------------------------------===//
// linalg builders
//===----------------------------------------------------------------------===//

Value buildElementwise(OpBuilder &builder, Location loc, ValueRange operands,
                       ArrayRef<OpFoldResult> resultDims,
                       Type resultElementType, ScalarBodyBuilder body) {
  MLIRContext *context = builder.getContext();
  int64_t rank = resultDims.size();
  SmallVector<AffineMap> maps;
  for (Value operand : operands)
    maps.push_back(getBroadcastIndexingMap(cast<ShapedType>(operand.getType()),
                                           rank, context));
  return buildMappedElementwise(builder, loc, operands, maps, resultDims,
                                resultElementType, body);
}

Value buildMappedElementwise(OpBuilder &builder, Location loc,
                             ValueRange operands,
                             ArrayRef<AffineMap> operandMaps,
                             ArrayRef<OpFoldResult> resultDims,
                             Type resultElementType, ScalarBodyBuilder body) {
  MLIRContext *context = builder.getContext();
  int64_t rank = resultDims.size();
  Value init = createEmptyTensor(builder, loc, resultDims, resultElementType);
  SmallVector<AffineMap> maps(operandMaps);
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      builder, loc, TypeRange{init.getType()}, operands, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

AffineMap getReducedIndexingMap(int64_t rank, ArrayRef<int64_t> reductionDims,
                                MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  for (int64_t dim = 0; dim < rank; ++dim)
    if (!llvm::is_contained(reductionDims, dim))
      exprs.push_back(getAffineDimExpr(dim, context));
  return AffineMap::get(rank, /*symbolCount=*/0, exprs, context);
}

Value buildReduction(OpBuilder &builder, Location loc, ValueRange inputs,
                     ArrayRef<int64_t> reductionDims, Value init, bool keepDims,
                     ScalarBodyBuilder combine, ArrayRef<AffineMap> inputMaps) {
  MLIRContext *context = builder.getContext();
  Value source = inputs.front();
  int64_t rank = cast<ShapedType>(source.getType()).getRank();

  llvm::SmallBitVector reduced(rank);
  for (int64_t dim : reductionDims)
    reduced.set(dim);
  SmallVector<OpFoldResult> resultDims;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t dim = 0; dim < rank; ++dim) {
    if (reduced.test(dim)) {
      iterators.push_back(utils::IteratorType::reduction);
      continue;
    }
    iterators.push_back(utils::IteratorType::parallel);
    resultDims.push_back(tensor::getMixedSize(builder, loc, source, dim));
  }
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap projected = getReducedIndexingMap(rank, reductionDims, context);

  SmallVector<AffineMap> maps(inputMaps);
  if (inputMaps.empty()) {
    for (Value input : inputs) {
      int64_t inputRank = cast<ShapedType>(input.getType()).getRank();
      maps.push_back(inputRank == rank ? identity : projected);
    }
  }
  maps.push_back(projected);

  Value empty = createEmptyTensor(builder, loc, resultDims, init.getType());
  Value filled =
      linalg::FillOp::create(builder, loc, ValueRange{init}, ValueRange{empty})
          .getResult(0);
  auto generic = linalg::GenericOp::create(
      builder, loc, TypeRange{filled.getType()}, inputs, ValueRange{filled},
      maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = combine(nested, nestedLoc, args);
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  Value result = generic.getResult(0);
  if (!keepDims)
    return result;
  return expandReducedDims(builder, loc, result, reductionDims, rank);
}

Value expandReducedDims(OpBuilder &builder, Location loc, Value reduced,
                        ArrayRef<int64_t> reductionDims, int64_t fullRank) {
  if (reductionDims.empty())
    return reduced;
  auto reducedType = cast<RankedTensorType>(reduced.getType());
  SmallVector<OpFoldResult> reducedDims = getDims(builder, loc, reduced);
  llvm::SmallBitVector isReduced(fullRank);
  for (int64_t dim : reductionDims)
    isReduced.set(dim);

  // Each kept dim forms a group with the size-1 dims that follow it; the
  // size-1 dims before the first kept dim join the first group.
  SmallVector<ReassociationIndices> reassociation;
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> outputShape;
  ReassociationIndices leading;
  int64_t kept = 0;
  for (int64_t dim = 0; dim < fullRank; ++dim) {
    if (isReduced.test(dim)) {
      shape.push_back(1);
      outputShape.push_back(builder.getIndexAttr(1));
      if (reassociation.empty())
        leading.push_back(dim);
      else
        reassociation.back().push_back(dim);
      continue;
    }
    shape.push_back(reducedType.getDimSize(kept));
    outputShape.push_back(reducedDims[kept]);
    ++kept;
    ReassociationIndices group = leading;
    leading.clear();
    group.push_back(dim);
    reassociation.push_back(group);
  }
  // A 0-d result expands with no groups at all.
  auto expandedType =
      RankedTensorType::get(shape, reducedType.getElementType());
  return tensor::ExpandShapeOp::create(builder, loc, expandedType, reduced,
                                       reassociation, outputShape);
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

/// float -> integer with the value always defined: fptosi/fptoui are poison
/// for NaN and out-of-range inputs, so those are selected explicitly (NaN is
/// 0, too large or too small saturates to the integer bounds).
static Value convertFloatToInt(OpBuilder &builder, Location loc, Value value,
                               IntegerType to, bool toUnsigned) {
  auto from = cast<FloatType>(value.getType());
  unsigned width = to.getWidth();
  Value converted =
      toUnsigned ? arith::FPToUIOp::create(builder, loc, to, value).getResult()
                 : arith::FPToSIOp::create(builder, loc, to, value).getResult();

  // Bounds as floats of the source type: [lower, upper) are the values whose
  // truncation fits. Powers of two are exact, or overflow to infinity (then
  // no value of the source type is too large).
  auto powerOfTwo = [&](unsigned exponent, bool negative) {
    APFloat result(from.getFloatSemantics(), 1);
    result = scalbn(result, exponent, APFloat::rmNearestTiesToEven);
    if (negative)
      result.changeSign();
    return result;
  };
  APFloat upperBound = powerOfTwo(toUnsigned ? width : width - 1, false);
  Value upper = arith::ConstantOp::create(
      builder, loc, builder.getFloatAttr(from, upperBound));
  APInt maxInt =
      toUnsigned ? APInt::getMaxValue(width) : APInt::getSignedMaxValue(width);
  APInt minInt =
      toUnsigned ? APInt::getMinValue(width) : APInt::getSignedMinValue(width);
  Value maxValue = arith::ConstantOp::create(
      builder, loc, builder.getIntegerAttr(to, maxInt));
  Value minValue = arith::ConstantOp::create(
      builder, loc, builder.getIntegerAttr(to, minInt));
  Value zero =
      arith::ConstantOp::create(builder, loc, builder.getIntegerAttr(to, 0));
  // Unsigned: anything <= -1 is out of range; signed: below -2^(w-1).
  Value lower = arith::ConstantOp::create(
      builder, loc,
      builder.getFloatAttr(
          from, toUnsigned ? powerOfTwo(0, /*negative=*/true)
                           : powerOfTwo(width - 1, /*negative=*/true)));

  Value tooLarge = arith::CmpFOp::create(
      builder, loc, arith::CmpFPredicate::OGE, value, upper);
  Value tooSmall = arith::CmpFOp::create(builder, loc,
                                         toUnsigned ? arith::CmpFPredicate::OLE
                                                    : arith::CmpFPredicate::OLT,
                                         value, lower);
  Value isNaN = arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNO,
                                      value, value);
  Value result =
      arith::SelectOp::create(builder, loc, tooLarge, maxValue, converted);
  result = arith::SelectOp::create(builder, loc, tooSmall, minValue, result);
  return arith::SelectOp::create(builder, loc, isNaN, zero, result);
}

Value convertScalar(OpBuilder &builder, Location loc, Value value, Type to,
                    bool fromUnsigned, bool toUnsigned) {
  Type from = value.getType();
  if (from == to)
    return value;

  // To bool: nonzero is true (NaN too, as NumPy and ONNX Runtime do).
  if (to.isInteger(1)) {
    if (auto floatType = dyn_cast<FloatType>(from)) {
      Value zero = arith::ConstantOp::create(
          builder, loc, builder.getFloatAttr(floatType, 0));
      return arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::UNE,
                                   value, zero);
    }
    Value zero = arith::ConstantOp::create(builder, loc,
                                           builder.getIntegerAttr(from, 0));
    return arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ne, value,
                                 zero);
  }
  // From bool: 0 or 1, never -1.
  if (from.isInteger(1))
    fromUnsigned = true;

  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat) {
    unsigned fromWidth = fromFloat.getWidth(), toWidth = toFloat.getWidth();
    if (fromWidth < toWidth)
      return arith::ExtFOp::create(builder, loc, to, value);
    if (fromWidth > toWidth)
      return arith::TruncFOp::create(builder, loc, to, value);
    // Same width, different formats (f16 <-> bf16): through f32, exactly.
    Value wide =
        arith::ExtFOp::create(builder, loc, builder.getF32Type(), value);
    return arith::TruncFOp::create(builder, loc, to, wide);
  }
  if (fromFloat) {
    auto toInteger = cast<IntegerType>(to);
    if (toInteger.getWidth() >= 8)
      return convertFloatToInt(builder, loc, value, toInteger, toUnsigned);
    // 4- and 2-bit targets wrap like the ONNX reference (truncate toward
    // zero, then keep the low bits) instead of saturating.
    Value wide = convertFloatToInt(builder, loc, value, builder.getI32Type(),
                                   /*toUnsigned=*/false);
    return arith::TruncIOp::create(builder, loc, to, wide);
  }
  if (toFloat) {
    if (fromUnsigned)
      return arith::UIToFPOp::create(builder, loc, to, value);
    return arith::SIToFPOp::create(builder, loc, to, value);
  }
  // Integer to integer (index included, for shape values).
  if (from.isIndex() || to.isIndex())
    return arith::IndexCastOp::create(builder, loc, to, value);
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(builder, loc, to, value);
  if (fromWidth < toWidth) {
    if (fromUnsigned)
      return arith::ExtUIOp::create(builder, loc, to, value);
    return arith::ExtSIOp::create(builder, loc, to, value);
  }
  return value;
}

Value extractScalar(OpBuilder &builder, Location loc, Value tensor) {
  int64_t rank = cast<ShapedType>(tensor.getType()).getRank();
  SmallVector<Value> indices;
  if (rank > 0)
    indices.assign(rank, arith::ConstantIndexOp::create(builder, loc, 0));
  return tensor::ExtractOp::create(builder, loc, tensor, indices);
}

} // namespace qaf
