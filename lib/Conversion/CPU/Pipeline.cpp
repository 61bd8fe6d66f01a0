//===- Pipeline.cpp - onnx -> LLVM dialect for the host CPU ---------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The passes and their order are tuned for speed (bench/cpu_prefill): a
// change here shows in the benchmark, not only in the tests.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"
#include "qaf/Conversion/Pipelines.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qaf {

namespace {
/// Lowers every scf.if to control flow, the last of a block first. A
/// training step's entry block holds thousands of ifs (run-time check
/// guards); lowering one splits its block, moving every op after it, so
/// going first to last (convert-scf-to-cf's order) is quadratic: minutes
/// and gigabytes for the 135M decoder. Last to first, each split moves only
/// the ops up to the next lowered if. The ifs in loops and branches are
/// left to convert-scf-to-cf.
struct LowerBranchesLastFirstPass
    : PassWrapper<LowerBranchesLastFirstPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerBranchesLastFirstPass)
  StringRef getArgument() const override {
    return "qaf-lower-branches-last-first";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<cf::ControlFlowDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSCFToControlFlowConversionPatterns(patterns);
    FrozenRewritePatternSet frozen(std::move(patterns));
    // Only the ifs directly in a function: a loop's body must stay one
    // block until convert-scf-to-cf lowers the loop.
    SmallVector<Operation *> branches;
    getOperation()->walk([&](scf::IfOp op) {
      if (isa<FunctionOpInterface>(op->getParentOp()))
        branches.push_back(op);
    });
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingOps)
        .enableFolding(false);
    for (Operation *op : llvm::reverse(branches))
      if (failed(applyOpPatternsGreedily({op}, frozen, config)))
        return signalPassFailure();
  }
};
} // namespace

/// Linalg -> Loops: host ABI, buffers, deallocation, GEMM kernel calls, then
/// loops with the parallel ones on OpenMP.
static void addCPULoopsPasses(OpPassManager &pm, bool runtimeChecks) {
  if (!runtimeChecks) {
    // On tensors: the canonicalizer then drops what computed the
    // conditions.
    pm.addPass(createDropRuntimeChecksPass());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createPrepareCPUEntryPointsPass());
  addEntryPointBufferizePasses(pm);
  // buffer-deallocation-pipeline, with the simplification run on each
  // function on its own (in parallel), after the large deallocs' unaliased
  // buffers are split out (its pairwise queries are quadratic in them).
  memref::ExpandReallocPassOptions expandRealloc;
  expandRealloc.emitDeallocs = false;
  pm.addPass(memref::createExpandReallocPass(expandRealloc));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createCanonicalizerPass());
  OpPassManager &simplify = pm.nest<func::FuncOp>();
  simplify.addPass(createSplitBlockDeallocsPass());
  simplify.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  // Each buffer freed after its last use, not at the end of the entry
  // point's one block.
  pm.addNestedPass<func::FuncOp>(createFreeBuffersEarlyPass());
  pm.addPass(createLinalgToCPUKernelsPass());
  pm.addNestedPass<func::FuncOp>(createMemRefCopyToLinalgPass());
  // Failed run-time checks report and skip the work after them; the checks
  // stay outside the loops made next.
  if (runtimeChecks)
    pm.addPass(createGuardRuntimeChecksPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // Threads take the outer dimensions, LLVM vectorizes the inner one;
  // reductions accumulate in registers.
  OpPassManager &loops = pm.nest<func::FuncOp>();
  loops.addPass(createSequentialInnerLoopsPass());
  loops.addPass(createPromoteAccumulatorsPass());
  pm.addPass(createOutlineParallelLoopsPass());
  // Small loops (most of a decode step's) run as plain loops, never
  // entering the OpenMP runtime.
  pm.addPass(createParallelIfEnoughWorkPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  // The scopes it puts around bodies with run-time checks' calls.
  pm.addPass(createInlineAllocaScopesPass());
  pm.addPass(createCanonicalizerPass());
}

/// Loops -> LLVM.
static void addCPULLVMPasses(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createExpandShapeToReinterpretCastPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Without rollback: a training step's entry block holds thousands of
  // guarded runs (scf.if), and the rollback log of each block split keeps
  // the ops it moved, quadratic in time and memory (8 GB and 55 s for a
  // 6-block decoder's train_step; the 30-block one did not finish).
  pm.addPass(std::make_unique<LowerBranchesLastFirstPass>());
  SCFToControlFlowPassOptions scfToControlFlow;
  scfToControlFlow.allowPatternRollback = false;
  pm.addPass(createSCFToControlFlowPass(scfToControlFlow));
  // Buffers come from the kernels' caching allocator
  // (qaf/Runtime/CPU/Allocator.h): a training step frees and allocates the
  // same large temporaries every step. Before convert-openmp-to-llvm, which
  // would lower the memref ops with plain malloc and free.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  // Before the OpenMP lowering, whose own func.call lowering looks every
  // callee up by scanning the module.
  pm.addPass(createLowerFuncsToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createLowerMathPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  assert(options.from <= options.to && options.to <= Phase::LLVM &&
         "phases outside the CPU pipeline");
  auto runsTo = [&](Phase phase) {
    return options.from < phase && phase <= options.to;
  };
  addSharedLinalgPhases(pm, options.from, options.to, options.entry,
                        options.approximateMath);
  if (runsTo(Phase::Loops))
    addCPULoopsPasses(pm, options.runtimeChecks);
  if (runsTo(Phase::LLVM))
    addCPULLVMPasses(pm);
}

void registerLowerToCPUPipeline() {
  registerPhasePipeline<CPUPipelineOptions>(
      "qaf-lower-to-cpu",
      "Lower an imported onnx/qaf model to the LLVM dialect for the host "
      "CPU (weights become entry point arguments)",
      Phase::ONNX, Phase::LLVM, buildCPUPipeline);
}

} // namespace qaf
