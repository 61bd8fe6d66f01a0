//===- Normalization.cpp - reductions, softmax, cumsum, norms -> linalg ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Reductions are linalg.generic ops with reduction iterators over a filled
// accumulator; statistics that a later loop reads back (a row max, a mean,
// an inverse standard deviation) stay reduced tensors read through projected
// indexing maps, so nothing of the input's size is materialised beyond the
// result. f16/bf16 inputs accumulate in f32.
//
//===----------------------------------------------------------------------===//

#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXShapeHelpers.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;

namespace qaf {
namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The type statistics are computed in for `stashType` (an ONNX data type
/// code): double when asked for, f32 otherwise (f16/bf16 stashes are
/// rounded only when stored).
Type getStatisticsType(MLIRContext *context, int64_t stashType) {
  if (stashType == static_cast<int64_t>(onnx::DataType::Double))
    return Float64Type::get(context);
  return Float32Type::get(context);
}

/// The product of `dims`, at least 1, as a scalar of `type` (float or
/// integer): the divisor of a mean, which over no element at all is 0, as
/// ONNX Runtime's ReduceMean gives, instead of 0/0 (a trap for integers).
Value createElementCount(OpBuilder &b, Location loc,
                         ArrayRef<OpFoldResult> dims, Type type) {
  int64_t staticCount = 1;
  Value dynamicCount;
  for (OpFoldResult dim : dims) {
    if (std::optional<int64_t> size = getConstantIntValue(dim)) {
      staticCount *= *size;
      continue;
    }
    Value size = cast<Value>(dim);
    dynamicCount =
        dynamicCount
            ? arith::MulIOp::create(b, loc, dynamicCount, size).getResult()
            : size;
  }
  if (!dynamicCount)
    return createScalarConstant(
        b, loc, type, static_cast<double>(std::max<int64_t>(staticCount, 1)));
  if (staticCount != 1)
    dynamicCount = arith::MulIOp::create(
        b, loc, dynamicCount,
        arith::ConstantIndexOp::create(b, loc, staticCount));
  dynamicCount = arith::MaxUIOp::create(
      b, loc, dynamicCount, arith::ConstantIndexOp::create(b, loc, 1));
  Value count64 =
      arith::IndexCastUIOp::create(b, loc, b.getI64Type(), dynamicCount);
  return convertScalar(b, loc, count64, type, /*fromUnsigned=*/true, false);
}

/// The reduced dims [first, rank).
SmallVector<int64_t> getTrailingDims(int64_t first, int64_t rank) {
  return llvm::to_vector(llvm::seq<int64_t>(first, rank));
}

/// The dims of `dims` that survive reducing `reductionDims`.
SmallVector<OpFoldResult> dropDims(ArrayRef<OpFoldResult> dims,
                                   ArrayRef<int64_t> reductionDims) {
  SmallVector<OpFoldResult> kept;
  for (auto [index, dim] : llvm::enumerate(dims))
    if (!llvm::is_contained(reductionDims, static_cast<int64_t>(index)))
      kept.push_back(dim);
  return kept;
}

/// An element-wise map over a reduced tensor (one per row: cheap).
Value mapReduced(OpBuilder &b, Location loc, ValueRange operands,
                 Type resultElementType, ScalarBodyBuilder body) {
  return buildElementwise(b, loc, operands, getDims(b, loc, operands[0]),
                          resultElementType, body);
}

/// A statistic (reduced, without the reduced dims) returned as an op result
/// of `resultType`: the reduced dims come back as size 1 and the element
/// type is converted when it differs.
Value materializeStatistic(OpBuilder &b, Location loc, Value reduced,
                           ArrayRef<int64_t> reductionDims, int64_t fullRank,
                           Type resultType) {
  auto tensorType = cast<TensorType>(resultType);
  Type elementType = tensorType.getElementType();
  if (cast<ShapedType>(reduced.getType()).getElementType() != elementType)
    reduced = mapReduced(b, loc, reduced, elementType,
                         [&](OpBuilder &nb, Location nl, ValueRange args) {
                           return convertScalar(nb, nl, args[0], elementType,
                                                false, false);
                         });
  if (tensorType.hasRank() && tensorType.getRank() == fullRank)
    reduced = expandReducedDims(b, loc, reduced, reductionDims, fullRank);
  return castToTensorType(b, loc, reduced, resultType);
}

/// 1 / sqrt(sum / count + epsilon), all in the type of `sum`.
Value buildInverseStdDev(OpBuilder &b, Location loc, Value sum, Value count,
                         Value epsilon) {
  Value one = createScalarConstant(b, loc, sum.getType(), 1.0);
  Value variance = arith::DivFOp::create(b, loc, sum, count);
  Value shifted = arith::AddFOp::create(b, loc, variance, epsilon);
  return arith::DivFOp::create(b, loc, one,
                               math::SqrtOp::create(b, loc, shifted));
}

//===----------------------------------------------------------------------===//
// Reduce{Sum,Mean,Max,Min}
//===----------------------------------------------------------------------===//

enum class ReduceKind { Sum, Mean, Max, Min };

template <typename OpTy, ReduceKind Kind>
struct ReduceLowering : LinalgLoweringPattern<OpTy, ResultRank::Any> {
  using LinalgLoweringPattern<OpTy, ResultRank::Any>::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(OpTy op, typename OpTy::Adaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    TensorType resultType = resultTypes[0];
    int64_t rank = cast<RankedTensorType>(data.getType()).getRank();

    SmallVector<int64_t> axes;
    if (!isNoValue(op.getAxes())) {
      std::optional<SmallVector<int64_t>> values =
          getConstantIntValues(op.getAxes());
      if (!values)
        return lowerRuntimeAxes(op, adaptor, rewriter, resultType);
      axes = std::move(*values);
    }
    if (axes.empty()) {
      // No axes: everything, unless the op is then a no-op.
      if (op.getNoopWithEmptyAxes() != 0)
        return LoweredValues{data};
      axes = getTrailingDims(0, rank);
    }
    // The same normalisation as shape inference's.
    FailureOr<SmallVector<int64_t>> reductionDims =
        onnx::normalizeAxes(axes, rank, [&] { return op->emitError(); });
    if (failed(reductionDims))
      return failure();

    return LoweredValues{buildReduce(rewriter, loc, op, data, *reductionDims)};
  }

  /// Axes given at run time: their count is static (the axes tensor's
  /// length), so the set of reduced dimensions is one of the subsets of
  /// that size. A bit mask of the axes picks one case per subset.
  FailureOr<LoweredValues> lowerRuntimeAxes(OpTy op,
                                            typename OpTy::Adaptor adaptor,
                                            ConversionPatternRewriter &rewriter,
                                            TensorType resultType) const {
    Location loc = op.getLoc();
    Value data = adaptor.getData();
    int64_t rank = cast<RankedTensorType>(data.getType()).getRank();
    auto axesType = cast<RankedTensorType>(adaptor.getAxes().getType());
    if (axesType.getRank() != 1 || axesType.isDynamicDim(0) || rank > 8)
      return reportUnsupported(rewriter, op,
                               "run-time axes need a 1-D axes tensor of "
                               "static length and a rank of at most 8");
    int64_t count = axesType.getDimSize(0);
    if (count == 0) {
      // Empty axes, known statically: a no-op, or every dimension.
      Value result =
          op.getNoopWithEmptyAxes() != 0
              ? data
              : buildReduce(rewriter, loc, op, data,
                            llvm::to_vector(llvm::seq<int64_t>(0, rank)));
      return LoweredValues{result};
    }
    Value mask = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value rankValue = arith::ConstantIndexOp::create(rewriter, loc, rank);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value valid = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
    for (int64_t i = 0; i < count; ++i) {
      Value position = arith::ConstantIndexOp::create(rewriter, loc, i);
      Value axis = arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(),
          tensor::ExtractOp::create(rewriter, loc, adaptor.getAxes(),
                                    ValueRange{position}));
      Value negative = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::slt, axis, zero);
      axis = arith::SelectOp::create(
          rewriter, loc, negative,
          arith::AddIOp::create(rewriter, loc, axis, rankValue), axis);
      Value inRange = arith::AndIOp::create(
          rewriter, loc,
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sge, axis,
                                zero),
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, axis,
                                rankValue));
      Value bit = arith::ShLIOp::create(rewriter, loc, one, axis);
      // A repeated axis would leave the mask with fewer bits than axes.
      Value repeated = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ne,
          arith::AndIOp::create(rewriter, loc, mask, bit), zero);
      valid = arith::AndIOp::create(
          rewriter, loc, valid,
          arith::AndIOp::create(
              rewriter, loc, inRange,
              arith::XOrIOp::create(
                  rewriter, loc, repeated,
                  arith::ConstantIntOp::create(rewriter, loc, 1, 1))));
      mask = arith::OrIOp::create(rewriter, loc, mask, bit);
    }
    auto axesOf = [&](int64_t bits) {
      SmallVector<int64_t> dims;
      for (int64_t d = 0; d < rank; ++d)
        if (bits & (int64_t(1) << d))
          dims.push_back(d);
      return dims;
    };
    // The subsets of `count` dimensions whose result fits the result type
    // (a model that declares its output shape rules most of them out).
    ArrayRef<int64_t> dataShape =
        cast<RankedTensorType>(data.getType()).getShape();
    bool keepDims = op.getKeepdims() != 0;
    auto fitsResultType = [&](int64_t bits) {
      if (!resultType.hasRank())
        return true;
      SmallVector<int64_t> shape;
      for (int64_t d = 0; d < rank; ++d) {
        bool isReduced = bits & (int64_t(1) << d);
        if (!isReduced)
          shape.push_back(dataShape[d]);
        else if (keepDims)
          shape.push_back(1);
      }
      return succeeded(verifyCompatibleShape(shape, resultType.getShape()));
    };
    SmallVector<int64_t> masks;
    for (int64_t candidate = 0; candidate < (int64_t(1) << rank); ++candidate)
      if (llvm::popcount(static_cast<uint64_t>(candidate)) == count &&
          fitsResultType(candidate))
        masks.push_back(candidate);
    if (masks.empty())
      return reportUnsupported(rewriter, op,
                               "no choice of axes gives the result type");
    Value known = arith::ConstantIntOp::create(rewriter, loc, 0, 1);
    for (int64_t bits : masks)
      known = arith::OrIOp::create(
          rewriter, loc, known,
          arith::CmpIOp::create(
              rewriter, loc, arith::CmpIPredicate::eq, mask,
              arith::ConstantIndexOp::create(rewriter, loc, bits)));
    valid = arith::AndIOp::create(rewriter, loc, valid, known);
    emitRuntimeCheck(rewriter, loc, valid,
                     op->getName().getStringRef() +
                         ": axes are out of range, repeated, or do not give "
                         "the declared result shape");
    if (masks.size() == 1)
      return LoweredValues{
          buildReduce(rewriter, loc, op, data, axesOf(masks.front()))};
    SmallVector<int64_t> cases(masks.begin() + 1, masks.end());
    auto switchOp = scf::IndexSwitchOp::create(
        rewriter, loc, TypeRange{resultType}, mask, cases, cases.size());
    auto fillCase = [&](Region &region, int64_t bits) {
      rewriter.createBlock(&region);
      Value result = castToTensorType(
          rewriter, loc, buildReduce(rewriter, loc, op, data, axesOf(bits)),
          resultType);
      scf::YieldOp::create(rewriter, loc, result);
    };
    fillCase(switchOp.getDefaultRegion(), masks.front());
    for (auto [region, bits] : llvm::zip(switchOp.getCaseRegions(), cases))
      fillCase(region, bits);
    rewriter.setInsertionPointAfter(switchOp);
    return LoweredValues(switchOp.getResults());
  }

  /// The reduction over `axes` (normalised, sorted, unique), in the op's
  /// keepdims form and element type.
  static Value buildReduce(OpBuilder &rewriter, Location loc, OpTy op,
                           Value data, ArrayRef<int64_t> axes) {
    auto dataType = cast<RankedTensorType>(data.getType());
    int64_t rank = dataType.getRank();
    Type elementType = dataType.getElementType();
    // Bools (ReduceMax/Min) order as 0 < 1: unsigned, as for ui8.
    bool isUnsigned = isUnsignedElementType(op.getData().getType()) ||
                      elementType.isInteger(1);
    Type accType = getComputeType(elementType);
    bool isFloatAcc = isa<FloatType>(accType);
    Value init = createInit(rewriter, loc, accType, isUnsigned);
    Value reduced = buildReduction(
        rewriter, loc, data, axes, init, /*keepDims=*/false,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value x =
              convertScalar(b, nl, args[0], accType, isUnsigned, isUnsigned);
          Value acc = args[1];
          switch (Kind) {
          case ReduceKind::Sum:
          case ReduceKind::Mean:
            return isFloatAcc
                       ? arith::AddFOp::create(b, nl, acc, x).getResult()
                       : arith::AddIOp::create(b, nl, acc, x).getResult();
          case ReduceKind::Max:
            if (isFloatAcc)
              return arith::MaximumFOp::create(b, nl, acc, x);
            return isUnsigned
                       ? arith::MaxUIOp::create(b, nl, acc, x).getResult()
                       : arith::MaxSIOp::create(b, nl, acc, x).getResult();
          case ReduceKind::Min:
            if (isFloatAcc)
              return arith::MinimumFOp::create(b, nl, acc, x);
            return isUnsigned
                       ? arith::MinUIOp::create(b, nl, acc, x).getResult()
                       : arith::MinSIOp::create(b, nl, acc, x).getResult();
          }
          llvm_unreachable("unknown reduction");
        });

    Value count;
    if (Kind == ReduceKind::Mean) {
      SmallVector<OpFoldResult> dims = getDims(rewriter, loc, data);
      SmallVector<OpFoldResult> reducedDims;
      for (int64_t axis : axes)
        reducedDims.push_back(dims[axis]);
      count = createElementCount(rewriter, loc, reducedDims, accType);
    }
    if (count || accType != elementType)
      reduced = mapReduced(
          rewriter, loc, reduced, elementType,
          [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
            Value value = args[0];
            if (count)
              value =
                  isFloatAcc
                      ? arith::DivFOp::create(b, nl, value, count).getResult()
                      : (isUnsigned
                             ? arith::DivUIOp::create(b, nl, value, count)
                                   .getResult()
                             : arith::DivSIOp::create(b, nl, value, count)
                                   .getResult());
            return convertScalar(b, nl, value, elementType, false, false);
          });
    if (op.getKeepdims() != 0)
      reduced = expandReducedDims(rewriter, loc, reduced, axes, rank);
    return reduced;
  }

