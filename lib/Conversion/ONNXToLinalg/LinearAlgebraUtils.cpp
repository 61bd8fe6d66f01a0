//===- LinearAlgebraUtils.cpp - builders shared by the linear lowerings ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LinearAlgebraUtils.h"

#include "DataMovementUtils.h"
#include "LoweringUtils.h"

#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace qaf {

//===----------------------------------------------------------------------===//
// LinearAlgebraUtils
//===----------------------------------------------------------------------===//

/// The type products of `elementType` accumulate in: f32 for narrower
/// floats (as ONNX Runtime's kernels do), else the type itself.
Type getAccumulatorType(Type elementType) {
  if (auto floatType = dyn_cast<FloatType>(elementType);
      floatType && floatType.getWidth() < 32)
    return Float32Type::get(elementType.getContext());
  return elementType;
}

/// A tensor of `sizes` filled with `value`.
Value createFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   Value value) {
  Value empty = createEmptyTensor(b, loc, sizes, value.getType());
  return linalg::FillOp::create(b, loc, ValueRange{value}, ValueRange{empty})
      .getResult(0);
}

Value createZero(OpBuilder &b, Location loc, Type type) {
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
}

/// Converts every element of `tensor` to `to` (float only: the f32
/// accumulator back to f16/bf16).
Value convertTensor(OpBuilder &b, Location loc, Value tensor, Type to) {
  if (cast<ShapedType>(tensor.getType()).getElementType() == to)
    return tensor;
  return buildElementwise(b, loc, {tensor}, getDims(b, loc, tensor), to,
                          [&](OpBuilder &nb, Location nl, ValueRange scalars) {
                            return convertScalar(nb, nl, scalars[0], to, false,
                                                 false);
                          });
}

/// A run-time check that two sizes agree, dropped when both are static
/// (then inference already compared them).
void checkSameSize(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y,
                   const Twine &message) {
  if (getConstantIntValue(x) && getConstantIntValue(y))
    return;
  Value xValue = getValueOrCreateConstantIndexOp(b, loc, x);
  Value yValue = getValueOrCreateConstantIndexOp(b, loc, y);
  Value equal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, xValue, yValue);
  emitRuntimeCheck(b, loc, equal, message + " ({0} and {1})", {xValue, yValue});
}

/// Checks at run time that the dynamic dims of `operand` match `sizes`
/// (right-aligned), the rule for an operand that broadcasts one way (Gemm's
/// C, a bias): only its static size-1 dims broadcast.
void checkBroadcastsTo(OpBuilder &b, Location loc, Value operand,
                       ArrayRef<OpFoldResult> sizes, StringRef what) {
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t offset = static_cast<int64_t>(sizes.size()) - type.getRank();
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      checkSameSize(
          b, loc, tensor::DimOp::create(b, loc, operand, i).getResult(),
          sizes[offset + i],
          what + ": dimension " + Twine(i) + " does not match the result");
}

/// The NumPy broadcast of two batch shapes (right-aligned) under the
/// lowering's rule (computeBroadcastShape's, for shapes rather than
/// operands): a static 1 broadcasts, dynamic sizes must match the other
/// side at run time.
SmallVector<OpFoldResult> broadcastBatchDims(OpBuilder &b, Location loc,
                                             ArrayRef<OpFoldResult> lhs,
                                             ArrayRef<OpFoldResult> rhs,
                                             StringRef opName) {
  int64_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<OpFoldResult> result;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t l = i - (rank - static_cast<int64_t>(lhs.size()));
    int64_t r = i - (rank - static_cast<int64_t>(rhs.size()));
    std::optional<OpFoldResult> x, y;
    if (l >= 0 && getConstantIntValue(lhs[l]) != 1)
      x = lhs[l];
    if (r >= 0 && getConstantIntValue(rhs[r]) != 1)
      y = rhs[r];
    if (x && y) {
      checkSameSize(b, loc, *x, *y,
                    opName + ": batch dimension " + Twine(i) +
                        " differs between the operands");
      result.push_back(getConstantIntValue(*x) ? *x : *y);
    } else {
      result.push_back(x ? *x : (y ? *y : b.getIndexAttr(1)));
    }
  }
  return result;
}

