//===- FreeBuffersEarly.cpp - deallocate after the last use ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Buffers.h"
#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace qaf {
#define GEN_PASS_DEF_FREEBUFFERSEARLYPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

/// Types through which a buffer's address can travel.
bool canCarryAddress(Type type) {
  if (isa<BaseMemRefType, IndexType, LLVM::LLVMPointerType>(type))
    return true;
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() >= 32;
}

/// Ops whose results say something about a buffer but never hold its
/// address: sizes and ranks, loaded elements.
bool endsAddressChain(Operation *op) {
  return isa<memref::DimOp, memref::RankOp, memref::LoadOp>(op);
}

struct FreeBuffersEarlyPass
    : qaf::impl::FreeBuffersEarlyPassBase<FreeBuffersEarlyPass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation()->walk(
        [&](memref::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    // Positions of the ops of each block, numbered once: moving a dealloc
    // leaves the others' order as it was.
    DenseMap<Block *, DenseMap<Operation *, unsigned>> positions;
    for (memref::DeallocOp dealloc : deallocs) {
      Block *block = dealloc->getBlock();
      auto [it, inserted] = positions.try_emplace(block);
      if (inserted) {
        unsigned index = 0;
        for (Operation &op : *block)
          it->second[&op] = index++;
      }
      if (Operation *lastUse = findLastUse(dealloc, block, it->second))
        dealloc->moveAfter(lastUse);
    }
  }

  /// The op of `block` after which `dealloc` can run, or null to leave it.
  Operation *findLastUse(memref::DeallocOp dealloc, Block *block,
                         const DenseMap<Operation *, unsigned> &position) {
    Value allocation = qaf::getRootBuffer(dealloc.getMemref());
    if (isa<BlockArgument>(allocation))
      return nullptr;
    Operation *last = allocation.getDefiningOp();
    // The allocation itself may sit in an enclosing block.
    if (!position.count(last))
      return nullptr;
    SmallVector<Value> worklist = {allocation};
    DenseSet<Value> derived = {allocation};
    auto derive = [&](Value value) {
      if (canCarryAddress(value.getType()) && derived.insert(value).second)
        worklist.push_back(value);
    };
    auto deriveRegionArguments = [&](Operation *op) {
      for (Region &region : op->getRegions())
        for (Block &nested : region)
          for (BlockArgument argument : nested.getArguments())
            derive(argument);
    };
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      for (OpOperand &use : value.getUses()) {
        Operation *user = use.getOwner();
        if (user == dealloc.getOperation())
          continue;
        Operation *inBlock = block->findAncestorOpInBlock(*user);
        if (!inBlock)
          return nullptr;
        if (position.lookup(inBlock) > position.lookup(last))
          last = inBlock;
        if (endsAddressChain(user))
          continue;
        for (Value result : user->getResults())
          derive(result);
        // Into the regions of the user (loop-carried values, captured
        // operands), and out of the op whose region yields it.
        deriveRegionArguments(user);
        if (user->hasTrait<OpTrait::IsTerminator>())
          if (Operation *parent = user->getParentOp()) {
            for (Value result : parent->getResults())
              derive(result);
            deriveRegionArguments(parent);
          }
      }
    }
    // Only ever earlier: a dealloc already before some use would be wrong
    // input, left alone.
    if (position.lookup(last) >= position.lookup(dealloc))
      return nullptr;
    return last;
  }
};

} // namespace
