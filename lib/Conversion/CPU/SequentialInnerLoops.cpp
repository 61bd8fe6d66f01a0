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
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"

namespace qaf {
#define GEN_PASS_DEF_SEQUENTIALINNERLOOPSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// The fewest iterations, known at compile time, the outer dimensions of a
/// loop with loops inside must have for its innermost dimension to become
/// serial: a few per thread.
constexpr int64_t kMinOuterIterations = 8;

/// The product of the trip counts of `loop`'s dimensions but the last that
/// are known at compile time (the others count as 1).
int64_t getKnownOuterIterations(scf::ParallelOp loop) {
  int64_t product = 1;
  for (auto [lower, upper, step] : llvm::zip(loop.getLowerBound().drop_back(),
                                             loop.getUpperBound().drop_back(),
                                             loop.getStep().drop_back())) {
    std::optional<int64_t> from = getConstantIntValue(lower);
    std::optional<int64_t> to = getConstantIntValue(upper);
    std::optional<int64_t> by = getConstantIntValue(step);
    if (from && to && by && *by > 0)
      product *= std::max<int64_t>((*to - *from + *by - 1) / *by, 1);
  }
  return product;
}

/// scf.parallel (i_0, ..., i_{d-1}) -> scf.parallel (i_0, ..., i_{d-2}) {
/// scf.for i_{d-1} }. Loops with reductions or a single dimension stay. A
/// loop with loops inside (a reduction's scf.for is then the innermost
/// loop) stays too, unless its outer dimensions alone have at least
/// kMinOuterIterations known iterations: attention's scores over (batch,
/// heads, queries, keys), a 64-long dot product each, otherwise rebuild
/// four indices by division for every key of a one-token decode step.
void sequentializeInnermost(scf::ParallelOp loop) {
  unsigned dims = loop.getNumLoops();
  if (dims < 2 || loop.getNumResults() != 0)
    return;
  bool hasInnerLoops =
      loop.getBody()
          ->walk([](LoopLikeOpInterface) { return WalkResult::interrupt(); })
          .wasInterrupted();
  if (hasInnerLoops && getKnownOuterIterations(loop) < kMinOuterIterations)
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
