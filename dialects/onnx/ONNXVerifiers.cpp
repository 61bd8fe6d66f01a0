//===- ONNXVerifiers.cpp - invariants of onnx ops -------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// `verify()` of the onnx ops that declare one: attribute values and the
// ranks and element types ONNX requires of operands. They check only what a
// type states (an unranked or dynamic operand passes), and never look at
// operand values: what follows from constants is shape inference's job.
//
//===----------------------------------------------------------------------===//

#include "ONNXOpsUtils.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXTypes.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/CheckedArithmetic.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace qaf::onnx;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The rank of `value` if it is a ranked tensor.
static std::optional<int64_t> getRank(Value value) {
  if (auto type = dyn_cast<RankedTensorType>(value.getType()))
    return type.getRank();
  return std::nullopt;
}

static bool isNoValue(Value value) { return isa<NoneType>(value.getType()); }

static Type getElementTypeOf(Value value) {
  return cast<TensorType>(value.getType()).getElementType();
}

/// `axis` must lie in [-rank, rank) when `operand` is ranked.
static LogicalResult verifyAxis(Operation *op, int64_t axis, Value operand,
                                StringRef name = "axis") {
  std::optional<int64_t> rank = getRank(operand);
  if (rank && !normalizeAxis(axis, *rank))
    return op->emitOpError()
           << name << " " << axis << " is out of range [" << -*rank << ", "
           << *rank << ") for an operand of rank " << *rank;
  return success();
}

/// A 0/1 flag attribute must be 0 or 1.
static LogicalResult verifyFlag(Operation *op, StringRef name, uint64_t value) {
  if (value > 1)
    return op->emitOpError()
           << name << " must be 0 or 1, got " << static_cast<int64_t>(value);
  return success();
}

/// `value`, when ranked, must have rank `rank`.
static LogicalResult verifyRank(Operation *op, Value value, int64_t rank,
                                StringRef name) {
  std::optional<int64_t> actual = getRank(value);
  if (actual && *actual != rank)
    return op->emitOpError()
           << name << " must have rank " << rank << ", got " << value.getType();
  return success();
}

/// Rotary cos/sin caches (RotaryEmbedding, GroupQueryAttention): both rank 2
/// and of one shape.
static LogicalResult verifyRotaryCaches(Operation *op, Value cosCache,
                                        Value sinCache) {
  if (failed(verifyRank(op, cosCache, 2, "cos_cache")) ||
      failed(verifyRank(op, sinCache, 2, "sin_cache")))
    return failure();
  auto cos = dyn_cast<RankedTensorType>(cosCache.getType());
  auto sin = dyn_cast<RankedTensorType>(sinCache.getType());
  if (cos && sin && failed(verifyCompatibleShape(cos, sin)))
    return op->emitOpError("cos_cache and sin_cache shapes differ: ")
           << cos << " vs " << sin;
  return success();
}

/// `value`, when ranked and static there, must have size `size` in `dim`.
static LogicalResult verifyDimSize(Operation *op, Value value, int64_t dim,
                                   int64_t size, StringRef name) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || dim >= type.getRank() || type.isDynamicDim(dim) ||
      ShapedType::isDynamic(size))
    return success();
  if (type.getDimSize(dim) != size)
    return op->emitOpError() << name << " must have size " << size
                             << " in dimension " << dim << ", got " << type;
  return success();
}

static LogicalResult verifyIndicesType(Operation *op, Value indices) {
  Type type = getElementTypeOf(indices);
  if (!type.isSignlessInteger(32) && !type.isSignlessInteger(64))
    return op->emitOpError("indices must be int32 or int64, got ") << type;
  return success();
}

/// The stash_type of the normalisations: a float ONNX data type code.
static LogicalResult verifyStashType(Operation *op, uint64_t stashType) {
  Type type = getElementType(op->getContext(), stashType);
  if (!type || !isa<FloatType>(type))
    return op->emitOpError("stash_type ")
           << static_cast<int64_t>(stashType)
           << " is not a floating-point ONNX data type";
  return success();
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

LogicalResult GeluOp::verify() {
  StringRef approximate = getApproximate();
  if (approximate != "none" && approximate != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << approximate << "\"";
  return success();
}

LogicalResult IsNaNOp::verify() {
  if (!isa<FloatType>(getElementTypeOf(getX())))
    return emitOpError("X must have a float element type, got ")
           << getX().getType();
  if (!getElementTypeOf(getY()).isInteger(1))
    return emitOpError("Y must have a bool (i1) element type, got ")
           << getY().getType();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getInput());
}

LogicalResult LogSoftmaxOp::verify() {
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getInput());
}

