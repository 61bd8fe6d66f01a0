//===- LinearAlgebra.cpp - onnx matmuls and RoPE -> linalg ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// MatMul becomes the named ops the CPU and GPU pipelines tile and vectorize
// best: linalg.matmul when B is a matrix (the leading dims of A fold into its
// rows: the [batch, seq, k] x [k, n] projections of a transformer),
// linalg.batch_matmul when the batch dims agree, and a linalg.generic
// contraction with broadcasting indexing maps (no materialised copies) when
// they broadcast. A dynamic batch dim that may be a run-time 1 against n
// broadcasts as ONNX Runtime's does (a stride-0 view, as for the element-wise
// ops); where the batch dims would otherwise agree, linalg.batch_matmul still
// runs when the sizes are equal at run time. Half-precision products
// accumulate in f32.
//
// MatMulNBits dequantizes inside the contraction's body: the packed codes,
// scales and zero points are read through affine maps (block = k floordiv
// block_size), so no dequantized weight matrix ever exists.
//
//===----------------------------------------------------------------------===//

#include "DataMovementUtils.h"
#include "LinearAlgebraUtils.h"
#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;

namespace qaf {
namespace {
/// ONNX promotes a 1-D MatMul operand to a matrix ([K] -> [1, K] on the
/// left, [K, 1] on the right) and drops that dim from the result again.
struct PromotedOperands {
  Value lhs, rhs;
  bool lhsVector = false, rhsVector = false;
};

PromotedOperands promoteVectors(OpBuilder &b, Location loc, Value lhs,
                                Value rhs) {
  PromotedOperands result{lhs, rhs};
  if (cast<ShapedType>(lhs.getType()).getRank() == 1) {
    result.lhs = expandReducedDims(b, loc, lhs, {0}, 2);
    result.lhsVector = true;
  }
  if (cast<ShapedType>(rhs.getType()).getRank() == 1) {
    result.rhs = expandReducedDims(b, loc, rhs, {1}, 2);
    result.rhsVector = true;
  }
  return result;
}

/// Drops the size-1 dims `promoteVectors` added from a [..., M, N] result.
Value dropPromotedDims(OpBuilder &b, Location loc, Value product,
                       const PromotedOperands &operands) {
  if (!operands.lhsVector && !operands.rhsVector)
    return product;
  int64_t rank = cast<ShapedType>(product.getType()).getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank - 2; ++i)
    groups.push_back({i});
  if (operands.lhsVector && operands.rhsVector) {
    // [batch..., 1, 1]: both go, into the last batch dim or to a 0-D
    // result.
    if (!groups.empty())
      llvm::append_range(groups.back(),
                         ReassociationIndices{rank - 2, rank - 1});
  } else {
    groups.push_back({rank - 2, rank - 1});
  }
  return tensor::CollapseShapeOp::create(b, loc, product, groups);
}

/// The contraction `lhs` [batchL..., M, K] x `rhs` [batchR..., K, N] into
/// [batch..., M, N] of `accType`, accumulated onto `init` when given (of
/// that shape) or onto zeros: linalg.matmul for a matrix rhs (lhs rows
/// folded), linalg.batch_matmul for agreeing batch dims, else a generic
/// contraction that broadcasts through its indexing maps (and through
/// broadcastDynamicDims' views for dynamic batch sizes, chosen at run time
/// by an scf.if where the batch dims agree).
Value buildMatMul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  Type accType, StringRef opName) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  SmallVector<OpFoldResult> lhsSizes = getDims(b, loc, lhs);
  SmallVector<OpFoldResult> rhsSizes = getDims(b, loc, rhs);
  OpFoldResult m = lhsSizes[lhsRank - 2], n = rhsSizes[rhsRank - 1];
  checkSameSize(b, loc, lhsSizes[lhsRank - 1], rhsSizes[rhsRank - 2],
                opName + ": the inner dimensions differ");
  Value zero = createZero(b, loc, accType);

  if (rhsRank == 2) {
    Value rows = lhs;
    if (lhsRank > 2) {
      ReassociationIndices outer, inner = {lhsRank - 1};
      for (int64_t i = 0; i < lhsRank - 1; ++i)
        outer.push_back(i);
      rows = tensor::CollapseShapeOp::create(
          b, loc, lhs, ArrayRef<ReassociationIndices>{outer, inner});
    }
    Value init = createFilled(b, loc, {getDims(b, loc, rows)[0], n}, zero);
    Value product =
        linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                 ValueRange{rows, rhs}, ValueRange{init})
            .getResult(0);
    if (lhsRank == 2)
      return product;
    SmallVector<OpFoldResult> sizes(lhsSizes.begin(), lhsSizes.end() - 1);
    sizes.push_back(n);
    ReassociationIndices outer, inner = {lhsRank - 1};
    for (int64_t i = 0; i < lhsRank - 1; ++i)
      outer.push_back(i);
    return expandShape(b, loc, product, {outer, inner}, sizes);
  }

  ArrayRef<OpFoldResult> lhsBatch = ArrayRef(lhsSizes).drop_back(2);
  ArrayRef<OpFoldResult> rhsBatch = ArrayRef(rhsSizes).drop_back(2);
  // Dynamic batch sizes broadcast as ONNX Runtime's do (a run-time 1
  // against n, checked otherwise), the element-wise ops' rule; batch dims
  // that are all static keep the static rule.
  auto isDynamic = [](OpFoldResult size) {
    return !getConstantIntValue(size).has_value();
  };
  bool dynamicBatch =
      llvm::any_of(lhsBatch, isDynamic) || llvm::any_of(rhsBatch, isDynamic);
  FailureOr<SmallVector<OpFoldResult>> runtimeBatch = failure();
  if (dynamicBatch)
    runtimeBatch = computeBroadcastSizes(b, loc,
                                         {SmallVector<OpFoldResult>(lhsBatch),
                                          SmallVector<OpFoldResult>(rhsBatch)},
                                         opName);
  SmallVector<OpFoldResult> batch =
      succeeded(runtimeBatch)
          ? *runtimeBatch
          : broadcastBatchDims(b, loc, lhsBatch, rhsBatch, opName);
  int64_t batchRank = batch.size();
  // Batch dims agree when neither side broadcasts a static 1 against the
  // other's size.
  bool agree = lhsBatch.size() == rhsBatch.size();
  for (size_t i = 0; agree && i < lhsBatch.size(); ++i)
    agree = (getConstantIntValue(lhsBatch[i]) == 1) ==
            (getConstantIntValue(rhsBatch[i]) == 1);

  SmallVector<OpFoldResult> resultSizes(batch);
  resultSizes.push_back(m);
  resultSizes.push_back(n);
  auto resultType = RankedTensorType::get(
      llvm::map_to_vector(resultSizes,
                          [](OpFoldResult size) {
                            return getConstantIntValue(size).value_or(
                                ShapedType::kDynamic);
                          }),
      accType);
  MLIRContext *context = b.getContext();
  // The contraction over loops [batch..., m, n, k] that broadcasts through
  // its indexing maps.
  auto buildBroadcasting = [&](OpBuilder &b, Value lhs, Value rhs) -> Value {
    AffineExpr dm = getAffineDimExpr(batchRank, context);
    AffineExpr dn = getAffineDimExpr(batchRank + 1, context);
    AffineExpr dk = getAffineDimExpr(batchRank + 2, context);
    Value init = createFilled(b, loc, resultSizes, zero);
    return buildContraction(
        b, loc, batchRank, {lhs, rhs},
        {getBatchedOperandMap(cast<ShapedType>(lhs.getType()), batchRank, dm,
                              dk),
         getBatchedOperandMap(cast<ShapedType>(rhs.getType()), batchRank, dk,
                              dn)},
        init, [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value x = convertScalar(nb, nl, args[0], accType, false, false);
          Value y = convertScalar(nb, nl, args[1], accType, false, false);
          if (isa<FloatType>(accType))
            return arith::AddFOp::create(nb, nl, args[2],
                                         arith::MulFOp::create(nb, nl, x, y));
          return arith::AddIOp::create(nb, nl, args[2],
                                       arith::MulIOp::create(nb, nl, x, y));
        });
  };
  // One batch dim for linalg.batch_matmul, for batch dims of equal sizes.
  auto buildBatched = [&](OpBuilder &b) -> Value {
    auto foldBatch = [&](Value operand, int64_t rank) -> Value {
      if (rank == 3)
        return operand;
      ReassociationIndices batchGroup;
      for (int64_t i = 0; i < rank - 2; ++i)
        batchGroup.push_back(i);
      return tensor::CollapseShapeOp::create(
          b, loc, operand,
          ArrayRef<ReassociationIndices>{batchGroup, {rank - 2}, {rank - 1}});
    };
    Value lhs3 = foldBatch(lhs, lhsRank), rhs3 = foldBatch(rhs, rhsRank);
    Value init = createFilled(b, loc, {getDims(b, loc, lhs3)[0], m, n}, zero);
    Value product =
        linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                      ValueRange{lhs3, rhs3}, ValueRange{init})
            .getResult(0);
    if (batchRank == 1)
      return castToTensorType(b, loc, product, resultType);
    ReassociationIndices batchGroup;
    for (int64_t i = 0; i < batchRank; ++i)
      batchGroup.push_back(i);
    return expandShape(b, loc, product,
                       {batchGroup, {batchRank}, {batchRank + 1}}, resultSizes);
  };

  // Each operand read at the result's batch sizes: a dynamic batch dim that
  // may be a run-time 1 repeats its element (broadcastDynamicDims).
  auto stretch = [&](Value operand, ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> viewSizes(batch);
    viewSizes.append(sizes.end() - 2, sizes.end());
    return broadcastDynamicDims(b, loc, operand, sizes, viewSizes);
  };
  Value lhsRead = lhs, rhsRead = rhs;
  if (succeeded(runtimeBatch)) {
    lhsRead = stretch(lhs, lhsSizes);
    rhsRead = stretch(rhs, rhsSizes);
  }
  if (!agree)
    return buildBroadcasting(b, lhsRead, rhsRead);
  if (lhsRead == lhs && rhsRead == rhs)
    return buildBatched(b);
  // Agreeing batch dims whose sizes are only known at run time: when they
  // are equal (always, outside a broadcast) linalg.batch_matmul reads the
  // operands in place; a run-time 1 takes the broadcasting contraction.
  Value equalSizes = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (ArrayRef<OpFoldResult> sizes : {lhsBatch, rhsBatch}) {
    int64_t leading = batchRank - static_cast<int64_t>(sizes.size());
    for (auto [dim, size] : llvm::enumerate(sizes)) {
      OpFoldResult resultSize = batch[leading + dim];
      if (!isDynamic(size) || size == resultSize)
        continue;
      Value equal = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq, cast<Value>(size),
          getValueOrCreateConstantIndexOp(b, loc, resultSize));
      equalSizes = arith::AndIOp::create(b, loc, equalSizes, equal);
    }
  }
  return scf::IfOp::create(
             b, loc, equalSizes,
             [&](OpBuilder &nb, Location nl) {
               scf::YieldOp::create(nb, nl, buildBatched(nb));
             },
             [&](OpBuilder &nb, Location nl) {
               scf::YieldOp::create(nb, nl,
                                    buildBroadcasting(nb, lhsRead, rhsRead));
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// MatMul, Gemm, MatMulInteger
//===----------------------------------------------------------------------===//

struct MatMulLowering : LinalgLoweringPattern<onnx::MatMulOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::MatMulOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Type elementType = resultType.getElementType();
    Type accType = getAccumulatorType(elementType);
    PromotedOperands operands =
        promoteVectors(rw, loc, adaptor.getA(), adaptor.getB());
    Value product = buildMatMul(rw, loc, operands.lhs, operands.rhs, accType,
                                "onnx.MatMul");
    product = convertTensor(rw, loc, product, elementType);
    product = dropPromotedDims(rw, loc, product, operands);
    return LoweredValues{product};
  }
};

