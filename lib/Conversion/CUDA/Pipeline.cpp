//===- Pipeline.cpp - onnx -> host LLVM dialect + cubin for NVIDIA GPUs ---===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// From the shared linalg phase: device buffers (every allocation a
// gpu.alloc), the tensor-core kernels where qaf-cuda-kernels is registered,
// every other linalg op one generic kernel (qaf-cuda-map-linalg-to-gpu),
// kernels outlined (-> Loops); then NVVM, the cubin assembled by ptxas and
// embedded by gpu-module-to-binary, and the host side calling the mgpu*
// entry points (-> LLVM).
//
// Run-time checks are dropped: a check on data (a gather's indices) would
// be computed by a kernel and reported by the host's error channel, which a
// cuda artifact does not link (it depends on the mgpu* functions, libc and
// libm only). The README's CUDA row says so.
//
//===----------------------------------------------------------------------===//

#include "qaf/Conversion/CUDA/Pipeline.h"

#include "qaf/Conversion/Passes.h"
#include "qaf/Conversion/Pipelines.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace qaf {

/// The architectures qaf generates code for, each with the oldest PTX ISA
/// that has it (CUDA 13's ptxas accepts these; it rejects sm_70 and older).
static constexpr CUDAArch kCUDAArchs[] = {
    {"sm_80", "7.0", "+ptx70"},  {"sm_86", "7.1", "+ptx71"},
    {"sm_89", "7.8", "+ptx78"},  {"sm_90", "8.0", "+ptx80"},
    {"sm_90a", "8.0", "+ptx80"},
};

std::optional<CUDAArch> lookupCUDAArch(StringRef chip) {
  for (const CUDAArch &arch : kCUDAArchs)
    if (arch.chip == chip)
      return arch;
  return std::nullopt;
}

std::string getCUDAArchList() {
  std::string list;
  for (const CUDAArch &arch : kCUDAArchs)
    list += (list.empty() ? "" : ", ") + arch.chip.str();
  return list;
}

bool isCUDAMatmulPrecision(StringRef precision) {
  return precision == "tf32" || precision == "bf16";
}

/// The hook of the tensor-core kernels (kCUDAKernelsPassName): added when
/// the pass is registered, on buffers, before the generic mapping takes
/// every linalg op left.
static bool addCUDAKernelsPass(OpPassManager &pm,
                               const CUDAPipelineOptions &options) {
  const PassInfo *kernels = PassInfo::lookup(kCUDAKernelsPassName);
  if (!kernels)
    return false;
  std::string kernelOptions =
      "arch=" + options.arch + " precision=" + options.matmulPrecision;
  if (failed(kernels->addToPipeline(pm, kernelOptions, [](const Twine &msg) {
        llvm::errs() << kCUDAKernelsPassName << ": " << msg << "\n";
        return failure();
      })))
    return false;
  return true;
}

namespace {
/// Names one kernel module for every launch, so that outlining gathers the
/// kernels into one gpu.module: one NVPTX compile and one ptxas run per
/// model instead of one per kernel (thousands in a training step).
struct OneKernelModulePass
    : PassWrapper<OneKernelModulePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OneKernelModulePass)
  StringRef getArgument() const override {
    return "qaf-cuda-one-kernel-module";
  }
  void runOnOperation() override {
    auto name = FlatSymbolRefAttr::get(&getContext(), "qaf_kernels");
    getOperation().walk([&](gpu::LaunchOp launch) {
      if (!launch.getModuleAttr())
        launch.setModuleAttr(name);
    });
  }
};
} // namespace