LogicalResult MaxOp::verify() {
  if (getData_0().empty())
    return emitOpError("needs at least one input");
  return success();
}

LogicalResult MinOp::verify() {
  if (getData_0().empty())
    return emitOpError("needs at least one input");
  return success();
}

LogicalResult CastOp::verify() {
  int64_t to = static_cast<int64_t>(getTo());
  Type target = getElementType(getContext(), to);
  if (!target)
    return emitOpError("'to' is ") << to << " (" << getDataTypeName(to)
                                   << "), not a data type qaf supports";
  Type result = getElementTypeOf(getOutput());
  if (result != target)
    return emitOpError("result element type ")
           << result << " differs from 'to' = " << to << " ("
           << getDataTypeName(to) << ", " << target << ")";
  return verifyFlag(*this, "saturate", getSaturate());
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::verify() {
  if (getRank(getA()) == 0 || getRank(getB()) == 0)
    return emitOpError("operands must have rank >= 1");
  return success();
}

LogicalResult GemmOp::verify() {
  if (failed(verifyRank(*this, getA(), 2, "A")) ||
      failed(verifyRank(*this, getB(), 2, "B")) ||
      failed(verifyFlag(*this, "transA", getTransA())) ||
      failed(verifyFlag(*this, "transB", getTransB())))
    return failure();
  if (std::optional<int64_t> rank = getRank(getC()); rank && *rank > 2)
    return emitOpError("C must have rank <= 2, got ") << getC().getType();
  return success();
}

LogicalResult MatMulIntegerOp::verify() {
  if (getRank(getA()) == 0 || getRank(getB()) == 0)
    return emitOpError("operands must have rank >= 1");
  auto verifyOperand = [&](Value operand, Value zeroPoint,
                           StringRef name) -> LogicalResult {
    auto type = dyn_cast<IntegerType>(getElementTypeOf(operand));
    if (!type || type.getWidth() != 8 || type.isSigned())
      return emitOpError() << name << " must be int8 or uint8, got "
                           << getElementTypeOf(operand);
    if (!isNoValue(zeroPoint) && getElementTypeOf(zeroPoint) != type)
      return emitOpError() << name << "_zero_point must have element type "
                           << type << ", got " << getElementTypeOf(zeroPoint);
    return success();
  };
  if (failed(verifyOperand(getA(), getAZeroPoint(), "a")) ||
      failed(verifyOperand(getB(), getBZeroPoint(), "b")))
    return failure();
  return success();
}

LogicalResult MatMulNBitsOp::verify() {
  int64_t bits = static_cast<int64_t>(getBits());
  int64_t blockSize = static_cast<int64_t>(getBlockSize());
  int64_t k = static_cast<int64_t>(getK());
  int64_t n = static_cast<int64_t>(getN());
  // ONNX Runtime's kernels take 2, 4 and 8 bits; qaf stores 3-bit codes in
  // the 4-bit container.
  if (bits != 2 && bits != 4 && bits != 8)
    return emitOpError("bits must be 2, 4 or 8 (the widths ONNX Runtime "
                       "implements), got ")
           << bits;
  if (blockSize < 16 || !llvm::isPowerOf2_64(blockSize))
    return emitOpError("block_size must be a power of two >= 16, got ")
           << blockSize;
  if (k < 1 || n < 1)
    return emitOpError("K and N must be positive, got K = ")
           << k << ", N = " << n;
  if (static_cast<int64_t>(getAccuracyLevel()) > 4)
    return emitOpError("accuracy_level must be in [0, 4], got ")
           << static_cast<int64_t>(getAccuracyLevel());
  // K, N and block_size may be anything up to 2^63: no sum or product of
  // them may overflow.
  int64_t blocks = llvm::divideCeilSigned(k, blockSize);
  int64_t blobSize = blockSize / 8 * bits;

  if (getRank(getA()) == 0)
    return emitOpError("A must have rank >= 1");
  if (std::optional<int64_t> rank = getRank(getA()))
    if (failed(verifyDimSize(*this, getA(), *rank - 1, k, "A")))
      return failure();
  if (failed(verifyRank(*this, getB(), 3, "B")) ||
      failed(verifyDimSize(*this, getB(), 0, n, "B")) ||
      failed(verifyDimSize(*this, getB(), 1, blocks, "B")) ||
      failed(verifyDimSize(*this, getB(), 2, blobSize, "B")))
    return failure();

  // Scales are (N * k_blocks) or (N, k_blocks).
  auto scales = dyn_cast<RankedTensorType>(getScales().getType());
  if (scales) {
    if (scales.getRank() != 1 && scales.getRank() != 2)
      return emitOpError("scales must have rank 1 or 2, got ") << scales;
    std::optional<int64_t> scaleCount = llvm::checkedMul(n, blocks);
    if (!scaleCount)
      return emitOpError("N * ceil(K / block_size) = ")
             << n << " * " << blocks << " scales are more than 2^63";
    if (scales.hasStaticShape() && scales.getNumElements() != *scaleCount)
      return emitOpError("scales must hold N * ceil(K / block_size) = ")
             << *scaleCount << " values, got " << scales;
  }
  if (!isNoValue(getBias()) &&
      (failed(verifyRank(*this, getBias(), 1, "bias")) ||
       failed(verifyDimSize(*this, getBias(), 0, n, "bias"))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  std::optional<ArrayRef<int64_t>> perm = getPerm();
  if (!perm)
    return success();
  int64_t size = static_cast<int64_t>(perm->size());
  std::optional<int64_t> rank = getRank(getData());
  if (rank && *rank != size)
    return emitOpError("perm has ")
           << size << " entries for an input of rank " << *rank;
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t axis : *perm)
    if (axis < 0 || axis >= size || !seen.insert(axis).second)
      return emitOpError("perm is not a permutation of [0, ") << size << ")";
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (failed(verifyRank(*this, getShape(), 1, "shape")))
    return failure();
  if (!getElementTypeOf(getShape()).isSignlessInteger(64))
    return emitOpError("shape must be int64, got ") << getShape().getType();
  return verifyFlag(*this, "allowzero", getAllowzero());
}

LogicalResult FlattenOp::verify() {
  std::optional<int64_t> rank = getRank(getInput());
  int64_t axis = static_cast<int64_t>(getAxis());
  // Unlike most axes, Flatten's may equal the rank.
  if (rank && (axis < -*rank || axis > *rank))
    return emitOpError("axis ")
           << axis << " is out of range [" << -*rank << ", " << *rank << "]";
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  std::optional<int64_t> rank;
  for (Value input : getInputs()) {
    std::optional<int64_t> inputRank = getRank(input);
    if (!inputRank)
      continue;
    if (rank && *rank != *inputRank)
      return emitOpError("inputs have different ranks: ")
             << *rank << " and " << *inputRank;
    rank = inputRank;
    if (failed(verifyAxis(*this, static_cast<int64_t>(getAxis()), input)))
      return failure();
  }
  return success();
}

LogicalResult SplitOp::verify() {
  if (getNumResults() == 0)
    return emitOpError("needs at least one result");
  if (std::optional<uint64_t> numOutputs = getNumOutputs()) {
    if (!isNoValue(getSplit()))
      return emitOpError("takes either the split input or num_outputs, not "
                         "both");
    if (*numOutputs != getNumResults())
      return emitOpError("num_outputs is ")
             << static_cast<int64_t>(*numOutputs) << " but the op has "
             << getNumResults() << " results";
  }
  if (!isNoValue(getSplit()) &&
      (failed(verifyRank(*this, getSplit(), 1, "split")) ||
       failed(verifyDimSize(*this, getSplit(), 0, getNumResults(), "split"))))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getInput());
}

LogicalResult GatherOp::verify() {
  if (getRank(getData()) == 0)
    return emitOpError("data must have rank >= 1");
  if (failed(verifyIndicesType(*this, getIndices())))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getData());
}

