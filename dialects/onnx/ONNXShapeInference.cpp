//===- ONNXShapeInference.cpp - result types of onnx ops ------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `inferShapes()` of every onnx op but Constant. Each computes the element
// type and the most precise shape the operand types, attributes and constant
// operands allow (ONNX semantics of the newest opset), then merges it into
// the declared result type with `refineResultType`, the one merge rule.
//
// The importer builds ops generically and infers before it verifies (Cast's
// verifier needs the inferred result type), so each method first runs the
// ODS checks (`verifyInvariantsImpl`: operand kinds, required attributes)
// and no method assumes what a custom verifier would guarantee.
//
//===----------------------------------------------------------------------===//

#include "ONNXOpsUtils.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace qaf::onnx;

//===----------------------------------------------------------------------===//
// The merge rule and small helpers
//===----------------------------------------------------------------------===//

/// Refines result `index` of `op` to `inferred`, keeping what the declared
/// type already knows: a dim static in either is static. An unranked
/// declared type is the importer's placeholder and carries no information,
/// not even its element type. Any other disagreement is an error.
static LogicalResult refineResultType(Operation *op, unsigned index,
                                      Type inferred) {
  Value result = op->getResult(index);
  auto current = cast<TensorType>(result.getType());
  auto inferredType = cast<TensorType>(inferred);
  if (!current.hasRank()) {
    result.setType(inferredType);
    return success();
  }
  auto conflict = [&]() -> LogicalResult {
    InFlightDiagnostic diag = op->emitOpError()
                              << "inferred type " << inferredType
                              << " conflicts with declared " << current;
    if (op->getNumResults() > 1)
      diag << " for result #" << index;
    return diag;
  };
  if (current.getElementType() != inferredType.getElementType())
    return conflict();
  if (!inferredType.hasRank())
    return success();
  if (current.getRank() != inferredType.getRank())
    return conflict();
  SmallVector<int64_t> dims;
  for (auto [declared, computed] :
       llvm::zip_equal(current.getShape(), inferredType.getShape())) {
    if (ShapedType::isDynamic(declared))
      dims.push_back(computed);
    else if (ShapedType::isDynamic(computed) || declared == computed)
      dims.push_back(declared);
    else
      return conflict();
  }
  result.setType(
      RankedTensorType::get(dims, current.getElementType(),
                            cast<RankedTensorType>(current).getEncoding()));
  return success();
}

static LogicalResult refineRanked(Operation *op, unsigned index,
                                  ArrayRef<int64_t> dims, Type elementType) {
  return refineResultType(op, index, RankedTensorType::get(dims, elementType));
}

static LogicalResult refineUnranked(Operation *op, unsigned index,
                                    Type elementType) {
  return refineResultType(op, index, UnrankedTensorType::get(elementType));
}

static Type getElementTypeOf(Value value) {
  return cast<TensorType>(value.getType()).getElementType();
}

static bool isNoValue(Value value) { return isa<NoneType>(value.getType()); }

/// Result `index` has the shape of `operand` and element type `elementType`.
static LogicalResult inferShapeOf(Operation *op, unsigned index, Value operand,
                                  Type elementType) {
  return refineResultType(
      op, index, cast<TensorType>(operand.getType()).clone(elementType));
}

/// Result 0 has the type of `operand` (element-wise unary ops and friends).
static LogicalResult inferSameAs(Operation *op, Value operand) {
  return inferShapeOf(op, 0, operand, getElementTypeOf(operand));
}

/// ONNX constrains these operands to one type variable `T`.
static LogicalResult checkSameElementType(Operation *op, ValueRange operands) {
  if (operands.empty())
    return op->emitOpError("needs at least one input");
  Type first = getElementTypeOf(operands.front());
  for (Value operand : operands.drop_front())
    if (getElementTypeOf(operand) != first)
      return op->emitOpError("operand element types differ: ")
             << first << " vs " << getElementTypeOf(operand);
  return success();
}

/// Result 0 is the NumPy broadcast of `operands`, of element type
/// `elementType`.
static LogicalResult inferBroadcast(Operation *op, ValueRange operands,
                                    Type elementType) {
  SmallVector<int64_t> shape;
  for (Value operand : operands) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return refineUnranked(op, 0, elementType);
    std::optional<SmallVector<int64_t>> merged =
        broadcastShapes(shape, type.getShape());
    if (!merged) {
      InFlightDiagnostic diag = op->emitOpError("operand types ");
      llvm::interleaveComma(operands.getTypes(), diag);
      return diag << " are not broadcast-compatible";
    }
    shape = std::move(*merged);
  }
  return refineRanked(op, 0, shape, elementType);
}

/// Add, Sub, Mul, Div, Max, Min: one type `T`, broadcast shapes.
static LogicalResult inferArithmetic(Operation *op) {
  if (failed(checkSameElementType(op, op->getOperands())))
    return failure();
  return inferBroadcast(op, op->getOperands(),
                        getElementTypeOf(op->getOperand(0)));
}

/// Comparisons and logical ops: one type `T`, bool result.
static LogicalResult inferPredicate(Operation *op) {
  if (failed(checkSameElementType(op, op->getOperands())))
    return failure();
  return inferBroadcast(op, op->getOperands(),
                        IntegerType::get(op->getContext(), 1));
}

