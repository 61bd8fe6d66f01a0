//===- CUDAKernelPasses.td - qaf's CUDA kernel pass --------*- tablegen -*-===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QAF_CONVERSION_CUDAKERNELPASSES_TD
#define QAF_CONVERSION_CUDAKERNELPASSES_TD

include "mlir/Pass/PassBase.td"

def CUDAKernelsPass : Pass<"qaf-cuda-kernels", "mlir::ModuleOp"> {
  let summary = "Launch qaf's tensor-core CUDA kernels for f32 matmuls and "
                "quantized linear layers";
  let description = [{
    Input: a module after bufferization, on buffers (memrefs in device
    memory), host code in `func.func`, before the generic mapping of linalg
    to the gpu dialect. Rewrites, in every function:
    - `linalg.matmul` and `linalg.batch_matmul` on f32 buffers, with any
      projected-permutation indexing maps (the transposed operands of a
      Gemm's or a gradient's product, a batch operand broadcast), into a
      launch of `qaf_matmul_<precision>`: 64 x 64 tiles per block of 128
      threads staged in shared memory, `nvvm.mma.sync` m16n8k8 tf32 or
      m16n8k16 bf16 (f32 tiles rounded to bf16) with f32 accumulation;
    - `qaf.kernel.qlinear` into `qaf_qlinear_<precision>` (the codes
      dequantized into the shared B tile, then the same mma steps) when
      M >= 16, `qaf_qlinear_decode` when M < 16 (one warp per output row
      streams its packed codes once; shuffle reduction), and
      `qaf_qlinear_transposed_<precision>` for `transpose_weight`. M is
      compared at run time when it is dynamic.
    Every rewritten op accumulates into its output, as the op does.

    The kernels live in `gpu.module @qaf_cuda_kernels`, created without a
    target: the pipeline attaches its `#nvvm.target` (nvvm-attach-target)
    as it does to its own kernels. The module gets `gpu.container_module`. Launches are synchronous `gpu.launch_func`s
    (no async tokens), guarded by `scf.if` where a grid could be empty.
    Kernel arguments are memref descriptors (the default calling
    convention, not `kernel-bare-ptr-calling-convention`): each buffer is
    passed as a fully dynamic strided view (`memref<?x?x?xf32, strided<[?,
    ?, ?], offset: ?>>`, made by `memref.reinterpret_cast` from the
    buffer's strided metadata, a transposed operand as swapped strides),
    codes and moves as `memref<?x?xi8, strided<[?, 1], offset: ?>>`,
    scales and zero points as `memref<?x?xf32, strided<[?, ?], offset: ?>>`
    (`memref.cast`s), then `index` scalars (bits, group size, whether moves
    are given).

    ```mlir
    linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>)
                  outs(%c : memref<?x32xf32>)
    // becomes
    scf.if %nonempty {
      gpu.launch_func @qaf_cuda_kernels::@qaf_matmul_tf32
          blocks in (%gx, %gy, %c1) threads in (%c128, %c1, %c1)
          args(%av : memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, ...)
    }
    ```
    Other ops (generic contractions, other element types) are left to the
    generic GPU mapping. A `qaf.kernel.qlinear` still on tensors is an error.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "GPU architecture (sm_80 or newer: sm_80, sm_86, sm_89, sm_90, "
           "...); the kernels are the same for each">,
    Option<"precision", "precision", "std::string", /*default=*/"\"tf32\"",
           "Tensor-core operand precision: tf32 or bf16 (f32 accumulation)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // QAF_CONVERSION_CUDAKERNELPASSES_TD