private:
  /// The identity of the reduction. An empty ReduceMax is -inf (the lowest
  /// integer), an empty ReduceMin +inf, as the ONNX reference gives.
  static Value createInit(OpBuilder &b, Location loc, Type accType,
                          bool isUnsigned) {
    if (Kind == ReduceKind::Sum || Kind == ReduceKind::Mean)
      return createScalarConstant(b, loc, accType, 0);
    bool isMax = Kind == ReduceKind::Max;
    if (auto floatType = dyn_cast<FloatType>(accType))
      return arith::ConstantOp::create(
          b, loc,
          b.getFloatAttr(floatType, APFloat::getInf(
                                        floatType.getFloatSemantics(), isMax)));
    unsigned width = accType.getIntOrFloatBitWidth();
    APInt value = isMax ? (isUnsigned ? APInt::getMinValue(width)
                                      : APInt::getSignedMinValue(width))
                        : (isUnsigned ? APInt::getMaxValue(width)
                                      : APInt::getSignedMaxValue(width));
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(accType, value));
  }
};

//===----------------------------------------------------------------------===//
// Softmax, LogSoftmax
//===----------------------------------------------------------------------===//

/// Three loops: the row max, the sum of exp(x - max), and the normalisation
/// (which recomputes exp(x - max) rather than storing it).
template <typename OpTy, bool IsLog>
struct SoftmaxLowering : LinalgLoweringPattern<OpTy, ResultRank::Any> {
  using LinalgLoweringPattern<OpTy, ResultRank::Any>::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(OpTy op, typename OpTy::Adaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    if (inputType.getRank() == 0 || !isa<FloatType>(inputType.getElementType()))
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects a float tensor of rank "
                               ">= 1");
    int64_t rank = inputType.getRank();
    FailureOr<int64_t> checkedAxis =
        getCheckedAxis(rewriter, op, static_cast<int64_t>(op.getAxis()), rank);
    if (failed(checkedAxis))
      return failure();
    int64_t axis = *checkedAxis;
    SmallVector<int64_t> reductionDims = {axis};