struct GemmLowering : LinalgLoweringPattern<onnx::GemmOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::GemmOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    Value a = adaptor.getA(), b = adaptor.getB();
    bool transA = op.getTransA() != 0, transB = op.getTransB() != 0;
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    Type elementType = resultType.getElementType();
    Type accType = getAccumulatorType(elementType);
    SmallVector<OpFoldResult> aSizes = getDims(rw, loc, a);
    SmallVector<OpFoldResult> bSizes = getDims(rw, loc, b);
    OpFoldResult m = aSizes[transA ? 1 : 0], k = aSizes[transA ? 0 : 1];
    OpFoldResult n = bSizes[transB ? 0 : 1];
    checkSameSize(rw, loc, k, bSizes[transB ? 1 : 0],
                  "onnx.Gemm: the inner dimensions differ");
    SmallVector<OpFoldResult> sizes = {m, n};

    // beta * C (broadcast to [M, N]) is where the products accumulate
    // when alpha is 1; otherwise it is added after scaling.
    Value cTerm;
    bool hasC = !isNoValue(op.getC()) && beta != 0.0;
    if (hasC) {
      checkBroadcastsTo(rw, loc, adaptor.getC(), sizes, "onnx.Gemm: C");
      cTerm = buildElementwise(
          rw, loc, {adaptor.getC()}, sizes, accType,
          [&](OpBuilder &nb, Location nl, ValueRange scalars) -> Value {
            Value c = convertScalar(nb, nl, scalars[0], accType, false, false);
            if (beta == 1.0)
              return c;
            Value factor = createScalarConstant(nb, nl, accType, beta);
            if (isa<FloatType>(accType))
              return arith::MulFOp::create(nb, nl, c, factor);
            return arith::MulIOp::create(nb, nl, c, factor);
          });
    }
    Value init =
        (hasC && alpha == 1.0)
            ? cTerm
            : createFilled(rw, loc, sizes, createZero(rw, loc, accType));

    MLIRContext *context = rw.getContext();
    AffineExpr dm = getAffineDimExpr(0, context);
    AffineExpr dn = getAffineDimExpr(1, context);
    AffineExpr dk = getAffineDimExpr(2, context);
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0,
                       transA ? SmallVector<AffineExpr>{dk, dm}
                              : SmallVector<AffineExpr>{dm, dk},
                       context),
        AffineMap::get(3, 0,
                       transB ? SmallVector<AffineExpr>{dn, dk}
                              : SmallVector<AffineExpr>{dk, dn},
                       context),
        AffineMap::get(3, 0, {dm, dn}, context)};
    // linalg.matmul with transposing indexing maps: no transposed copy of
    // the (usually constant, usually transB) weight.
    Value product =
        linalg::MatmulOp::create(
            rw, loc, TypeRange{init.getType()}, ValueRange{a, b},
            ValueRange{init},
            {rw.getNamedAttr("indexing_maps", rw.getAffineMapArrayAttr(maps))})
            .getResult(0);
    if (alpha != 1.0) {
      SmallVector<Value> operands = {product};
      if (hasC)
        operands.push_back(cTerm);
      product = buildElementwise(
          rw, loc, operands, sizes, accType,
          [&](OpBuilder &nb, Location nl, ValueRange scalars) -> Value {
            Value factor = createScalarConstant(nb, nl, accType, alpha);
            bool isFloat = isa<FloatType>(accType);
            Value scaled =
                isFloat ? arith::MulFOp::create(nb, nl, scalars[0], factor)
                              .getResult()
                        : arith::MulIOp::create(nb, nl, scalars[0], factor)
                              .getResult();
            if (scalars.size() == 1)
              return scaled;
            if (isFloat)
              return arith::AddFOp::create(nb, nl, scaled, scalars[1]);
            return arith::AddIOp::create(nb, nl, scaled, scalars[1]);
          });
    }
    product = convertTensor(rw, loc, product, elementType);
    return LoweredValues{product};
  }
};

