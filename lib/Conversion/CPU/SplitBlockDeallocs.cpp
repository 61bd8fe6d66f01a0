//===- SplitBlockDeallocs.cpp - one dealloc per unaliased allocation ------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Buffers.h"
#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

namespace qaf {
#define GEN_PASS_DEF_SPLITBLOCKDEALLOCSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

bool isAllocation(Value value) {
  Operation *op = value.getDefiningOp();
  return op && hasEffect<MemoryEffects::Allocate>(op, value);
}

bool isEntryArgument(Value value) {
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument)
    return false;
  auto function =
      dyn_cast<FunctionOpInterface>(argument.getOwner()->getParentOp());
  return function && argument.getOwner() == &function.getFunctionBody().front();
}

/// Where a memref may come from: the terminal buffers the view flow traces
/// it back to, whether they are all allocations, and whether each is an
/// allocation or a function entry argument (`known`). Anything else (a
/// call's result, a global) may be any buffer.
struct Origins {
  SmallVector<Value, 2> terminals;
  bool allocations = true;
  bool known = true;
};

Origins originsOf(const BufferViewFlowAnalysis &analysis, Value value) {
  Origins origins;
  for (Value origin : analysis.resolveReverse(qaf::getRootBuffer(value))) {
    if (!isa<BaseMemRefType>(origin.getType()) ||
        !analysis.mayBeTerminalBuffer(origin))
      continue;
    origins.terminals.push_back(origin);
    bool allocation = isAllocation(origin);
    origins.allocations &= allocation;
    origins.known &= allocation || isEntryArgument(origin);
  }
  return origins;
}

struct SplitBlockDeallocsPass
    : qaf::impl::SplitBlockDeallocsPassBase<SplitBlockDeallocsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<bufferization::DeallocOp> deallocs;
    getOperation()->walk([&](bufferization::DeallocOp dealloc) {
      // Smaller deallocs are cheap for the simplification's pairwise
      // queries.
      if (dealloc.getMemrefs().size() >= minMemrefs)
        deallocs.push_back(dealloc);
    });
    if (deallocs.empty())
      return;
    BufferViewFlowAnalysis analysis(getOperation());
    for (bufferization::DeallocOp dealloc : deallocs)
      split(analysis, dealloc);
  }

  /// Moves each memref of `dealloc` that is freed for certain (its
  /// condition a constant true), is one allocation, and cannot be the
  /// allocation of any other memref or retained value of it into a dealloc
  /// of its own just before it, without retained values. The alias rule is
  /// the buffer origin analysis's (two values come from different
  /// allocations when the terminals of one are all allocations, those of
  /// the other allocations or function entry arguments, and they share
  /// none), decided by counting each terminal's operands in one pass
  /// instead of a query per pair of operands.
  void split(const BufferViewFlowAnalysis &analysis,
             bufferization::DeallocOp dealloc) {
    SmallVector<Origins> memrefOrigins;
    // Operands (memrefs and retained values) per terminal.
    DenseMap<Value, unsigned> operandsFrom;
    bool anyUnknown = false;
    auto count = [&](Value value) {
      Origins origins = originsOf(analysis, value);
      anyUnknown |= !origins.known;
      for (Value terminal : origins.terminals)
        ++operandsFrom[terminal];
      return origins;
    };
    for (Value memref : dealloc.getMemrefs())
      memrefOrigins.push_back(count(memref));
    for (Value retained : dealloc.getRetained())
      count(retained);
    // An operand of unknown origin may be any of the allocations.
    if (anyUnknown)
      return;

    SmallVector<Value> keptMemrefs, keptConditions;
    SmallVector<std::pair<Value, Value>> alone; // memref, its condition
    for (auto [memref, condition, origins] : llvm::zip_equal(
             dealloc.getMemrefs(), dealloc.getConditions(), memrefOrigins)) {
      if (origins.allocations && origins.terminals.size() == 1 &&
          operandsFrom.lookup(origins.terminals.front()) == 1 &&
          matchPattern(condition, m_One())) {
        alone.emplace_back(memref, condition);
      } else {
        keptMemrefs.push_back(memref);
        keptConditions.push_back(condition);
      }
    }
    if (alone.empty())
      return;
    OpBuilder builder(dealloc);
    for (auto [memref, condition] : alone)
      bufferization::DeallocOp::create(builder, dealloc.getLoc(),
                                       ValueRange{memref},
                                       ValueRange{condition}, ValueRange());
    dealloc.getMemrefsMutable().assign(keptMemrefs);
    dealloc.getConditionsMutable().assign(keptConditions);
  }
};

} // namespace