    Type elementType = inputType.getElementType();
    Type accType = getComputeType(elementType);
    auto widen = [&](OpBuilder &b, Location nl, Value x) {
      return convertScalar(b, nl, x, accType, false, false);
    };

    SoftmaxStatistics statistics =
        buildSoftmaxStatistics(rewriter, loc, input, axis);
    Value max = statistics.max, sum = statistics.sumExp;

    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
    AffineMap reducedMap = getReducedIndexingMap(rank, reductionDims, context);
    Value result = buildMappedElementwise(
        rewriter, loc, ValueRange{input, max, sum},
        {identity, reducedMap, reducedMap}, getDims(rewriter, loc, input),
        elementType, [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value shifted =
              arith::SubFOp::create(b, nl, widen(b, nl, args[0]), args[1]);
          Value value;
          if (IsLog)
            value = arith::SubFOp::create(b, nl, shifted,
                                          math::LogOp::create(b, nl, args[2]));
          else
            value = arith::DivFOp::create(
                b, nl, math::ExpOp::create(b, nl, shifted), args[2]);
          return convertScalar(b, nl, value, elementType, false, false);
        });
    return LoweredValues{result};
  }
};

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

/// A sequential loop over the axis carrying the running sum of one slice:
/// each step adds the next input slice into the running sum and writes it
/// (before or after the add, for `exclusive`) into the output slice. Both
/// updates are in place (outs = the carried tensors), so the loop allocates
/// nothing.
struct CumSumLowering : LinalgLoweringPattern<onnx::CumSumOp, ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(onnx::CumSumOp op, OpAdaptor adaptor, ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getX();
    auto inputType = cast<RankedTensorType>(input.getType());
    TensorType resultType = resultTypes[0];
    if (inputType.getRank() == 0)
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects a tensor of rank >= 1");
    int64_t rank = inputType.getRank();
    std::optional<SmallVector<int64_t>> axisValues =
        getConstantIntValues(op.getAxis());
    if (axisValues) {
      if (axisValues->size() != 1)
        return reportUnsupported(rewriter, op, "axis must be a scalar");
      FailureOr<int64_t> axis =
          getCheckedAxis(rewriter, op, axisValues->front(), rank);
      if (failed(axis))
        return failure();
      return LoweredValues{buildCumSum(rewriter, loc, op, input, *axis)};
    }
    // A run-time axis: the result's shape does not depend on it, so one
    // case per axis, chosen at run time, gives the same result type.
    auto axisType = cast<RankedTensorType>(adaptor.getAxis().getType());
    if (axisType.getNumElements() != 1)
      return reportUnsupported(rewriter, op,
                               "axis must be a tensor of one element");
    SmallVector<Value> zeros(axisType.getRank(),
                             arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value axisValue =
        tensor::ExtractOp::create(rewriter, loc, adaptor.getAxis(), zeros);
    Value axisIndex = arith::IndexCastOp::create(
        rewriter, loc, rewriter.getIndexType(), axisValue);
    Value rankValue = arith::ConstantIndexOp::create(rewriter, loc, rank);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value isNegative = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::slt, axisIndex, zero);
    Value normalized = arith::SelectOp::create(
        rewriter, loc, isNegative,
        arith::AddIOp::create(rewriter, loc, axisIndex, rankValue), axisIndex);
    Value inRange = arith::AndIOp::create(
        rewriter, loc,
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sge,
                              normalized, zero),
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt,
                              normalized, rankValue));
    emitRuntimeCheck(rewriter, loc, inRange,
                     "onnx.CumSum: axis {0} is out of range for the input's "
                     "rank {1}",
                     {axisIndex, rankValue});
    SmallVector<int64_t> cases = llvm::to_vector(llvm::seq<int64_t>(1, rank));
    auto switchOp = scf::IndexSwitchOp::create(
        rewriter, loc, TypeRange{resultType}, normalized, cases, cases.size());
    auto fillCase = [&](Region &region, int64_t axis) {
      Block *block = rewriter.createBlock(&region);
      rewriter.setInsertionPointToStart(block);
      Value result = castToTensorType(
          rewriter, loc, buildCumSum(rewriter, loc, op, input, axis),
          resultType);
      scf::YieldOp::create(rewriter, loc, result);
    };
    // Axis 0 is the default region (the assert excludes anything else).
    fillCase(switchOp.getDefaultRegion(), 0);
    for (auto [region, axis] : llvm::zip(switchOp.getCaseRegions(), cases))
      fillCase(region, axis);
    rewriter.setInsertionPointAfter(switchOp);
    return LoweredValues(switchOp.getResults());
  }

  /// The cumulative sum of `input` along the (normalised, constant) `axis`.
  static Value buildCumSum(OpBuilder &rewriter, Location loc, onnx::CumSumOp op,
                           Value input, int64_t axis) {
    MLIRContext *context = rewriter.getContext();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    bool exclusive = op.getExclusive() != 0;
    bool reverse = op.getReverse() != 0;
    bool isUnsigned = isUnsignedElementType(op.getX().getType());

    Type elementType = inputType.getElementType();
    Type accType = getComputeType(elementType);
    bool isFloatAcc = isa<FloatType>(accType);
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> sliceDims = dropDims(dims, {axis});
    SmallVector<int64_t> sliceShape;
    for (auto [index, size] : llvm::enumerate(inputType.getShape()))
      if (static_cast<int64_t>(index) != axis)
        sliceShape.push_back(size);

    Value zero = createScalarConstant(rewriter, loc, accType, 0);
    Value running =
        linalg::FillOp::create(
            rewriter, loc, ValueRange{zero},
            ValueRange{createEmptyTensor(rewriter, loc, sliceDims, accType)})
            .getResult(0);
    Value output = createEmptyTensor(rewriter, loc, dims, elementType);
    Value lower = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value upper = getValueOrCreateConstantIndexOp(rewriter, loc, dims[axis]);

    int64_t sliceRank = rank - 1;
    AffineMap identity = AffineMap::getMultiDimIdentityMap(sliceRank, context);
    SmallVector<utils::IteratorType> iterators(sliceRank,
                                               utils::IteratorType::parallel);
    // `dest = body(source, dest)` element-wise, in place.
    auto update = [&](OpBuilder &b, Location nl, Value source, Value dest,
                      ScalarBodyBuilder body) {
      return linalg::GenericOp::create(
                 b, nl, TypeRange{dest.getType()}, ValueRange{source},
                 ValueRange{dest}, SmallVector<AffineMap>{identity, identity},
                 iterators,
                 [&](OpBuilder &nb, Location nnl, ValueRange args) {
                   linalg::YieldOp::create(nb, nnl, body(nb, nnl, args));
                 })
          .getResult(0);
    };
    auto accumulate = [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
      Value x = convertScalar(b, nl, args[0], accType, isUnsigned, isUnsigned);
      return isFloatAcc ? arith::AddFOp::create(b, nl, args[1], x).getResult()
                        : arith::AddIOp::create(b, nl, args[1], x).getResult();
    };
    auto store = [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
      return convertScalar(b, nl, args[0], elementType, false, false);
    };

    auto loop = scf::ForOp::create(
        rewriter, loc, lower, upper, one, ValueRange{output, running},
        [&](OpBuilder &b, Location nl, Value step, ValueRange carried) {
          Value index = step;
          if (reverse)
            index = arith::SubIOp::create(
                b, nl, arith::SubIOp::create(b, nl, upper, one), step);
          SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
          offsets[axis] = index;
          SmallVector<OpFoldResult> sizes(dims);
          sizes[axis] = b.getIndexAttr(1);
          SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
          auto inputSliceType = RankedTensorType::get(sliceShape, elementType);
          Value inputSlice = tensor::ExtractSliceOp::create(
              b, nl, inputSliceType, input, offsets, sizes, strides);
          Value outputSlice = tensor::ExtractSliceOp::create(
              b, nl, inputSliceType, carried[0], offsets, sizes, strides);
          Value sum = carried[1];
          // Exclusive: store the sum so far, then add; the store reads the
          // running sum before the in-place add overwrites it.
          Value stored;
          if (exclusive)
            stored = update(b, nl, sum, outputSlice, store);
          sum = update(b, nl, inputSlice, sum, accumulate);
          if (!exclusive)
            stored = update(b, nl, sum, outputSlice, store);
          Value newOutput = tensor::InsertSliceOp::create(
              b, nl, stored, carried[0], offsets, sizes, strides);
          scf::YieldOp::create(b, nl, ValueRange{newOutput, sum});
        });
    return loop.getResult(0);
  }
};

