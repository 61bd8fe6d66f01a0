//===- CacheInPlace.cpp - KV caches written into the caller's buffer ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Compiler/CacheInPlace.h"

#include "qaf/Runtime/Manifest.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/onnx/ONNXModelAttrs.h"
#include "qaf/passes/WeightAttrs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace qaf {

namespace {

/// The cache axis of [batch, heads, length, head size].
constexpr int64_t kCacheAxis = 2;
constexpr int64_t kCacheRank = 4;

/// A result `Concat(past, new)` of the entry point with `past` one of its
/// inputs.
struct CacheTie {
  unsigned result;
  onnx::ConcatOp concat;
  BlockArgument past;
};

/// `value` as an input of `entry` of type `type` (a named graph input, not
/// an outlined weight), or null.
BlockArgument getCacheInput(func::FuncOp entry, Value value, Type type) {
  auto input = dyn_cast<BlockArgument>(value);
  if (!input || input.getOwner() != &entry.getBody().front() ||
      entry.getArgAttr(input.getArgNumber(), kWeightNameAttr) ||
      !entry.getArgAttr(input.getArgNumber(), onnx::kValueNameAttr) ||
      input.getType() != type)
    return BlockArgument();
  return input;
}

std::optional<CacheTie> matchTie(func::FuncOp entry, unsigned result,
                                 Value returned) {
  auto concat = returned.getDefiningOp<onnx::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(concat.getType());
  if (!type || type.getRank() != kCacheRank ||
      (concat.getAxis() != kCacheAxis &&
       concat.getAxis() != uint64_t(kCacheAxis - kCacheRank)))
    return std::nullopt;
  BlockArgument past = getCacheInput(entry, concat.getInputs()[0], type);
  if (!past)
    return std::nullopt;
  return CacheTie{result, concat, past};
}

/// A GroupQueryAttention whose present key and value (results 1 and 2)
/// the entry point returns as they are, and whose past key and value are
/// entry point inputs only it reads.
struct AttentionTie {
  onnx::GroupQueryAttentionOp attention;
  /// Per cache (key, value): the entry point result and the input.
  SmallVector<std::pair<unsigned, BlockArgument>, 2> caches;
};

SmallVector<AttentionTie>
findAttentionTies(func::FuncOp entry, llvm::SmallDenseSet<Value> &tiedInputs) {
  Operation *terminator = entry.getBody().front().getTerminator();
  SmallVector<AttentionTie> ties;
  entry.walk([&](onnx::GroupQueryAttentionOp attention) {
    std::pair<Value, Value> caches[] = {
        {attention.getPastKey(), attention.getPresentKey()},
        {attention.getPastValue(), attention.getPresentValue()}};
    AttentionTie tie{attention, {}};
    for (auto [past, present] : caches) {
      // An input only the attention reads: nothing else sees the buffer
      // change.
      BlockArgument input = getCacheInput(entry, past, present.getType());
      if (!input || tiedInputs.contains(input) ||
          !llvm::all_of(
              input.getUsers(),
              [&](Operation *reader) { return reader == attention; }) ||
          !present.hasOneUse() ||
          present.getUses().begin()->getOwner() != terminator)
        return;
      tie.caches.push_back(
          {present.getUses().begin()->getOperandNumber(), input});
    }
    for (auto [result, past] : tie.caches)
      tiedInputs.insert(past);
    ties.push_back(std::move(tie));
  });
  return ties;
}

/// `[dim(value, 0), ..., dim(value, rank-1)]` with static sizes as
/// attributes.
SmallVector<OpFoldResult> getSizes(OpBuilder &builder, Location loc,
                                   Value value) {
  SmallVector<OpFoldResult> sizes;
  auto type = cast<RankedTensorType>(value.getType());
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      sizes.push_back(builder.getIndexAttr(type.getDimSize(d)));
    else
      sizes.push_back(
          tensor::DimOp::create(builder, loc, value, d).getResult());
  }
  return sizes;
}

} // namespace

