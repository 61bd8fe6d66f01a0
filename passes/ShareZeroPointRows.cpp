//===- ShareZeroPointRows.cpp - one zero-point row read by every output ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// ONNX Runtime GenAI's int4 files store no zero points: every group's is
// 2^(bits - 1), which qaf-raise-matmulnbits spells out as a full
// [N, K / group] f32 tensor. Read as that tensor, it is one float per 32
// weights streamed beside each 4-bit group on every decode step (17 MB of
// the 135M model's 121 MB). A layer whose zero-point rows are all equal
// reads one row broadcast instead: onnx.Expand of a [1, K / group] constant,
// which the lowering hands the qaf_qlinear kernel with row stride 0.
//
//===----------------------------------------------------------------------===//

#include "qaf/passes/Passes.h"

#include "LinearLayers.h"

#include "qaf/Support/ElementsBytes.h"
#include "qaf/dialects/onnx/ONNXDialect.h"
#include "qaf/dialects/qaf/QAFDialect.h"
#include "qaf/passes/WeightAttrs.h"

#include <cstring>

namespace qaf {
#define GEN_PASS_DEF_SHAREZEROPOINTROWSPASS
#include "qaf/passes/Passes.h.inc"
} // namespace qaf

using namespace mlir;
using namespace qaf;

namespace {

/// The one row of `constant` ([N, G] f32, N > 1) when all its rows hold the
/// same bytes; empty otherwise.
std::vector<float> getSharedRow(onnx::ConstantOp constant) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32() || type.getDimSize(0) < 2)
    return {};
  std::vector<char> storage;
  std::string error;
  FailureOr<ArrayRef<char>> bytes = getElementsBytes(
      constant.getValue(), storage, SubByteLayout::BytePerElement, error);
  // An unreadable constant (an elided blob) stays as it is.
  if (failed(bytes))
    return {};
  size_t rowBytes = type.getDimSize(1) * sizeof(float);
  for (int64_t row = 1; row < type.getDimSize(0); ++row)
    if (std::memcmp(bytes->data(), bytes->data() + row * rowBytes, rowBytes))
      return {};
  std::vector<float> values(type.getDimSize(1));
  std::memcpy(values.data(), bytes->data(), rowBytes);
  return values;
}

struct ShareZeroPointRowsPass
    : qaf::impl::ShareZeroPointRowsPassBase<ShareZeroPointRowsPass> {
  void runOnOperation() override {
    // One broadcast row per constant, whichever layers (a layer and its
    // input gradient) read it.
    llvm::DenseMap<Operation *, Value> sharedRows;
    auto share = [&](OpOperand *zeroPoints) {
      if (!zeroPoints)
        return;
      auto constant = zeroPoints->get().getDefiningOp<onnx::ConstantOp>();
      if (!constant)
        return;
      Value &broadcast = sharedRows[constant];
      if (!broadcast) {
        std::vector<float> row = getSharedRow(constant);
        if (row.empty()) {
          sharedRows.erase(constant);
          return;
        }
        OpBuilder builder(constant);
        auto type = cast<RankedTensorType>(constant.getType());
        std::string name = getWeightName(constant, "zero_points") + ".row";
        Value rowConstant = createBlobConstant<float>(
            builder, name, {1, type.getDimSize(1)}, type.getElementType(),
            ArrayRef<float>(row));
        auto shapeType = RankedTensorType::get({2}, builder.getI64Type());
        Value shape = onnx::ConstantOp::create(
            builder, constant.getLoc(), shapeType,
            DenseIntElementsAttr::get(shapeType, type.getShape()));
        broadcast = onnx::ExpandOp::create(builder, constant.getLoc(), type,
                                           rowConstant, shape)
                        .getOutput();
      }
      zeroPoints->set(broadcast);
    };
    auto zeroPointsOf = [](auto op) -> OpOperand * {
      return op.getZeroPoints() ? &op.getZeroPointsMutable()[0] : nullptr;
    };
    getOperation().walk([&](Operation *op) {
      if (auto layer = dyn_cast<QLinearOp>(op))
        share(zeroPointsOf(layer));
      else if (auto gradient = dyn_cast<QLinearTransposedOp>(op))
        share(zeroPointsOf(gradient));
    });
    for (auto [constant, broadcast] : sharedRows)
      if (constant->use_empty())
        constant->erase();
  }
};

} // namespace
