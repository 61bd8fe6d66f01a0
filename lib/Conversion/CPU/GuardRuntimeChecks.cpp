//===- GuardRuntimeChecks.cpp - qaf.check -> the error channel ------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A failed check must neither abort the process (cf.assert would) nor let
// the code after it read out of bounds. The check records its message
// through qaf_report_error and the work after it is skipped: the function
// still runs to its end, freeing its buffers, and the entry point's wrapper
// returns the status (lib/Target/CPU/CPUCodegen.cpp).
//
// "After it" includes the work after the loop or branch a check sits in: a
// failure inside an scf.for is carried to the next iterations and out of
// the loop by an i1 iteration argument, out of an scf.if by an i1 result,
// and out of other regions (scf.parallel, whose iterations run on several
// threads) by asking the error channel (qaf_check_failed).
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

namespace qaf {
#define GEN_PASS_DEF_GUARDRUNTIMECHECKSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

constexpr StringLiteral kReportFunction = "qaf_report_error";
constexpr StringLiteral kFailedFunction = "qaf_check_failed";
constexpr int32_t kOutOfMemory = 2;
/// The longest chain of conjoined checks before the error channel is asked
/// instead (CheckGuard::conjoin).
constexpr unsigned kMaxConjunctionLength = 16;

/// Whether `op` runs even after a failed check: deallocations (also the
/// conditional ones ownership-based deallocation makes: an scf.if holding
/// only deallocations) and terminators.
bool mustAlwaysRun(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>() || isa<memref::DeallocOp>(op))
    return true;
  auto conditional = dyn_cast<scf::IfOp>(op);
  if (!conditional)
    return false;
  bool deallocates = false;
  WalkResult onlyDeallocs = op->walk([&](Operation *nested) {
    if (isa<memref::DeallocOp>(nested))
      deallocates = true;
    else if (nested != op && !nested->hasTrait<OpTrait::IsTerminator>() &&
             !isMemoryEffectFree(nested))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return deallocates && !onlyDeallocs.wasInterrupted();
}

/// Whether an allocation may fail: it holds an element, or may.
bool needsAllocationCheck(memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  return !(type.hasStaticShape() && type.getNumElements() == 0);
}

/// Whether a check, or an allocation that may fail, lies inside `op`.
bool containsFailures(Operation *op) {
  return op
      ->walk([](Operation *nested) {
        auto alloc = dyn_cast<memref::AllocOp>(nested);
        return isa<qaf::CheckOp>(nested) ||
                       (alloc && needsAllocationCheck(alloc))
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// Rewrites the checks of one module; `ok` values are i1 conjunctions of
/// the conditions checked so far (null: nothing checked yet).
class CheckGuard {
public:
  explicit CheckGuard(ModuleOp module)
      : module(module), symbols(module),
        moduleBuilder(OpBuilder::atBlockBegin(module.getBody())) {}

  /// Guards the work of `block` after each failure in it; `ok` holds on
  /// entry. Returns the conjunction at the block's end.
  Value guardBlock(Block &block, Value ok);

private:
  /// `ok && condition`, where a failed `condition` has been reported. A
  /// conjunction `kMaxConjunctionLength` long is replaced by asking the
  /// error channel (equivalent: every failure is reported before it is
  /// conjoined). LLVM's dominating-condition cache looks through a branch
  /// condition's whole and/or tree, so one chain through a training step's
  /// thousands of guards made InstCombine quadratic in the model's layers.
  Value conjoin(OpBuilder &b, Location loc, Value ok, Value condition) {
    if (!ok)
      return condition;
    unsigned length = conjunctionLength.lookup(ok) + 1;
    if (length >= kMaxConjunctionLength)
      return emitNoFailureYet(b, loc);
    Value conjunction = arith::AndIOp::create(b, loc, ok, condition);
    conjunctionLength[conjunction] = length;
    return conjunction;
  }
  /// scf.if (!condition) { qaf_report_error(code, text, values...) }.
  void emitReport(OpBuilder &b, Location loc, Value condition, int32_t code,
                  StringRef text, ValueRange values);
  /// Whether no check has failed in the call so far, asked of the error
  /// channel (the failure may have happened on another thread).
  Value emitNoFailureYet(OpBuilder &b, Location loc);
  Value checkAllocation(memref::AllocOp alloc, Value ok);
  void guardLoad(memref::LoadOp load, Value ok);
  Value guardRegions(Operation *op, Value ok);
  Value guardLoop(scf::ForOp loop, Value ok);
  Value guardBranches(scf::IfOp branch, Value ok);
  Value guardParallelLoop(scf::ParallelOp loop, Value ok);
  void skipIterationsUnless(Value ok, OpOperand &upper, Value lower);
  Value getMessage(OpBuilder &b, Location loc, StringRef text);
  func::FuncOp getFunction(func::FuncOp &cached, StringRef name,
                           FunctionType type);

  ModuleOp module;
  SymbolTable symbols;
  OpBuilder moduleBuilder;
  func::FuncOp report, failed;
  llvm::StringMap<LLVM::GlobalOp> messages;
  /// How many conjunctions built each `ok` value (absent: none).
  DenseMap<Value, unsigned> conjunctionLength;
};

func::FuncOp CheckGuard::getFunction(func::FuncOp &cached, StringRef name,
                                     FunctionType type) {
  if (!cached) {
    cached = func::FuncOp::create(moduleBuilder, module.getLoc(), name, type);
    cached.setPrivate();
    symbols.insert(cached);
  }
  return cached;
}

Value CheckGuard::getMessage(OpBuilder &b, Location loc, StringRef text) {
  LLVM::GlobalOp &global = messages[text];
  if (!global) {
    std::string zeroTerminated = (text + Twine('\0')).str();
    auto type = LLVM::LLVMArrayType::get(b.getI8Type(), zeroTerminated.size());
    global = LLVM::GlobalOp::create(
        moduleBuilder, loc, type, /*isConstant=*/true, LLVM::Linkage::Internal,
        "qaf_check_message", moduleBuilder.getStringAttr(zeroTerminated));
    symbols.insert(global);
  }
  return LLVM::AddressOfOp::create(b, loc, global);
}

void CheckGuard::emitReport(OpBuilder &b, Location loc, Value condition,
                            int32_t code, StringRef text, ValueRange values) {
  Type i64 = b.getI64Type();
  Value isFailed = arith::XOrIOp::create(
      b, loc, condition, arith::ConstantIntOp::create(b, loc, 1, 1));
  auto ifFailed = scf::IfOp::create(b, loc, isFailed);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifFailed.thenBlock());
  SmallVector<Value> arguments = {
      arith::ConstantIntOp::create(b, loc, code, 32), getMessage(b, loc, text)};
  for (Value value : values) {
    if (value.getType().isIndex())
      value = arith::IndexCastOp::create(b, loc, i64, value);
    else if (value.getType().getIntOrFloatBitWidth() < 64)
      value = arith::ExtSIOp::create(b, loc, i64, value);
    arguments.push_back(value);
  }
  while (arguments.size() < 5)
    arguments.push_back(arith::ConstantIntOp::create(b, loc, 0, 64));
  Type pointer = LLVM::LLVMPointerType::get(b.getContext());
  func::CallOp::create(
      b, loc,
      getFunction(
          report, kReportFunction,
          b.getFunctionType({b.getI32Type(), pointer, i64, i64, i64}, {})),
      arguments);
}

Value CheckGuard::emitNoFailureYet(OpBuilder &b, Location loc) {
  Value status =
      func::CallOp::create(b, loc,
                           getFunction(failed, kFailedFunction,
                                       b.getFunctionType({}, {b.getI32Type()})),
                           ValueRange{})
          .getResult(0);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, status,
                               arith::ConstantIntOp::create(b, loc, 0, 32));
}

Value CheckGuard::guardBlock(Block &block, Value ok) {
  SmallVector<Operation *> run;
  auto flushRun = [&] {
    if (run.empty())
      return;
    OpBuilder b(run.front());
    auto guarded = scf::IfOp::create(b, run.front()->getLoc(), ok);
    Operation *yield = guarded.thenBlock()->getTerminator();
    for (Operation *op : run)
      op->moveBefore(yield);
    run.clear();
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto check = dyn_cast<qaf::CheckOp>(op)) {
      flushRun();
      OpBuilder b(check);
      emitReport(b, check.getLoc(), check.getCondition(), check.getCode(),
                 check.getMessage(), check.getValues());
      ok = conjoin(b, check.getLoc(), ok, check.getCondition());
      check.erase();
      continue;
    }
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      flushRun();
      ok = checkAllocation(alloc, ok);
      continue;
    }
    if (auto load = dyn_cast<memref::LoadOp>(op); load && ok) {
      // A load from a buffer whose allocation failed would fault: it
      // reads 0 instead after a failed check.
      flushRun();
      guardLoad(load, ok);
      continue;
    }
    // Loops and branches that may fail inside, or that compute results
    // into memory after a failure, are guarded inside.
    if (op.getNumRegions() != 0 && !mustAlwaysRun(&op) &&
        !op.hasTrait<OpTrait::IsIsolatedFromAbove>() &&
        (containsFailures(&op) ||
         (ok && op.getNumResults() != 0 && !isMemoryEffectFree(&op)))) {
      flushRun();
      ok = guardRegions(&op, ok);
      continue;
    }
    if (!ok || op.getNumResults() != 0 || mustAlwaysRun(&op)) {
      flushRun();
      continue;
    }
    run.push_back(&op);
  }
  flushRun();
  return ok;
}

Value CheckGuard::guardRegions(Operation *op, Value ok) {
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return guardLoop(loop, ok);
  if (auto branch = dyn_cast<scf::IfOp>(op))
    return guardBranches(branch, ok);
  if (auto loop = dyn_cast<scf::ParallelOp>(op))
    return guardParallelLoop(loop, ok);
  // Any other region: each block starts by asking whether a check failed
  // (in an earlier run of the region too), and so does the work after it.
  if (!containsFailures(op)) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        guardBlock(block, ok);
    return ok;
  }
  for (Region &region : op->getRegions())
    for (Block &block : region) {
      OpBuilder b = OpBuilder::atBlockBegin(&block);
      guardBlock(block, conjoin(b, op->getLoc(), ok,
                                emitNoFailureYet(b, op->getLoc())));
    }
  OpBuilder b(op->getContext());
  b.setInsertionPointAfter(op);
  return conjoin(b, op->getLoc(), ok, emitNoFailureYet(b, op->getLoc()));
}