/// Linalg -> Loops: host ABI, device buffers, kernels and launches,
/// outlined.
static void addCUDALoopsPasses(OpPassManager &pm,
                               const CUDAPipelineOptions &options) {
  pm.addPass(createDropRuntimeChecksPass());
  pm.addPass(createCanonicalizerPass());
  bool kernelsRegistered = PassInfo::lookup(kCUDAKernelsPassName) != nullptr;
  // The kernel ops become the linalg they stand for (on tensors, before
  // bufferization), except the quantized linear layers when the
  // tensor-core kernels compute them.
  DecomposeKernelOpsPassOptions decompose;
  decompose.keepQLinear = kernelsRegistered;
  decompose.keepAttentionHeadSize =
      kernelsRegistered ? kCUDAAttentionMaxHeadSize : 0;
  pm.addPass(createDecomposeKernelOpsPass(decompose));
  pm.addPass(createPrepareCPUEntryPointsPass());
  addEntryPointBufferizePasses(pm);
  pm.addPass(createDeviceBuffersPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addNestedPass<func::FuncOp>(createMemRefCopyToLinalgPass());
  if (kernelsRegistered)
    addCUDAKernelsPass(pm, options);
  pm.addPass(createMapLinalgToGPUPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createHostAccessToDevicePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(std::make_unique<OneKernelModulePass>());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createCSEPass());
}

/// Loops -> LLVM: kernels to NVVM and a cubin (or PTX text), the host to
/// the LLVM dialect.
static void addCUDALLVMPasses(OpPassManager &pm,
                              const CUDAPipelineOptions &options) {
  std::optional<CUDAArch> arch = lookupCUDAArch(options.arch);
  assert(arch && "the CUDA architecture is checked before the pipeline");
  // Launches, copies and frees on streams: the host waits only where it
  // reads a result (a staged element, the end of the entry point).
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = arch->chip.str();
  target.features = arch->features.str();
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  // expand-strided-metadata cannot expand a group of several dynamic sizes.
  pm.addNestedPass<func::FuncOp>(createExpandShapeToReinterpretCastPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.toolkit;
  binary.compilationTarget = options.binaryFormat;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  assert(options.from <= options.to && options.to <= Phase::LLVM &&
         "phases outside the CUDA pipeline");
  auto runsTo = [&](Phase phase) {
    return options.from < phase && phase <= options.to;
  };
  // Attention is fused where the CUDA kernels compute it.
  addSharedLinalgPhases(
      pm, options.from, options.to, options.entry,
      /*approximateMath=*/false,
      /*fuseAttention=*/PassInfo::lookup(kCUDAKernelsPassName) != nullptr);
  if (runsTo(Phase::Loops))
    addCUDALoopsPasses(pm, options);
  if (runsTo(Phase::LLVM))
    addCUDALLVMPasses(pm, options);
}

void registerLowerToCUDAPipeline() {
  registerPass(createMapLinalgToGPUPass);
  registerPass(createDeviceBuffersPass);
  registerPass(createHostAccessToDevicePass);
  registerPassPipeline(
      "qaf-lower-to-cuda",
      "Lower an imported onnx/qaf model for NVIDIA GPUs: host code in the "
      "LLVM dialect calling the mgpu* entry points, kernels in an embedded "
      "cubin (weights become entry point arguments)",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler)
          -> LogicalResult {
        CUDAPipelineOptions options;
        if (failed(options.parseFromString(text)) ||
            failed(checkPhaseRange("qaf-lower-to-cuda", options.from,
                                   options.to, Phase::ONNX, Phase::LLVM,
                                   errorHandler)))
          return failure();
        if (!lookupCUDAArch(options.arch))
          return errorHandler("qaf-lower-to-cuda: unknown CUDA architecture '" +
                              options.arch +
                              "' (supported: " + getCUDAArchList() + ")");
        if (!isCUDAMatmulPrecision(options.matmulPrecision))
          return errorHandler("qaf-lower-to-cuda: matmul-precision must be "
                              "tf32 or bf16, not '" +
                              options.matmulPrecision + "'");
        if (options.binaryFormat != "bin" && options.binaryFormat != "isa")
          return errorHandler("qaf-lower-to-cuda: binary-format must be bin "
                              "or isa, not '" +
                              options.binaryFormat + "'");
        buildCUDAPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> printOptions) {
        printOptions(CUDAPipelineOptions());
      });
}

} // namespace qaf
