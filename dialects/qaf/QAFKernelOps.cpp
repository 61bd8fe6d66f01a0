//===- QAFKernelOps.cpp - qaf's micro-kernel ops --------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The verifier admits exactly what the kernel computes, so that a target
// with the kernel can call it for every op it meets, and one without can
// decompose every op into the same arithmetic.
//
//===----------------------------------------------------------------------===//

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace qaf;

bool QLinearKernelOp::isKernelReadable(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

void QLinearKernelOp::build(OpBuilder &builder, OperationState &state,
                            Value input, Value scales, Value zeroPoints,
                            Value moves, Value codebook, Value codes,
                            Value init, int64_t bits, int64_t groupSize,
                            bool transposeWeight, bool int8Activations) {
  Type resultType =
      isa<RankedTensorType>(init.getType()) ? init.getType() : Type();
  build(builder, state, resultType, input, scales, zeroPoints, moves, codebook,
        codes, init, builder.getI64IntegerAttr(bits),
        builder.getI64IntegerAttr(groupSize),
        transposeWeight ? builder.getUnitAttr() : UnitAttr(),
        int8Activations ? builder.getUnitAttr() : UnitAttr());
}

namespace {

ArrayRef<int64_t> getShape(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

/// Sizes agree unless one of them is dynamic.
bool isCompatibleSize(int64_t actual, int64_t expected) {
  return ShapedType::isDynamic(actual) || ShapedType::isDynamic(expected) ||
         actual == expected;
}

/// A kernel op computes on tensors or on buffers, never both.
LogicalResult verifyAllTensorsOrBuffers(Operation *op, Value init) {
  bool onTensors = isa<RankedTensorType>(init.getType());
  for (Value operand : op->getOperands())
    if (isa<RankedTensorType>(operand.getType()) != onTensors)
      return op->emitOpError(
                 "operands must be all tensors or all buffers, not ")
             << operand.getType() << " with " << init.getType();
  return success();
}

} // namespace

LogicalResult QLinearKernelOp::verify() {
  if (failed(verifyAllTensorsOrBuffers(*this, getInit())))
    return failure();
  bool onTensors = isa<RankedTensorType>(getInit().getType());
  int64_t bits = static_cast<int64_t>(getBits());
  int64_t groupSize = static_cast<int64_t>(getGroupSize());
  if (groupSize * bits % 8 != 0)
    return emitOpError("groups of ")
           << groupSize << " " << bits
           << "-bit codes are not whole bytes, which the kernel needs";

  // An affine layer has zero points, a NormalFloat layer a codebook
  // (LoTA-QAF's moves are on affine codes only).
  Value zeroPoints = getZeroPoints(), codebook = getCodebook();
  if (static_cast<bool>(zeroPoints) == static_cast<bool>(codebook))
    return emitOpError("needs zero points or a codebook, one of them");
  if (codebook && getMoves())
    return emitOpError("moves apply to affine codes, not to a codebook's");
  if (getInt8Activations() && getTransposeWeight())
    return emitOpError("int8 activations apply to the layer's product, not "
                       "to its input gradient (transpose_weight)");

  // The weights' shapes are static (as the qaf ops' are) and give N and K.
  SmallVector<std::pair<StringRef, Value>> weights = {{"scales", getScales()}};
  if (zeroPoints)
    weights.push_back({"zero_points", zeroPoints});
  if (getMoves())
    weights.push_back({"moves", getMoves()});
  if (codebook)
    weights.push_back({"codebook", codebook});
  weights.push_back({"codes", getCodes()});
  for (auto [name, weight] : weights)
    if (!cast<ShapedType>(weight.getType()).hasStaticShape())
      return emitOpError() << name << " must have a static shape, not "
                           << weight.getType();
  int64_t n = getShape(getCodes())[0], rowBytes = getShape(getCodes())[1];
  if (rowBytes * 8 % bits != 0)
    return emitOpError("codes rows of ")
           << rowBytes << " bytes do not hold whole " << bits << "-bit codes";
  int64_t k = rowBytes * 8 / bits;
  if (k % groupSize != 0)
    return emitOpError("group size ") << groupSize << " does not divide the "
                                      << k << " input features the codes hold";
  auto checkShape = [&](StringRef name, Value value,
                        ArrayRef<int64_t> expected) -> LogicalResult {
    if (getShape(value) == expected)
      return success();
    InFlightDiagnostic diag = emitOpError() << name << " must have shape [";
    llvm::interleaveComma(expected, diag);
    return diag << "], not " << value.getType();
  };
  SmallVector<int64_t> grouped = {n, k / groupSize};
  // Zero points may be one row that every row reads (row stride 0).
  SmallVector<int64_t> sharedRow = {1, k / groupSize};
  if (failed(checkShape("scales", getScales(), grouped)) ||
      (zeroPoints && getShape(zeroPoints) != ArrayRef<int64_t>(sharedRow) &&
       failed(checkShape("zero_points", zeroPoints, grouped))) ||
      (getMoves() && failed(checkShape("moves", getMoves(), {n, k}))) ||
      (codebook &&
       failed(checkShape("codebook", codebook, {int64_t{1} << bits}))))
    return failure();

  // The input's features and init's columns: K and N, or N and K for the
  // product with W itself.
  ArrayRef<int64_t> input = getShape(getInput()), init = getShape(getInit());
  bool transposed = getTransposeWeight();
  if (!isCompatibleSize(input[1], transposed ? n : k))
    return emitOpError("the input has ")
           << input[1] << " features, the codes hold " << (transposed ? n : k)
           << (transposed ? " rows" : "");
  if (!isCompatibleSize(init[1], transposed ? k : n))
    return emitOpError("init has ")
           << init[1] << " columns, the codes hold " << (transposed ? k : n)
           << (transposed ? " codes per row" : " rows");
  if (!isCompatibleSize(init[0], input[0]))
    return emitOpError("init has ")
           << init[0] << " rows, the input " << input[0];

  if (!onTensors)
    for (Value operand : getOperands())
      if (!isKernelReadable(cast<MemRefType>(operand.getType())))
        return emitOpError("the kernel reads contiguous rows: ")
               << operand.getType() << " has no unit innermost stride";
  return success();
}

namespace {

/// A kernel op is pure on tensors; on buffers it reads its inputs and
/// accumulates into its inits.
void addKernelEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

} // namespace

void QLinearKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, effects);
}

void AdapterGradientsKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, effects);
}

LogicalResult AdapterGradientsKernelOp::verify() {
  if (failed(verifyAllTensorsOrBuffers(*this, getInits().front())))
    return failure();
  bool onTensors = isa<RankedTensorType>(getInits().front().getType());
  bool lota = isLoTA();
  if (!lota && getMethod() != "l4q")
    return emitOpError("method must be \"lota\" or \"l4q\", not \"")
           << getMethod() << "\"";
  size_t inputs = lota ? 5 : 6, inits = lota ? 2 : 4;
  if (getInputs().size() != inputs || getInits().size() != inits)
    return emitOpError() << getMethod() << " takes " << inputs << " inputs and "
                         << inits << " inits, not " << getInputs().size()
                         << " and " << getInits().size();
  if (lota == getBits().has_value())
    return emitOpError(lota ? "bits is L4Q's, not LoTA-QAF's"
                            : "L4Q needs bits");
  double coefficient = getCoefficient().convertToDouble();
  if (!std::isfinite(coefficient) || (lota && coefficient <= 0.0))
    return emitOpError("coefficient must be finite")
           << (lota ? " and positive (ω)" : " (α)") << ", not " << coefficient;

  // The factors' static shapes give r, K and N.
  for (Value factor : {getA(), getB()})
    if (!cast<ShapedType>(factor.getType()).hasStaticShape())
      return emitOpError("the factors must have static shapes, not ")
             << factor.getType();
  int64_t rank = getShape(getA())[0], k = getShape(getA())[1];
  int64_t n = getShape(getB())[0];
  int64_t groupSize = static_cast<int64_t>(getGroupSize());
  if (k % groupSize != 0)
    return emitOpError("group size ")
           << groupSize << " does not divide the " << k << " input features";
  if (getShape(getB())[1] != rank)
    return emitOpError("B has ")
           << getShape(getB())[1] << " columns, A " << rank << " rows";
  Type factorElement = lota ? Type(IntegerType::get(getContext(), 8))
                            : Type(Float32Type::get(getContext()));
  for (Value factor : {getA(), getB()})
    if (getElementTypeOrSelf(factor.getType()) != factorElement)
      return emitOpError("the factors must be ")
             << factorElement << ", not " << factor.getType();

  ArrayRef<int64_t> g = getShape(getOutputGradient());
  ArrayRef<int64_t> x = getShape(getLayerInput());
  if (!isCompatibleSize(g[1], n) || !isCompatibleSize(x[1], k) ||
      !isCompatibleSize(g[0], x[0]))
    return emitOpError("g and x must be [M, ")
           << n << "] and [M, " << k << "], not "
           << getOutputGradient().getType() << " and "
           << getLayerInput().getType();

  auto checkShape = [&](StringRef name, Value value,
                        ArrayRef<int64_t> expected) -> LogicalResult {
    if (getElementTypeOrSelf(value.getType()).isF32() &&
        getShape(value) == expected)
      return success();
    InFlightDiagnostic diag = emitOpError() << name << " must be f32 [";
    llvm::interleaveComma(expected, diag);
    return diag << "], not " << value.getType();
  };
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"g", getOutputGradient()},
        {"x", getLayerInput()}})
    if (!getElementTypeOrSelf(value.getType()).isF32())
      return emitOpError() << name << " must be f32, not " << value.getType();
  SmallVector<int64_t> grouped = {n, k / groupSize};
  if (lota) {
    if (failed(checkShape("scales", getInputs()[2], grouped)))
      return failure();
  } else if (failed(checkShape("u", getInputs()[2], {n, k})) ||
             failed(checkShape("the codes", getInputs()[3], {n, k})) ||
             failed(
                 checkShape("the scales' gradient", getInits()[2], grouped)) ||
             failed(
                 checkShape("the offsets' gradient", getInits()[3], grouped))) {
    return failure();
  }
  if (failed(checkShape("A's gradient", getInits()[0], {rank, k})) ||
      failed(checkShape("B's gradient", getInits()[1], {n, rank})))
    return failure();

  if (!onTensors)
    for (Value operand : getOperands())
      if (!QLinearKernelOp::isKernelReadable(
              cast<MemRefType>(operand.getType())))
        return emitOpError("the kernel reads contiguous rows: ")
               << operand.getType() << " has no unit innermost stride";
  return success();
}

