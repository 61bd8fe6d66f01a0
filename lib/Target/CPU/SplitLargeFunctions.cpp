//===- SplitLargeFunctions.cpp - Bounded-size functions for LLVM ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The pieces are cut along the function's spine: the blocks that dominate
// its returns and lie in no loop. Every call of the function runs each of
// them once, in dominance order, so the code between two consecutive spine
// blocks (the blocks whose nearest spine dominator is the first) runs at
// most once per call, is entered only at the first and left only to the
// second. CodeExtractor moves such a region into a new function and calls
// it in its place; the values it reads become arguments and the values it
// defines for later code are passed back through pointers.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/CPU/SplitLargeFunctions.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/PostOrderIterator.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/CodeExtractor.h"
#include "llvm/Transforms/Utils/Local.h"

#include <iterator>
#include <string>

using llvm::ArrayRef;
using llvm::BasicBlock;
using llvm::DenseMap;
using llvm::SmallVector;

namespace qaf {

/// Whether moving part of `function` into another function could change what
/// it does: a stack allocation that is not one of the entry block's static
/// ones (it would be freed when the piece returns), stack save/restore,
/// setjmp-like calls, exception handling, musttail calls, varargs.
static bool dependsOnItsFrame(llvm::Function &function) {
  if (function.isVarArg())
    return true;
  for (BasicBlock &block : function)
    for (llvm::Instruction &instruction : block) {
      if (auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&instruction)) {
        if (&block != &function.getEntryBlock() || !alloca->isStaticAlloca())
          return true;
        continue;
      }
      if (instruction.isEHPad() ||
          llvm::isa<llvm::InvokeInst, llvm::CallBrInst>(instruction))
        return true;
      auto *call = llvm::dyn_cast<llvm::CallInst>(&instruction);
      if (!call)
        continue;
      if (call->isMustTailCall() ||
          call->hasFnAttr(llvm::Attribute::ReturnsTwice))
        return true;
      switch (call->getIntrinsicID()) {
      case llvm::Intrinsic::stacksave:
      case llvm::Intrinsic::stackrestore:
      case llvm::Intrinsic::localescape:
      case llvm::Intrinsic::vastart:
      case llvm::Intrinsic::vaend:
        return true;
      default:
        break;
      }
    }
  return false;
}

/// The spine of `function` in dominance order: the dominators of all its
/// returns that lie in no loop. Empty when the function never returns.
static SmallVector<BasicBlock *>
findSpine(llvm::Function &function, const llvm::DominatorTree &dominators,
          const llvm::LoopInfo &loops) {
  BasicBlock *lastCommon = nullptr;
  for (BasicBlock &block : function)
    if (llvm::isa<llvm::ReturnInst>(block.getTerminator()))
      lastCommon =
          lastCommon ? dominators.findNearestCommonDominator(lastCommon, &block)
                     : &block;
  SmallVector<BasicBlock *> spine;
  for (llvm::DomTreeNode *node = lastCommon ? dominators.getNode(lastCommon)
                                            : nullptr;
       node; node = node->getIDom())
    if (!loops.getLoopFor(node->getBlock()))
      spine.push_back(node->getBlock());
  std::reverse(spine.begin(), spine.end());
  return spine;
}

/// Cuts the blocks of `spine` longer than `pieceInstructions` instructions
/// into blocks of that length, so that pieces can also end inside a long
/// straight-line block. The new blocks join the spine.
static void splitLongBlocks(ArrayRef<BasicBlock *> spine,
                            unsigned pieceInstructions) {
  for (BasicBlock *block : spine) {
    auto position = block->getFirstNonPHIIt();
    unsigned length = 0;
    while (position != block->end() && !position->isTerminator()) {
      if (++length > pieceInstructions) {
        block = block->splitBasicBlock(position);
        length = 0;
      }
      ++position;
    }
  }
}