/// The indexing map of an operand [batch..., row, col] in a contraction
/// whose loops are [batch (batchRank)..., m, n, k]: its batch dims are
/// right-aligned with the loops' and a static size-1 batch dim reads index
/// 0; `row` and `col` are the loop exprs of its last two dims.
AffineMap getBatchedOperandMap(ShapedType type, int64_t batchRank,
                               AffineExpr row, AffineExpr col) {
  MLIRContext *context = type.getContext();
  int64_t operandBatch = type.getRank() - 2;
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operandBatch; ++i) {
    if (type.getDimSize(i) == 1)
      exprs.push_back(getAffineConstantExpr(0, context));
    else
      exprs.push_back(getAffineDimExpr(batchRank - operandBatch + i, context));
  }
  exprs.push_back(row);
  exprs.push_back(col);
  return AffineMap::get(batchRank + 3, 0, exprs, context);
}

/// A linalg.generic contraction over loops [batch..., m, n, k] into `init`
/// ([batch..., m, n]); `body(inputs..., accumulator)` returns the new
/// accumulator.
Value buildContraction(OpBuilder &b, Location loc, int64_t batchRank,
                       ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                       Value init, ScalarBodyBuilder body) {
  MLIRContext *context = b.getContext();
  int64_t loops = batchRank + 3;
  SmallVector<AffineMap> maps(inputMaps);
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < batchRank + 2; ++i)
    outExprs.push_back(getAffineDimExpr(i, context));
  maps.push_back(AffineMap::get(loops, 0, outExprs, context));
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, body(nb, nl, args));
      });
  return generic.getResult(0);
}

/// Bits [position·bits, (position + 1)·bits) of `byte` (any integer type),
/// as f32: one code of a packed quantized weight.
Value unpackCode(OpBuilder &b, Location loc, Value byte, Value position,
                 int64_t bits) {
  Type i32 = b.getI32Type();
  auto intConstant = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, value));
  };
  Value wide = byte.getType() == i32
                   ? byte
                   : arith::ExtUIOp::create(b, loc, i32, byte).getResult();
  Value shift = arith::MulIOp::create(
      b, loc, arith::IndexCastOp::create(b, loc, i32, position),
      intConstant(bits));
  Value code =
      arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, wide, shift),
                            intConstant((1 << bits) - 1));
  return arith::UIToFPOp::create(b, loc, b.getF32Type(), code);
}

Value readPackedCode(OpBuilder &b, Location loc, Value codes, Value row,
                     Value column, int64_t bits, int64_t rowBytes,
                     Value firstByte) {
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  // Bit offset column·bits: byte offset / 8 and the next one (clamped to
  // the row; it only matters when the code straddles them), shift
  // offset % 8.
  Value bit = arith::MulIOp::create(b, loc, column, index(bits));
  Value first = arith::DivUIOp::create(b, loc, bit, index(8));
  Value second = arith::MinUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, first, index(1)),
      index(rowBytes - 1));
  Type i32 = b.getI32Type();
  auto readByte = [&](Value byteIndex) -> Value {
    Value byte =
        tensor::ExtractOp::create(b, loc, codes, ValueRange{row, byteIndex});
    return arith::ExtUIOp::create(b, loc, i32, byte);
  };
  Value low = firstByte
                  ? arith::ExtUIOp::create(b, loc, i32, firstByte).getResult()
                  : readByte(first);
  Value word = arith::OrIOp::create(
      b, loc, low,
      arith::ShLIOp::create(
          b, loc, readByte(second),
          arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, 8))));
  Value shift = arith::RemUIOp::create(b, loc, bit, index(8));
  Value shifted = arith::ShRUIOp::create(
      b, loc, word, arith::IndexCastOp::create(b, loc, i32, shift));
  return unpackCode(b, loc, shifted, index(0), bits);
}

