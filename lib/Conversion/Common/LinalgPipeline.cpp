//===- LinalgPipeline.cpp - onnx/qaf -> linalg, for every target ----------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/Passes.h"
#include "qaf/Conversion/Pipelines.h"
#include "qaf/passes/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <algorithm>

using namespace mlir;

namespace qaf {

LogicalResult
checkPhaseRange(StringRef pipeline, Phase from, Phase to, Phase first,
                Phase last,
                function_ref<LogicalResult(const Twine &)> errorHandler) {
  auto inRange = [&](Phase phase) { return first <= phase && phase <= last; };
  if (!inRange(from) || !inRange(to))
    return errorHandler(pipeline + " runs from phase '" + getPhaseName(first) +
                        "' to phase '" + getPhaseName(last) + "', not from '" +
                        getPhaseName(from) + "' to '" + getPhaseName(to) + "'");
  if (from > to)
    return errorHandler(pipeline + ": phase '" + getPhaseName(to) +
                        "' comes before phase '" + getPhaseName(from) + "'");
  return success();
}

void buildLinalgPipeline(OpPassManager &pm,
                         const LinalgPipelineOptions &options) {
  assert(Phase::ONNX <= options.from && options.from <= options.to &&
         options.to <= Phase::Linalg && "phases outside the linalg pipeline");
  if (options.from < Phase::Outlined && Phase::Outlined <= options.to) {
    // ORT GenAI's int4 layers run on the fused quantized kernels, their
    // codes as shipped, instead of a generic dequantize-then-multiply.
    pm.addPass(createRaiseMatMulNBitsPass());
    OpPassManager &funcPM = pm.nest<func::FuncOp>();
    // Their implicit zero points (one value for all) are read as one row.
    funcPM.addPass(createShareZeroPointRowsPass());
    if (!options.int8Activations.empty()) {
      SelectInt8ActivationsPassOptions select;
      select.layers = options.int8Activations;
      funcPM.addPass(createSelectInt8ActivationsPass(select));
    }
    // Before qaf-share-grouped-kv, which rewrites the products it matches.
    if (options.fuseAttention)
      funcPM.addPass(createFuseAttentionPass());
    funcPM.addPass(createShareGroupedKVPass());
    funcPM.addPass(createFoldWeightTransposesPass());
    OutlineWeightsPassOptions outline;
    outline.entry = options.entry;
    pm.addPass(createOutlineWeightsPass(outline));
  }
  if (options.from < Phase::Linalg && Phase::Linalg <= options.to) {
    ConvertONNXToLinalgPassOptions lowering;
    lowering.fuseAttention = options.fuseAttention;
    pm.addPass(createConvertONNXToLinalgPass(lowering));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    // Element-wise chains (RMSNorm, SwiGLU, masks) become single loops.
    OpPassManager &funcPM = pm.nest<func::FuncOp>();
    funcPM.addPass(createFuseElementwisePass());
    funcPM.addPass(createRecognizeMatmulsPass());
    if (options.approximateMath)
      funcPM.addPass(createApproximateMathPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

void addSharedLinalgPhases(OpPassManager &pm, Phase from, Phase to,
                           StringRef entry, bool approximateMath,
                           bool fuseAttention) {
  if (from >= Phase::Linalg)
    return;
  LinalgPipelineOptions shared;
  shared.from = from;
  shared.to = std::min(to, Phase::Linalg);
  shared.entry = entry.str();
  shared.approximateMath = approximateMath;
  shared.fuseAttention = fuseAttention;
  buildLinalgPipeline(pm, shared);
}

void registerLowerToLinalgPipeline() {
  registerPhasePipeline<LinalgPipelineOptions>(
      "qaf-lower-to-linalg",
      "Lower an imported onnx/qaf model to fused linalg on tensors, the "
      "phase every target starts from (weights become entry point "
      "arguments)",
      Phase::ONNX, Phase::Linalg, buildLinalgPipeline);
}

void addEntryPointBufferizePasses(OpPassManager &pm) {
  // Ops writing into one zeroed tensor get a fill each rather than a copy.
  pm.addNestedPass<func::FuncOp>(createUnshareFillDestinationsPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  // Loops may yield new buffers when an in-place update would conflict with
  // a read (exclusive CumSum over a runtime axis does).
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.bufferizeFunctionBoundaries = true;
  // Function arguments keep an identity layout: the runtime passes
  // contiguous arrays (host or device).
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // The lowering's scf.forall (GroupQueryAttention's rows written into a
  // cache in place) run as loops of their own.
  pm.addPass(createForallToForLoopPass());
  pm.addPass(createCanonicalizerPass());
}

} // namespace qaf