void AttentionKernelOp::build(OpBuilder &builder, OperationState &state,
                              Value query, Value key, Value value, Value bias,
                              Value init, double scale, bool zeroNanRows) {
  Type resultType =
      isa<RankedTensorType>(init.getType()) ? init.getType() : Type();
  SmallVector<Value, 4> inputs = {query, key, value};
  if (bias)
    inputs.push_back(bias);
  build(builder, state, resultType, inputs, init,
        builder.getF64FloatAttr(scale),
        zeroNanRows ? builder.getUnitAttr() : UnitAttr());
}

void AttentionKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  addKernelEffects(*this, effects);
}

LogicalResult AttentionKernelOp::verify() {
  if (failed(verifyAllTensorsOrBuffers(*this, getInit())))
    return failure();
  if (getInputs().size() != 3 && getInputs().size() != 4)
    return emitOpError("takes query, key, value and an optional bias, not ")
           << getInputs().size() << " inputs";
  ArrayRef<int64_t> query = getShape(getQuery()), key = getShape(getKey()),
                    value = getShape(getValue()), init = getShape(getInit());
  // Sizes that must agree, each with what it is.
  struct Agreement {
    int64_t actual, expected;
    const char *what;
  };
  Agreement agreements[] = {
      {key[3], query[3], "the key's head size and the query's"},
      {value[2], key[2], "the value's length and the key's"},
      {value[1], key[1], "the value's head count and the key's"},
      {init[0], query[0], "the init's batch and the query's"},
      {init[1], query[1], "the init's head count and the query's"},
      {init[2], query[2], "the init's length and the query's"},
      {init[3], value[3], "the init's head size and the value's"}};
  for (const Agreement &agreement : agreements)
    if (!isCompatibleSize(agreement.actual, agreement.expected))
      return emitOpError() << agreement.what << " differ (" << agreement.actual
                           << " and " << agreement.expected << ")";
  auto broadcasts = [](int64_t size, int64_t full) {
    return size == 1 || isCompatibleSize(size, full);
  };
  for (auto [size, what] :
       {std::pair<int64_t, const char *>{key[0], "key"}, {value[0], "value"}})
    if (!broadcasts(size, query[0]))
      return emitOpError("the ")
             << what << "'s batch " << size << " neither equals the query's "
             << query[0] << " nor broadcasts (1)";
  if (!ShapedType::isDynamic(query[1]) && !ShapedType::isDynamic(key[1]) &&
      (key[1] == 0 || query[1] % key[1] != 0))
    return emitOpError("the key's ")
           << key[1] << " heads do not divide the query's " << query[1];
  if (Value bias = getBias()) {
    ArrayRef<int64_t> mask = getShape(bias);
    if (!broadcasts(mask[0], query[0]) || !broadcasts(mask[1], query[1]) ||
        !broadcasts(mask[2], query[2]) || !broadcasts(mask[3], key[2]))
      return emitOpError("the bias ")
             << bias.getType()
             << " does not broadcast to [batch, heads, query length, key "
                "length]";
  }
  return success();
}
