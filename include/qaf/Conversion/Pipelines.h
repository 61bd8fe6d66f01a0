//===- Pipelines.h - qaf's lowering pipelines -------------------*- C++ -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Two layers, as IREE's Codegen/Common under its LLVMCPU and LLVMGPU
// pipelines: `qaf-lower-to-linalg` (lib/Conversion/Common) takes onnx/qaf to
// fused linalg on tensors for every target, and each target's pipeline
// (`qaf-lower-to-cpu`, lib/Conversion/CPU) runs it, then goes on to the LLVM
// dialect. Both are registered with typed options and can run any range of
// phases, so qaf-opt runs the passes of any qaf-compile stage.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_PIPELINES_H
#define QAF_CONVERSION_PIPELINES_H

#include "qaf/Target/Phase.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace qaf {

/// Fails through `errorHandler` unless `from` <= `to` and both lie in
/// [`first`, `last`], the phases `pipeline` covers.
mlir::LogicalResult checkPhaseRange(
    llvm::StringRef pipeline, Phase from, Phase to, Phase first, Phase last,
    llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)> errorHandler);

/// Registers a pipeline whose options (`Options`, with `from` and `to`
/// phases) are parsed and checked against the phases it covers, `first` to
/// `last`: a bad option is an error of the tool that parses the pipeline,
/// never an abort.
template <typename Options>
void registerPhasePipeline(llvm::StringRef name, llvm::StringRef description,
                           Phase first, Phase last,
                           void (*build)(mlir::OpPassManager &,
                                         const Options &)) {
  mlir::registerPassPipeline(
      name, description,
      [name = name.str(), first, last,
       build](mlir::OpPassManager &pm, llvm::StringRef text,
              llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)>
                  errorHandler) -> mlir::LogicalResult {
        Options options;
        if (mlir::failed(options.parseFromString(text)) ||
            mlir::failed(checkPhaseRange(name, options.from, options.to, first,
                                         last, errorHandler)))
          return mlir::failure();
        build(pm, options);
        return mlir::success();
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)>
             printOptions) { printOptions(Options()); });
}

//===----------------------------------------------------------------------===//
// The target-neutral pipeline: onnx/qaf -> linalg (QAFConversionCommon)
//===----------------------------------------------------------------------===//

struct LinalgPipelineOptions
    : public mlir::PassPipelineOptions<LinalgPipelineOptions> {
  Option<Phase> from{*this, "from",
                     llvm::cl::desc("The phase of the input (onnx, outlined)"),
                     llvm::cl::init(Phase::ONNX)};
  Option<Phase> to{*this, "to",
                   llvm::cl::desc("The phase to stop at (outlined, linalg)"),
                   llvm::cl::init(Phase::Linalg)};
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Name of the entry point the graph function becomes"),
      llvm::cl::init("infer")};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Replace exp, tanh and erf by polynomials "
                     "(qaf-approximate-math): for targets whose math library "
                     "calls would keep loops from vectorizing"),
      llvm::cl::init(false)};
  Option<bool> fuseAttention{
      *this, "fuse-attention",
      llvm::cl::desc("Turn attention spelled out op by op into "
                     "qaf.kernel.attention (qaf-fuse-attention): for targets "
                     "with a fused attention kernel"),
      llvm::cl::init(false)};
  Option<std::string> int8Activations{
      *this, "int8-activations",
      llvm::cl::desc("Layers whose products round x to int8 as ONNX Runtime "
                     "does at MatMulNBits accuracy_level 4 "
                     "(qaf-select-int8-activations): file (those whose "
                     "MatMulNBits asked for it) or all; empty for none"),
      llvm::cl::init("")};

  LinalgPipelineOptions() {
    addPhaseNames(from);
    addPhaseNames(to);
  }
};

/// Adds the passes that take a module from `options.from` to `options.to`
/// (ONNX <= from <= to <= Linalg): fold weight transposes, fuse attention
/// when asked, and outline the weights (-> Outlined); lower onnx/qaf to
/// linalg, then fuse element-wise chains (-> Linalg).
void buildLinalgPipeline(mlir::OpPassManager &pm,
                         const LinalgPipelineOptions &options);

/// One-Shot Bufferize as every target's entry points need it (function
/// boundaries included, identity layouts for the runtime's contiguous
/// arrays, buffers yielded from loops allowed), then a canonicalization.
void addEntryPointBufferizePasses(mlir::OpPassManager &pm);

/// The shared part of a target's pipeline that runs from `from` to `to`
/// (any phases): buildLinalgPipeline up to min(to, Linalg) when `from` is
/// before Linalg, nothing otherwise. Each target continues from Linalg.
void addSharedLinalgPhases(mlir::OpPassManager &pm, Phase from, Phase to,
                           llvm::StringRef entry, bool approximateMath,
                           bool fuseAttention = false);

/// Registers `qaf-lower-to-linalg`.
void registerLowerToLinalgPipeline();

//===----------------------------------------------------------------------===//
// The CPU pipeline: onnx/qaf -> LLVM dialect (QAFConversionCPU)
//===----------------------------------------------------------------------===//

struct CPUPipelineOptions
    : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<Phase> from{*this, "from",
                     llvm::cl::desc("The phase of the input (onnx to llvm)"),
                     llvm::cl::init(Phase::ONNX)};
  Option<Phase> to{*this, "to",
                   llvm::cl::desc("The phase to stop at (onnx to llvm)"),
                   llvm::cl::init(Phase::LLVM)};
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Name of the entry point the graph function becomes"),
      llvm::cl::init("infer")};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Replace exp, tanh and erf by polynomials, so that the "
                     "loops around them vectorize instead of calling libm"),
      llvm::cl::init(true)};
  Option<bool> runtimeChecks{
      *this, "runtime-checks",
      llvm::cl::desc("Keep the run-time checks (index bounds, sizes, "
                     "allocations) and report their failures; off erases "
                     "them (qaf-drop-runtime-checks)"),
      llvm::cl::init(true)};

  CPUPipelineOptions() {
    addPhaseNames(from);
    addPhaseNames(to);
  }
};

/// Adds the passes that take a module from `options.from` to `options.to`
/// (from <= to <= LLVM) for the host CPU: the shared pipeline up to Linalg,
/// then buffers, GEMM kernel calls and OpenMP loops (-> Loops), and the LLVM
/// dialect (-> LLVM).
void buildCPUPipeline(mlir::OpPassManager &pm,
                      const CPUPipelineOptions &options);

/// Registers `qaf-lower-to-cpu`.
void registerLowerToCPUPipeline();

} // namespace qaf

#endif // QAF_CONVERSION_PIPELINES_H