unsigned writeCachesInPlace(func::FuncOp entry) {
  if (entry.isExternal())
    return 0;
  SmallVector<CacheTie> ties;
  llvm::SmallDenseSet<Value> tiedInputs;
  entry.walk([&](func::ReturnOp ret) {
    for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
      if (std::optional<CacheTie> tie = matchTie(entry, i, operand))
        // An input feeds one tie at most: its buffer holds one cache.
        if (tiedInputs.insert(tie->past).second)
          ties.push_back(*tie);
  });
  SmallVector<AttentionTie> attentionTies =
      findAttentionTies(entry, tiedInputs);
  if (ties.empty() && attentionTies.empty())
    return 0;

  MLIRContext *context = entry.getContext();
  context->getOrLoadDialect<tensor::TensorDialect>();
  context->getOrLoadDialect<arith::ArithDialect>();
  OpBuilder builder(context);
  Location loc = entry.getLoc();
  Block &body = entry.getBody().front();

  // The past length, shared by every cache: an int64 scalar input.
  unsigned lengthIndex = entry.getNumArguments();
  if (failed(entry.insertArgument(
          lengthIndex, RankedTensorType::get({}, builder.getI64Type()),
          builder.getDictionaryAttr(builder.getNamedAttr(
              onnx::kValueNameAttr, builder.getStringAttr(kCacheLengthInput))),
          loc)))
    return 0;
  builder.setInsertionPointToStart(&body);
  Value lengthTensor = entry.getArgument(lengthIndex);
  Value length = arith::IndexCastOp::create(
      builder, loc, builder.getIndexType(),
      tensor::ExtractOp::create(builder, loc, lengthTensor, ValueRange())
          .getResult());
  OpFoldResult zero = builder.getIndexAttr(0), one = builder.getIndexAttr(1);
  SmallVector<OpFoldResult> zeros(kCacheRank, zero), ones(kCacheRank, one);

  for (CacheTie &tie : ties) {
    Value buffer = tie.past;
    // The past: the buffer's first `length` positions, read in place by
    // whatever read the input.
    SmallVector<OpOperand *> readers = llvm::to_vector(
        llvm::map_range(buffer.getUses(), [](OpOperand &use) { return &use; }));
    builder.setInsertionPointAfter(length.getDefiningOp());
    SmallVector<OpFoldResult> pastSizes = getSizes(builder, loc, buffer);
    pastSizes[kCacheAxis] = length;
    Value past = tensor::ExtractSliceOp::create(
        builder, loc, cast<RankedTensorType>(buffer.getType()), buffer, zeros,
        pastSizes, ones);
    for (OpOperand *reader : readers)
      reader->set(past);

    // The new positions written after the past, into the buffer itself;
    // the attention reads the first past + new positions of the result.
    builder.setInsertionPoint(tie.concat);
    Value fresh = tie.concat.getInputs()[1];
    SmallVector<OpFoldResult> offsets(zeros);
    offsets[kCacheAxis] = length;
    Value written =
        tensor::InsertSliceOp::create(builder, loc, fresh, buffer, offsets,
                                      getSizes(builder, loc, fresh), ones);
    SmallVector<OpFoldResult> presentSizes = getSizes(builder, loc, buffer);
    presentSizes[kCacheAxis] =
        arith::AddIOp::create(
            builder, loc, length,
            tensor::DimOp::create(builder, loc, fresh, kCacheAxis))
            .getResult();
    Value present = tensor::ExtractSliceOp::create(
        builder, loc, cast<RankedTensorType>(tie.concat.getType()), written,
        zeros, presentSizes, ones);
    tie.concat.getResult().replaceAllUsesWith(present);
    tie.concat.erase();
    body.getTerminator()->setOperand(tie.result, written);
    entry.setResultAttr(
        tie.result, kWritesIntoAttr,
        entry.getArgAttr(tie.past.getArgNumber(), onnx::kValueNameAttr));
  }
  // Attention writes its new tokens into the past buffer itself (as ONNX
  // Runtime GenAI's shared past/present buffer), each row's past length
  // given by its seqlens_k; the length input only tells the runtime how
  // many positions the buffer holds.
  unsigned tiedCaches = ties.size();
  for (AttentionTie &tie : attentionTies) {
    tie.attention->setAttr(onnx::kPresentInPastAttr, builder.getUnitAttr());
    for (auto [result, past] : tie.caches) {
      entry.setResultAttr(
          result, kWritesIntoAttr,
          entry.getArgAttr(past.getArgNumber(), onnx::kValueNameAttr));
      ++tiedCaches;
    }
  }
  return tiedCaches;
}

} // namespace qaf
