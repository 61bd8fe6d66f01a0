//===- ParallelIfEnoughWork.cpp - fork threads only for enough work -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Every outlined parallel loop becomes an omp.parallel that forks the
// thread team, and a fork and join cost microseconds whatever the loop. A
// one-token decode step runs hundreds of such loops over a few hundred
// elements each (norms, rotary, attention over one query): there the
// threads only wait for each other. An `if` clause on the region keeps
// those on the calling thread.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace qaf {
#define GEN_PASS_DEF_PARALLELIFENOUGHWORKPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Whether `value` is available before `region`'s op (defined outside it).
bool isDefinedOutside(Value value, omp::ParallelOp region) {
  return !region->isAncestor(value.getParentRegion()->getParentOp());
}

/// max(ceil((upper - lower) / step), 0) for index bounds, built at
/// `builder`'s point.
Value buildTripCount(OpBuilder &builder, Location loc, Value lower, Value upper,
                     Value step) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value span = arith::SubIOp::create(builder, loc, upper, lower);
  Value rounded = arith::AddIOp::create(
      builder, loc, span, arith::SubIOp::create(builder, loc, step, one));
  Value count = arith::DivSIOp::create(builder, loc, rounded, step);
  return arith::MaxSIOp::create(builder, loc, count, zero);
}

/// Whether the bounds of `bounds` are indices defined outside `region`.
bool areOutside(ValueRange bounds, omp::ParallelOp region) {
  return llvm::all_of(bounds, [&](Value v) {
    return v.getType().isIndex() && isDefinedOutside(v, region);
  });
}

/// Whether every scf.for nested in `block` (also inside other ops with
/// regions: memref.alloca_scope around a body, scf.if) has bounds from
/// outside `region`, so that buildInnerWork can count its iterations there.
bool isInnerWorkKnown(Block &block, omp::ParallelOp region) {
  for (Operation &op : block) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      if (!areOutside(
              {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()},
              region) ||
          !isInnerWorkKnown(*loop.getBody(), region))
        return false;
      continue;
    }
    for (Region &nested : op.getRegions())
      for (Block &each : nested)
        if (!isInnerWorkKnown(each, region))
          return false;
  }
  return true;
}

/// The innermost iterations of the scf.for loops in `block` per execution
/// of it: sums over sibling loops (and over the blocks of other ops with
/// regions, both branches of an scf.if counted), products down nests, 1
/// without loops.
Value buildInnerWork(OpBuilder &builder, Location loc, Block &block) {
  Value total;
  auto add = [&](Value work) {
    total = total ? arith::AddIOp::create(builder, loc, total, work) : work;
  };
  for (Operation &op : block) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      add(arith::MulIOp::create(
          builder, loc,
          buildTripCount(builder, loc, loop.getLowerBound(),
                         loop.getUpperBound(), loop.getStep()),
          buildInnerWork(builder, loc, *loop.getBody())));
      continue;
    }
    for (Region &nested : op.getRegions())
      for (Block &each : nested)
        add(buildInnerWork(builder, loc, each));
  }
  return total ? total : arith::ConstantIndexOp::create(builder, loc, 1);
}

struct ParallelIfEnoughWorkPass
    : qaf::impl::ParallelIfEnoughWorkPassBase<ParallelIfEnoughWorkPass> {
  using ParallelIfEnoughWorkPassBase::ParallelIfEnoughWorkPassBase;

  void runOnOperation() override {
    getOperation().walk([&](omp::ParallelOp region) {
      if (region.getIfExpr())
        return;
      // One worksharing loop nest, as convert-scf-to-openmp builds them.
      omp::LoopNestOp nest;
      unsigned nests = 0;
      region.walk([&](omp::LoopNestOp each) {
        nest = each;
        ++nests;
      });
      if (nests != 1 || !areOutside(nest.getLoopLowerBounds(), region) ||
          !areOutside(nest.getLoopUpperBounds(), region) ||
          !areOutside(nest.getLoopSteps(), region) ||
          !isInnerWorkKnown(nest.getRegion().front(), region))
        return;
      OpBuilder builder(region);
      Location loc = region.getLoc();
      Value work = buildInnerWork(builder, loc, nest.getRegion().front());
      for (auto [lower, upper, step] :
           llvm::zip_equal(nest.getLoopLowerBounds(), nest.getLoopUpperBounds(),
                           nest.getLoopSteps()))
        work = arith::MulIOp::create(
            builder, loc, work,
            buildTripCount(builder, loc, lower, upper, step));
      Value enough = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::sge, work,
          arith::ConstantIndexOp::create(builder, loc, minIterations));
      region.getIfExprMutable().assign(enough);
    });
  }
};

} // namespace
