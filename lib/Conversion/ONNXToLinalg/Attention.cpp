//===- Attention.cpp - com.microsoft GroupQueryAttention -> linalg --------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// ONNX Runtime's GroupQueryAttention as ONNX Runtime's CPU kernel computes it
// (checked against ONNX Runtime 1.30 in conversion-numeric-ort):
//
//   past_b    = 0 for the first prompt (S == total_sequence_length), else
//               seqlens_k[b] + 1 - S
//   present   = [past[:past_b], rotary(new), zeros] along the sequence,
//               max(P, total_sequence_length) long (written into past, the
//               rest of it kept, for a cache the runtime keeps in place)
//   scores    = rotary(q) . present_key * scale, softcapped, plus
//               attention_bias, -inf where key t > past_b + s, t >=
//               seqlens_k[b]
//               + 1 or (local_window_size W > 0) t <= past_b + s - W
//   output    = softmax(scores) . present_value (a head sink, when given,
//               adds exp(sink) to the denominator)
//
// With fuse-attention (a target with a fused attention kernel), f32
// attention without softcap or sink is one qaf.kernel.attention over the
// rotated query and the present, the mask and attention_bias its bias.
//
// Query head n reads kv head n / (num_heads / kv_num_heads) through the
// indexing maps (n floordiv group), so no repeated K/V is materialised.
// Every read at a position computed from seqlens_k is clamped into its
// tensor, and the new tokens' positions are checked at run time (qaf.check),
// so lengths that disagree with the buffers never read or write out of
// bounds. Products and the softmax are in f32 for f16/bf16.
//
//===----------------------------------------------------------------------===//

#include "LinearAlgebraUtils.h"
#include "LoweringPattern.h"
#include "LoweringUtils.h"
#include "Patterns.h"

#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cmath>

using namespace mlir;