LogicalResult GatherElementsOp::verify() {
  std::optional<int64_t> dataRank = getRank(getData());
  std::optional<int64_t> indicesRank = getRank(getIndices());
  if (dataRank && indicesRank && *dataRank != *indicesRank)
    return emitOpError("data and indices must have the same rank, got ")
           << *dataRank << " and " << *indicesRank;
  if (failed(verifyIndicesType(*this, getIndices())))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getData());
}

LogicalResult GatherNDOp::verify() {
  if (!getElementTypeOf(getIndices()).isInteger(64))
    return emitOpError("indices must be int64, got ") << getIndices().getType();
  int64_t batchDims = static_cast<int64_t>(getBatchDims());
  std::optional<int64_t> dataRank = getRank(getData());
  std::optional<int64_t> indicesRank = getRank(getIndices());
  if (dataRank && *dataRank == 0)
    return emitOpError("data must have rank >= 1");
  if (indicesRank && *indicesRank == 0)
    return emitOpError("indices must have rank >= 1");
  if (batchDims < 0 || (dataRank && batchDims >= *dataRank) ||
      (indicesRank && batchDims >= *indicesRank))
    return emitOpError("batch_dims ")
           << batchDims
           << " must lie in [0, min(rank of data, rank of indices))";
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  if (!data || !indices)
    return success();
  for (int64_t dim = 0; dim < batchDims; ++dim)
    if (!data.isDynamicDim(dim) && !indices.isDynamicDim(dim) &&
        data.getDimSize(dim) != indices.getDimSize(dim))
      return emitOpError("batch dim ")
             << dim << " has size " << data.getDimSize(dim) << " in data but "
             << indices.getDimSize(dim) << " in indices";
  int64_t tupleLength = indices.getShape().back();
  if (!ShapedType::isDynamic(tupleLength) &&
      batchDims + tupleLength > data.getRank())
    return emitOpError("index tuples of length ")
           << tupleLength << " after " << batchDims
           << " batch dims exceed the data's rank " << data.getRank();
  return success();
}