/// The dims of a shape-tensor operand as result dims: unknown entries are
/// dynamic; nullopt when even the rank is unknown. Negative entries are an
/// error (reported on `op`, with `what` naming the operand).
static FailureOr<std::optional<SmallVector<int64_t>>>
getShapeOperandDims(Operation *op, Value shape, StringRef what) {
  std::optional<SmallVector<int64_t>> values = getShapeTensorValues(shape);
  if (!values)
    return std::optional<SmallVector<int64_t>>();
  for (int64_t value : *values)
    if (!ShapedType::isDynamic(value) && value < 0)
      return op->emitOpError() << what << " has a negative entry " << value;
  return values;
}

/// Normalises `axis` against `rank`, reporting an out-of-range axis on `op`.
static FailureOr<int64_t> getNormalizedAxis(Operation *op, int64_t axis,
                                            int64_t rank) {
  std::optional<int64_t> normalized = normalizeAxis(axis, rank);
  if (!normalized)
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << rank;
  return *normalized;
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

LogicalResult IdentityOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}

LogicalResult AddOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}
LogicalResult SubOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}
LogicalResult MulOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}
LogicalResult DivOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}
LogicalResult MaxOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}
LogicalResult MinOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferArithmetic(*this);
}

LogicalResult PowOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  // The exponent may have another type; the result has the base's.
  return inferBroadcast(*this, getOperands(), getElementTypeOf(getX()));
}

LogicalResult EqualOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult LessOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult LessOrEqualOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult GreaterOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult GreaterOrEqualOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult AndOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}
LogicalResult OrOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferPredicate(*this);
}

LogicalResult SqrtOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult ReciprocalOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult NegOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult AbsOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult ExpOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult LogOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult TanhOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult ErfOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult SigmoidOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult ReluOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult CosOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult SinOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult NotOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult IsNaNOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferShapeOf(*this, 0, getX(),
                      IntegerType::get(getContext(), /*width=*/1));
}
LogicalResult GeluOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult SoftmaxOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult LogSoftmaxOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult ClipOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}
LogicalResult TriluOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  auto type = dyn_cast<RankedTensorType>(getInput().getType());
  if (type && type.getRank() < 2)
    return emitOpError("input must have rank >= 2, got ") << type;
  return inferSameAs(*this, getInput());
}
LogicalResult CumSumOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getX());
}
LogicalResult ScatterNDOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getData());
}
LogicalResult RotaryEmbeddingOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferSameAs(*this, getInput());
}

/// present's length is max(past buffer, total_sequence_length), as ONNX
/// Runtime allocates it: static when both are known (no past counts as 0).
LogicalResult GroupQueryAttentionOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getQuery());
  Type cacheType =
      isNoValue(getPastKey()) ? elementType : getElementTypeOf(getPastKey());
  auto query = dyn_cast<RankedTensorType>(getQuery().getType());
  if (!query || query.getRank() != 3) {
    for (unsigned index = 0; index < 4; ++index)
      if (failed(refineUnranked(*this, index,
                                index == 1 || index == 2 ? cacheType
                                                         : elementType)))
        return failure();
    return success();
  }
  int64_t numHeads = static_cast<int64_t>(getNumHeads());
  int64_t kvNumHeads = static_cast<int64_t>(getKvNumHeads());
  int64_t headSize = getHeadSize();
  int64_t batch = query.getDimSize(0), sequence = query.getDimSize(1);
  int64_t hidden = ShapedType::isDynamic(headSize) ? ShapedType::kDynamic
                                                   : numHeads * headSize;
  int64_t pastLength = 0;
  if (auto past = dyn_cast<RankedTensorType>(getPastKey().getType()))
    pastLength =
        past.getRank() == 4 ? past.getDimSize(2) : ShapedType::kDynamic;
  else if (!isNoValue(getPastKey()))
    pastLength = ShapedType::kDynamic;
  int64_t presentLength = ShapedType::kDynamic;
  std::optional<SmallVector<int64_t>> total =
      getConstantIntValues(getTotalSequenceLength());
  if (total && total->size() == 1 && !ShapedType::isDynamic(pastLength))
    presentLength = std::max(pastLength, total->front());
  if (failed(refineRanked(*this, 0, {batch, sequence, hidden}, elementType)))
    return failure();
  for (unsigned index : {1u, 2u})
    if (failed(refineRanked(*this, index,
                            {batch, kvNumHeads, presentLength, headSize},
                            cacheType)))
      return failure();
  return refineRanked(*this, 3, {batch, numHeads, sequence, presentLength},
                      elementType);
}

LogicalResult WhereOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  if (failed(checkSameElementType(*this, {getX(), getY()})))
    return failure();
  return inferBroadcast(*this, getOperands(), getElementTypeOf(getX()));
}

LogicalResult CastOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type to = getElementType(getContext(), getTo());
  if (!to)
    return emitOpError("unsupported 'to' data type ")
           << static_cast<int64_t>(getTo());
  return inferShapeOf(*this, 0, getInput(), to);
}

