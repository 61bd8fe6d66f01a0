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
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"
#include "qaf/Support/ToolSupport.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace qaf {
#define GEN_PASS_DEF_GUARDRUNTIMECHECKSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

constexpr StringLiteral kReportFunction = "qaf_report_error";
constexpr int32_t kOutOfMemory = 2;

/// Whether `op` runs even after a failed check: deallocations (also the
/// conditional ones ownership-based deallocation makes: an scf.if holding
/// only deallocations) and the function's terminator.
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

struct GuardRuntimeChecksPass
    : qaf::impl::GuardRuntimeChecksPassBase<GuardRuntimeChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    OpBuilder moduleBuilder = OpBuilder::atBlockBegin(module.getBody());
    MLIRContext *context = module.getContext();
    Type i64 = IntegerType::get(context, 64);
    Type i32 = IntegerType::get(context, 32);
    Type pointer = LLVM::LLVMPointerType::get(context);

    func::FuncOp report;
    auto getReport = [&] {
      if (!report) {
        report = func::FuncOp::create(
            moduleBuilder, module.getLoc(), kReportFunction,
            FunctionType::get(context, {i32, pointer, i64, i64, i64}, {}));
        report.setPrivate();
        symbols.insert(report);
      }
      return report;
    };
    llvm::StringMap<LLVM::GlobalOp> messages;
    auto getMessage = [&](OpBuilder &b, Location loc, StringRef text) -> Value {
      LLVM::GlobalOp &global = messages[text];
      if (!global) {
        std::string zeroTerminated = (text + Twine('\0')).str();
        auto type = LLVM::LLVMArrayType::get(IntegerType::get(context, 8),
                                             zeroTerminated.size());
        global = LLVM::GlobalOp::create(
            moduleBuilder, loc, type, /*isConstant=*/true,
            LLVM::Linkage::Internal, "qaf_check_message",
            moduleBuilder.getStringAttr(zeroTerminated));
        symbols.insert(global);
      }
      return LLVM::AddressOfOp::create(b, loc, global);
    };

    /// scf.if (!condition) { qaf_report_error(code, text, values...) }.
    auto emitReport = [&](OpBuilder &b, Location loc, Value condition,
                          int32_t code, StringRef text, ValueRange values) {
      Value failed = arith::XOrIOp::create(
          b, loc, condition, arith::ConstantIntOp::create(b, loc, 1, 1));
      auto ifFailed = scf::IfOp::create(b, loc, failed);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifFailed.thenBlock());
      SmallVector<Value> arguments = {
          arith::ConstantIntOp::create(b, loc, code, 32),
          getMessage(b, loc, text)};
      for (Value value : values) {
        if (value.getType().isIndex())
          value = arith::IndexCastOp::create(b, loc, i64, value);
        else if (value.getType().getIntOrFloatBitWidth() < 64)
          value = arith::ExtSIOp::create(b, loc, i64, value);
        arguments.push_back(value);
      }
      while (arguments.size() < 5)
        arguments.push_back(arith::ConstantIntOp::create(b, loc, 0, 64));
      func::CallOp::create(b, loc, getReport(), arguments);
    };

    for (auto function : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (function.isExternal())
        continue;
      // Checks nested in loops or branches report and go on; those at the
      // top of the function also guard the rest of it.
      Block &top = function.getBody().front();
      SmallVector<qaf::CheckOp> nested;
      function.walk([&](qaf::CheckOp check) {
        if (check->getBlock() != &top)
          nested.push_back(check);
      });
      for (qaf::CheckOp check : nested) {
        OpBuilder b(check);
        emitReport(b, check.getLoc(), check.getCondition(), check.getCode(),
                   check.getMessage(), check.getValues());
        check.erase();
      }

      Value ok;
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
      auto addCondition = [&](OpBuilder &b, Location loc, Value condition) {
        ok = ok ? arith::AndIOp::create(b, loc, ok, condition).getResult()
                : condition;
      };
      for (Operation &op : llvm::make_early_inc_range(top)) {
        if (auto check = dyn_cast<qaf::CheckOp>(op)) {
          flushRun();
          OpBuilder b(check);
          emitReport(b, check.getLoc(), check.getCondition(), check.getCode(),
                     check.getMessage(), check.getValues());
          addCondition(b, check.getLoc(), check.getCondition());
          check.erase();
          continue;
        }
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          flushRun();
          checkAllocation(alloc, emitReport, addCondition);
          continue;
        }
        if (auto load = dyn_cast<memref::LoadOp>(op); load && ok) {
          // A load from a buffer whose allocation failed would fault: it
          // reads 0 instead after a failed check.
          flushRun();
          guardLoad(load, ok);
          continue;
        }
        if (!ok || op.getNumResults() != 0 || mustAlwaysRun(&op)) {
          flushRun();
          continue;
        }
        run.push_back(&op);
      }
      flushRun();
    }
  }

  /// `scf.if %ok -> T { load } else { 0 }` in place of `load`.
  static void guardLoad(memref::LoadOp load, Value ok) {
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
  template <typename EmitReport, typename AddCondition>
  void checkAllocation(memref::AllocOp alloc, EmitReport &emitReport,
                       AddCondition &addCondition) {
    MemRefType type = alloc.getType();
    if (type.getNumElements() == 0 && type.hasStaticShape())
      return;
    Location loc = alloc.getLoc();
    OpBuilder b(alloc->getContext());
    b.setInsertionPointAfter(alloc);
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, alloc);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value allocated =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, address, zero);
    // Elements: the static sizes times the dynamic ones.
    Value elements =
        arith::ConstantIndexOp::create(b, loc,
                                       llvm::product_of(llvm::make_filter_range(
                                           type.getShape(), [](int64_t d) {
                                             return !ShapedType::isDynamic(d);
                                           })));
    for (Value size : alloc.getDynamicSizes())
      elements = arith::MulIOp::create(b, loc, elements, size);
    Value empty =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, elements, zero);
    Value ok = arith::OrIOp::create(b, loc, allocated, empty);
    unsigned elementBytes =
        std::max<unsigned>(type.getElementTypeBitWidth() / 8, 1);
    Value bytes = arith::MulIOp::create(
        b, loc, elements, arith::ConstantIndexOp::create(b, loc, elementBytes));
    std::string where = qaf::describeLocation(loc);
    std::string message =
        (where.empty() ? "" : where + ": ") +
        "out of memory: cannot allocate a buffer of {0} bytes";
    emitReport(b, loc, ok, kOutOfMemory, message, ValueRange{bytes});
    addCondition(b, loc, ok);
  }
};

} // namespace