/// A loop after a failed check runs no iteration (`upper` becomes `lower`):
/// its results are its initial values, as for an empty range.
void CheckGuard::skipIterationsUnless(Value ok, OpOperand &upper, Value lower) {
  if (!ok)
    return;
  OpBuilder b(upper.getOwner());
  upper.set(arith::SelectOp::create(b, upper.getOwner()->getLoc(), ok,
                                    upper.get(), lower));
}

Value CheckGuard::guardLoop(scf::ForOp loop, Value ok) {
  skipIterationsUnless(ok, loop.getUpperBoundMutable(), loop.getLowerBound());
  if (!containsFailures(loop))
    return ok;
  // The conjunction travels through the iterations: after a failure the
  // remaining ones do nothing, and the loop's last value is the result.
  IRRewriter rewriter(loop->getContext());
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  Value initial = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
  FailureOr<LoopLikeOpInterface> replaced = loop.replaceWithAdditionalYields(
      rewriter, ValueRange{initial}, /*replaceInitOperandUsesInLoop=*/false,
      [](OpBuilder &, Location, ArrayRef<BlockArgument> arguments) {
        return SmallVector<Value>{arguments.front()};
      });
  auto carried = cast<scf::ForOp>(replaced->getOperation());
  Block *body = carried.getBody();
  Value bodyOk = guardBlock(*body, body->getArguments().back());
  Operation *yield = body->getTerminator();
  yield->setOperand(yield->getNumOperands() - 1, bodyOk);
  rewriter.setInsertionPointAfter(carried);
  return conjoin(rewriter, loc, ok, carried.getResults().back());
}