LogicalResult CastLikeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferShapeOf(*this, 0, getInput(), getElementTypeOf(getTargetType()));
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// NumPy matmul: 1-D operands are promoted (and the added dim dropped
/// again), batch dims broadcast, the inner dims must agree.
static LogicalResult inferMatMulLike(Operation *op, Value lhs, Value rhs,
                                     Type elementType) {
  auto lhsType = dyn_cast<RankedTensorType>(lhs.getType());
  auto rhsType = dyn_cast<RankedTensorType>(rhs.getType());
  if (!lhsType || !rhsType)
    return refineUnranked(op, 0, elementType);
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0)
    return op->emitOpError("operands must have rank >= 1, got ")
           << lhsType << " and " << rhsType;
  SmallVector<int64_t> lhsShape(lhsType.getShape());
  SmallVector<int64_t> rhsShape(rhsType.getShape());
  bool lhsIsVector = lhsShape.size() == 1;
  bool rhsIsVector = rhsShape.size() == 1;
  if (lhsIsVector)
    lhsShape.insert(lhsShape.begin(), 1);
  if (rhsIsVector)
    rhsShape.push_back(1);
  int64_t lhsInner = lhsShape.back();
  int64_t rhsInner = rhsShape[rhsShape.size() - 2];
  if (!ShapedType::isDynamic(lhsInner) && !ShapedType::isDynamic(rhsInner) &&
      lhsInner != rhsInner)
    return op->emitOpError("inner dimensions differ: ")
           << lhsType << " times " << rhsType;
  std::optional<SmallVector<int64_t>> shape = broadcastShapes(
      ArrayRef(lhsShape).drop_back(2), ArrayRef(rhsShape).drop_back(2));
  if (!shape)
    return op->emitOpError("batch dimensions of ")
           << lhsType << " and " << rhsType << " are not broadcast-compatible";
  if (!lhsIsVector)
    shape->push_back(lhsShape[lhsShape.size() - 2]);
  if (!rhsIsVector)
    shape->push_back(rhsShape.back());
  return refineRanked(op, 0, *shape, elementType);
}

LogicalResult MatMulOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  if (failed(checkSameElementType(*this, getOperands())))
    return failure();
  return inferMatMulLike(*this, getA(), getB(), getElementTypeOf(getA()));
}

LogicalResult MatMulIntegerOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferMatMulLike(*this, getA(), getB(),
                         IntegerType::get(getContext(), 32));
}

LogicalResult GemmOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  if (failed(checkSameElementType(*this, {getA(), getB()})))
    return failure();
  // Gemm is always 2-D: op(A) is (M, K), op(B) is (K, N).
  auto matrixDims =
      [&](Value operand, bool transposed,
          StringRef name) -> FailureOr<std::pair<int64_t, int64_t>> {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return std::make_pair(ShapedType::kDynamic, ShapedType::kDynamic);
    if (type.getRank() != 2)
      return emitOpError() << name << " must have rank 2, got " << type;
    if (transposed)
      return std::make_pair(type.getDimSize(1), type.getDimSize(0));
    return std::make_pair(type.getDimSize(0), type.getDimSize(1));
  };
  FailureOr<std::pair<int64_t, int64_t>> a =
      matrixDims(getA(), getTransA() != 0, "A");
  FailureOr<std::pair<int64_t, int64_t>> b =
      matrixDims(getB(), getTransB() != 0, "B");
  if (failed(a) || failed(b))
    return failure();
  auto [m, kA] = *a;
  auto [kB, n] = *b;
  if (!ShapedType::isDynamic(kA) && !ShapedType::isDynamic(kB) && kA != kB)
    return emitOpError("inner dimensions differ: op(A) is ")
           << m << "x" << kA << ", op(B) is " << kB << "x" << n;
  SmallVector<int64_t> shape = {m, n};
  // C broadcasts to (M, N) in one direction only; a static C dim other than
  // 1 pins the result dim.
  if (auto c = dyn_cast<RankedTensorType>(getC().getType())) {
    if (c.getRank() > 2)
      return emitOpError("C must have rank <= 2, got ") << c;
    for (int64_t i = 0; i < c.getRank(); ++i) {
      int64_t cDim = c.getDimSize(c.getRank() - 1 - i);
      int64_t &dim = shape[1 - i];
      if (ShapedType::isDynamic(cDim) || cDim == 1)
        continue;
      if (ShapedType::isDynamic(dim))
        dim = cDim;
      else if (dim != cDim)
        return emitOpError("C of type ")
               << c << " does not broadcast to " << m << "x" << n;
    }
  }
  return refineRanked(*this, 0, shape, getElementTypeOf(getA()));
}