//===----------------------------------------------------------------------===//
// LayerNormalization
//===----------------------------------------------------------------------===//

/// Two-pass statistics (mean, then the mean of squared deviations: no
/// cancellation), then one normalising loop that reads the per-row mean and
/// inverse standard deviation through projected maps.
struct LayerNormalizationLowering
    : LinalgLoweringPattern<onnx::LayerNormalizationOp, ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(onnx::LayerNormalizationOp op, OpAdaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value x = adaptor.getX();
    Value scale = adaptor.getScale();
    Value bias = isNoValue(op.getB()) ? Value() : adaptor.getB();
    auto inputType = cast<RankedTensorType>(x.getType());
    if (!isa<FloatType>(inputType.getElementType()))
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects float tensors");
    int64_t rank = inputType.getRank();
    FailureOr<int64_t> checkedAxis =
        getCheckedAxis(rewriter, op, static_cast<int64_t>(op.getAxis()), rank);
    if (failed(checkedAxis))
      return failure();
    int64_t axis = *checkedAxis;
    SmallVector<int64_t> normalized = getTrailingDims(axis, rank);

    Type elementType = inputType.getElementType();
    Type statType =
        getStatisticsType(context, static_cast<int64_t>(op.getStashType()));
    auto widen = [&](OpBuilder &b, Location nl, Value v) {
      return convertScalar(b, nl, v, statType, false, false);
    };
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, x);
    Value count = createElementCount(
        rewriter, loc, ArrayRef<OpFoldResult>(dims).drop_front(axis), statType);
    Value epsilon = createScalarConstant(rewriter, loc, statType,
                                         op.getEpsilon().convertToDouble());
    Value zero = createScalarConstant(rewriter, loc, statType, 0.0);

    Value sum = buildReduction(
        rewriter, loc, x, normalized, zero, /*keepDims=*/false,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          return arith::AddFOp::create(b, nl, args[1], widen(b, nl, args[0]));
        });
    Value mean =
        mapReduced(rewriter, loc, sum, statType,
                   [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
                     return arith::DivFOp::create(b, nl, args[0], count);
                   });
    Value squares = buildReduction(
        rewriter, loc, ValueRange{x, mean}, normalized, zero,
        /*keepDims=*/false,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value deviation =
              arith::SubFOp::create(b, nl, widen(b, nl, args[0]), args[1]);
          Value square = arith::MulFOp::create(b, nl, deviation, deviation);
          return arith::AddFOp::create(b, nl, args[2], square);
        });
    Value invStdDev =
        mapReduced(rewriter, loc, squares, statType,
                   [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
                     return buildInverseStdDev(b, nl, args[0], count, epsilon);
                   });

    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
    AffineMap reducedMap = getReducedIndexingMap(rank, normalized, context);
    SmallVector<Value> operands = {x, mean, invStdDev, scale};
    SmallVector<AffineMap> maps = {
        identity, reducedMap, reducedMap,
        getBroadcastIndexingMap(cast<ShapedType>(scale.getType()), rank,
                                context)};
    if (bias) {
      operands.push_back(bias);
      maps.push_back(getBroadcastIndexingMap(cast<ShapedType>(bias.getType()),
                                             rank, context));
    }
    Value y = buildMappedElementwise(
        rewriter, loc, operands, maps, dims, elementType,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value deviation =
              arith::SubFOp::create(b, nl, widen(b, nl, args[0]), args[1]);
          Value value = arith::MulFOp::create(
              b, nl, arith::MulFOp::create(b, nl, deviation, args[2]),
              widen(b, nl, args[3]));
          if (args.size() > 4)
            value = arith::AddFOp::create(b, nl, value, widen(b, nl, args[4]));
          return convertScalar(b, nl, value, elementType, false, false);
        });
    return LoweredValues{y,
                         materializeStatistic(rewriter, loc, mean, normalized,
                                              rank, resultTypes[1]),
                         materializeStatistic(rewriter, loc, invStdDev,
                                              normalized, rank,
                                              resultTypes[2])};
  }
};

