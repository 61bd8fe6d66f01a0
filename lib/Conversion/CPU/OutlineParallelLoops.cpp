//===- OutlineParallelLoops.cpp - one function per parallel loop nest -----===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace qaf {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

void outline(scf::ParallelOp loop, func::FuncOp parent, unsigned index,
             SymbolTable &symbols) {
  // What the loop reads from outside: its bounds and steps, its initial
  // values, and whatever its body uses from above.
  llvm::SetVector<Value> used(loop->getOperands().begin(),
                              loop->getOperands().end());
  getUsedValuesDefinedAbove(loop->getRegions(), used);
  SmallVector<Value> captured;
  SmallVector<Operation *> constants;
  for (Value value : used) {
    Operation *producer = value.getDefiningOp();
    if (producer && producer->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(producer);
    else
      captured.push_back(value);
  }

  OpBuilder builder(parent);
  auto type = builder.getFunctionType(ValueRange(captured).getTypes(),
                                      loop.getResultTypes());
  auto func = func::FuncOp::create(
      builder, loop.getLoc(),
      (parent.getSymName() + "_loop" + Twine(index)).str(), type);
  func.setPrivate();
  symbols.insert(func);
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);
  IRMapping mapping;
  mapping.map(captured, body->getArguments());
  llvm::SmallPtrSet<Operation *, 8> clonedConstants;
  for (Operation *constant : constants)
    if (clonedConstants.insert(constant).second)
      builder.clone(*constant, mapping);
  Operation *clone = builder.clone(*loop, mapping);
  func::ReturnOp::create(builder, loop.getLoc(), clone->getResults());

  builder.setInsertionPoint(loop);
  auto call = func::CallOp::create(builder, loop.getLoc(), func, captured);
  loop->replaceAllUsesWith(call.getResults());
  loop->erase();
}

struct OutlineParallelLoopsPass
    : qaf::impl::OutlineParallelLoopsPassBase<OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      SmallVector<scf::ParallelOp> loops;
      func.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          loops.push_back(loop);
      });
      for (auto [index, loop] : llvm::enumerate(loops))
        outline(loop, func, index, symbols);
    }
  }
};

} // namespace