namespace qaf {
namespace {

/// The inputs and attributes GroupQueryAttention's lowering rejects, each
/// named as ONNX names it; empty when the op is supported.
std::string getUnsupportedFeature(onnx::GroupQueryAttentionOp op) {
  if (op.getCausal() != 1)
    return "causal = 0 (bidirectional attention) is not supported";
  if (op.getQkOutput() != 0)
    return "qk_output = " + std::to_string(op.getQkOutput()) +
           " is not supported";
  if (op.getSlidingWindowCache() != 0)
    return "sliding_window_cache = 1 is not supported";
  if (op.getKQuantType() != "NONE" || op.getVQuantType() != "NONE" ||
      op.getKvCacheBitWidth() != 0)
    return "a quantized KV cache (k_quant_type, v_quant_type, "
           "kv_cache_bit_width) is not supported";
  std::pair<Value, const char *> inputs[] = {
      {op.getPositionIds(), "position_ids"},
      {op.getKScale(), "k_scale"},
      {op.getVScale(), "v_scale"},
      {op.getQNormWeight(), "q_norm_weight"},
      {op.getKNormWeight(), "k_norm_weight"}};
  for (auto [value, name] : inputs)
    if (!isNoValue(value))
      return std::string("input ") + name + " is not supported";
  Type elementType = cast<TensorType>(op.getQuery().getType()).getElementType();
  if (!isNoValue(op.getPastKey()) &&
      cast<TensorType>(op.getPastKey().getType()).getElementType() !=
          elementType)
    return "a quantized KV cache (past_key of another type than query) is "
           "not supported";
  return "";
}

struct GroupQueryAttentionLowering
    : LinalgLoweringPattern<onnx::GroupQueryAttentionOp> {
  GroupQueryAttentionLowering(const TypeConverter &converter,
                              MLIRContext *context, bool fuse)
      : LinalgLoweringPattern(converter, context), fuse(fuse) {}

  /// qaf.kernel.attention for the attention itself (fuse-attention).
  bool fuse;

  FailureOr<LoweredValues> lower(onnx::GroupQueryAttentionOp op,
                                 OpAdaptor adaptor,
                                 ArrayRef<RankedTensorType> resultTypes,
                                 ConversionPatternRewriter &rw) const override {
    std::string unsupported = getUnsupportedFeature(op);
    if (!unsupported.empty())
      return reportUnsupported(rw, op, unsupported);
    int64_t headSize = op.getHeadSize();
    if (ShapedType::isDynamic(headSize))
      return reportUnsupported(rw, op, "query's last dim must be static");
    Location loc = op.getLoc();
    MLIRContext *context = rw.getContext();
    int64_t numHeads = static_cast<int64_t>(op.getNumHeads());
    int64_t kvNumHeads = static_cast<int64_t>(op.getKvNumHeads());
    int64_t group = numHeads / kvNumHeads;
    bool packed = op.isPackedQKV();
    bool hasPast = !isNoValue(op.getPastKey());
    bool rotary = op.getDoRotary() != 0;
    int64_t rotaryDim = 0;
    if (rotary) {
      auto cacheType = cast<RankedTensorType>(adaptor.getCosCache().getType());
      if (cacheType.isDynamicDim(1))
        return reportUnsupported(rw, op, "cos_cache's width must be static");
      rotaryDim = 2 * cacheType.getDimSize(1);
    }
    Value query = adaptor.getQuery();
    Type elementType = resultTypes[0].getElementType();
    Type computeType = getComputeType(elementType);
    auto widen = [&](OpBuilder &b, Location l, Value x) {
      return convertScalar(b, l, x, computeType, false, false);
    };
    auto index = [](OpBuilder &b, Location l, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(b, l, value);
    };

    SmallVector<OpFoldResult> queryDims = getDims(rw, loc, query);
    OpFoldResult batch = queryDims[0], sequence = queryDims[1];
    Value sequenceValue = getValueOrCreateConstantIndexOp(rw, loc, sequence);
    emitRuntimeCheck(
        rw, loc,
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::sgt, sequenceValue,
                              index(rw, loc, 0)),
        "GroupQueryAttention needs a sequence length of at least 1");
    Value total = arith::IndexCastOp::create(
        rw, loc, rw.getIndexType(),
        extractScalar(rw, loc, adaptor.getTotalSequenceLength()));
    Value pastLength =
        hasPast ? tensor::DimOp::create(rw, loc, adaptor.getPastKey(), 2)
                      .getResult()
                : index(rw, loc, 0);
    OpFoldResult presentLength =
        arith::MaxSIOp::create(rw, loc, pastLength, total).getResult();
    Value firstPrompt = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                              sequenceValue, total);
    Value seqlens = adaptor.getSeqlensK();

