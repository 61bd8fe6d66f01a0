//===- QAFVerifiers.cpp - shape and parameter checks of qaf ops -----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Every op computes [..., K] -> [..., N]. Weights and adapter factors must
// have static shapes (they are constants or entry point arguments with known
// sizes); activations may have dynamic leading dimensions, but K must be
// static so groups are known at compile time.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace qaf;

LogicalResult
QuantFormatAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        unsigned bits, int64_t groupSize, QuantScheme scheme) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    return emitError() << "bits must be 2, 3, 4 or 8, not " << bits;
  if (scheme == QuantScheme::NormalFloat && bits != 2 && bits != 4)
    return emitError() << "the nf scheme has codebooks for 2 and 4 bits, not "
                       << bits;
  if (groupSize <= 0)
    return emitError() << "group size must be positive, not " << groupSize;
  return success();
}

namespace {

/// The sizes of a linear op's activations: K (input features, static) and N
/// (output features, static), with matching leading dimensions.
struct LinearSizes {
  int64_t k = 0, n = 0;
};

/// `k` is the number of input features the weights imply: the input's
/// last dimension must be that or dynamic (then it must be at run time, as
/// for onnx.MatMul).
FailureOr<LinearSizes> verifyActivations(Operation *op, Value input,
                                         Value output, int64_t k) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto outputType = cast<RankedTensorType>(output.getType());
  if (inputType.getRank() < 1)
    return op->emitOpError("input must have rank >= 1");
  if (outputType.getRank() != inputType.getRank())
    return op->emitOpError("result rank ")
           << outputType.getRank() << " differs from the input rank "
           << inputType.getRank();
  if (inputType.getElementType() != outputType.getElementType())
    return op->emitOpError("result element type ")
           << outputType.getElementType() << " differs from the input's "
           << inputType.getElementType();
  LinearSizes sizes{k, outputType.getShape().back()};
  int64_t inputK = inputType.getShape().back();
  if (!ShapedType::isDynamic(inputK) && inputK != k)
    return op->emitOpError("the input has ")
           << inputK << " features, the weights take " << k;
  if (ShapedType::isDynamic(sizes.n))
    return op->emitOpError("the result's last dimension (output features) "
                           "must be static");
  for (int64_t i = 0, e = inputType.getRank() - 1; i < e; ++i) {
    int64_t in = inputType.getShape()[i], out = outputType.getShape()[i];
    if (!ShapedType::isDynamic(in) && !ShapedType::isDynamic(out) && in != out)
      return op->emitOpError("result dimension ")
             << i << " is " << out << ", the input's is " << in;
  }
  return sizes;
}

/// Checks that `value` (named `name` in messages) is a static tensor of shape
/// `expected` with the activations' element type (or `elementType`).
LogicalResult verifyOperandShape(Operation *op, Value value, StringRef name,
                                 ArrayRef<int64_t> expected,
                                 Type elementType = nullptr) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() != expected) {
    InFlightDiagnostic diag = op->emitOpError() << name << " must have shape [";
    llvm::interleaveComma(expected, diag);
    diag << "], not " << type;
    return diag;
  }
  if (elementType && type.getElementType() != elementType)
    return op->emitOpError()
           << name << " must have element type " << elementType << ", not "
           << type.getElementType();
  return success();
}

/// `groupSize` is positive (the attribute constraints say so).
LogicalResult verifyGroups(Operation *op, int64_t k, int64_t groupSize) {
  if (k % groupSize != 0)
    return op->emitOpError("group size ")
           << groupSize << " does not divide the input dimension " << k;
  return success();
}

/// Dimension `dim` of a weight operand that must be a static 2-D tensor;
/// failure (reported) otherwise.
FailureOr<int64_t> getWeightDim(Operation *op, Value value, StringRef name,
                                unsigned dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != 2 || !type.hasStaticShape())
    return op->emitOpError()
           << name << " must be a static 2-D tensor, not " << type;
  return type.getShape()[dim];
}

