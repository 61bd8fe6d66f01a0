//===- ParallelIfEnoughWork.cpp - fork threads only for enough work -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Every outermost parallel loop becomes an omp.parallel that forks the
// thread team, and a fork and join cost microseconds whatever the loop. A
// one-token decode step runs hundreds of such loops over a few hundred
// elements each (norms, rotary, attention over one query): there the
// threads only wait for each other. An `if` clause on the region would keep
// those on the calling thread, but still through the OpenMP runtime: a
// serialized region and its worksharing loop's static_init cost 0.4 us
// each (Debian's libomp formats its debug trace strings on every
// static_init), some 800 times a decode step. So each loop is versioned
// instead: the parallel loop when its work is large enough, else the same
// body as plain scf.for loops that never enter the runtime.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace qaf {
#define GEN_PASS_DEF_PARALLELIFENOUGHWORKPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Whether `value` is available before `loop` (defined outside it).
bool isDefinedOutside(Value value, scf::ParallelOp loop) {
  return !loop->isAncestor(value.getParentRegion()->getParentOp());
}

/// max(ceil((upper - lower) / step), 0) for index bounds, built at
/// `builder`'s point.
Value buildTripCount(OpBuilder &builder, Location loc, Value lower, Value upper,
                     Value step) {
  Value zero = arith::ConstantIndexOp::create(builder, loc, 0);
  Value one = arith::ConstantIndexOp::create(builder, loc, 1);
  Value span = builder.createOrFold<arith::SubIOp>(loc, upper, lower);
  Value rounded = builder.createOrFold<arith::AddIOp>(
      loc, span, builder.createOrFold<arith::SubIOp>(loc, step, one));
  Value count = builder.createOrFold<arith::DivSIOp>(loc, rounded, step);
  return builder.createOrFold<arith::MaxSIOp>(loc, count, zero);
}

/// Whether the bounds of `bounds` are indices defined outside `loop`.
bool areOutside(ValueRange bounds, scf::ParallelOp loop) {
  return llvm::all_of(bounds, [&](Value v) {
    return v.getType().isIndex() && isDefinedOutside(v, loop);
  });
}

/// Whether every scf.for nested in `block` (also inside other ops with
/// regions: scf.if, memref.alloca_scope) has bounds from outside `loop`,
/// so that buildInnerWork can count its iterations there.
bool isInnerWorkKnown(Block &block, scf::ParallelOp loop) {
  for (Operation &op : block) {
    if (auto inner = dyn_cast<scf::ForOp>(op)) {
      if (!areOutside(
              {inner.getLowerBound(), inner.getUpperBound(), inner.getStep()},
              loop) ||
          !isInnerWorkKnown(*inner.getBody(), loop))
        return false;
      continue;
    }
    for (Region &nested : op.getRegions())
      for (Block &each : nested)
        if (!isInnerWorkKnown(each, loop))
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
    total =
        total ? builder.createOrFold<arith::AddIOp>(loc, total, work) : work;
  };
  for (Operation &op : block) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      add(builder.createOrFold<arith::MulIOp>(
          loc,
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

/// `loop` as nested scf.for loops at `builder`'s point, its reductions
/// carried as iter_args (combined in iteration order); returns the results
/// that replace the loop's.
SmallVector<Value> buildSerialLoops(OpBuilder &builder, scf::ParallelOp loop) {
  Location loc = loop.getLoc();
  IRMapping mapping;
  SmallVector<scf::ForOp> nest;
  ValueRange carried = loop.getInitVals();
  for (auto [lower, upper, step, index] :
       llvm::zip_equal(loop.getLowerBound(), loop.getUpperBound(),
                       loop.getStep(), loop.getInductionVars())) {
    auto each = scf::ForOp::create(builder, loc, lower, upper, step, carried);
    mapping.map(index, each.getInductionVar());
    carried = each.getRegionIterArgs();
    nest.push_back(each);
    builder.setInsertionPointToStart(each.getBody());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  // Each reduction's region combines the carried value (lhs) with this
  // iteration's (rhs).
  auto reduce = cast<scf::ReduceOp>(loop.getBody()->getTerminator());
  SmallVector<Value> combined;
  for (auto [operand, region, accumulated] :
       llvm::zip_equal(reduce.getOperands(), reduce.getReductions(), carried)) {
    Block &combiner = region.front();
    mapping.map(combiner.getArgument(0), accumulated);
    mapping.map(combiner.getArgument(1), mapping.lookupOrDefault(operand));
    for (Operation &op : combiner.without_terminator())
      builder.clone(op, mapping);
    auto result = cast<scf::ReduceReturnOp>(combiner.getTerminator());
    combined.push_back(mapping.lookupOrDefault(result.getResult()));
  }
  // Each loop of the nest yields what the one inside it returns.
  if (!combined.empty()) {
    for (scf::ForOp each : llvm::reverse(nest)) {
      builder.setInsertionPointToEnd(each.getBody());
      scf::YieldOp::create(builder, loc, combined);
      combined.assign(each.getResults().begin(), each.getResults().end());
    }
  }
  builder.setInsertionPointAfter(nest.front());
  return SmallVector<Value>(nest.front().getResults());
}

struct ParallelIfEnoughWorkPass
    : qaf::impl::ParallelIfEnoughWorkPassBase<ParallelIfEnoughWorkPass> {
  using ParallelIfEnoughWorkPassBase::ParallelIfEnoughWorkPassBase;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        outermost.push_back(loop);
    });
    for (scf::ParallelOp loop : outermost)
      version(loop);
  }

  void version(scf::ParallelOp loop) {
    if (!areOutside(loop.getLowerBound(), loop) ||
        !areOutside(loop.getUpperBound(), loop) ||
        !areOutside(loop.getStep(), loop) ||
        !isInnerWorkKnown(*loop.getBody(), loop))
      return;
    OpBuilder builder(loop);
    Location loc = loop.getLoc();
    Value work = buildInnerWork(builder, loc, *loop.getBody());
    for (auto [lower, upper, step] : llvm::zip_equal(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
      work = builder.createOrFold<arith::MulIOp>(
          loc, work, buildTripCount(builder, loc, lower, upper, step));
    Value enough = builder.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::sge, work,
        arith::ConstantIndexOp::create(builder, loc, minIterations));
    // Known at compile time: only the version that runs.
    if (std::optional<int64_t> known = getConstantIntValue(enough)) {
      if (*known)
        return;
      SmallVector<Value> results = buildSerialLoops(builder, loop);
      loop->replaceAllUsesWith(results);
      loop->erase();
      return;
    }
    auto branches = scf::IfOp::create(builder, loc, loop.getResultTypes(),
                                      enough, /*withElseRegion=*/true);
    OpBuilder serial = branches.getElseBodyBuilder();
    SmallVector<Value> results = buildSerialLoops(serial, loop);
    if (!results.empty())
      scf::YieldOp::create(serial, loc, results);
    loop->replaceAllUsesWith(branches.getResults());
    Block *parallelBranch = branches.thenBlock();
    loop->moveBefore(parallelBranch, parallelBranch->begin());
    if (loop.getNumResults() != 0) {
      OpBuilder yield = OpBuilder::atBlockEnd(parallelBranch);
      scf::YieldOp::create(yield, loc, loop.getResults());
    }
  }
};

} // namespace