Value CheckGuard::guardBranches(scf::IfOp branch, Value ok) {
  if (!containsFailures(branch)) {
    guardBlock(*branch.thenBlock(), ok);
    if (branch.elseBlock())
      guardBlock(*branch.elseBlock(), ok);
    return ok;
  }
  // The branch taken yields its conjunction as one more result.
  Location loc = branch.getLoc();
  OpBuilder b(branch);
  SmallVector<Type> types(branch.getResultTypes());
  types.push_back(b.getI1Type());
  auto carried = scf::IfOp::create(b, loc, types, branch.getCondition(),
                                   /*withElseRegion=*/false);
  carried.getThenRegion().takeBody(branch.getThenRegion());
  if (branch.elseBlock()) {
    carried.getElseRegion().takeBody(branch.getElseRegion());
  } else {
    OpBuilder elseBuilder(b.getContext());
    elseBuilder.createBlock(&carried.getElseRegion());
    scf::YieldOp::create(elseBuilder, loc);
  }
  for (Block *block : {carried.thenBlock(), carried.elseBlock()}) {
    Value blockOk = guardBlock(*block, ok);
    if (!blockOk) {
      OpBuilder end = OpBuilder::atBlockTerminator(block);
      blockOk = arith::ConstantIntOp::create(end, loc, 1, 1);
    }
    block->getTerminator()->insertOperands(
        block->getTerminator()->getNumOperands(), blockOk);
  }
  branch->replaceAllUsesWith(carried.getResults().drop_back());
  branch.erase();
  return carried.getResults().back();
}