//===----------------------------------------------------------------------===//
// SimplifiedLayerNormalization (RMSNorm; ONNX Runtime's default domain) and
// its com.microsoft Skip variant
//===----------------------------------------------------------------------===//

/// RMS statistics of `x` over `normalized` (its trailing dims) and the
/// scaled output: y = x * (1 / sqrt(mean(x^2) + eps)) * scale. Returns
/// {y, invStdDev (reduced, statType)}.
std::pair<Value, Value> buildRMSNorm(OpBuilder &b, Location loc, Value x,
                                     Value scale, int64_t axis,
                                     double epsilonValue, Type statType) {
  MLIRContext *context = b.getContext();
  auto inputType = cast<RankedTensorType>(x.getType());
  int64_t rank = inputType.getRank();
  Type elementType = inputType.getElementType();
  SmallVector<int64_t> normalized = getTrailingDims(axis, rank);
  auto widen = [&](OpBuilder &nb, Location nl, Value v) {
    return convertScalar(nb, nl, v, statType, false, false);
  };
  SmallVector<OpFoldResult> dims = getDims(b, loc, x);
  Value count = createElementCount(
      b, loc, ArrayRef<OpFoldResult>(dims).drop_front(axis), statType);
  Value epsilon = createScalarConstant(b, loc, statType, epsilonValue);
  Value zero = createScalarConstant(b, loc, statType, 0.0);

  Value squares = buildReduction(
      b, loc, x, normalized, zero, /*keepDims=*/false,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value v = widen(nb, nl, args[0]);
        return arith::AddFOp::create(nb, nl, args[1],
                                     arith::MulFOp::create(nb, nl, v, v));
      });
  Value invStdDev =
      mapReduced(b, loc, squares, statType,
                 [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                   return buildInverseStdDev(nb, nl, args[0], count, epsilon);
                 });
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
  AffineMap reducedMap = getReducedIndexingMap(rank, normalized, context);
  Value y = buildMappedElementwise(
      b, loc, ValueRange{x, invStdDev, scale},
      {identity, reducedMap,
       getBroadcastIndexingMap(cast<ShapedType>(scale.getType()), rank,
                               context)},
      dims, elementType,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value value = arith::MulFOp::create(
            nb, nl,
            arith::MulFOp::create(nb, nl, widen(nb, nl, args[0]), args[1]),
            widen(nb, nl, args[2]));
        return convertScalar(nb, nl, value, elementType, false, false);
      });
  return {y, invStdDev};
}