LogicalResult MatMulNBitsOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  auto type = dyn_cast<RankedTensorType>(getA().getType());
  Type elementType = getElementTypeOf(getA());
  if (!type)
    return refineUnranked(*this, 0, elementType);
  if (type.getRank() == 0)
    return emitOpError("A must have rank >= 1");
  int64_t n = static_cast<int64_t>(getN());
  if (n < 1)
    return emitOpError("N must be positive, got ") << n;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = n;
  return refineRanked(*this, 0, shape, elementType);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto type = dyn_cast<RankedTensorType>(getData().getType());
  std::optional<ArrayRef<int64_t>> perm = getPerm();
  if (!type) {
    if (!perm)
      return refineUnranked(*this, 0, elementType);
    return refineRanked(
        *this, 0, SmallVector<int64_t>(perm->size(), ShapedType::kDynamic),
        elementType);
  }
  int64_t rank = type.getRank();
  SmallVector<int64_t> order;
  if (perm)
    order.assign(perm->begin(), perm->end());
  else
    order = llvm::to_vector(llvm::reverse(llvm::seq<int64_t>(0, rank)));
  if (static_cast<int64_t>(order.size()) != rank)
    return emitOpError("perm has ")
           << order.size() << " entries for an input of rank " << rank;
  SmallVector<int64_t> shape;
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t axis : order) {
    if (axis < 0 || axis >= rank || !seen.insert(axis).second)
      return emitOpError("perm is not a permutation of [0, ") << rank << ")";
    shape.push_back(type.getDimSize(axis));
  }
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult ReshapeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  std::optional<SmallVector<ShapeTensorEntry>> target =
      getShapeTensorEntries(getShape());
  if (!target)
    return refineUnranked(*this, 0, elementType);
  auto input = dyn_cast<RankedTensorType>(getData().getType());
  int64_t inputRank = input ? input.getRank() : 0;
  bool allowZero = getAllowzero() != 0;

  SmallVector<int64_t> shape;
  std::optional<size_t> inferredIndex;
  bool hasZero = false;
  // Output dims that are input dims (a 0 entry, or the Shape of the input
  // read back) appear on both sides of the element count, so they cancel
  // even when dynamic; each input dim cancels once.
  SmallVector<bool> copiedInput(inputRank, false);
  SmallVector<bool> copiedOutput(target->size(), false);
  auto copy = [&](size_t outputIndex, int64_t inputIndex) {
    shape.push_back(input.getDimSize(inputIndex));
    if (copiedInput[inputIndex])
      return;
    copiedInput[inputIndex] = true;
    copiedOutput[outputIndex] = true;
  };
  for (auto [i, entry] : llvm::enumerate(*target)) {
    if (!entry.isKnown()) {
      if (input && entry.source == getData() && entry.dim < inputRank)
        copy(i, entry.dim);
      else
        shape.push_back(ShapedType::kDynamic);
      continue;
    }
    int64_t value = *entry.value;
    if (value == -1) {
      if (inferredIndex)
        return emitOpError("shape has more than one -1 entry");
      inferredIndex = i;
      shape.push_back(ShapedType::kDynamic);
    } else if (value == 0 && !allowZero) {
      if (!input)
        shape.push_back(ShapedType::kDynamic);
      else if (static_cast<int64_t>(i) < inputRank)
        copy(i, i);
      else
        return emitOpError("shape entry ")
               << i << " is 0 (copy) but the input has rank " << inputRank;
    } else if (value < -1) {
      return emitOpError("shape entry ") << i << " is invalid: " << value;
    } else {
      hasZero |= value == 0;
      shape.push_back(value);
    }
  }
  if (allowZero && hasZero && inferredIndex)
    return emitOpError("shape has both 0 and -1 entries with allowzero = 1");

  // Element counts of input and output without the dims that cancel.
  std::optional<int64_t> inputCount, outputCount = 1;
  if (input) {
    inputCount = 1;
    for (auto [i, dim] : llvm::enumerate(input.getShape())) {
      if (copiedInput[i])
        continue;
      if (ShapedType::isDynamic(dim)) {
        inputCount.reset();
        break;
      }
      if (!(inputCount = llvm::checkedMul(*inputCount, dim)))
        return emitOpError("input ") << input << " has more than 2^63 elements";
    }
  }
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (copiedOutput[i] || (inferredIndex && *inferredIndex == i))
      continue;
    if (ShapedType::isDynamic(dim)) {
      outputCount.reset();
      break;
    }
    if (!(outputCount = llvm::checkedMul(*outputCount, dim)))
      return emitOpError("shape ") << RankedTensorType::get(shape, elementType)
                                   << " has more than 2^63 elements";
  }
  if (inputCount && outputCount) {
    auto mismatch = [&](StringRef why) {
      return emitOpError("cannot reshape ")
             << input << " into " << RankedTensorType::get(shape, elementType)
             << ": " << why;
    };
    if (inferredIndex) {
      if (*outputCount == 0 || *inputCount % *outputCount != 0)
        return mismatch("no size for the -1 entry fits the element count");
      shape[*inferredIndex] = *inputCount / *outputCount;
    } else if (*inputCount != *outputCount) {
      return mismatch("the element counts differ");
    }
  }
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult FlattenOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getInput());
  auto type = dyn_cast<RankedTensorType>(getInput().getType());
  if (!type)
    return refineRanked(*this, 0, {ShapedType::kDynamic, ShapedType::kDynamic},
                        elementType);
  int64_t rank = type.getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  // Flatten's axis may equal the rank (everything goes to the outer dim).
  if (axis < -rank || axis > rank)
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  ArrayRef<int64_t> shape = type.getShape();
  return refineRanked(*this, 0,
                      {getProductOrDynamic(shape.take_front(axis)),
                       getProductOrDynamic(shape.drop_front(axis))},
                      elementType);
}