/// The input features packed codes hold: [N, K·bits/8] bytes.
FailureOr<int64_t> getCodesK(Operation *op, Value codes,
                             QuantFormatAttr format) {
  FailureOr<int64_t> bytes = getWeightDim(op, codes, "codes", 1);
  if (failed(bytes))
    return failure();
  if ((*bytes * 8) % format.getBits() != 0)
    return op->emitOpError("codes rows of ")
           << *bytes << " bytes do not hold whole " << format.getBits()
           << "-bit codes";
  return *bytes * 8 / format.getBits();
}

/// The rank r of an adapter from its factor `a` ([r, ...]), which must be
/// static and positive.
FailureOr<int64_t> getAdapterRank(Operation *op, Value a, StringRef name) {
  auto type = cast<RankedTensorType>(a.getType());
  if (type.getRank() != 2 || !type.hasStaticShape())
    return op->emitOpError()
           << name << " must be a static 2-D tensor, not " << type;
  if (type.getShape()[0] < 1)
    return op->emitOpError("adapter rank must be at least 1");
  return type.getShape()[0];
}

/// A pair of factors A [r, aColumns] and B [bRows, r] (r from A, at least 1)
/// of the activations' element type.
LogicalResult verifyFactors(Operation *op, Value a, Value b, int64_t aColumns,
                            int64_t bRows, Type elementType) {
  FailureOr<int64_t> rank = getAdapterRank(op, a, "A");
  if (failed(rank) ||
      failed(verifyOperandShape(op, a, "A", {*rank, aColumns}, elementType)) ||
      failed(verifyOperandShape(op, b, "B", {bRows, *rank}, elementType)))
    return failure();
  return success();
}

/// codes [N, K·bits/8], scales and zero points [N, K/g].
LogicalResult verifyQuantizedWeight(Operation *op, QuantFormatAttr format,
                                    LinearSizes sizes, Value codes,
                                    Value scales, Value zeroPoints,
                                    Type elementType) {
  if (failed(verifyGroups(op, sizes.k, format.getGroupSize())))
    return failure();
  if ((sizes.k * format.getBits()) % 8 != 0)
    return op->emitOpError("input dimension ")
           << sizes.k << " times " << format.getBits()
           << " bits does not fill whole bytes";
  if (failed(verifyOperandShape(op, codes, "codes",
                                {sizes.n, sizes.k * format.getBits() / 8})))
    return failure();
  SmallVector<int64_t> groupShape = {sizes.n, sizes.k / format.getGroupSize()};
  if (failed(verifyOperandShape(op, scales, "scales", groupShape, elementType)))
    return failure();
  if (format.hasZeroPoints() && !zeroPoints)
    return op->emitOpError("the ") << stringifyQuantScheme(format.getScheme())
                                   << " scheme needs zero points";
  if (!format.hasZeroPoints() && zeroPoints)
    return op->emitOpError(
        "the nf scheme has no zero points (w = s * codebook[q])");
  if (zeroPoints && failed(verifyOperandShape(op, zeroPoints, "zero points",
                                              groupShape, elementType)))
    return failure();
  return success();
}

Type getElementType(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}

} // namespace

LogicalResult QLinearOp::verify() {
  FailureOr<int64_t> k = getCodesK(*this, getCodes(), getFormat());
  if (failed(k))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(), *k);
  if (failed(sizes))
    return failure();
  return verifyQuantizedWeight(*this, getFormat(), *sizes, getCodes(),
                               getScales(), getZeroPoints(),
                               getElementType(getInput()));
}

namespace {

/// LoTA-QAF's base weight and ternary factors A_T [r, K], B_T [N, r], and
/// its threshold.
LogicalResult verifyTernaryAdapter(Operation *op, QuantFormatAttr format,
                                   LinearSizes sizes, Value codes, Value scales,
                                   Value zeroPoints, Value a, Value b,
                                   double omega, Type elementType) {
  if (!format.hasZeroPoints())
    return op->emitOpError("LoTA-QAF adapts integer codes; the nf scheme has "
                           "none (use asym or sym)");
  if (failed(verifyQuantizedWeight(op, format, sizes, codes, scales, zeroPoints,
                                   elementType)))
    return failure();
  FailureOr<int64_t> rank = getAdapterRank(op, a, "A_T");
  if (failed(rank) ||
      failed(verifyOperandShape(op, a, "A_T", {*rank, sizes.k})) ||
      failed(verifyOperandShape(op, b, "B_T", {sizes.n, *rank})))
    return failure();
  // |ΔW| <= r, so a threshold at or above r can never move a code (omega's
  // attribute constraint already keeps it positive and finite).
  if (omega >= static_cast<double>(*rank))
    return op->emitOpError("threshold omega must be in (0, rank = ")
           << *rank << "), not " << omega;
  return success();
}

} // namespace

