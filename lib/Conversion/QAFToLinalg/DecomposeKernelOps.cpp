//===- DecomposeKernelOps.cpp - kernel ops as their linalg reference ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The reference is built by the same builder the lowering uses for layers
// no kernel computes (LinearAlgebraUtils' buildQuantizedContraction), so a
// target without the kernel runs exactly the loops it ran before kernel
// ops existed.
//
//===----------------------------------------------------------------------===//

#include "LinearAlgebraUtils.h"

#include "qaf/Conversion/Passes.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/IR/PatternMatch.h"

namespace qaf {
#define GEN_PASS_DEF_DECOMPOSEKERNELOPSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace qaf {
namespace {

struct DecomposeKernelOpsPass
    : impl::DecomposeKernelOpsPassBase<DecomposeKernelOpsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    WalkResult result = getOperation()->walk([&](QLinearKernelOp op) {
      if (!op.hasPureTensorSemantics()) {
        op.emitOpError("is on buffers: decompose kernel ops before "
                       "bufferization");
        return WalkResult::interrupt();
      }
      QuantizedWeight weight;
      weight.codes = op.getCodes();
      weight.scales = op.getScales();
      weight.zeroPoints = op.getZeroPoints();
      weight.moves = op.getMoves();
      weight.bits = static_cast<int64_t>(op.getBits());
      weight.groupSize = static_cast<int64_t>(op.getGroupSize());
      rewriter.setInsertionPoint(op);
      rewriter.replaceOp(op, buildQuantizedContraction(
                                 rewriter, op.getLoc(), op.getInput(), weight,
                                 op.getInit(), op.getTransposeWeight()));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace qaf
