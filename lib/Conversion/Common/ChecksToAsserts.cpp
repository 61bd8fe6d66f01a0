//===- ChecksToAsserts.cpp - qaf.check without the error channel ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"
#include "qaf/dialects/qaf/QAFDialect.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"

namespace qaf {
#define GEN_PASS_DEF_CHECKSTOASSERTSPASS
#define GEN_PASS_DEF_DROPRUNTIMECHECKSPASS
#include "qaf/Conversion/Passes.h.inc"
} // namespace qaf

using namespace mlir;

namespace {

struct ChecksToAssertsPass
    : qaf::impl::ChecksToAssertsPassBase<ChecksToAssertsPass> {
  void runOnOperation() override {
    getOperation()->walk([](qaf::CheckOp check) {
      OpBuilder builder(check);
      cf::AssertOp::create(builder, check.getLoc(), check.getCondition(),
                           check.getMessage());
      check.erase();
    });
  }
};

struct DropRuntimeChecksPass
    : qaf::impl::DropRuntimeChecksPassBase<DropRuntimeChecksPass> {
  void runOnOperation() override {
    getOperation()->walk([](qaf::CheckOp check) { check.erase(); });
  }
};

} // namespace
