//===- PromoteAccumulators.cpp - reductions accumulate in registers -------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A linalg reduction lowered to loops reads and writes its output element on
// every iteration of the reduction loop:
//
//   scf.for %k { %acc = memref.load %out[%i]; ...; memref.store %s, %out[%i] }
//
// LLVM cannot keep %out[%i] in a register when it cannot prove that the
// loop's other buffers do not alias it, so each iteration waits on a store
// and a reload (a loss's 49152-wide log-sum-exp ran at one element per ~5
// cycles), and the loop never vectorizes. Here the accumulator becomes an
// iter_arg: loaded once before the loop, stored once after, which is what
// the loop computes whenever the buffer is not otherwise touched in the
// loop. A floating-point sum is also marked `reassoc`, so that the loop
// vectorizer may split it into vector lanes: the order of the additions then
// follows the vector width (fixed for a compiled artifact: results do not
// depend on the thread count or the run).
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Buffers.h"
#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace qaf {
#define GEN_PASS_DEF_PROMOTEACCUMULATORSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Buffers that are certainly distinct from each other: distinct
/// allocations, or distinct arguments of a function (the runtime passes each
/// tensor in its own array). Anything else (globals, loop-carried buffers) is
/// assumed to alias.
bool isDistinctRoot(Value root) {
  if (auto argument = dyn_cast<BlockArgument>(root))
    return isa<func::FuncOp>(argument.getOwner()->getParentOp());
  return isa_and_nonnull<memref::AllocOp, memref::AllocaOp>(
      root.getDefiningOp());
}

/// An accumulator of `loop`: a store directly in its body to indices defined
/// outside it, of a value computed from the one load of the same element
/// that precedes it, the buffer touched by nothing else in the loop.
struct Accumulator {
  memref::LoadOp load;
  memref::StoreOp store;
};

/// The loop's accumulators; none when the body has memory effects other than
/// loads and stores, or when a buffer it touches might alias an accumulator.
SmallVector<Accumulator> findAccumulators(scf::ForOp loop) {
  SmallVector<memref::LoadOp> loads;
  SmallVector<memref::StoreOp> stores;
  bool onlyLoadsAndStores = true;
  loop.getBody()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op))
      loads.push_back(load);
    else if (auto store = dyn_cast<memref::StoreOp>(op))
      stores.push_back(store);
    else if (!isMemoryEffectFree(op) &&
             !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      onlyLoadsAndStores = false;
  });
  if (!onlyLoadsAndStores)
    return {};
  // Every access with the buffer it is a view of, found once.
  struct Access {
    Operation *op;
    Value memref, root;
    ValueRange indices;
  };
  SmallVector<Access> accesses;
  for (memref::LoadOp load : loads)
    accesses.push_back({load, load.getMemRef(),
                        qaf::getRootBuffer(load.getMemRef()),
                        load.getIndices()});
  for (memref::StoreOp store : stores)
    accesses.push_back({store, store.getMemRef(),
                        qaf::getRootBuffer(store.getMemRef()),
                        store.getIndices()});
  SmallVector<Accumulator> accumulators;
  for (auto [position, store] : llvm::enumerate(stores)) {
    if (store->getBlock() != loop.getBody() ||
        !llvm::all_of(store.getIndices(), [&](Value index) {
          return loop.isDefinedOutsideOfLoop(index);
        }))
      continue;
    Value root = accesses[loads.size() + position].root;
    if (!isDistinctRoot(root))
      continue;
    // Every other access in the loop must be to another distinct buffer,
    // but for the one load of this element.
    memref::LoadOp accumulatorLoad;
    bool alone = true;
    for (const Access &access : accesses) {
      if (access.root != root) {
        alone &= isDistinctRoot(access.root);
        continue;
      }
      if (access.op == store)
        continue;
      auto load = dyn_cast<memref::LoadOp>(access.op);
      if (load && !accumulatorLoad && access.memref == store.getMemRef() &&
          llvm::equal(access.indices, store.getIndices()) &&
          load->getBlock() == loop.getBody() && load->isBeforeInBlock(store))
        accumulatorLoad = load;
      else
        alone = false;
    }
    if (alone && accumulatorLoad)
      accumulators.push_back({accumulatorLoad, store});
  }
  return accumulators;
}

/// A float sum into the accumulator may be reassociated.
void allowReassociation(Accumulator accumulator) {
  auto add = accumulator.store.getValueToStore().getDefiningOp<arith::AddFOp>();
  if (!add || (add.getLhs() != accumulator.load.getResult() &&
               add.getRhs() != accumulator.load.getResult()))
    return;
  add.setFastmath(add.getFastmath() | arith::FastMathFlags::reassoc);
}

void promoteAccumulators(scf::ForOp loop) {
  SmallVector<Accumulator> accumulators = findAccumulators(loop);
  if (accumulators.empty())
    return;
  IRRewriter rewriter(loop.getContext());
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> initial;
  for (Accumulator accumulator : accumulators) {
    allowReassociation(accumulator);
    initial.push_back(memref::LoadOp::create(
        rewriter, accumulator.load.getLoc(), accumulator.load.getMemRef(),
        accumulator.load.getIndices()));
  }
  SmallVector<Value> stored;
  for (Accumulator accumulator : accumulators)
    stored.push_back(accumulator.store.getValueToStore());
  FailureOr<LoopLikeOpInterface> promoted = loop.replaceWithAdditionalYields(
      rewriter, initial, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) { return stored; });
  if (failed(promoted))
    return;
  auto newLoop = cast<scf::ForOp>(promoted->getOperation());
  unsigned first = newLoop.getNumResults() - accumulators.size();
  rewriter.setInsertionPointAfter(newLoop);
  for (auto [i, accumulator] : llvm::enumerate(accumulators)) {
    rewriter.replaceAllUsesWith(accumulator.load.getResult(),
                                newLoop.getRegionIterArgs()[first + i]);
    memref::StoreOp::create(
        rewriter, accumulator.store.getLoc(), newLoop.getResult(first + i),
        accumulator.store.getMemRef(), accumulator.store.getIndices());
    rewriter.eraseOp(accumulator.store);
    rewriter.eraseOp(accumulator.load);
  }
}

struct PromoteAccumulatorsPass
    : qaf::impl::PromoteAccumulatorsPassBase<PromoteAccumulatorsPass> {
  void runOnOperation() override {
    // Innermost loops first: an outer reduction loop's accumulator then
    // shows as a load before and a store after the inner loop.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      promoteAccumulators(loop);
  }
};

} // namespace
