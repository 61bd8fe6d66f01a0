//===- FoldWeightTransposes.cpp - transpose weights at compile time -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"
#include "qaf/passes/WeightAttrs.h"

#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

namespace qaf {
#define GEN_PASS_DEF_FOLDWEIGHTTRANSPOSESPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Permutes row-major elements of `elementBytes` bytes each: result index
/// (i_0, ..., i_n) reads source index (i_perm^-1...), i.e. result dim d is
/// source dim perm[d].
void transposeBytes(ArrayRef<char> source, char *result,
                    ArrayRef<int64_t> sourceShape, ArrayRef<int64_t> perm,
                    size_t elementBytes) {
  int64_t rank = sourceShape.size();
  SmallVector<int64_t> sourceStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    sourceStrides[d] = sourceStrides[d + 1] * sourceShape[d + 1];
  SmallVector<int64_t> resultShape(rank), strideOfResultDim(rank);
  for (int64_t d = 0; d < rank; ++d) {
    resultShape[d] = sourceShape[perm[d]];
    strideOfResultDim[d] = sourceStrides[perm[d]];
  }
  int64_t count = 1;
  for (int64_t size : sourceShape)
    count *= size;
  SmallVector<int64_t> index(rank, 0);
  int64_t sourceOffset = 0;
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(result + i * elementBytes,
                source.data() + sourceOffset * elementBytes, elementBytes);
    // Advance the result index like an odometer, tracking the source offset.
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < resultShape[d]) {
        sourceOffset += strideOfResultDim[d];
        break;
      }
      sourceOffset -= strideOfResultDim[d] * (resultShape[d] - 1);
      index[d] = 0;
    }
  }
}

/// True for the transpose of a 2-D weight that something else reads too (a
/// tied embedding, also gathered) and that only MatMuls take as their B:
/// every target's matmul reads B transposed in place (its indexing map says
/// so), so folding would only add a second copy of the weight to the
/// artifact (113 MB for SmolLM2's head), and one whose columns, read a K
/// panel at a time, lie a whole row of 49152 floats apart.
bool isReadTransposedByMatMuls(qaf::onnx::TransposeOp op,
                               qaf::onnx::ConstantOp constant) {
  auto type = dyn_cast<RankedTensorType>(constant.getValue().getType());
  if (constant->hasOneUse() || !type || type.getRank() != 2)
    return false;
  if (auto perm = op.getPermAttr();
      perm && perm.asArrayRef() != ArrayRef<int64_t>{1, 0})
    return false;
  return llvm::all_of(op->getUses(), [](OpOperand &use) {
    return isa<qaf::onnx::MatMulOp>(use.getOwner()) &&
           use.getOperandNumber() == 1;
  });
}

struct FoldWeightTransposesPass
    : qaf::impl::FoldWeightTransposesPassBase<FoldWeightTransposesPass> {
  void runOnOperation() override {
    SmallVector<qaf::onnx::TransposeOp> transposes;
    getOperation().walk([&](qaf::onnx::TransposeOp op) {
      if (op.getData().getDefiningOp<qaf::onnx::ConstantOp>())
        transposes.push_back(op);
    });
    for (qaf::onnx::TransposeOp op : transposes) {
      auto constant = op.getData().getDefiningOp<qaf::onnx::ConstantOp>();
      if (isReadTransposedByMatMuls(op, constant))
        continue;
      auto sourceType = cast<RankedTensorType>(constant.getValue().getType());
      auto resultType = dyn_cast<RankedTensorType>(op.getType());
      unsigned width = sourceType.getElementTypeBitWidth();
      // Sub-byte and boolean tensors are not weights worth this.
      if (!resultType || !resultType.hasStaticShape() || width % 8 != 0)
        continue;
      SmallVector<int64_t> perm;
      if (auto attr = op.getPermAttr())
        perm.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
      else
        for (int64_t d = sourceType.getRank() - 1; d >= 0; --d)
          perm.push_back(d);

      std::vector<char> storage;
      std::string error;
      FailureOr<ArrayRef<char>> bytes =
          qaf::getElementsBytes(constant.getValue(), storage,
                                qaf::SubByteLayout::BytePerElement, error);
      if (failed(bytes))
        continue;
      size_t elementBytes = width / 8;
      AsmResourceBlob blob =
          HeapAsmResourceBlob::allocate(bytes->size(), elementBytes);
      transposeBytes(*bytes, blob.getMutableData().data(),
                     sourceType.getShape(), perm, elementBytes);
      OpBuilder builder(op);
      auto folded = qaf::createWeightConstant(
          builder, qaf::getWeightName(constant) + ".transposed", resultType,
          std::move(blob));
      op.replaceAllUsesWith(folded.getOutput());
      op.erase();
      if (constant->use_empty())
        constant.erase();
    }
  }
};

} // namespace