struct SimplifiedLayerNormalizationLowering
    : LinalgLoweringPattern<onnx::SimplifiedLayerNormalizationOp,
                            ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(onnx::SimplifiedLayerNormalizationOp op, OpAdaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    Value scale = adaptor.getScale();
    auto inputType = cast<RankedTensorType>(x.getType());
    TensorType invType = resultTypes[1];
    if (!isa<FloatType>(inputType.getElementType()))
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects float tensors");
    int64_t rank = inputType.getRank();
    FailureOr<int64_t> checkedAxis =
        getCheckedAxis(rewriter, op, static_cast<int64_t>(op.getAxis()), rank);
    if (failed(checkedAxis))
      return failure();
    int64_t axis = *checkedAxis;
    Type statType = getStatisticsType(rewriter.getContext(),
                                      static_cast<int64_t>(op.getStashType()));
    auto [y, invStdDev] =
        buildRMSNorm(rewriter, loc, x, scale, axis,
                     op.getEpsilon().convertToDouble(), statType);
    return LoweredValues{y, materializeStatistic(rewriter, loc, invStdDev,
                                                 getTrailingDims(axis, rank),
                                                 rank, invType)};
  }
};

/// s = input + skip (+ bias); output = RMSNorm(s) * gamma over the last dim.
/// As ONNX Runtime, the statistics and the output use the sum before it is
/// rounded to a half type (only input_skip_bias_sum is rounded), so every
/// loop re-adds the addends rather than reading s. The `mean` result is
/// zeros: ONNX Runtime's kernel never computes it.
struct SkipSimplifiedLayerNormalizationLowering
    : LinalgLoweringPattern<onnx::SkipSimplifiedLayerNormalizationOp,
                            ResultRank::Any> {
  using LinalgLoweringPattern::LinalgLoweringPattern;

  FailureOr<LoweredValues>
  lower(onnx::SkipSimplifiedLayerNormalizationOp op, OpAdaptor adaptor,
        ArrayRef<TensorType> resultTypes,
        ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = adaptor.getInput();
    Value gamma = adaptor.getGamma();
    SmallVector<Value> addends = {input, adaptor.getSkip()};
    if (!isNoValue(op.getBias()))
      addends.push_back(adaptor.getBias());
    auto inputType = cast<RankedTensorType>(input.getType());
    if (inputType.getRank() == 0 || !isa<FloatType>(inputType.getElementType()))
      return reportUnsupported(rewriter, op,
                               "cannot lower: expects float tensors of rank "
                               ">= 1");
    int64_t rank = inputType.getRank();
    Type elementType = inputType.getElementType();
    Type computeType = getComputeType(elementType);

    FailureOr<BroadcastOperands> broadcast =
        broadcastOperands(rewriter, loc, addends, op->getName().getStringRef());
    if (failed(broadcast) ||
        broadcast->dims.size() != static_cast<size_t>(rank))
      return reportUnsupported(rewriter, op,
                               "skip and bias do not broadcast to the input");
    addends = broadcast->operands;
    ArrayRef<OpFoldResult> dims = broadcast->dims;
    SmallVector<AffineMap> addendMaps;
    for (Value addend : addends)
      addendMaps.push_back(getBroadcastIndexingMap(
          cast<ShapedType>(addend.getType()), rank, context));
    size_t numAddends = addends.size();
    // The sum of the first `numAddends` scalars, in the compute type.
    auto addAll = [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
      Value total = convertScalar(b, nl, args[0], computeType, false, false);
      for (Value addend : args.take_front(numAddends).drop_front())
        total = arith::AddFOp::create(
            b, nl, total,
            convertScalar(b, nl, addend, computeType, false, false));
      return total;
    };

    Value sum = buildMappedElementwise(
        rewriter, loc, addends, addendMaps, dims, elementType,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          return convertScalar(b, nl, addAll(b, nl, args), elementType, false,
                               false);
        });

    SmallVector<int64_t> normalized = {rank - 1};
    Value zero = createScalarConstant(rewriter, loc, computeType, 0.0);
    Value squares = buildReduction(
        rewriter, loc, addends, normalized, zero, /*keepDims=*/false,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value v = addAll(b, nl, args);
          return arith::AddFOp::create(b, nl, args.back(),
                                       arith::MulFOp::create(b, nl, v, v));
        },
        addendMaps);
    Value count = createElementCount(rewriter, loc, dims.back(), computeType);
    Value epsilon = createScalarConstant(rewriter, loc, computeType,
                                         op.getEpsilon().convertToDouble());
    Value invStdDev =
        mapReduced(rewriter, loc, squares, computeType,
                   [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
                     return buildInverseStdDev(b, nl, args[0], count, epsilon);
                   });

    SmallVector<Value> operands(addends);
    operands.append({invStdDev, gamma});
    SmallVector<AffineMap> maps(addendMaps);
    maps.push_back(getReducedIndexingMap(rank, normalized, context));
    maps.push_back(getBroadcastIndexingMap(cast<ShapedType>(gamma.getType()),
                                           rank, context));
    Value output = buildMappedElementwise(
        rewriter, loc, operands, maps, dims, elementType,
        [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
          Value v = arith::MulFOp::create(b, nl, addAll(b, nl, args),
                                          args[numAddends]);
          Value scaled =
              arith::MulFOp::create(b, nl, v,
                                    convertScalar(b, nl, args[numAddends + 1],
                                                  computeType, false, false));
          return convertScalar(b, nl, scaled, elementType, false, false);
        });

    Type meanElementType = resultTypes[1].getElementType();
    SmallVector<OpFoldResult> meanDims(dims);
    meanDims.back() = rewriter.getIndexAttr(1);
    Value mean =
        linalg::FillOp::create(
            rewriter, loc,
            ValueRange{createScalarConstant(rewriter, loc, meanElementType, 0)},
            ValueRange{
                createEmptyTensor(rewriter, loc, meanDims, meanElementType)})
            .getResult(0);
    return LoweredValues{output, mean,
                         materializeStatistic(rewriter, loc, invStdDev,
                                              normalized, rank, resultTypes[2]),
                         sum};
  }
};

} // namespace