LogicalResult GatherBlockQuantizedOp::verify() {
  int64_t bits = static_cast<int64_t>(getBits());
  int64_t blockSize = static_cast<int64_t>(getBlockSize());
  if (bits != 4 && bits != 8)
    return emitOpError("bits must be 4 or 8, got ") << bits;
  if (blockSize < 16 || !llvm::isPowerOf2_64(blockSize))
    return emitOpError("block_size must be a power of 2 and at least 16, got ")
           << blockSize;
  Type dataElement = getElementTypeOf(getData());
  bool packed = dataElement.isUnsignedInteger(8);
  // int4 and uint4 (signless and unsigned 4-bit integers in the IR).
  auto narrow = dyn_cast<IntegerType>(dataElement);
  if (!packed && !(narrow && narrow.getWidth() == 4))
    return emitOpError("data must be uint8, int4 or uint4, got ")
           << getData().getType();
  if (!packed && bits != 4)
    return emitOpError("int4/uint4 data needs bits 4, got ") << bits;
  if (!isa<FloatType>(getElementTypeOf(getScales())))
    return emitOpError("scales must be float, float16 or bfloat16, got ")
           << getScales().getType();
  if (!isNoValue(getZeroPoints()) &&
      getElementTypeOf(getZeroPoints()) != dataElement)
    return emitOpError("zero_points must have data's element type, got ")
           << getZeroPoints().getType();
  if (failed(verifyIndicesType(*this, getIndices())))
    return failure();
  std::optional<int64_t> rank = getRank(getData());
  if (!rank)
    return success();
  if (*rank == 0)
    return emitOpError("data must have rank >= 1");
  if (failed(verifyAxis(*this, static_cast<int64_t>(getGatherAxis()), getData(),
                        "gather_axis")) ||
      failed(verifyAxis(*this, static_cast<int64_t>(getQuantizeAxis()),
                        getData(), "quantize_axis")))
    return failure();
  if (std::optional<int64_t> scalesRank = getRank(getScales());
      scalesRank && *scalesRank != *rank)
    return emitOpError("scales must have data's rank ") << *rank;
  if (packed &&
      (*normalizeAxis(static_cast<int64_t>(getGatherAxis()), *rank) != 0 ||
       *normalizeAxis(static_cast<int64_t>(getQuantizeAxis()), *rank) !=
           *rank - 1))
    return emitOpError("uint8 data needs gather_axis 0 and quantize_axis the "
                       "last axis (its codes are packed along it)");
  return success();
}

LogicalResult ExpandOp::verify() {
  // The result has rank max(input rank, length of shape).
  if (failed(verifyRank(*this, getShape(), 1, "shape")))
    return failure();
  std::optional<int64_t> resultRank = getRank(getOutput());
  if (!resultRank)
    return success();
  if (std::optional<int64_t> inputRank = getRank(getInput());
      inputRank && *resultRank < *inputRank)
    return emitOpError("result rank ")
           << *resultRank << " is below the input rank " << *inputRank;
  auto shapeType = dyn_cast<RankedTensorType>(getShape().getType());
  if (shapeType && !shapeType.isDynamicDim(0) &&
      *resultRank < shapeType.getDimSize(0))
    return emitOpError("result rank ")
           << *resultRank << " is below the " << shapeType.getDimSize(0)
           << " dimensions shape asks for";
  return success();
}

LogicalResult RangeOp::verify() {
  // start, limit and delta are scalars (ONNX Runtime also takes
  // one-element vectors); the result is 1-D. The names are an array that
  // outlives the loop: an ArrayRef of a braced list would point at a
  // temporary that dies before the loop body reads it.
  static constexpr llvm::StringLiteral kOperandNames[] = {"start", "limit",
                                                          "delta"};
  for (auto [value, name] : llvm::zip_equal(getOperands(), kOperandNames)) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (type && (type.getRank() > 1 ||
                 (type.hasStaticShape() && type.getNumElements() != 1)))
      return emitOpError() << name << " must be a scalar, got " << type;
  }
  return verifyRank(*this, getOutput(), 1, "the result");
}