LogicalResult LoTALinearOp::verify() {
  FailureOr<int64_t> k = getCodesK(*this, getCodes(), getFormat());
  if (failed(k))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(), *k);
  if (failed(sizes))
    return failure();
  return verifyTernaryAdapter(
      *this, getFormat(), *sizes, getCodes(), getScales(), getZeroPoints(),
      getA(), getB(), getOmega().convertToDouble(), getElementType(getInput()));
}

namespace {

/// L4Q's W0 [K, N], A [r, K], B [N, r], scales and offsets [N, K/g], all of
/// `elementType`.
LogicalResult verifyL4QParameters(Operation *op, int64_t k, int64_t n,
                                  int64_t groupSize, Value weight, Value a,
                                  Value b, Value scales, Value offsets,
                                  Type elementType) {
  if (failed(verifyGroups(op, k, groupSize)))
    return failure();
  SmallVector<int64_t> groupShape = {n, k / groupSize};
  if (failed(verifyOperandShape(op, weight, "weight", {k, n}, elementType)) ||
      failed(verifyFactors(op, a, b, k, n, elementType)) ||
      failed(
          verifyOperandShape(op, scales, "scales", groupShape, elementType)) ||
      failed(
          verifyOperandShape(op, offsets, "offsets", groupShape, elementType)))
    return failure();
  return success();
}

} // namespace

LogicalResult L4QLinearOp::verify() {
  FailureOr<int64_t> k = getWeightDim(*this, getWeight(), "weight", 0);
  if (failed(k))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(), *k);
  if (failed(sizes))
    return failure();
  return verifyL4QParameters(*this, sizes->k, sizes->n,
                             static_cast<int64_t>(getGroupSize()), getWeight(),
                             getA(), getB(), getScales(), getOffsets(),
                             getElementType(getInput()));
}

LogicalResult LoRAOp::verify() {
  FailureOr<int64_t> k = getWeightDim(*this, getA(), "A", 1);
  if (failed(k))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(), *k);
  if (failed(sizes))
    return failure();
  return verifyFactors(*this, getA(), getB(), sizes->k, sizes->n,
                       getElementType(getInput()));
}

LogicalResult QALoRAOp::verify() {
  int64_t group = static_cast<int64_t>(getGroupSize());
  FailureOr<int64_t> groups = getWeightDim(*this, getA(), "A", 1);
  if (failed(groups))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(), *groups * group);
  if (failed(sizes) || failed(verifyGroups(*this, sizes->k, group)))
    return failure();
  return verifyFactors(*this, getA(), getB(), sizes->k / group, sizes->n,
                       getElementType(getInput()));
}

LogicalResult QAHiRAOp::verify() {
  FailureOr<int64_t> groups = getWeightDim(*this, getM(), "M", 1);
  if (failed(groups))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(),
                        *groups * static_cast<int64_t>(getGroupSize()));
  if (failed(sizes) ||
      failed(
          verifyGroups(*this, sizes->k, static_cast<int64_t>(getGroupSize()))))
    return failure();
  int64_t repeat = getRepeatOut();
  if (sizes->n % repeat != 0)
    return emitOpError("repeat_out ")
           << repeat << " does not divide the output dimension " << sizes->n;
  return verifyOperandShape(
      *this, getM(), "M",
      {sizes->n / repeat, sizes->k / static_cast<int64_t>(getGroupSize())},
      getElementType(getInput()));
}

