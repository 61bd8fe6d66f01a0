//===- Pipeline.h - onnx/qaf -> host LLVM + cubin for NVIDIA GPUs -*- C++
//-*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// The CUDA target's pipeline (`qaf-lower-to-cuda`, lib/Conversion/CUDA): the
// shared onnx/qaf -> linalg pipeline, then device buffers, kernels and gpu
// launches (-> Loops), NVVM, the cubin embedded by gpu-module-to-binary
// (ptxas) and the host side in the LLVM dialect calling MLIR's mgpu* entry
// points (-> LLVM).
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_CUDA_PIPELINE_H
#define QAF_CONVERSION_CUDA_PIPELINE_H

#include "qaf/Target/Phase.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <optional>
#include <string>

namespace qaf {

/// A GPU architecture the CUDA target generates code for, with the PTX ISA
/// version its kernels are written in: LLVM's NVPTX back end defaults to
/// sm_50 and PTX 6.0, which CUDA 13 rejects, so both are always pinned.
struct CUDAArch {
  llvm::StringLiteral chip;     ///< `sm_90`
  llvm::StringLiteral ptxISA;   ///< `8.0`
  llvm::StringLiteral features; ///< `+ptx80`, for the NVVM target
};

/// The architecture called `chip`, or nullopt when qaf does not generate
/// code for it.
std::optional<CUDAArch> lookupCUDAArch(llvm::StringRef chip);

/// "sm_80, sm_86, ...": the supported architectures, for errors and help.
std::string getCUDAArchList();

/// The tensor-core precisions of the dense matmuls (float accumulation).
bool isCUDAMatmulPrecision(llvm::StringRef precision);

struct CUDAPipelineOptions
    : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
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
  Option<std::string> arch{
      *this, "arch",
      llvm::cl::desc("GPU architecture (sm_80, sm_86, sm_89, sm_90, sm_90a)"),
      llvm::cl::init("sm_80")};
  Option<std::string> matmulPrecision{
      *this, "matmul-precision",
      llvm::cl::desc("Tensor-core input precision of the dense matmuls "
                     "(tf32, bf16), given to qaf-cuda-kernels"),
      llvm::cl::init("tf32")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("The CUDA toolkit whose ptxas assembles the kernels "
                     "and whose libdevice provides their math functions"),
      llvm::cl::init("/usr/local/cuda")};
  Option<std::string> binaryFormat{
      *this, "binary-format",
      llvm::cl::desc("What gpu-module-to-binary embeds: bin (a cubin from "
                     "ptxas, what artifacts hold) or isa (the PTX text, to "
                     "read or FileCheck)"),
      llvm::cl::init("bin")};

  CUDAPipelineOptions() {
    addPhaseNames(from);
    addPhaseNames(to);
  }
};

/// Adds the passes that take a module from `options.from` to `options.to`
/// (from <= to <= LLVM) for NVIDIA GPUs. The options must be valid
/// (lookupCUDAArch, isCUDAMatmulPrecision): the target and the registered
/// pipeline check them first.
void buildCUDAPipeline(mlir::OpPassManager &pm,
                       const CUDAPipelineOptions &options);

/// Registers `qaf-lower-to-cuda` and the CUDA target's own passes.
void registerLowerToCUDAPipeline();

/// The one hook for the tensor-core kernels: the name of the pass that
/// rewrites linalg.matmul / linalg.batch_matmul / qaf.kernel.qlinear /
/// qaf.kernel.attention on buffers into launches of qaf's CUDA kernels
/// (options `arch=`,
/// `precision=`). The pipeline runs it when it is registered and otherwise
/// leaves those ops to the generic mapping (and decomposes the kernel ops).
constexpr llvm::StringLiteral kCUDAKernelsPassName = "qaf-cuda-kernels";

/// The largest head size the fused attention kernel of qaf-cuda-kernels
/// takes (each lane of a warp holds 4 of a row's elements): attention ops
/// with larger or dynamic head sizes are decomposed.
constexpr int64_t kCUDAAttentionMaxHeadSize = 128;

/// Whether `op` runs on the host: outside any gpu.launch and kernel module.
bool isCUDAHostCode(mlir::Operation *op);

/// Every linalg op on buffers becomes a gpu.launch: one thread per element
/// of its parallel iteration space, looping over its reduction dimensions.
std::unique_ptr<mlir::Pass> createMapLinalgToGPUPass();

/// Buffers live on the device: memref.alloc becomes gpu.alloc, constants
/// are copied to device buffers, and host reads and writes of a buffer's
/// elements go through gpu.memcpy.
std::unique_ptr<mlir::Pass> createDeviceBuffersPass();

/// After the deallocation pipeline: memref.dealloc of a device buffer
/// becomes gpu.dealloc, and a host load or store of a device buffer's
/// element goes through a one-thread launch and a one-element gpu.memcpy.
std::unique_ptr<mlir::Pass> createHostAccessToDevicePass();

} // namespace qaf

#endif // QAF_CONVERSION_CUDA_PIPELINE_H