LogicalResult SqueezeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto type = dyn_cast<RankedTensorType>(getData().getType());
  if (!type)
    return refineUnranked(*this, 0, elementType);
  int64_t rank = type.getRank();
  SmallVector<bool> squeezed(rank, false);
  if (isNoValue(getAxes())) {
    // Without axes every size-1 dim goes; a dynamic dim makes the rank
    // unknown.
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      if (ShapedType::isDynamic(dim))
        return refineUnranked(*this, 0, elementType);
      squeezed[i] = dim == 1;
    }
  } else if (std::optional<SmallVector<int64_t>> axes =
                 getConstantIntValues(getAxes())) {
    for (int64_t axis : *axes) {
      FailureOr<int64_t> normalized = getNormalizedAxis(*this, axis, rank);
      if (failed(normalized))
        return failure();
      if (squeezed[*normalized])
        return emitOpError("axis ") << axis << " is repeated";
      int64_t dim = type.getDimSize(*normalized);
      if (!ShapedType::isDynamic(dim) && dim != 1)
        return emitOpError("cannot squeeze dimension ")
               << *normalized << " of size " << dim;
      squeezed[*normalized] = true;
    }
  } else {
    // Unknown axes: only their count tells the result rank.
    auto axesType = dyn_cast<RankedTensorType>(getAxes().getType());
    if (!axesType || !axesType.hasStaticShape() ||
        axesType.getNumElements() == 0 || axesType.getNumElements() > rank)
      return refineUnranked(*this, 0, elementType);
    return refineRanked(*this, 0,
                        SmallVector<int64_t>(rank - axesType.getNumElements(),
                                             ShapedType::kDynamic),
                        elementType);
  }
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.getShape()))
    if (!squeezed[i])
      shape.push_back(dim);
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult UnsqueezeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto type = dyn_cast<RankedTensorType>(getData().getType());
  if (!type)
    return refineUnranked(*this, 0, elementType);
  std::optional<SmallVector<int64_t>> axes = getConstantIntValues(getAxes());
  if (!axes) {
    auto axesType = dyn_cast<RankedTensorType>(getAxes().getType());
    if (!axesType || !axesType.hasStaticShape())
      return refineUnranked(*this, 0, elementType);
    return refineRanked(
        *this, 0,
        SmallVector<int64_t>(type.getRank() + axesType.getNumElements(),
                             ShapedType::kDynamic),
        elementType);
  }
  // Axes index the output, whose rank counts the inserted dims.
  int64_t rank = type.getRank() + static_cast<int64_t>(axes->size());
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : *axes) {
    FailureOr<int64_t> normalized = getNormalizedAxis(*this, axis, rank);
    if (failed(normalized))
      return failure();
    if (inserted[*normalized])
      return emitOpError("axis ") << axis << " is repeated";
    inserted[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> inputShape = type.getShape();
  for (int64_t i = 0; i < rank; ++i) {
    if (inserted[i]) {
      shape.push_back(1);
    } else {
      shape.push_back(inputShape.front());
      inputShape = inputShape.drop_front();
    }
  }
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult ConcatOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  if (failed(checkSameElementType(*this, getInputs())))
    return failure();
  Type elementType = getElementTypeOf(getInputs().front());
  std::optional<int64_t> rank;
  for (Value input : getInputs()) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    if (!type)
      continue;
    if (rank && *rank != type.getRank())
      return emitOpError("inputs have different ranks: ")
             << *rank << " and " << type.getRank();
    rank = type.getRank();
  }
  if (!rank)
    return refineUnranked(*this, 0, elementType);
  FailureOr<int64_t> axis =
      getNormalizedAxis(*this, static_cast<int64_t>(getAxis()), *rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(*rank, ShapedType::kDynamic);
  int64_t axisSize = 0;
  for (Value input : getInputs()) {
    auto type = dyn_cast<RankedTensorType>(input.getType());
    if (!type) {
      axisSize = ShapedType::kDynamic;
      continue;
    }
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      if (static_cast<int64_t>(i) == *axis) {
        if (ShapedType::isDynamic(dim) || ShapedType::isDynamic(axisSize))
          axisSize = ShapedType::kDynamic;
        else
          axisSize += dim;
      } else if (ShapedType::isDynamic(shape[i])) {
        shape[i] = dim;
      } else if (!ShapedType::isDynamic(dim) && dim != shape[i]) {
        return emitOpError("inputs differ in dimension ")
               << i << ": " << shape[i] << " vs " << dim;
      }
    }
  }
  shape[*axis] = axisSize;
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult SplitOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getInput());
  unsigned numResults = getNumResults();
  if (numResults == 0)
    return emitOpError("needs at least one result");
  auto type = dyn_cast<RankedTensorType>(getInput().getType());
  if (!type) {
    for (unsigned i = 0; i < numResults; ++i)
      if (failed(refineUnranked(*this, i, elementType)))
        return failure();
    return success();
  }
  FailureOr<int64_t> axis =
      getNormalizedAxis(*this, static_cast<int64_t>(getAxis()), type.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = type.getDimSize(*axis);

  SmallVector<int64_t> sizes(numResults, ShapedType::kDynamic);
  if (!isNoValue(getSplit())) {
    if (std::optional<SmallVector<int64_t>> split =
            getConstantIntValues(getSplit())) {
      if (split->size() != numResults)
        return emitOpError("split has ")
               << split->size() << " entries for " << numResults << " results";
      int64_t total = 0;
      for (int64_t size : *split) {
        if (size < 0)
          return emitOpError("split has a negative entry ") << size;
        if (llvm::AddOverflow(total, size, total))
          return emitOpError("split sizes sum to more than 2^63");
      }
      if (!ShapedType::isDynamic(dim) && total != dim)
        return emitOpError("split sizes sum to ")
               << total << " but dimension " << *axis << " has size " << dim;
      sizes.assign(split->begin(), split->end());
    }
  } else if (!ShapedType::isDynamic(dim)) {
    int64_t parts = static_cast<int64_t>(numResults);
    if (getNumOutputs()) {
      // Opset 18: chunks of ceil(dim / n), the last one smaller.
      int64_t chunk = llvm::divideCeilSigned(dim, parts);
      int64_t last = dim - chunk * (parts - 1);
      if (last < 0)
        return emitOpError("cannot split dimension of size ")
               << dim << " into " << parts << " chunks of " << chunk;
      sizes.assign(numResults, chunk);
      sizes.back() = last;
    } else {
      if (dim % parts != 0)
        return emitOpError("cannot split dimension of size ")
               << dim << " into " << parts << " equal parts";
      sizes.assign(numResults, dim / parts);
    }
  }
  for (unsigned i = 0; i < numResults; ++i) {
    SmallVector<int64_t> shape(type.getShape());
    shape[*axis] = sizes[i];
    if (failed(refineRanked(*this, i, shape, elementType)))
      return failure();
  }
  return success();
}