LogicalResult ConstantOfShapeOp::verify() {
  if (std::optional<ElementsAttr> value = getValue())
    if (value->getNumElements() != 1)
      return emitOpError("value must hold exactly one element, got ")
             << value->getNumElements();
  if (failed(verifyRank(*this, getInput(), 1, "input")))
    return failure();
  if (!getElementTypeOf(getInput()).isSignlessInteger(64))
    return emitOpError("input must be int64, got ") << getInput().getType();
  return success();
}

LogicalResult ScatterNDOp::verify() {
  StringRef reduction = getReduction();
  if (!llvm::is_contained({"none", "add", "mul", "max", "min"}, reduction))
    return emitOpError("reduction must be one of none, add, mul, max, min; "
                       "got \"")
           << reduction << "\"";
  if (!getElementTypeOf(getIndices()).isSignlessInteger(64))
    return emitOpError("indices must be int64, got ") << getIndices().getType();
  // updates.shape = indices.shape[:-1] + data.shape[indices.shape[-1]:].
  auto data = dyn_cast<RankedTensorType>(getData().getType());
  auto indices = dyn_cast<RankedTensorType>(getIndices().getType());
  auto updates = dyn_cast<RankedTensorType>(getUpdates().getType());
  if (!data || !indices || !updates)
    return success();
  if (indices.getRank() < 1)
    return emitOpError("indices must have rank >= 1");
  int64_t depth = indices.getShape().back();
  if (ShapedType::isDynamic(depth))
    return success();
  if (depth > data.getRank())
    return emitOpError("indices address ")
           << depth << " dimensions of data of rank " << data.getRank();
  int64_t expectedRank = indices.getRank() - 1 + data.getRank() - depth;
  if (updates.getRank() != expectedRank)
    return emitOpError("updates must have rank ")
           << expectedRank << ", got " << updates;
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

LogicalResult LayerNormalizationOp::verify() {
  if (failed(verifyStashType(*this, getStashType())))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getX());
}

LogicalResult SimplifiedLayerNormalizationOp::verify() {
  if (failed(verifyStashType(*this, getStashType())))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getX());
}