struct MatMulIntegerLowering : LinalgLoweringPattern<onnx::MatMulIntegerOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::MatMulIntegerOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rw.getContext();
    Type i32 = rw.getI32Type();
    bool aUnsigned = isUnsignedElementType(op.getA().getType());
    bool bUnsigned = isUnsignedElementType(op.getB().getType());
    PromotedOperands operands =
        promoteVectors(rw, loc, adaptor.getA(), adaptor.getB());
    auto lhsType = cast<RankedTensorType>(operands.lhs.getType());
    auto rhsType = cast<RankedTensorType>(operands.rhs.getType());
    SmallVector<OpFoldResult> lhsSizes = getDims(rw, loc, operands.lhs);
    SmallVector<OpFoldResult> rhsSizes = getDims(rw, loc, operands.rhs);
    int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
    checkSameSize(rw, loc, lhsSizes[lhsRank - 1], rhsSizes[rhsRank - 2],
                  "onnx.MatMulInteger: the inner dimensions differ");
    SmallVector<OpFoldResult> sizes = broadcastBatchDims(
        rw, loc, ArrayRef(lhsSizes).drop_back(2),
        ArrayRef(rhsSizes).drop_back(2), "onnx.MatMulInteger");
    int64_t batchRank = sizes.size();
    sizes.push_back(lhsSizes[lhsRank - 2]);
    sizes.push_back(rhsSizes[rhsRank - 1]);
    AffineExpr dm = getAffineDimExpr(batchRank, context);
    AffineExpr dn = getAffineDimExpr(batchRank + 1, context);
    AffineExpr dk = getAffineDimExpr(batchRank + 2, context);
    AffineExpr zeroExpr = getAffineConstantExpr(0, context);

    SmallVector<Value> inputs = {operands.lhs, operands.rhs};
    SmallVector<AffineMap> maps = {
        getBatchedOperandMap(lhsType, batchRank, dm, dk),
        getBatchedOperandMap(rhsType, batchRank, dk, dn)};
    // Zero points: one value, one per row of A / column of B (1-D), or
    // [..., M, 1] / [..., 1, N] with A's / B's batch dims.
    auto addZeroPoint = [&](Value original, Value converted, AffineExpr along,
                            bool isA, StringRef name) -> LogicalResult {
      if (isNoValue(original))
        return success();
      auto type = cast<RankedTensorType>(converted.getType());
      AffineMap map;
      if (type.hasStaticShape() && type.getNumElements() == 1)
        map = AffineMap::get(batchRank + 3, 0,
                             SmallVector<AffineExpr>(type.getRank(), zeroExpr),
                             context);
      else if (type.getRank() == 1 && !type.isDynamicDim(0))
        map = AffineMap::get(batchRank + 3, 0, {along}, context);
      else if (type.getRank() == 1) {
        // One value or one per row/column, known only at run time: spread
        // it over the rows/columns (a small vector) reading
        // zp[min(i, size - 1)].
        OpFoldResult count = sizes[isA ? batchRank : batchRank + 1];
        Value last = arith::SubIOp::create(
            rw, loc, tensor::DimOp::create(rw, loc, converted, 0),
            arith::ConstantIndexOp::create(rw, loc, 1));
        Value init = createEmptyTensor(rw, loc, {count}, type.getElementType());
        AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
        converted =
            linalg::GenericOp::create(
                rw, loc, TypeRange{init.getType()}, ValueRange{},
                ValueRange{init}, ArrayRef<AffineMap>{identity},
                ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
                [&](OpBuilder &nb, Location nl, ValueRange) {
                  Value index = arith::MinUIOp::create(
                      nb, nl, linalg::IndexOp::create(nb, nl, 0), last);
                  linalg::YieldOp::create(
                      nb, nl,
                      tensor::ExtractOp::create(nb, nl, converted,
                                                ValueRange{index})
                          .getResult());
                })
                .getResult(0);
        map = AffineMap::get(batchRank + 3, 0, {along}, context);
      } else if (type.getRank() >= 2)
        map = isA ? getBatchedOperandMap(type, batchRank, along, zeroExpr)
                  : getBatchedOperandMap(type, batchRank, zeroExpr, along);
      else
        return reportUnsupported(rw, op, "unsupported " + name + " shape");
      inputs.push_back(converted);
      maps.push_back(map);
      return success();
    };
    if (failed(addZeroPoint(op.getAZeroPoint(), adaptor.getAZeroPoint(), dm,
                            true, "a_zero_point")) ||
        failed(addZeroPoint(op.getBZeroPoint(), adaptor.getBZeroPoint(), dn,
                            false, "b_zero_point")))
      return failure();
    bool hasAZero = !isNoValue(op.getAZeroPoint());
    bool hasBZero = !isNoValue(op.getBZeroPoint());

    Value init = createFilled(rw, loc, sizes, createZero(rw, loc, i32));
    // (a - a_zero) * (b - b_zero) summed in i32, each side widened by its
    // own signedness.
    Value product = buildContraction(
        rw, loc, batchRank, inputs, maps, init,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          unsigned next = 2;
          Value x = convertScalar(nb, nl, args[0], i32, aUnsigned, false);
          Value y = convertScalar(nb, nl, args[1], i32, bUnsigned, false);
          if (hasAZero)
            x = arith::SubIOp::create(
                nb, nl, x,
                convertScalar(nb, nl, args[next++], i32, aUnsigned, false));
          if (hasBZero)
            y = arith::SubIOp::create(
                nb, nl, y,
                convertScalar(nb, nl, args[next++], i32, bUnsigned, false));
          return arith::AddIOp::create(nb, nl, args.back(),
                                       arith::MulIOp::create(nb, nl, x, y));
        });
    product = dropPromotedDims(rw, loc, product, operands);
    return LoweredValues{product};
  }
};