SoftmaxStatistics buildSoftmaxStatistics(OpBuilder &builder, Location loc,
                                         Value input, int64_t axis) {
  Type accType =
      getComputeType(cast<RankedTensorType>(input.getType()).getElementType());
  auto widen = [&](OpBuilder &b, Location nl, Value x) {
    return convertScalar(b, nl, x, accType, false, false);
  };
  SmallVector<int64_t> reductionDims = {axis};
  Value lowest = arith::ConstantOp::create(
      builder, loc,
      builder.getFloatAttr(
          accType, APFloat::getInf(cast<FloatType>(accType).getFloatSemantics(),
                                   /*Negative=*/true)));
  Value max = buildReduction(
      builder, loc, input, reductionDims, lowest, /*keepDims=*/false,
      [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
        return arith::MaximumFOp::create(b, nl, args[1], widen(b, nl, args[0]));
      });
  Value zero = createScalarConstant(builder, loc, accType, 0.0);
  Value sum = buildReduction(
      builder, loc, ValueRange{input, max}, reductionDims, zero,
      /*keepDims=*/false,
      [&](OpBuilder &b, Location nl, ValueRange args) -> Value {
        Value shifted =
            arith::SubFOp::create(b, nl, widen(b, nl, args[0]), args[1]);
        return arith::AddFOp::create(b, nl, args[2],
                                     math::ExpOp::create(b, nl, shifted));
      });
  return {max, sum};
}

void populateNormalizationPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns) {
  patterns
      .add<ReduceLowering<onnx::ReduceSumOp, ReduceKind::Sum>,
           ReduceLowering<onnx::ReduceMeanOp, ReduceKind::Mean>,
           ReduceLowering<onnx::ReduceMaxOp, ReduceKind::Max>,
           ReduceLowering<onnx::ReduceMinOp, ReduceKind::Min>,
           SoftmaxLowering<onnx::SoftmaxOp, /*IsLog=*/false>,
           SoftmaxLowering<onnx::LogSoftmaxOp, /*IsLog=*/true>, CumSumLowering,
           LayerNormalizationLowering, SimplifiedLayerNormalizationLowering,
           SkipSimplifiedLayerNormalizationLowering>(converter,
                                                     patterns.getContext());
}

} // namespace qaf