LogicalResult SliceOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto type = dyn_cast<RankedTensorType>(getData().getType());
  if (!type)
    return refineUnranked(*this, 0, elementType);
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());

  // Bounds are often shape arithmetic (a length read with Shape), so each
  // entry may be known on its own. Entries rather than getShapeTensorValues:
  // INT64_MIN is a common end.
  using Entries = SmallVector<ShapeTensorEntry>;
  std::optional<Entries> starts = getShapeTensorEntries(getStarts());
  std::optional<Entries> ends = getShapeTensorEntries(getEnds());
  std::optional<Entries> steps;
  std::optional<SmallVector<int64_t>> axes;
  if (isNoValue(getAxes())) {
    // Default axes are [0, n) for n starts.
    if (starts)
      axes = llvm::to_vector(llvm::seq<int64_t>(0, starts->size()));
  } else {
    axes = getConstantIntValues(getAxes());
  }
  if (!axes) {
    // Which dims are sliced is unknown.
    return refineRanked(*this, 0,
                        SmallVector<int64_t>(rank, ShapedType::kDynamic),
                        elementType);
  }
  if (isNoValue(getSteps())) {
    ShapeTensorEntry one;
    one.value = 1;
    steps = Entries(axes->size(), one);
  } else {
    steps = getShapeTensorEntries(getSteps());
  }

  size_t count = axes->size();
  auto checkCount = [&](const std::optional<Entries> &entries,
                        StringRef name) -> LogicalResult {
    if (entries && entries->size() != count)
      return emitOpError() << name << " has " << entries->size()
                           << " entries, axes has " << count;
    return success();
  };
  if (failed(checkCount(starts, "starts")) ||
      failed(checkCount(ends, "ends")) || failed(checkCount(steps, "steps")))
    return failure();

  auto getKnown = [](const std::optional<Entries> &entries,
                     size_t i) -> std::optional<int64_t> {
    return entries ? (*entries)[i].value : std::nullopt;
  };
  llvm::SmallSet<int64_t, 8> seen;
  for (size_t i = 0; i < count; ++i) {
    FailureOr<int64_t> axis = getNormalizedAxis(*this, (*axes)[i], rank);
    if (failed(axis))
      return failure();
    if (!seen.insert(*axis).second)
      return emitOpError("axis ") << (*axes)[i] << " is repeated";
    std::optional<int64_t> start = getKnown(starts, i);
    std::optional<int64_t> end = getKnown(ends, i);
    std::optional<int64_t> step = getKnown(steps, i);
    if (step == 0)
      return emitOpError("step ") << i << " is 0";
    int64_t dim = type.getDimSize(*axis);
    if (!start || !end || !step) {
      shape[*axis] = ShapedType::kDynamic;
      continue;
    }
    if (!ShapedType::isDynamic(dim)) {
      shape[*axis] = computeSliceRange(*start, *end, *step, dim).size;
      continue;
    }
    // [0, INT64_MAX) by 1 keeps any dim whole, which exporters use for
    // "to the end".
    bool wholeDim = *step == 1 && *start == 0 &&
                    *end == std::numeric_limits<int64_t>::max();
    shape[*axis] = wholeDim ? dim : ShapedType::kDynamic;
  }
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult GatherOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  if (data && data.getRank() == 0)
    return emitOpError("data must have rank >= 1");
  if (!data || !indices)
    return refineUnranked(*this, 0, elementType);
  FailureOr<int64_t> axis =
      getNormalizedAxis(*this, static_cast<int64_t>(getAxis()), data.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = data.getDimSize(*axis);
  if (!ShapedType::isDynamic(dim)) {
    if (std::optional<SmallVector<int64_t>> values =
            getConstantIntValues(getIndices()))
      for (int64_t index : *values)
        if (index < -dim || index >= dim)
          return emitOpError("index ")
                 << index << " is out of bounds for dimension of size " << dim;
  }
  SmallVector<int64_t> shape(data.getShape().take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(*axis + 1));
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult GatherElementsOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  if (data && indices && data.getRank() != indices.getRank())
    return emitOpError("data and indices have different ranks: ")
           << data << " and " << indices;
  return inferShapeOf(*this, 0, getIndices(), getElementTypeOf(getData()));
}

LogicalResult GatherNDOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getData());
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  // The tuple length decides the rank: without it only the element type.
  if (!data || !indices || indices.isDynamicDim(indices.getRank() - 1))
    return refineUnranked(*this, 0, elementType);
  int64_t batchDims = static_cast<int64_t>(getBatchDims());
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  // A batch dim dynamic in the indices may be static in the data.
  for (int64_t dim = 0; dim < batchDims; ++dim)
    if (ShapedType::isDynamic(shape[dim]))
      shape[dim] = data.getDimSize(dim);
  llvm::append_range(
      shape, data.getShape().drop_front(batchDims + indices.getShape().back()));
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult GatherBlockQuantizedOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getScales());
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  if (!data || !indices)
    return refineUnranked(*this, 0, elementType);
  // The logical shape: uint8 bytes hold 8 / bits codes along the last axis.
  SmallVector<int64_t> logical(data.getShape());
  if (getElementTypeOf(getData()).isUnsignedInteger(8) &&
      !ShapedType::isDynamic(logical.back()))
    logical.back() *= 8 / static_cast<int64_t>(getBits());
  FailureOr<int64_t> axis = getNormalizedAxis(
      *this, static_cast<int64_t>(getGatherAxis()), data.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(ArrayRef<int64_t>(logical).take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, ArrayRef<int64_t>(logical).drop_front(*axis + 1));
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult ExpandOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getInput());
  FailureOr<std::optional<SmallVector<int64_t>>> target =
      getShapeOperandDims(*this, getShape(), "shape");
  if (failed(target))
    return failure();
  auto type = dyn_cast<RankedTensorType>(getInput().getType());
  if (!*target || !type)
    return refineUnranked(*this, 0, elementType);
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(type.getShape(), **target);
  if (!shape)
    return emitOpError("input of type ")
           << type << " does not broadcast to the requested shape";
  return refineRanked(*this, 0, *shape, elementType);
}