    // Row b's past length and total length (seqlens_k[b] + 1), in a body.
    auto rowLengths = [&](OpBuilder &b, Location l,
                          Value row) -> std::pair<Value, Value> {
      Value rowTotal = arith::AddIOp::create(
          b, l,
          arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              tensor::ExtractOp::create(b, l, seqlens, ValueRange{row})),
          index(b, l, 1));
      Value past = arith::SelectOp::create(
          b, l, firstPrompt, index(b, l, 0),
          arith::SubIOp::create(b, l, rowTotal, sequenceValue));
      return {past, rowTotal};
    };
    auto clamp = [&](OpBuilder &b, Location l, Value value, Value size) {
      Value last = arith::SubIOp::create(b, l, size, index(b, l, 1));
      return arith::MaxSIOp::create(
          b, l, arith::MinSIOp::create(b, l, value, last), index(b, l, 0));
    };
    // Element (b, s, head, d) of the new query, key or value: a column of
    // query, key or value (or of packed QKV, where key heads follow the
    // query heads and value heads the key heads), rotated at `position`.
    auto readHead = [&](OpBuilder &b, Location l, Value source,
                        int64_t firstColumn, Value row, Value step, Value head,
                        Value d, Value position, bool rotate) -> Value {
      Value headStart = arith::AddIOp::create(
          b, l, index(b, l, firstColumn),
          arith::MulIOp::create(b, l, head, index(b, l, headSize)));
      auto at = [&](Value within) -> Value {
        return tensor::ExtractOp::create(
            b, l, source,
            ValueRange{row, step,
                       arith::AddIOp::create(b, l, headStart, within)});
      };
      Value x = at(d);
      if (rotate) {
        Value cosCache = adaptor.getCosCache();
        Value row =
            clamp(b, l, position, tensor::DimOp::create(b, l, cosCache, 0));
        x = buildRotaryElement(b, l, x, d, row, cosCache, adaptor.getSinCache(),
                               headSize, rotaryDim,
                               op.getRotaryInterleaved() != 0, at);
      }
      return widen(b, l, x);
    };
    auto parallelGeneric =
        [&](ArrayRef<OpFoldResult> dims, Type type,
            function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body)
        -> Value {
      Value init = createEmptyTensor(rw, loc, dims, type);
      int64_t rank = dims.size();
      AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, context);
      SmallVector<utils::IteratorType> iterators(rank,
                                                 utils::IteratorType::parallel);
      return linalg::GenericOp::create(
                 rw, loc, TypeRange{init.getType()}, ValueRange{},
                 ValueRange{init}, ArrayRef<AffineMap>{identity}, iterators,
                 [&](OpBuilder &b, Location l, ValueRange) {
                   SmallVector<Value> coords;
                   for (int64_t i = 0; i < rank; ++i)
                     coords.push_back(linalg::IndexOp::create(b, l, i));
                   linalg::YieldOp::create(b, l, body(b, l, coords));
                 })
          .getResult(0);
    };

    // The rotated query, (B, N, S, H) in the compute type.
    OpFoldResult numHeadsSize = rw.getIndexAttr(numHeads);
    OpFoldResult headSizeSize = rw.getIndexAttr(headSize);
    Value rotatedQuery = parallelGeneric(
        {batch, numHeadsSize, sequence, headSizeSize}, computeType,
        [&](OpBuilder &b, Location l, ArrayRef<Value> c) -> Value {
          Value position =
              arith::AddIOp::create(b, l, rowLengths(b, l, c[0]).first, c[2]);
          return readHead(b, l, query, 0, c[0], c[2], c[1], c[3], position,
                          rotary);
        });

    // present: the row's past, then its new tokens (the key rotated at its
    // position), then zeros, along the sequence. Where the entry point
    // writes the cache in place (kPresentInPastAttr: the caller's buffer
    // holds at least total_sequence_length positions), the new tokens are
    // written into the past itself instead, the positions after them kept
    // as the buffer holds them (as ONNX Runtime's shared past/present
    // buffer): a step then moves only its S new positions, not the cache.
    Value keySource = packed ? query : adaptor.getKey();
    Value valueSource = packed ? query : adaptor.getValue();
    int64_t keyColumn = packed ? numHeads * headSize : 0;
    int64_t valueColumn = packed ? (numHeads + kvNumHeads) * headSize : 0;
    OpFoldResult kvHeadsSize = rw.getIndexAttr(kvNumHeads);
    auto buildNew = [&](Value source, int64_t firstColumn,
                        bool rotate) -> Value {
      return parallelGeneric(
          {batch, kvHeadsSize, sequence, headSizeSize}, elementType,
          [&](OpBuilder &b, Location l, ArrayRef<Value> c) -> Value {
            Value position =
                arith::AddIOp::create(b, l, rowLengths(b, l, c[0]).first, c[2]);
            return convertScalar(b, l,
                                 readHead(b, l, source, firstColumn, c[0], c[2],
                                          c[1], c[3], position, rotate),
                                 elementType, false, false);
          });
    };
    Value presentLengthValue =
        getValueOrCreateConstantIndexOp(rw, loc, presentLength);
    emitRuntimeCheck(
        rw, loc,
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::sle, sequenceValue,
                              presentLengthValue),
        "GroupQueryAttention: {0} new tokens do not fit a present of {1} "
        "positions (total_sequence_length too small)",
        ValueRange{sequenceValue, presentLengthValue});
    bool inPlace = hasPast && op->hasAttr(onnx::kPresentInPastAttr);
    if (inPlace)
      emitRuntimeCheck(
          rw, loc,
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::sle, total,
                                pastLength),
          "GroupQueryAttention: the cache buffer holds {0} positions, "
          "total_sequence_length is {1}",
          ValueRange{pastLength, total});
    SmallVector<OpFoldResult> presentDims = {batch, kvHeadsSize, presentLength,
                                             headSizeSize};
    Value zero = createScalarConstant(rw, loc, elementType, 0.0);
    auto buildPresent = [&](Value past, Value fresh,
                            RankedTensorType resultType) -> Value {
      if (!inPlace)
        // As ONNX Runtime's CPU kernel: the row's past, its new tokens, then
        // zeros.
        return parallelGeneric(
            presentDims, elementType,
            [&](OpBuilder &b, Location l, ArrayRef<Value> c) -> Value {
              Value row = c[0], head = c[1], t = c[2], d = c[3];
              Value rowPast = rowLengths(b, l, row).first;
              Value step = arith::SubIOp::create(b, l, t, rowPast);
              Value isNew = arith::AndIOp::create(
                  b, l,
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, step,
                                        index(b, l, 0)),
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, step,
                                        sequenceValue));
              Value value = arith::SelectOp::create(
                  b, l, isNew,
                  tensor::ExtractOp::create(
                      b, l, fresh,
                      ValueRange{row, head, clamp(b, l, step, sequenceValue),
                                 d}),
                  zero);
              if (!past)
                return value;
              Value old = tensor::ExtractOp::create(
                  b, l, past,
                  ValueRange{row, head, clamp(b, l, t, pastLength), d});
              Value isPast = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, t, rowPast);
              return arith::SelectOp::create(b, l, isPast, old, value);
            });
      // Row b's new tokens at its past length, clamped into the present
      // (a length that disagrees with the buffers fails the check). Rows
      // write disjoint slices: an scf.forall, whose shared output one-shot
      // bufferization keeps in the past's buffer.
      auto rows = scf::ForallOp::create(rw, loc, ArrayRef<OpFoldResult>{batch},
                                        ValueRange{past}, std::nullopt);
      OpBuilder b(rows.getTerminator());
      Value row = rows.getInductionVar(0);
      Value rowPast = rowLengths(b, loc, row).first;
      Value end = arith::AddIOp::create(b, loc, rowPast, sequenceValue);
      Value fits = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, rowPast,
                                index(b, loc, 0)),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, end,
                                presentLengthValue));
      emitRuntimeCheck(b, loc, fits,
                       "GroupQueryAttention: row {0}'s new tokens end at "
                       "position {1}, beyond the present's {2}",
                       ValueRange{row, end, presentLengthValue});
      Value offset = arith::MaxSIOp::create(
          b, loc,
          arith::MinSIOp::create(
              b, loc, rowPast,
              arith::SubIOp::create(b, loc, presentLengthValue, sequenceValue)),
          index(b, loc, 0));
      OpFoldResult one = b.getIndexAttr(1), zeroIndex = b.getIndexAttr(0);
      SmallVector<OpFoldResult> rowSizes = {one, kvHeadsSize, sequence,
                                            headSizeSize};
      SmallVector<OpFoldResult> ones(4, one);
      Value rowNew = tensor::ExtractSliceOp::create(
          b, loc, fresh,
          SmallVector<OpFoldResult>{row, zeroIndex, zeroIndex, zeroIndex},
          rowSizes, ones);
      b.setInsertionPointToStart(&rows.getTerminator().getRegion().front());
      tensor::ParallelInsertSliceOp::create(
          b, loc, rowNew, rows.getRegionIterArgs()[0],
          SmallVector<OpFoldResult>{row, zeroIndex, offset, zeroIndex},
          rowSizes, ones);
      Value present = rows.getResult(0);
      return present.getType() == resultType
                 ? present
                 : tensor::CastOp::create(rw, loc, resultType, present)
                       .getResult();
    };
    Value pastKey = hasPast ? adaptor.getPastKey() : Value();
    Value pastValue = hasPast ? adaptor.getPastValue() : Value();
    Value presentKey = buildPresent(
        pastKey, buildNew(keySource, keyColumn, rotary), resultTypes[1]);
    Value presentValue = buildPresent(
        pastValue, buildNew(valueSource, valueColumn, false), resultTypes[2]);
    // q . k over d: loops (b, n, s, t, d); query head n reads kv head n / G.
    auto d0 = getAffineDimExpr(0, context), d1 = getAffineDimExpr(1, context),
         d2 = getAffineDimExpr(2, context), d3 = getAffineDimExpr(3, context),
         d4 = getAffineDimExpr(4, context);
    Value zeroAcc = createScalarConstant(rw, loc, computeType, 0.0);
    // A sum of products over the last of five loops into a zero-filled
    // accumulator of `dims`; the right operand (K or V, maybe narrower) is
    // widened to the compute type.
    auto contract =
        [&](Value lhs, Value rhs, ArrayRef<OpFoldResult> dims,
            ArrayRef<AffineExpr> lhsIndex, ArrayRef<AffineExpr> rhsIndex,
            ArrayRef<AffineExpr> resultIndex, unsigned reductionLoop) -> Value {
      Value init =
          linalg::FillOp::create(rw, loc, zeroAcc,
                                 createEmptyTensor(rw, loc, dims, computeType))
              .getResult(0);
      SmallVector<utils::IteratorType> iterators(5,
                                                 utils::IteratorType::parallel);
      iterators[reductionLoop] = utils::IteratorType::reduction;
      return linalg::GenericOp::create(
                 rw, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
                 ValueRange{init},
                 ArrayRef<AffineMap>{
                     AffineMap::get(5, 0, lhsIndex, context),
                     AffineMap::get(5, 0, rhsIndex, context),
                     AffineMap::get(5, 0, resultIndex, context)},
                 iterators,
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   Value product = arith::MulFOp::create(b, l, args[0],
                                                         widen(b, l, args[1]));
                   linalg::YieldOp::create(
                       b, l,
                       arith::AddFOp::create(b, l, args[2], product)
                           .getResult());
                 })
          .getResult(0);
    };
    // Keys and values at positions >= total_sequence_length are masked for
    // every row: the products read the first total positions only.
    OpFoldResult seen = total;
    auto firstPositions = [&](Value present) -> Value {
      SmallVector<OpFoldResult> sizes = {batch, kvHeadsSize, seen,
                                         headSizeSize};
      return tensor::ExtractSliceOp::create(
          rw, loc, present, SmallVector<OpFoldResult>(4, rw.getIndexAttr(0)),
          sizes, SmallVector<OpFoldResult>(4, rw.getIndexAttr(1)));
    };
    SmallVector<OpFoldResult> scoreDims = {batch, numHeadsSize, sequence, seen};
    float scaleAttr = op.getScale().convertToFloat();
    double scale =
        scaleAttr != 0.0f ? scaleAttr : 1.0 / std::sqrt(double(headSize));
    double softcap = op.getSoftcap().convertToFloat();
    int64_t window = static_cast<int64_t>(op.getLocalWindowSize());
    Value bias =
        isNoValue(op.getAttentionBias()) ? Value() : adaptor.getAttentionBias();
    // Whether key t is visible to query s of row `row` (causal from the
    // row's past on, within its total length and the local window).
    auto isVisible = [&](OpBuilder &b, Location l, Value row, Value s,
                         Value t) -> Value {
      auto [rowPast, rowTotal] = rowLengths(b, l, row);
      Value position = arith::AddIOp::create(b, l, rowPast, s);
      Value visible = arith::AndIOp::create(
          b, l,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, t, position),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, t, rowTotal));
      if (window > 0)
        visible = arith::AndIOp::create(
            b, l, visible,
            arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::sgt, t,
                arith::SubIOp::create(b, l, position, index(b, l, window))));
      return visible;
    };
    // attention_bias (B or 1, N or 1, S, T) at (b, n, s, t): a size-1 dim
    // broadcasts.
    auto biasAt = [&](OpBuilder &b, Location l, ArrayRef<Value> c) -> Value {
      SmallVector<Value> at;
      for (int64_t i = 0; i < 4; ++i)
        at.push_back(clamp(b, l, c[i], tensor::DimOp::create(b, l, bias, i)));
      return widen(b, l, tensor::ExtractOp::create(b, l, bias, at));
    };
    Value minusInfinity = createScalarConstant(
        rw, loc, computeType, -std::numeric_limits<double>::infinity());
    bool hasSink = !isNoValue(op.getHeadSink()) || op.getSmoothSoftmax() == 1;
    if (fuse && elementType.isF32() && softcap == 0.0 && !hasSink) {
      // The fused kernel: the mask (and attention_bias) as one additive
      // bias [B, 1 or N, S, T], 0 or -inf where a key is hidden.
      auto biasType = bias ? cast<RankedTensorType>(bias.getType()) : nullptr;
      bool perHead = biasType && biasType.getDimSize(1) != 1;
      Value mask = parallelGeneric(
          {batch, perHead ? numHeadsSize : rw.getIndexAttr(1), sequence, seen},
          computeType, [&](OpBuilder &b, Location l, ArrayRef<Value> c) {
            Value x = bias ? biasAt(b, l, c)
                           : createScalarConstant(b, l, computeType, 0.0);
            return arith::SelectOp::create(b, l,
                                           isVisible(b, l, c[0], c[2], c[3]), x,
                                           minusInfinity)
                .getResult();
          });
      Value attended =
          AttentionKernelOp::create(
              rw, loc, rotatedQuery, firstPositions(presentKey),
              firstPositions(presentValue), mask,
              createEmptyTensor(rw, loc,
                                {batch, numHeadsSize, sequence, headSizeSize},
                                computeType),
              scale)
              .getResult();
      // [B, N, S, H] -> (B, S, N * H).
      Value transposed =
          linalg::TransposeOp::create(
              rw, loc, attended,
              createEmptyTensor(rw, loc,
                                {batch, sequence, numHeadsSize, headSizeSize},
                                computeType),
              ArrayRef<int64_t>{0, 2, 1, 3})
              .getResult()[0];
      Value output = tensor::CollapseShapeOp::create(
          rw, loc, transposed,
          SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
      Value outputQk = createEmptyTensor(rw, loc, scoreDims, elementType);
      return LoweredValues{output, presentKey, presentValue, outputQk};
    }

    Value products = contract(
        rotatedQuery, firstPositions(presentKey), scoreDims, {d0, d1, d2, d4},
        {d0, d1.floorDiv(group), d3, d4}, {d0, d1, d2, d3},
        /*reductionLoop=*/4);

    // Scale, softcap, bias and the causal / window / length mask.
    Value scores = buildMappedElementwise(
        rw, loc, ValueRange{products},
        {AffineMap::getMultiDimIdentityMap(4, context)}, scoreDims, computeType,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          SmallVector<Value> c;
          for (int64_t i = 0; i < 4; ++i)
            c.push_back(linalg::IndexOp::create(b, l, i));
          auto constant = [&](double value) {
            return createScalarConstant(b, l, computeType, value);
          };
          Value x = arith::MulFOp::create(b, l, args[0], constant(scale));
          if (softcap > 0.0)
            x = arith::MulFOp::create(
                b, l, constant(softcap),
                math::TanhOp::create(
                    b, l, arith::DivFOp::create(b, l, x, constant(softcap))));
          if (bias)
            x = arith::AddFOp::create(b, l, x, biasAt(b, l, c));
          return arith::SelectOp::create(
              b, l, isVisible(b, l, c[0], c[2], c[3]), x, minusInfinity);
        });

    // softmax over t; a sink s (head_sink[n], or 0 for smooth_softmax)
    // joins the max and adds exp(s - max) to the denominator.
    SoftmaxStatistics statistics = buildSoftmaxStatistics(rw, loc, scores, 3);
    Value sink;
    if (!isNoValue(op.getHeadSink()))
      sink = adaptor.getHeadSink();
    else if (op.getSmoothSoftmax() == 1)
      sink = createFilled(rw, loc, {rw.getIndexAttr(numHeads)}, zeroAcc);
    AffineMap identity4 = AffineMap::getMultiDimIdentityMap(4, context);
    AffineMap rowMap = AffineMap::get(4, 0, {d0, d1, d2}, context);
    SmallVector<Value> softmaxInputs = {scores, statistics.max,
                                        statistics.sumExp};
    SmallVector<AffineMap> softmaxMaps = {identity4, rowMap, rowMap};
    if (sink) {
      softmaxInputs.push_back(sink);
      softmaxMaps.push_back(AffineMap::get(4, 0, {d1}, context));
    }
    Value probabilities = buildMappedElementwise(
        rw, loc, softmaxInputs, softmaxMaps, scoreDims, computeType,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value max = args[1], denominator = args[2];
          if (sink) {
            Value sinkValue = widen(b, l, args[3]);
            Value newMax = arith::MaximumFOp::create(b, l, max, sinkValue);
            denominator = arith::AddFOp::create(
                b, l,
                arith::MulFOp::create(
                    b, l, denominator,
                    math::ExpOp::create(
                        b, l, arith::SubFOp::create(b, l, max, newMax))),
                math::ExpOp::create(
                    b, l, arith::SubFOp::create(b, l, sinkValue, newMax)));
            max = newMax;
          }
          return arith::DivFOp::create(
              b, l,
              math::ExpOp::create(b, l,
                                  arith::SubFOp::create(b, l, args[0], max)),
              denominator);
        });

    // probabilities . present_value over t: loops (b, s, n, t, d) into
    // (B, S, N, H), then (B, S, N * H). The head dim innermost: each key
    // position adds a contiguous row of values to a contiguous output row
    // (vector code), where a reduction innermost would stride through V.
    SmallVector<OpFoldResult> headOutputDims = {batch, sequence, numHeadsSize,
                                                headSizeSize};
    Value weighted =
        contract(probabilities, firstPositions(presentValue), headOutputDims,
                 {d0, d2, d1, d3}, {d0, d2.floorDiv(group), d3, d4},
                 {d0, d1, d2, d4}, /*reductionLoop=*/3);
    if (computeType != elementType)
      weighted = convertTensor(rw, loc, weighted, elementType);
    Value output = tensor::CollapseShapeOp::create(
        rw, loc, weighted, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});

    // output_qk is unused (the verifier requires qk_output for any use, and
    // qk_output is rejected above): an empty tensor of its shape.
    Value outputQk = createEmptyTensor(rw, loc, scoreDims, elementType);
    return LoweredValues{output, presentKey, presentValue, outputQk};
  }
};

} // namespace

void populateAttentionPatterns(const TypeConverter &converter,
                               RewritePatternSet &patterns,
                               bool fuseAttention) {
  patterns.add<GroupQueryAttentionLowering>(converter, patterns.getContext(),
                                            fuseAttention);
}

} // namespace qaf