namespace {

/// The frame of y[..., N] = a[..., K] · Wᵀ: `contract(rows, init)` gets `a`
/// collapsed to rows [M, K] and an f32 accumulator [M, N] (`bias`
/// broadcast, or zeros for a null one) and returns their [M, N] f32
/// product, which is converted to `elementType` and given `a`'s leading
/// dimensions back.
Value buildRowwiseMatMul(OpBuilder &b, Location loc, Value a, int64_t n,
                         Value bias, StringRef biasName, Type elementType,
                         function_ref<Value(Value rows, Value init)> contract) {
  Type f32 = b.getF32Type();
  // a [..., K] -> [M, K].
  int64_t aRank = cast<RankedTensorType>(a.getType()).getRank();
  SmallVector<OpFoldResult> aSizes = getDims(b, loc, a);
  Value rows = a;
  if (aRank == 1) {
    rows = expandReducedDims(b, loc, a, {0}, 2);
  } else if (aRank > 2) {
    ReassociationIndices outer, inner = {aRank - 1};
    for (int64_t i = 0; i < aRank - 1; ++i)
      outer.push_back(i);
    rows = tensor::CollapseShapeOp::create(
        b, loc, a, ArrayRef<ReassociationIndices>{outer, inner});
  }

  SmallVector<OpFoldResult> sizes = {getDims(b, loc, rows)[0],
                                     b.getIndexAttr(n)};
  Value init;
  if (bias) {
    checkBroadcastsTo(b, loc, bias, sizes, biasName);
    init = buildElementwise(
        b, loc, {bias}, sizes, f32,
        [&](OpBuilder &nb, Location nl, ValueRange scalars) {
          return convertScalar(nb, nl, scalars[0], f32, false, false);
        });
  } else {
    init = createFilled(b, loc, sizes, createZero(b, loc, f32));
  }

  Value product = convertTensor(b, loc, contract(rows, init), elementType);

  // [M, N] -> [..., N].
  if (aRank == 1)
    return tensor::CollapseShapeOp::create(
        b, loc, product, ArrayRef<ReassociationIndices>{{0, 1}});
  if (aRank == 2)
    return product;
  SmallVector<OpFoldResult> outSizes(aSizes.begin(), aSizes.end() - 1);
  outSizes.push_back(b.getIndexAttr(n));
  ReassociationIndices outer, inner = {aRank - 1};
  for (int64_t i = 0; i < aRank - 1; ++i)
    outer.push_back(i);
  return expandShape(b, loc, product, {outer, inner}, outSizes);
}

/// init[m, n] + Σ_k x[m, k] · W[n, k] over loops (m, n, k) for rows x
/// [M, K], where `weightAt(scalars)` returns W[n, k] in f32 from the
/// `weightInputs` (read through `weightMaps`); x is converted to f32.
Value buildWeightContraction(OpBuilder &b, Location loc, Value rows,
                             ValueRange weightInputs,
                             ArrayRef<AffineMap> weightMaps, Value init,
                             ScalarBodyBuilder weightAt) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  SmallVector<Value> inputs = {rows};
  llvm::append_range(inputs, weightInputs);
  SmallVector<AffineMap> maps = {AffineMap::get(
      3, 0, {getAffineDimExpr(0, context), getAffineDimExpr(2, context)},
      context)};
  llvm::append_range(maps, weightMaps);
  return buildContraction(
      b, loc, 0, inputs, maps, init,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value weight = weightAt(nb, nl, args.drop_front().drop_back());
        Value x = convertScalar(nb, nl, args[0], f32, false, false);
        return arith::AddFOp::create(nb, nl, args.back(),
                                     arith::MulFOp::create(nb, nl, x, weight));
      });
}