Value CheckGuard::guardParallelLoop(scf::ParallelOp loop, Value ok) {
  skipIterationsUnless(ok, loop.getUpperBoundMutable()[0],
                       loop.getLowerBound().front());
  if (!containsFailures(loop))
    return ok;
  // The iterations run on several threads: each starts by asking the error
  // channel, so that those after a failure do nothing, and so does the work
  // after the loop.
  Location loc = loop.getLoc();
  OpBuilder b = OpBuilder::atBlockBegin(loop.getBody());
  guardBlock(*loop.getBody(), emitNoFailureYet(b, loc));
  b.setInsertionPointAfter(loop);
  return conjoin(b, loc, ok, emitNoFailureYet(b, loc));
}

/// `scf.if %ok -> T { load } else { 0 }` in place of `load`.
void CheckGuard::guardLoad(memref::LoadOp load, Value ok) {
  OpBuilder b(load);
  Location loc = load.getLoc();
  Type type = load.getType();
  auto guarded = scf::IfOp::create(b, loc, TypeRange{type}, ok,
                                   /*withElseRegion=*/true);
  load->replaceAllUsesWith(guarded.getResults());
  load->moveBefore(guarded.thenBlock(), guarded.thenBlock()->begin());
  OpBuilder thenBuilder = guarded.getThenBodyBuilder();
  scf::YieldOp::create(thenBuilder, loc, load.getResult());
  OpBuilder elseBuilder = guarded.getElseBodyBuilder();
  Value zero = arith::ConstantOp::create(
      elseBuilder, loc, cast<TypedAttr>(elseBuilder.getZeroAttr(type)));
  scf::YieldOp::create(elseBuilder, loc, zero);
}

/// After `alloc`: a null pointer is a failed allocation, unless the buffer
/// holds no element (malloc(0) may return null).
Value CheckGuard::checkAllocation(memref::AllocOp alloc, Value ok) {
  if (!needsAllocationCheck(alloc))
    return ok;
  MemRefType type = alloc.getType();
  Location loc = alloc.getLoc();
  OpBuilder b(alloc->getContext());
  b.setInsertionPointAfter(alloc);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, alloc);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value allocated =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, address, zero);
  // Elements: the static sizes times the dynamic ones.
  Value elements = arith::ConstantIndexOp::create(
      b, loc,
      llvm::product_of(llvm::make_filter_range(type.getShape(), [](int64_t d) {
        return !ShapedType::isDynamic(d);
      })));
  for (Value size : alloc.getDynamicSizes())
    elements = arith::MulIOp::create(b, loc, elements, size);
  Value empty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, elements, zero);
  Value allocationOk = arith::OrIOp::create(b, loc, allocated, empty);
  // The data layout's size: also index (inside deallocation helpers) and
  // other elements without a bit width.
  uint64_t elementBytes = std::max<uint64_t>(
      DataLayout::closest(alloc).getTypeSize(type.getElementType()), 1);
  Value bytes = arith::MulIOp::create(
      b, loc, elements, arith::ConstantIndexOp::create(b, loc, elementBytes));
  std::string where = qaf::describeLocation(loc);
  std::string message = (where.empty() ? "" : where + ": ") +
                        "out of memory: cannot allocate a buffer of {0} bytes";
  emitReport(b, loc, allocationOk, kOutOfMemory, message, ValueRange{bytes});
  return conjoin(b, loc, ok, allocationOk);
}

struct GuardRuntimeChecksPass
    : qaf::impl::GuardRuntimeChecksPassBase<GuardRuntimeChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    CheckGuard guard(module);
    for (auto function : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (!function.isExternal())
        guard.guardBlock(function.getBody().front(), Value());
  }
};

} // namespace