LogicalResult QBaRAOp::verify() {
  FailureOr<int64_t> pooled = getWeightDim(*this, getA(), "A", 1);
  if (failed(pooled))
    return failure();
  FailureOr<LinearSizes> sizes =
      verifyActivations(*this, getInput(), getOutput(),
                        *pooled * static_cast<int64_t>(getPool()));
  if (failed(sizes))
    return failure();
  int64_t pool = getPool();
  if (sizes->k % pool != 0 || sizes->n % pool != 0)
    return emitOpError("pool ")
           << pool << " must divide the input dimension " << sizes->k
           << " and the output dimension " << sizes->n;
  Type elementType = getElementType(getInput());
  FailureOr<int64_t> rank = getAdapterRank(*this, getA(), "A");
  if (failed(rank))
    return failure();
  if (*rank % pool != 0)
    return emitOpError("A has ")
           << *rank << " rows; Q-BaRA's rank is pool * r = a multiple of "
           << pool;
  return verifyFactors(*this, getA(), getB(), sizes->k / pool, sizes->n / pool,
                       elementType);
}

//===----------------------------------------------------------------------===//
// The ops the gradient rules emit
//===----------------------------------------------------------------------===//

LogicalResult QLinearTransposedOp::verify() {
  FailureOr<int64_t> k = getCodesK(*this, getCodes(), getFormat());
  if (failed(k))
    return failure();
  // The transposed product: [..., N] -> [..., K], N the codes' rows.
  int64_t n = cast<RankedTensorType>(getCodes().getType()).getShape()[0];
  FailureOr<LinearSizes> transposed =
      verifyActivations(*this, getInput(), getOutput(), n);
  if (failed(transposed))
    return failure();
  if (transposed->n != *k)
    return emitOpError("the result has ")
           << transposed->n << " features, the codes hold " << *k;
  LinearSizes sizes{*k, n};
  if (failed(verifyQuantizedWeight(*this, getFormat(), sizes, getCodes(),
                                   getScales(), getZeroPoints(),
                                   getElementType(getInput()))))
    return failure();
  if (Value moves = getMoves()) {
    if (!getZeroPoints())
      return emitOpError("moves shift integer codes; the nf scheme has none");
    return verifyOperandShape(*this, moves, "moves", {n, *k});
  }
  return success();
}

LogicalResult LoTAUpdateOp::verify() {
  FailureOr<int64_t> k = getCodesK(*this, getCodes(), getFormat());
  if (failed(k))
    return failure();
  int64_t n = cast<RankedTensorType>(getCodes().getType()).getShape()[0];
  Type elementType = getElementType(getZeroPoints());
  // lota_linear's checks; the op reads no scales, whose shape and type are
  // the zero points' (so these stand in for them).
  if (failed(verifyTernaryAdapter(*this, getFormat(), {*k, n}, getCodes(),
                                  /*scales=*/getZeroPoints(), getZeroPoints(),
                                  getA(), getB(), getOmega().convertToDouble(),
                                  elementType)) ||
      failed(verifyOperandShape(*this, getMoves(), "moves", {n, *k})))
    return failure();
  if (getMovedZeroPoints().getType() != getZeroPoints().getType())
    return emitOpError("the moved zero points must have the zero points' "
                       "type ")
           << getZeroPoints().getType();
  return success();
}

LogicalResult L4QQuantizeOp::verify() {
  FailureOr<int64_t> k = getWeightDim(*this, getWeight(), "weight", 0);
  FailureOr<int64_t> n = getWeightDim(*this, getWeight(), "weight", 1);
  if (failed(k) || failed(n))
    return failure();
  Type elementType = getElementType(getWeight());
  if (failed(verifyL4QParameters(
          *this, *k, *n, static_cast<int64_t>(getGroupSize()), getWeight(),
          getA(), getB(), getScales(), getOffsets(), elementType)))
    return failure();
  for (Value result : getResults())
    if (failed(
            verifyOperandShape(*this, result, "result", {*n, *k}, elementType)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// CheckOp
//===----------------------------------------------------------------------===//

LogicalResult CheckOp::verify() {
  if (getValues().size() > 3)
    return emitOpError("formats at most 3 values into its message, not ")
           << getValues().size();
  if (getCode() != 1 && getCode() != 2)
    return emitOpError("code must be 1 (invalid input) or 2 (out of memory), "
                       "not ")
           << getCode();
  return success();
}

LogicalResult CheckOp::canonicalize(CheckOp op, PatternRewriter &rewriter) {
  if (!matchPattern(op.getCondition(), m_One()))
    return failure();
  rewriter.eraseOp(op);
  return success();
}