/// Whether qaf.kernel.qlinear admits the layer: f32 activations, scales
/// and zero points (or codebook), and groups of whole bytes (the kernel
/// unpacks whole groups from their first byte on).
bool isQLinearKernelLayer(const QuantizedWeight &weight, Type elementType) {
  auto isF32 = [](Value value) {
    return cast<ShapedType>(value.getType()).getElementType().isF32();
  };
  bool affine = weight.zeroPoints && !weight.codebook;
  bool normalFloat = weight.codebook && !weight.zeroPoints && !weight.moves;
  return elementType.isF32() && isF32(weight.scales) &&
         ((affine && isF32(weight.zeroPoints)) ||
          (normalFloat && isF32(weight.codebook))) &&
         weight.groupSize * weight.bits % 8 == 0;
}

} // namespace

Value buildDequantizingMatMul(OpBuilder &b, Location loc, Value a, int64_t n,
                              ValueRange weightInputs,
                              ArrayRef<AffineMap> weightMaps, Value bias,
                              StringRef biasName, Type elementType,
                              ScalarBodyBuilder weightAt) {
  return buildRowwiseMatMul(
      b, loc, a, n, bias, biasName, elementType, [&](Value rows, Value init) {
        return buildWeightContraction(b, loc, rows, weightInputs, weightMaps,
                                      init, weightAt);
      });
}

Value buildQuantizedContraction(OpBuilder &b, Location loc, Value x,
                                const QuantizedWeight &weight, Value init,
                                bool transposed) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  int64_t bits = weight.bits, groupSize = weight.groupSize;
  int64_t rowBytes = cast<ShapedType>(weight.codes.getType()).getShape()[1];
  // Loops (m, n, k); W is read at (dn, dk): (n, k), or (k, n) when
  // transposed (the contraction then runs over W's rows). Scales and zero
  // points per (dn, dk / group), moves per (dn, dk).
  unsigned rowLoop = transposed ? 2 : 1, columnLoop = transposed ? 1 : 2;
  AffineExpr dn = getAffineDimExpr(rowLoop, context);
  AffineExpr dk = getAffineDimExpr(columnLoop, context);
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(3, 0, exprs, context);
  };
  SmallVector<Value> inputs = {weight.scales};
  SmallVector<AffineMap> maps = {map({dn, dk.floorDiv(groupSize)})};
  if (weight.zeroPoints) {
    // One row [1, K / g] is every row's (qaf-share-zero-point-rows).
    bool sharedRow =
        cast<ShapedType>(weight.zeroPoints.getType()).getDimSize(0) == 1;
    inputs.push_back(weight.zeroPoints);
    maps.push_back(map({sharedRow ? getAffineConstantExpr(0, context) : dn,
                        dk.floorDiv(groupSize)}));
  }
  if (weight.moves) {
    inputs.push_back(weight.moves);
    maps.push_back(map({dn, dk}));
  }
  // The codes come last. 2/4/8-bit codes never straddle a byte: the byte
  // is read through the map. 3-bit codes may, so the map reads a code's
  // first byte (in bounds for every code) and the body its second.
  bool byteAligned = 8 % bits == 0;
  inputs.push_back(weight.codes);
  maps.push_back(byteAligned ? map({dn, dk.floorDiv(8 / bits)})
                             : map({dn, (dk * bits).floorDiv(8)}));
  return buildWeightContraction(
      b, loc, x, inputs, maps, init,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value kIndex = linalg::IndexOp::create(nb, nl, columnLoop);
        Value code;
        if (byteAligned) {
          Value perByte = arith::ConstantIndexOp::create(nb, nl, 8 / bits);
          code =
              unpackCode(nb, nl, args.back(),
                         arith::RemUIOp::create(nb, nl, kIndex, perByte), bits);
        } else {
          code = readPackedCode(
              nb, nl, weight.codes, linalg::IndexOp::create(nb, nl, rowLoop),
              kIndex, bits, rowBytes, /*firstByte=*/args.back());
        }
        Value scale = convertScalar(nb, nl, args[0], f32, false, false);
        if (weight.codebook) {
          Value entry = tensor::ExtractOp::create(
              nb, nl, weight.codebook,
              ValueRange{arith::IndexCastOp::create(
                  nb, nl, nb.getIndexType(),
                  arith::FPToUIOp::create(nb, nl, nb.getI32Type(), code))});
          return arith::MulFOp::create(nb, nl, scale, entry);
        }
        if (weight.moves)
          code = arith::AddFOp::create(
              nb, nl, code, arith::SIToFPOp::create(nb, nl, f32, args[2]));
        Value zero = convertScalar(nb, nl, args[1], f32, false, false);
        return arith::MulFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, code, zero), scale);
      });
}

