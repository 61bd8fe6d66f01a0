//===- ReverseMode.cpp - the reverse pass of a graph ----------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Autodiff/ReverseMode.h"

#include "ONNXGraphBuilder.h"

#include "qaf/Interfaces/GradientOpInterface.h"

#include "mlir/IR/Block.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace qaf {
namespace {

/// Records the ops a builder inserts, so that the ones nothing reads can be
/// erased afterwards.
struct InsertedOpsRecorder : OpBuilder::Listener {
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    inserted.insert(op);
  }
  llvm::SetVector<Operation *> inserted;
};

/// The ONNX node name of an imported op (its NameLoc), or empty.
StringRef getNodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().getValue();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (StringRef name = getNodeName(inner); !name.empty())
        return name;
  return {};
}

/// The values of `body` that depend on a target: the targets, and the
/// results of every op that reads one.
llvm::DenseSet<Value> findActiveValues(Block &body, ArrayRef<Value> targets) {
  llvm::DenseSet<Value> active(targets.begin(), targets.end());
  for (Operation &op : body)
    if (llvm::any_of(op.getOperands(),
                     [&](Value operand) { return active.contains(operand); }))
      active.insert(op.result_begin(), op.result_end());
  return active;
}

} // namespace

FailureOr<SmallVector<Value>> buildReverseMode(OpBuilder &builder, Block &body,
                                               ArrayRef<GradientSeed> seeds,
                                               ArrayRef<Value> targets) {
  llvm::DenseSet<Value> active = findActiveValues(body, targets);
  DenseMap<Value, Value> gradients;
  InsertedOpsRecorder recorder;
  OpBuilder::Listener *previousListener = builder.getListener();
  builder.setListener(&recorder);
  llvm::scope_exit restoreListener(
      [&] { builder.setListener(previousListener); });

  auto accumulate = [&](Value value, Value gradient) -> LogicalResult {
    Value &sum = gradients[value];
    if (!sum) {
      sum = gradient;
      return success();
    }
    ONNXGraphBuilder graph(builder, value.getLoc());
    sum = graph.create<onnx::AddOp>({sum, gradient});
    return failure(graph.failed());
  };
  for (const GradientSeed &seed : seeds)
    if (failed(accumulate(seed.value, seed.gradient)))
      return failure();

  SmallVector<Operation *> forward = llvm::map_to_vector(
      body.without_terminator(), [](Operation &op) { return &op; });
  for (Operation *op : llvm::reverse(forward)) {
    // Ops the backward pass itself inserted (when the insertion point lies
    // inside `body`) are not part of the forward graph.
    if (recorder.inserted.contains(op))
      continue;
    SmallVector<Value> resultGradients = llvm::map_to_vector(
        op->getResults(), [&](Value r) { return gradients.lookup(r); });
    if (llvm::all_of(resultGradients, [](Value g) { return !g; }) ||
        llvm::none_of(op->getOperands(),
                      [&](Value operand) { return active.contains(operand); }))
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule) {
      InFlightDiagnostic diag = op->emitError() << "no gradient rule for '"
                                                << op->getName() << "'";
      if (StringRef node = getNodeName(op->getLoc()); !node.empty())
        diag << " (ONNX node '" << node << "')";
      return diag << ", which lies between the loss and a value it is "
                     "differentiated with respect to";
    }
    SmallVector<Value> operandGradients;
    if (failed(rule.buildGradients(builder, resultGradients, operandGradients)))
      return failure();
    for (auto [operand, gradient] :
         llvm::zip_equal(op->getOperands(), operandGradients))
      if (gradient && active.contains(operand) &&
          failed(accumulate(operand, gradient)))
        return failure();
  }

  SmallVector<Value> targetGradients = llvm::map_to_vector(
      targets, [&](Value target) { return gradients.lookup(target); });

  // Rules build the gradients of all their operands; the ones that lead to
  // no target are dead. Later ops read earlier ones, so erase backwards. The
  // walk goes over the live ops of the block (a rule may have erased an op
  // it built) and erases only recorded ones.
  for (Operation &op :
       llvm::make_early_inc_range(llvm::reverse(*builder.getInsertionBlock())))
    if (recorder.inserted.contains(&op) && op.use_empty() &&
        isMemoryEffectFree(&op) &&
        llvm::none_of(op.getResults(), [&](Value result) {
          return llvm::is_contained(targetGradients, result);
        }))
      op.erase();
  return targetGradients;
}

} // namespace qaf