static unsigned splitFunction(llvm::Function &function,
                              unsigned pieceInstructions) {
  if (dependsOnItsFrame(function))
    return 0;
  // Blocks no run reaches would be predecessors from outside a piece.
  llvm::removeUnreachableBlocks(function);
  // The entry block keeps the static allocas (the pieces' outputs are
  // allocated there too); the code after them becomes a spine block.
  BasicBlock &entry = function.getEntryBlock();
  entry.splitBasicBlock(entry.getFirstNonPHIOrDbgOrAlloca());
  {
    llvm::DominatorTree dominators(function);
    llvm::LoopInfo loops(dominators);
    splitLongBlocks(findSpine(function, dominators, loops), pieceInstructions);
  }
  llvm::DominatorTree dominators(function);
  llvm::LoopInfo loops(dominators);

  // Where pieces may start and end: spine blocks other than the entry that
  // no edge carries values into (no PHI nodes).
  SmallVector<BasicBlock *> cuts;
  DenseMap<BasicBlock *, unsigned> cutIndex;
  for (BasicBlock *block : findSpine(function, dominators, loops))
    if (block != &entry && !llvm::isa<llvm::PHINode>(block->front())) {
      cutIndex[block] = cuts.size();
      cuts.push_back(block);
    }
  if (cuts.size() < 3)
    return 0;

  // Each block goes with its nearest dominating cut (the entry's blocks
  // with none); a reverse post-order visits dominators first.
  constexpr unsigned kNoCut = ~0u;
  DenseMap<BasicBlock *, unsigned> segmentOf;
  SmallVector<SmallVector<BasicBlock *>> segments(cuts.size());
  SmallVector<unsigned> segmentSize(cuts.size(), 0);
  llvm::ReversePostOrderTraversal<llvm::Function *> order(&function);
  for (BasicBlock *block : order) {
    unsigned segment = kNoCut;
    if (auto it = cutIndex.find(block); it != cutIndex.end())
      segment = it->second;
    else if (llvm::DomTreeNode *idom = dominators.getNode(block)->getIDom())
      segment = segmentOf.lookup(idom->getBlock());
    segmentOf[block] = segment;
    if (segment == kNoCut)
      continue;
    segments[segment].push_back(block);
    segmentSize[segment] += std::distance(block->begin(), block->end());
  }

  // Consecutive segments make a piece of at least pieceInstructions; the
  // last segment, which returns, stays.
  llvm::CodeExtractorAnalysisCache cache(function);
  unsigned created = 0;
  unsigned last = cuts.size() - 1;
  for (unsigned first = 0; first < last;) {
    unsigned end = first, size = 0;
    while (end < last && size < pieceInstructions)
      size += segmentSize[end++];
    SmallVector<BasicBlock *> blocks;
    for (unsigned segment = first; segment < end; ++segment)
      llvm::append_range(blocks, segments[segment]);
    auto inPiece = [&](BasicBlock *block) {
      unsigned segment = segmentOf.lookup(block);
      return segment != kNoCut && segment >= first && segment < end;
    };
    // Entered at cuts[first] only, left to cuts[end] only: the theory
    // above, checked, so an unexpected control flow is left in place.
    bool singleEntryExit = true;
    for (BasicBlock *block : blocks) {
      for (BasicBlock *successor : llvm::successors(block))
        singleEntryExit &= inPiece(successor) || successor == cuts[end];
      if (block != cuts[first])
        for (BasicBlock *predecessor : llvm::predecessors(block))
          singleEntryExit &= inPiece(predecessor);
    }
    unsigned next = end;
    if (!singleEntryExit || size < pieceInstructions / 2) {
      first = next;
      continue;
    }
    llvm::CodeExtractor extractor(
        blocks, /*DT=*/nullptr, /*AggregateArgs=*/false, /*BFI=*/nullptr,
        /*BPI=*/nullptr, /*AC=*/nullptr, /*AllowVarArgs=*/false,
        /*AllowAlloca=*/false, /*AllocationBlock=*/nullptr,
        "piece" + std::to_string(created));
    if (extractor.isEligible())
      if (llvm::Function *piece = extractor.extractCodeRegion(cache)) {
        // Inlined back, the pieces would make the one large function again.
        piece->addFnAttr(llvm::Attribute::NoInline);
        ++created;
      }
    first = next;
  }
  return created;
}

unsigned splitLargeFunctions(llvm::Module &module, unsigned pieceInstructions) {
  SmallVector<llvm::Function *> large;
  for (llvm::Function &function : module)
    if (!function.isDeclaration() &&
        function.getInstructionCount() > 2 * pieceInstructions)
      large.push_back(&function);
  unsigned created = 0;
  for (llvm::Function *function : large)
    created += splitFunction(*function, pieceInstructions);
  return created;
}

} // namespace qaf