Value buildQuantizedMatMul(OpBuilder &b, Location loc, Value a, int64_t n,
                           const QuantizedWeight &weight, Type elementType,
                           bool transposed) {
  bool useKernel = isQLinearKernelLayer(weight, elementType);
  return buildRowwiseMatMul(
      b, loc, a, n, /*bias=*/Value(), "", elementType,
      [&](Value rows, Value init) -> Value {
        if (!useKernel)
          return buildQuantizedContraction(b, loc, rows, weight, init,
                                           transposed);
        return QLinearKernelOp::create(
                   b, loc, rows, weight.scales, weight.zeroPoints, weight.moves,
                   weight.codebook, weight.codes, init, weight.bits,
                   weight.groupSize, transposed,
                   weight.int8Activations && !transposed)
            .getResult();
      });
}

Value buildRotaryElement(OpBuilder &b, Location loc, Value x, Value i,
                         Value position, Value cosCache, Value sinCache,
                         int64_t headSize, int64_t rotaryDim, bool interleaved,
                         function_ref<Value(Value)> readPartner) {
  auto index = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(b, loc, value);
  };
  int64_t half = rotaryDim / 2;
  Value cacheIndex, partner, lowerHalf;
  if (interleaved) {
    Value zero = index(0), one = index(1), two = index(2);
    cacheIndex = arith::DivUIOp::create(b, loc, i, two);
    lowerHalf =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                              arith::RemUIOp::create(b, loc, i, two), zero);
    partner = arith::SelectOp::create(b, loc, lowerHalf,
                                      arith::AddIOp::create(b, loc, i, one),
                                      arith::SubIOp::create(b, loc, i, one));
  } else {
    Value halfIndex = index(half);
    lowerHalf =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i, halfIndex);
    Value upperOffset = arith::SubIOp::create(b, loc, i, halfIndex);
    cacheIndex = arith::SelectOp::create(b, loc, lowerHalf, i, upperOffset);
    partner = arith::SelectOp::create(
        b, loc, lowerHalf, arith::AddIOp::create(b, loc, i, halfIndex),
        upperOffset);
  }
  // Elements past rotary_dim pass through; their (unused) cache and partner
  // reads are clamped into range.
  bool partial = rotaryDim < headSize;
  if (partial) {
    cacheIndex = arith::MinUIOp::create(b, loc, cacheIndex, index(half - 1));
    partner = arith::MinUIOp::create(b, loc, partner, index(headSize - 1));
  }
  Value y = readPartner(partner);
  Value c = tensor::ExtractOp::create(b, loc, cosCache,
                                      ValueRange{position, cacheIndex});
  Value s = tensor::ExtractOp::create(b, loc, sinCache,
                                      ValueRange{position, cacheIndex});
  // x * cos -/+ partner * sin: minus for the first of each pair.
  Value xc = arith::MulFOp::create(b, loc, x, c);
  Value ys = arith::MulFOp::create(b, loc, y, s);
  Value result = arith::SelectOp::create(b, loc, lowerHalf,
                                         arith::SubFOp::create(b, loc, xc, ys),
                                         arith::AddFOp::create(b, loc, xc, ys));
  if (partial)
    result = arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i,
                              index(rotaryDim)),
        result, x);
  return result;
}

} // namespace qaf