//===----------------------------------------------------------------------===//
// com.microsoft MatMulNBits
//===----------------------------------------------------------------------===//

struct MatMulNBitsLowering : LinalgLoweringPattern<onnx::MatMulNBitsOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::MatMulNBitsOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rw.getContext();
    RankedTensorType resultType = resultTypes[0];
    int64_t k = static_cast<int64_t>(op.getK());
    int64_t n = static_cast<int64_t>(op.getN());
    int64_t bits = static_cast<int64_t>(op.getBits());
    int64_t blockSize = static_cast<int64_t>(op.getBlockSize());
    int64_t blocks = (k + blockSize - 1) / blockSize;
    int64_t perByte = 8 / bits;
    int64_t zeroBytesPerRow = (blocks * bits + 7) / 8;
    Type elementType = resultType.getElementType();
    Type f32 = rw.getF32Type();

    // g_idx (deprecated in ONNX Runtime) names the block of each k; when it
    // is a constant in the natural order k / block_size it says nothing new.
    // ONNX Runtime ignores packed zero points once g_idx is given (checked
    // with 1.30: it then uses 2^(bits - 1)), so that pair is rejected
    // rather than given a second meaning.
    bool hasZeroPoints = !isNoValue(op.getZeroPoints());
    bool packedZeroPoints =
        hasZeroPoints &&
        !isa<FloatType>(
            cast<ShapedType>(op.getZeroPoints().getType()).getElementType());
    bool groupIndex = false;
    if (!isNoValue(op.getGIdx())) {
      if (packedZeroPoints)
        return reportUnsupported(
            rw, op,
            "g_idx with packed uint8 zero_points is not supported (ONNX "
            "Runtime ignores such zero points); give float zero_points");
      std::optional<SmallVector<int64_t>> order =
          getConstantIntValues(op.getGIdx());
      bool trivial = order && static_cast<int64_t>(order->size()) == k;
      for (int64_t i = 0; trivial && i < k; ++i)
        trivial = (*order)[i] == i / blockSize;
      groupIndex = !trivial;
    }

    // Loops (m, n, k). The code of (n, k) sits in byte
    // B[n, k / block_size, (k % block_size) / perByte], at bit
    // (k % perByte) * bits; block b's zero point in byte
    // b / perByte of row n, at bit (b % perByte) * bits.
    AffineExpr dn = getAffineDimExpr(1, context);
    AffineExpr dk = getAffineDimExpr(2, context);
    AffineExpr block = dk.floorDiv(blockSize);
    auto map = [&](ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(3, 0, exprs, context);
    };
    auto rankOf = [](Value value) {
      return cast<RankedTensorType>(value.getType()).getRank();
    };
    if (rankOf(adaptor.getScales()) != 1 && rankOf(adaptor.getScales()) != 2)
      return reportUnsupported(rw, op, "scales must have rank 1 or 2");
    if (hasZeroPoints && rankOf(adaptor.getZeroPoints()) != 1 &&
        rankOf(adaptor.getZeroPoints()) != 2)
      return reportUnsupported(rw, op, "zero_points must have rank 1 or 2");
    // A per-block [N, columns] (or flat [N * columns]) operand's map.
    auto perBlockMap = [&](Value value, AffineExpr column, int64_t columns) {
      if (rankOf(value) == 2)
        return map({dn, column});
      return map({dn * columns + column});
    };
    SmallVector<Value> inputs = {adaptor.getB()};
    SmallVector<AffineMap> maps = {
        map({dn, block, (dk % blockSize).floorDiv(perByte)})};
    // Per-block operands are read through maps, or, with a g_idx, at the
    // block it names (tensor.extract in the body).
    if (groupIndex) {
      inputs.push_back(adaptor.getGIdx());
      maps.push_back(map({dk}));
    } else {
      inputs.push_back(adaptor.getScales());
      maps.push_back(perBlockMap(adaptor.getScales(), block, blocks));
      if (hasZeroPoints) {
        inputs.push_back(adaptor.getZeroPoints());
        maps.push_back(
            packedZeroPoints
                ? perBlockMap(adaptor.getZeroPoints(), block.floorDiv(perByte),
                              zeroBytesPerRow)
                : perBlockMap(adaptor.getZeroPoints(), block, blocks));
      }
    }
    Value scales = adaptor.getScales(), zeroPoints = adaptor.getZeroPoints();
    Value bias = isNoValue(op.getBias()) ? Value() : adaptor.getBias();

    Value product = buildDequantizingMatMul(
        rw, loc, adaptor.getA(), n, inputs, maps, bias,
        "onnx.com.microsoft.MatMulNBits: bias", elementType,
        [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
          Value kIndex = linalg::IndexOp::create(nb, nl, 2);
          Value perByteIndex = arith::ConstantIndexOp::create(nb, nl, perByte);
          Value code = unpackCode(
              nb, nl, args[0],
              arith::RemUIOp::create(nb, nl, kIndex, perByteIndex), bits);
          Value scale, zero;
          if (groupIndex) {
            // Block g_idx[k] of row n: [n, block] or [n * blocks + block].
            Value blockIndex =
                arith::IndexCastOp::create(nb, nl, nb.getIndexType(), args[1]);
            Value row = linalg::IndexOp::create(nb, nl, 1);
            auto readBlock = [&](Value tensor) -> Value {
              if (rankOf(tensor) == 2)
                return tensor::ExtractOp::create(nb, nl, tensor,
                                                 ValueRange{row, blockIndex});
              Value flat = arith::AddIOp::create(
                  nb, nl,
                  arith::MulIOp::create(
                      nb, nl, row,
                      arith::ConstantIndexOp::create(nb, nl, blocks)),
                  blockIndex);
              return tensor::ExtractOp::create(nb, nl, tensor,
                                               ValueRange{flat});
            };
            scale = readBlock(scales);
            if (hasZeroPoints)
              zero = readBlock(zeroPoints);
          } else {
            scale = args[1];
            if (hasZeroPoints)
              zero = args[2];
          }
          scale = convertScalar(nb, nl, scale, f32, false, false);
          if (!hasZeroPoints) {
            zero = arith::ConstantOp::create(
                nb, nl, nb.getFloatAttr(f32, double(1 << (bits - 1))));
          } else if (packedZeroPoints) {
            Value blockIndex = arith::DivUIOp::create(
                nb, nl, kIndex,
                arith::ConstantIndexOp::create(nb, nl, blockSize));
            zero = unpackCode(
                nb, nl, zero,
                arith::RemUIOp::create(nb, nl, blockIndex, perByteIndex), bits);
          } else {
            zero = convertScalar(nb, nl, zero, f32, false, false);
          }
          return arith::MulFOp::create(
              nb, nl, arith::SubFOp::create(nb, nl, code, zero), scale);
        });
    return LoweredValues{product};
  }
};