LogicalResult TileOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getInput());
  FailureOr<std::optional<SmallVector<int64_t>>> repeats =
      getShapeOperandDims(*this, getRepeats(), "repeats");
  if (failed(repeats))
    return failure();
  auto type = dyn_cast<RankedTensorType>(getInput().getType());
  if (!type) {
    if (!*repeats)
      return refineUnranked(*this, 0, elementType);
    return refineRanked(
        *this, 0,
        SmallVector<int64_t>((*repeats)->size(), ShapedType::kDynamic),
        elementType);
  }
  if (!*repeats)
    return refineRanked(
        *this, 0, SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic),
        elementType);
  if (static_cast<int64_t>((*repeats)->size()) != type.getRank())
    return emitOpError("repeats has ")
           << (*repeats)->size() << " entries for an input of rank "
           << type.getRank();
  SmallVector<int64_t> shape;
  for (auto [dim, repeat] : llvm::zip_equal(type.getShape(), **repeats)) {
    if (repeat == 0)
      shape.push_back(0);
    else if (repeat == 1)
      shape.push_back(dim);
    else if (ShapedType::isDynamic(dim) || ShapedType::isDynamic(repeat))
      shape.push_back(ShapedType::kDynamic);
    else
      shape.push_back(dim * repeat);
  }
  return refineRanked(*this, 0, shape, elementType);
}

LogicalResult ShapeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type i64 = IntegerType::get(getContext(), 64);
  auto type = dyn_cast<RankedTensorType>(getData().getType());
  if (!type)
    return refineRanked(*this, 0, {ShapedType::kDynamic}, i64);
  std::optional<int64_t> end;
  if (std::optional<uint64_t> endAttr = getEnd())
    end = static_cast<int64_t>(*endAttr);
  auto [first, last] = computeShapeOpRange(static_cast<int64_t>(getStart()),
                                           end, type.getRank());
  return refineRanked(*this, 0, {last - first}, i64);
}

LogicalResult SizeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return refineRanked(*this, 0, {}, IntegerType::get(getContext(), 64));
}

LogicalResult ConstantOfShapeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = Float32Type::get(getContext());
  if (std::optional<ElementsAttr> value = getValue())
    elementType = value->getElementType();
  FailureOr<std::optional<SmallVector<int64_t>>> shape =
      getShapeOperandDims(*this, getInput(), "shape");
  if (failed(shape))
    return failure();
  if (!*shape)
    return refineUnranked(*this, 0, elementType);
  return refineRanked(*this, 0, **shape, elementType);
}

LogicalResult RangeOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  if (failed(checkSameElementType(*this, getOperands())))
    return failure();
  Type elementType = getElementTypeOf(getStart());
  auto fail = [&]() {
    return emitOpError("needs scalar start, limit and delta of one type, "
                       "and a nonzero delta");
  };
  std::optional<int64_t> length;
  Attribute start, limit, delta;
  if (matchPattern(getStart(), m_Constant(&start)) &&
      matchPattern(getLimit(), m_Constant(&limit)) &&
      matchPattern(getDelta(), m_Constant(&delta))) {
    length = computeRangeLength(start, limit, delta);
    if (!length)
      return fail();
  } else if (isa<IntegerType>(elementType)) {
    // Integer bounds are often shape arithmetic (a sequence length read
    // with Shape), known although not constant.
    auto getKnownScalar = [](Value value) -> std::optional<int64_t> {
      std::optional<SmallVector<int64_t>> values = getShapeTensorValues(value);
      if (!values || values->size() != 1 ||
          ShapedType::isDynamic(values->front()))
        return std::nullopt;
      return values->front();
    };
    std::optional<int64_t> first = getKnownScalar(getStart());
    std::optional<int64_t> bound = getKnownScalar(getLimit());
    std::optional<int64_t> step = getKnownScalar(getDelta());
    if (first && bound && step) {
      length = computeRangeLength(*first, *bound, *step);
      if (!length)
        return fail();
    }
  }
  return refineRanked(*this, 0, {length.value_or(ShapedType::kDynamic)},
                      elementType);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// ReduceMean/Sum/Max/Min (opset 18: axes is an optional input).