LogicalResult SkipSimplifiedLayerNormalizationOp::verify() {
  auto input = dyn_cast<RankedTensorType>(getInput().getType());
  if (input && input.getRank() != 2 && input.getRank() != 3)
    return emitOpError("input must have rank 2 or 3, got ") << input;
  int64_t hidden = input ? input.getShape().back() : ShapedType::kDynamic;
  if (failed(verifyRank(*this, getGamma(), 1, "gamma")) ||
      failed(verifyDimSize(*this, getGamma(), 0, hidden, "gamma")))
    return failure();
  if (std::optional<int64_t> skipRank = getRank(getSkip());
      skipRank && *skipRank >= 1 &&
      failed(verifyDimSize(*this, getSkip(), *skipRank - 1, hidden, "skip")))
    return failure();
  if (!isNoValue(getBias()) &&
      (failed(verifyRank(*this, getBias(), 1, "bias")) ||
       failed(verifyDimSize(*this, getBias(), 0, hidden, "bias"))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyLossOp::verify() {
  StringRef reduction = getReduction();
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return emitOpError("reduction must be \"none\", \"sum\" or \"mean\", "
                       "got \"")
           << reduction << "\"";
  if (!isa<FloatType>(getElementTypeOf(getScores())))
    return emitOpError("scores must have a float element type, got ")
           << getScores().getType();
  Type labelType = getElementTypeOf(getLabels());
  if (!labelType.isSignlessInteger(32) && !labelType.isSignlessInteger(64))
    return emitOpError("labels must be int32 or int64, got ")
           << getLabels().getType();
  std::optional<int64_t> scoresRank = getRank(getScores());
  if (scoresRank && *scoresRank < 2)
    return emitOpError("scores must have rank 2 or more (N, C, ...), got ")
           << getScores().getType();
  auto scores = dyn_cast<RankedTensorType>(getScores().getType());
  if (scores) {
    // labels are scores without the class dim 1.
    if (failed(verifyRank(*this, getLabels(), *scoresRank - 1, "labels")))
      return failure();
    for (int64_t dim = 0; dim < *scoresRank; ++dim) {
      if (dim == 1)
        continue;
      int64_t labelDim = dim == 0 ? 0 : dim - 1;
      if (failed(verifyDimSize(*this, getLabels(), labelDim,
                               scores.getDimSize(dim), "labels")))
        return failure();
    }
  }
  if (!isNoValue(getWeights())) {
    if (getElementTypeOf(getWeights()) != getElementTypeOf(getScores()))
      return emitOpError("weights must have the element type of scores, got ")
             << getWeights().getType();
    if (failed(verifyRank(*this, getWeights(), 1, "weights")) ||
        (scores && failed(verifyDimSize(*this, getWeights(), 0,
                                        scores.getDimSize(1), "weights"))))
      return failure();
  }
  return success();
}

LogicalResult RotaryEmbeddingOp::verify() {
  if (std::optional<int64_t> rank = getRank(getInput());
      rank && *rank != 3 && *rank != 4)
    return emitOpError("input must have rank 3 or 4, got ")
           << getInput().getType();
  if (failed(verifyFlag(*this, "interleaved", getInterleaved())) ||
      failed(verifyFlag(*this, "is_packed_batching", getIsPackedBatching())))
    return failure();
  int64_t numHeads = static_cast<int64_t>(getNumHeads());
  int64_t rotaryDim = static_cast<int64_t>(getRotaryEmbeddingDim());
  if (numHeads < 0 || rotaryDim < 0)
    return emitOpError("num_heads and rotary_embedding_dim must be >= 0");
  // ONNX Runtime needs the head count to locate a partial rotary dim.
  if (rotaryDim > 0 && numHeads == 0)
    return emitOpError("rotary_embedding_dim needs num_heads");
  return verifyRotaryCaches(*this, getCosCache(), getSinCache());
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

bool GroupQueryAttentionOp::isPackedQKV() {
  return isNoValue(getKey()) && isNoValue(getValue());
}

int64_t GroupQueryAttentionOp::getHeadSize() {
  auto query = dyn_cast<RankedTensorType>(getQuery().getType());
  if (!query || query.getRank() != 3 || query.isDynamicDim(2))
    return ShapedType::kDynamic;
  int64_t numHeads = static_cast<int64_t>(getNumHeads());
  int64_t heads = isPackedQKV()
                      ? numHeads + 2 * static_cast<int64_t>(getKvNumHeads())
                      : numHeads;
  if (heads <= 0 || query.getDimSize(2) % heads != 0)
    return ShapedType::kDynamic;
  return query.getDimSize(2) / heads;
}

/// Both of a pair of optional inputs, or neither.
static LogicalResult verifyBothOrNeither(Operation *op, Value first,
                                         Value second, StringRef firstName,
                                         StringRef secondName) {
  if (isNoValue(first) != isNoValue(second))
    return op->emitOpError() << firstName << " and " << secondName
                             << " must be given together (both or neither)";
  return success();
}

LogicalResult GroupQueryAttentionOp::verify() {
  int64_t numHeads = static_cast<int64_t>(getNumHeads());
  int64_t kvNumHeads = static_cast<int64_t>(getKvNumHeads());
  if (numHeads <= 0 || kvNumHeads <= 0)
    return emitOpError("num_heads and kv_num_heads must be > 0, got ")
           << numHeads << " and " << kvNumHeads;
  if (numHeads % kvNumHeads != 0)
    return emitOpError("num_heads (")
           << numHeads << ") must be a multiple of kv_num_heads (" << kvNumHeads
           << ")";
  if (failed(verifyFlag(*this, "do_rotary", getDoRotary())) ||
      failed(verifyFlag(*this, "rotary_interleaved", getRotaryInterleaved())) ||
      failed(verifyFlag(*this, "causal", getCausal())) ||
      failed(
          verifyFlag(*this, "sliding_window_cache", getSlidingWindowCache())))
    return failure();
  int64_t smoothSoftmax = static_cast<int64_t>(getSmoothSoftmax());
  if (smoothSoftmax < -1 || smoothSoftmax > 1)
    return emitOpError("smooth_softmax must be -1, 0 or 1, got ")
           << smoothSoftmax;
  int64_t qkOutput = static_cast<int64_t>(getQkOutput());
  if (qkOutput < 0 || qkOutput > 2)
    return emitOpError("qk_output must be 0, 1 or 2, got ") << qkOutput;
  if (qkOutput == 0 && !getOutputQk().use_empty())
    return emitOpError("output_qk is used but qk_output is 0");

  Type elementType = getElementTypeOf(getQuery());
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return emitOpError("query must be float, float16 or bfloat16, got ")
           << getQuery().getType();
  if (failed(verifyRank(*this, getQuery(), 3, "query")) ||
      failed(
          verifyBothOrNeither(*this, getKey(), getValue(), "key", "value")) ||
      failed(verifyBothOrNeither(*this, getPastKey(), getPastValue(),
                                 "past_key", "past_value")) ||
      failed(verifyBothOrNeither(*this, getCosCache(), getSinCache(),
                                 "cos_cache", "sin_cache")))
    return failure();
  auto query = dyn_cast<RankedTensorType>(getQuery().getType());
  int64_t heads = isPackedQKV() ? numHeads + 2 * kvNumHeads : numHeads;
  if (query && !query.isDynamicDim(2) && query.getDimSize(2) % heads != 0)
    return emitOpError("query's last dim (")
           << query.getDimSize(2) << ") must be a multiple of "
           << (isPackedQKV() ? "num_heads + 2 * kv_num_heads (packed QKV)"
                             : "num_heads")
           << " (" << heads << ")";
  int64_t headSize = getHeadSize();
  int64_t batch = query ? query.getDimSize(0) : ShapedType::kDynamic;
  int64_t sequence = query ? query.getDimSize(1) : ShapedType::kDynamic;
  int64_t kvHidden = ShapedType::isDynamic(headSize) ? ShapedType::kDynamic
                                                     : kvNumHeads * headSize;
  for (auto [value, name] :
       {std::pair{getKey(), "key"}, {getValue(), "value"}}) {
    if (isNoValue(value))
      continue;
    if (getElementTypeOf(value) != elementType)
      return emitOpError() << name << " must have query's element type "
                           << elementType << ", got " << value.getType();
    if (failed(verifyRank(*this, value, 3, name)) ||
        failed(verifyDimSize(*this, value, 0, batch, name)) ||
        failed(verifyDimSize(*this, value, 1, sequence, name)) ||
        failed(verifyDimSize(*this, value, 2, kvHidden, name)))
      return failure();
  }
  for (auto [value, name] :
       {std::pair{getPastKey(), "past_key"}, {getPastValue(), "past_value"}}) {
    if (isNoValue(value))
      continue;
    Type cacheType = getElementTypeOf(value);
    // ONNX Runtime also keeps quantized caches (8-bit integers, float8).
    if (cacheType != elementType && !cacheType.isInteger(8) &&
        !isa<Float8E4M3FNType>(cacheType))
      return emitOpError() << name << " must have query's element type "
                           << elementType << " or a quantized cache type, got "
                           << value.getType();
    if (failed(verifyRank(*this, value, 4, name)) ||
        failed(verifyDimSize(*this, value, 0, batch, name)) ||
        failed(verifyDimSize(*this, value, 1, kvNumHeads, name)) ||
        failed(verifyDimSize(*this, value, 3, headSize, name)))
      return failure();
  }
  if (!getElementTypeOf(getSeqlensK()).isSignlessInteger(32) ||
      !getElementTypeOf(getTotalSequenceLength()).isSignlessInteger(32))
    return emitOpError("seqlens_k and total_sequence_length must be int32, "
                       "got ")
           << getSeqlensK().getType() << " and "
           << getTotalSequenceLength().getType();
  if (failed(verifyRank(*this, getSeqlensK(), 1, "seqlens_k")) ||
      failed(verifyDimSize(*this, getSeqlensK(), 0, batch, "seqlens_k")))
    return failure();
  if (auto total =
          dyn_cast<RankedTensorType>(getTotalSequenceLength().getType());
      total && total.hasStaticShape() && total.getNumElements() != 1)
    return emitOpError("total_sequence_length must be a scalar, got ") << total;
  if (!isNoValue(getCosCache())) {
    if (failed(verifyRotaryCaches(*this, getCosCache(), getSinCache())))
      return failure();
    auto cos = dyn_cast<RankedTensorType>(getCosCache().getType());
    if (cos && !cos.isDynamicDim(1) && !ShapedType::isDynamic(headSize) &&
        2 * cos.getDimSize(1) > headSize)
      return emitOpError("cos_cache's width (")
             << cos.getDimSize(1) << ") must be at most head_size / 2 ("
             << headSize / 2 << ")";
  } else if (getDoRotary() != 0) {
    return emitOpError("do_rotary needs cos_cache and sin_cache");
  }
  if (!isNoValue(getAttentionBias()) &&
      failed(verifyRank(*this, getAttentionBias(), 4, "attention_bias")))
    return failure();
  if (!isNoValue(getHeadSink()) &&
      (failed(verifyRank(*this, getHeadSink(), 1, "head_sink")) ||
       failed(verifyDimSize(*this, getHeadSink(), 0, numHeads, "head_sink"))))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// The scale/zero-point layout rules QuantizeLinear and DequantizeLinear
/// share: per-tensor (a scalar or one-element scale), per-axis (a 1-D scale
/// of x.shape[axis] values) or, with block_size > 0, blocked (a scale of x's
/// rank with ceil(x.shape[axis] / block_size) along axis).
static LogicalResult verifyQuantizationParams(Operation *op, Value x,
                                              Value scale, Value zeroPoint,
                                              int64_t axis, int64_t blockSize) {
  if (!isa<FloatType>(getElementTypeOf(scale)))
    return op->emitOpError("scale must be a float tensor, got ")
           << scale.getType();
  if (blockSize < 0)
    return op->emitOpError("block_size must be >= 0, got ") << blockSize;
  auto scaleType = dyn_cast<RankedTensorType>(scale.getType());
  // A scalar and a one-element 1-D tensor both mean "per tensor" (ONNX's
  // own node tests pair a scalar scale with a [1] zero point).
  auto isPerTensor = [&](RankedTensorType type) {
    return blockSize == 0 && (type.getRank() == 0 ||
                              (type.getRank() == 1 && type.getDimSize(0) == 1));
  };
  if (!isNoValue(zeroPoint)) {
    auto zeroPointType = dyn_cast<RankedTensorType>(zeroPoint.getType());
    if (scaleType && zeroPointType &&
        failed(verifyCompatibleShape(scaleType, zeroPointType)) &&
        !(isPerTensor(scaleType) && isPerTensor(zeroPointType)))
      return op->emitOpError("zero point shape ")
             << zeroPointType << " differs from scale shape " << scaleType;
  }
  if (!scaleType)
    return success();
  auto xType = dyn_cast<RankedTensorType>(x.getType());

  if (blockSize > 0) {
    if (!xType)
      return success();
    if (scaleType.getRank() != xType.getRank())
      return op->emitOpError("blocked quantization needs a scale of rank ")
             << xType.getRank() << ", got " << scaleType;
    if (failed(verifyAxis(op, axis, x)))
      return failure();
    int64_t normalized = *normalizeAxis(axis, xType.getRank());
    for (int64_t i = 0; i < xType.getRank(); ++i) {
      int64_t dim = xType.getDimSize(i);
      if (i == normalized && !ShapedType::isDynamic(dim))
        dim = llvm::divideCeilSigned(dim, blockSize);
      if (failed(verifyDimSize(op, scale, i, dim, "scale")))
        return failure();
    }
    return success();
  }
  if (isPerTensor(scaleType))
    return success();
  if (scaleType.getRank() != 1)
    return op->emitOpError("a scale of rank ")
           << scaleType.getRank() << " needs block_size > 0";
  if (!xType)
    return success();
  if (failed(verifyAxis(op, axis, x)))
    return failure();
  int64_t normalized = *normalizeAxis(axis, xType.getRank());
  return verifyDimSize(op, scale, 0, xType.getDimSize(normalized),
                       "per-axis scale");
}

LogicalResult QuantizeLinearOp::verify() {
  if (failed(verifyFlag(*this, "saturate", getSaturate())))
    return failure();
  int64_t outputDtype = static_cast<int64_t>(getOutputDtype());
  if (outputDtype != 0) {
    Type target = getElementType(getContext(), outputDtype);
    if (!target)
      return emitOpError("output_dtype ")
             << outputDtype << " is not a data type qaf supports";
    if (!isNoValue(getYZeroPoint()) &&
        getElementTypeOf(getYZeroPoint()) != target)
      return emitOpError("output_dtype ")
             << outputDtype << " (" << target
             << ") differs from the y_zero_point element type "
             << getElementTypeOf(getYZeroPoint());
  }
  return verifyQuantizationParams(*this, getX(), getYScale(), getYZeroPoint(),
                                  static_cast<int64_t>(getAxis()),
                                  static_cast<int64_t>(getBlockSize()));
}

LogicalResult DequantizeLinearOp::verify() {
  if (!isNoValue(getXZeroPoint()) &&
      getElementTypeOf(getXZeroPoint()) != getElementTypeOf(getX()))
    return emitOpError("x_zero_point element type ")
           << getElementTypeOf(getXZeroPoint()) << " differs from x's "
           << getElementTypeOf(getX());
  int64_t outputDtype = static_cast<int64_t>(getOutputDtype());
  if (outputDtype != 0) {
    Type target = getElementType(getContext(), outputDtype);
    if (!target || !isa<FloatType>(target))
      return emitOpError("output_dtype ")
             << outputDtype << " is not a float data type qaf supports";
  }
  return verifyQuantizationParams(*this, getX(), getXScale(), getXZeroPoint(),
                                  static_cast<int64_t>(getAxis()),
                                  static_cast<int64_t>(getBlockSize()));
}