//===----------------------------------------------------------------------===//
// com.microsoft RotaryEmbedding
//===----------------------------------------------------------------------===//

/// ONNX Runtime's contrib RotaryEmbedding: each head's first rotary_dim
/// elements are rotated by the angle of the token's position (read from
/// the cos/sin caches), the rest pass through. Interleaved pairs are
/// (2i, 2i + 1); otherwise (i, i + rotary_dim / 2).
struct RotaryEmbeddingLowering
    : LinalgLoweringPattern<onnx::RotaryEmbeddingOp> {
  using LinalgLoweringPattern::LinalgLoweringPattern;
  FailureOr<LoweredValues> lower(onnx::RotaryEmbeddingOp op, OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = resultTypes[0];
    if (op.getIsPackedBatching() != 0)
      return reportUnsupported(rw, op, "is_packed_batching is not supported");
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto cacheType = cast<RankedTensorType>(adaptor.getCosCache().getType());
    auto positionType =
        cast<RankedTensorType>(adaptor.getPositionIds().getType());
    int64_t rank = inputType.getRank();
    int64_t numHeads = static_cast<int64_t>(op.getNumHeads());
    int64_t rotaryAttr = static_cast<int64_t>(op.getRotaryEmbeddingDim());
    bool interleaved = op.getInterleaved() != 0;

    // The head size as ONNX Runtime derives it: from the cache width when
    // rotary_embedding_dim is 0, else from hidden / num_heads.
    int64_t hidden =
        rank == 3 ? inputType.getDimSize(2)
                  : (ShapedType::isDynamic(inputType.getDimSize(1)) ||
                             ShapedType::isDynamic(inputType.getDimSize(3))
                         ? ShapedType::kDynamic
                         : inputType.getDimSize(1) * inputType.getDimSize(3));
    int64_t headSize;
    if (rotaryAttr == 0) {
      if (cacheType.isDynamicDim(1))
        return reportUnsupported(rw, op,
                                 "the cache width must be static when "
                                 "rotary_embedding_dim is 0");
      headSize = cacheType.getDimSize(1) * 2;
    } else {
      if (ShapedType::isDynamic(hidden))
        return reportUnsupported(rw, op,
                                 "the hidden size must be static with "
                                 "rotary_embedding_dim");
      headSize = hidden / numHeads;
    }
    int64_t rotaryDim = rotaryAttr > 0 ? rotaryAttr : headSize;
    if (rank == 3 && ShapedType::isDynamic(hidden))
      return reportUnsupported(rw, op,
                               "a 3-D input needs a static hidden "
                               "size to locate the heads");
    if (rank == 4 && !inputType.isDynamicDim(3) &&
        inputType.getDimSize(3) != headSize)
      return reportUnsupported(rw, op,
                               "head size " + Twine(headSize) +
                                   " does not match the input's last dim");
    if (rotaryDim > headSize || rotaryDim % 2 != 0)
      return reportUnsupported(rw, op,
                               "rotary dim must be even and at most "
                               "the head size");
    bool scalarPositions =
        positionType.hasStaticShape() && positionType.getNumElements() == 1;
    if (!scalarPositions && positionType.getRank() != 2)
      return reportUnsupported(rw, op,
                               "position_ids must be (batch, sequence) or a "
                               "single offset");

    Value positions = adaptor.getPositionIds();
    Value cosCache = adaptor.getCosCache(), sinCache = adaptor.getSinCache();
    int64_t seqDim = rank == 3 ? 1 : 2;
    Type elementType = resultType.getElementType();
    Value init =
        createEmptyTensor(rw, loc, getDims(rw, loc, input), elementType);
    MLIRContext *context = rw.getContext();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rw, loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
        ArrayRef<AffineMap>{identity, identity}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto index = [&](int64_t value) -> Value {
            return arith::ConstantIndexOp::create(b, l, value);
          };
          SmallVector<Value> coords;
          for (int64_t i = 0; i < rank; ++i)
            coords.push_back(linalg::IndexOp::create(b, l, i));
          Value last = coords.back();
          // Position within the head.
          Value i = rank == 3
                        ? arith::RemUIOp::create(b, l, last, index(headSize))
                              .getResult()
                        : last;
          Value position;
          if (scalarPositions) {
            position = arith::AddIOp::create(
                b, l,
                arith::IndexCastOp::create(b, l, b.getIndexType(),
                                           extractScalar(b, l, positions)),
                coords[seqDim]);
          } else {
            position = arith::IndexCastOp::create(
                b, l, b.getIndexType(),
                tensor::ExtractOp::create(
                    b, l, positions, ValueRange{coords[0], coords[seqDim]}));
          }
          Value result = buildRotaryElement(
              b, l, args[0], i, position, cosCache, sinCache, headSize,
              rotaryDim, interleaved, [&](Value partner) -> Value {
                SmallVector<Value> partnerCoords(coords);
                partnerCoords.back() = arith::AddIOp::create(
                    b, l, arith::SubIOp::create(b, l, last, i), partner);
                return tensor::ExtractOp::create(b, l, input, partnerCoords);
              });
          linalg::YieldOp::create(b, l, result);
        });
    return LoweredValues{generic.getResult(0)};
  }
};

} // namespace

void populateLinearAlgebraPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns) {
  patterns.add<GemmLowering, MatMulIntegerLowering, MatMulLowering,
               MatMulNBitsLowering, RotaryEmbeddingLowering>(
      converter, patterns.getContext());
}

} // namespace qaf
