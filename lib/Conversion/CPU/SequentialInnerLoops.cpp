//===- SequentialInnerLoops.cpp - keep the innermost dimension serial -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// convert-scf-to-openmp turns a d-dimensional scf.parallel into one
// collapsed OpenMP loop: every iteration then rebuilds its d indices with
// divisions, and the innermost dimension is no loop LLVM can vectorize. The
// threads only need the outer dimensions; the innermost one, which walks
// contiguous memory, is better as a plain loop in each thread.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

namespace qaf {
#define GEN_PASS_DEF_SEQUENTIALINNERLOOPSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// scf.parallel (i_0, ..., i_{d-1}) -> scf.parallel (i_0, ..., i_{d-2}) {
/// scf.for i_{d-1} }. Loops with reductions, a single dimension, or loops
/// inside (a reduction's scf.for is then the innermost loop, and the
/// threads need every parallel dimension) stay.
void sequentializeInnermost(scf::ParallelOp loop) {
  unsigned dims = loop.getNumLoops();
  if (dims < 2 || loop.getNumResults() != 0)
    return;
  bool hasInnerLoops =
      loop.getBody()
          ->walk([](LoopLikeOpInterface) { return WalkResult::interrupt(); })
          .wasInterrupted();
  if (hasInnerLoops)
    return;
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  auto outer = scf::ParallelOp::create(
      builder, loc, loop.getLowerBound().drop_back(),
      loop.getUpperBound().drop_back(), loop.getStep().drop_back());
  builder.setInsertionPointToStart(outer.getBody());
  auto inner =
      scf::ForOp::create(builder, loc, loop.getLowerBound().back(),
                         loop.getUpperBound().back(), loop.getStep().back());
  IRMapping mapping;
  for (unsigned i = 0; i + 1 < dims; ++i)
    mapping.map(loop.getInductionVars()[i], outer.getInductionVars()[i]);
  mapping.map(loop.getInductionVars().back(), inner.getInductionVar());
  builder.setInsertionPointToStart(inner.getBody());
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

/// An scf.parallel inside another one -> nested scf.for loops: the threads
/// already split the outer loop, and convert-scf-to-openmp would make the
/// inner one a nested parallel region, forked (on one thread) at every
/// iteration of the loops around it. Loops with reductions stay.
void sequentializeNested(scf::ParallelOp loop) {
  if (loop.getNumResults() != 0)
    return;
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  IRMapping mapping;
  for (auto [lower, upper, step, index] :
       llvm::zip_equal(loop.getLowerBound(), loop.getUpperBound(),
                       loop.getStep(), loop.getInductionVars())) {
    auto each = scf::ForOp::create(builder, loc, lower, upper, step);
    mapping.map(index, each.getInductionVar());
    builder.setInsertionPointToStart(each.getBody());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

struct SequentialInnerLoopsPass
    : qaf::impl::SequentialInnerLoopsPassBase<SequentialInnerLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> outermost, nested;
    // Post-order: a nested loop is rewritten before the one around it.
    getOperation().walk([&](scf::ParallelOp loop) {
      (loop->getParentOfType<scf::ParallelOp>() ? nested : outermost)
          .push_back(loop);
    });
    for (scf::ParallelOp loop : nested)
      sequentializeNested(loop);
    for (scf::ParallelOp loop : outermost)
      sequentializeInnermost(loop);
  }
};

} // namespace