template <typename ReduceOpT> static LogicalResult inferReduce(ReduceOpT op) {
  Value data = op.getData();
  Type elementType = getElementTypeOf(data);
  auto type = dyn_cast<RankedTensorType>(data.getType());
  bool keepDims = op.getKeepdims() != 0;

  std::optional<SmallVector<int64_t>> axes;
  bool reduceAll = isNoValue(op.getAxes());
  if (!reduceAll) {
    axes = getConstantIntValues(op.getAxes());
    auto axesType = dyn_cast<RankedTensorType>(op.getAxes().getType());
    reduceAll =
        (axes && axes->empty()) || (axesType && axesType.hasStaticShape() &&
                                    axesType.getNumElements() == 0);
  }
  if (reduceAll) {
    // Empty axes: identity with noop_with_empty_axes, else reduce all dims.
    if (op.getNoopWithEmptyAxes() != 0)
      return inferSameAs(op, data);
    if (!keepDims)
      return refineRanked(op, 0, {}, elementType);
    if (!type)
      return refineUnranked(op, 0, elementType);
    return refineRanked(op, 0, SmallVector<int64_t>(type.getRank(), 1),
                        elementType);
  }
  if (!type)
    return refineUnranked(op, 0, elementType);
  int64_t rank = type.getRank();
  if (!axes) {
    // Unknown axes: a kept dim is either itself or 1, so only 1 survives.
    if (keepDims) {
      SmallVector<int64_t> shape;
      for (int64_t dim : type.getShape())
        shape.push_back(dim == 1 ? 1 : ShapedType::kDynamic);
      return refineRanked(op, 0, shape, elementType);
    }
    auto axesType = dyn_cast<RankedTensorType>(op.getAxes().getType());
    if (!axesType || !axesType.hasStaticShape() ||
        axesType.getNumElements() > rank)
      return refineUnranked(op, 0, elementType);
    return refineRanked(op, 0,
                        SmallVector<int64_t>(rank - axesType.getNumElements(),
                                             ShapedType::kDynamic),
                        elementType);
  }
  FailureOr<SmallVector<int64_t>> reduced =
      normalizeAxes(*axes, rank, [&] { return op.emitOpError(); });
  if (failed(reduced))
    return failure();
  return refineRanked(
      op, 0, getReducedShape(type.getShape(), *reduced, keepDims), elementType);
}

LogicalResult ReduceMeanOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferReduce(*this);
}
LogicalResult ReduceSumOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferReduce(*this);
}
LogicalResult ReduceMaxOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferReduce(*this);
}
LogicalResult ReduceMinOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  return inferReduce(*this);
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// The element type of statistics stashed in `stashType` (an ONNX data type
/// code), reporting an unusable code on `op`.
static FailureOr<Type> getStashElementType(Operation *op, int64_t stashType) {
  Type type = getElementType(op->getContext(), stashType);
  if (!type || !isa<FloatType>(type))
    return op->emitOpError("stash_type ")
           << stashType << " is not a floating-point data type";
  return type;
}

/// Result `index` holds per-row statistics of `input`: its shape with the
/// normalised dims (from `axis` on) set to 1.
static LogicalResult inferStatistics(Operation *op, unsigned index, Value input,
                                     int64_t axis, Type elementType) {
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (!type)
    return refineUnranked(op, index, elementType);
  FailureOr<int64_t> first = getNormalizedAxis(op, axis, type.getRank());
  if (failed(first))
    return failure();
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t i = *first; i < type.getRank(); ++i)
    shape[i] = 1;
  return refineRanked(op, index, shape, elementType);
}

LogicalResult LayerNormalizationOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  FailureOr<Type> stash =
      getStashElementType(*this, static_cast<int64_t>(getStashType()));
  if (failed(stash))
    return failure();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (failed(inferSameAs(*this, getX())) ||
      failed(inferStatistics(*this, 1, getX(), axis, *stash)) ||
      failed(inferStatistics(*this, 2, getX(), axis, *stash)))
    return failure();
  return success();
}

LogicalResult SimplifiedLayerNormalizationOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  FailureOr<Type> stash =
      getStashElementType(*this, static_cast<int64_t>(getStashType()));
  if (failed(stash))
    return failure();
  if (failed(inferSameAs(*this, getX())) ||
      failed(inferStatistics(*this, 1, getX(), static_cast<int64_t>(getAxis()),
                             *stash)))
    return failure();
  return success();
}

LogicalResult SkipSimplifiedLayerNormalizationOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  // As ONNX Runtime: output and the residual sum are like the input, the
  // statistics are float with the last (normalised) dim 1.
  Type f32 = Float32Type::get(getContext());
  if (failed(inferSameAs(*this, getInput())) ||
      failed(inferStatistics(*this, 1, getInput(), -1, f32)) ||
      failed(inferStatistics(*this, 2, getInput(), -1, f32)) ||
      failed(inferShapeOf(*this, 3, getInput(), getElementTypeOf(getInput()))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyLossOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getScores());
  // The per-element losses have the labels' shape; reduced, a scalar.
  LogicalResult output = getReduction() == "none"
                             ? inferShapeOf(*this, 0, getLabels(), elementType)
                             : refineRanked(*this, 0, {}, elementType);
  if (failed(output) ||
      failed(inferShapeOf(*this, 1, getScores(), elementType)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

LogicalResult QuantizeLinearOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType;
  if (!isNoValue(getYZeroPoint())) {
    elementType = getElementTypeOf(getYZeroPoint());
  } else if (int64_t code = static_cast<int64_t>(getOutputDtype())) {
    elementType = getElementType(getContext(), code);
    if (!elementType)
      return emitOpError("unsupported output_dtype ") << code;
  } else {
    elementType = IntegerType::get(getContext(), 8, IntegerType::Unsigned);
  }
  return inferShapeOf(*this, 0, getX(), elementType);
}

LogicalResult DequantizeLinearOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type elementType = getElementTypeOf(getXScale());
  if (int64_t code = static_cast<int64_t>(getOutputDtype())) {
    elementType = getElementType(getContext(), code);
    if (!elementType)
      return emitOpError("unsupported output_dtype ") << code;
  }
  return inferShapeOf(*this, 0, getX(), elementType);
}

LogicalResult DynamicQuantizeLinearOp::inferShapes() {
  if (failed(verifyInvariantsImpl()))
    return failure();
  Type u8 = IntegerType::get(getContext(), 8, IntegerType::Unsigned);
  if (failed(inferShapeOf(*this, 0, getX(), u8)) ||
      failed(refineRanked(*this, 1, {}, Float32Type::get(getContext()))) ||
      failed(refineRanked(*this, 2, {}, u8)))
    return failure();
  return success();
}
