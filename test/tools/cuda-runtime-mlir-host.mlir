// MLIR 22's own GPU host code (gpu.alloc, gpu.memcpy both ways,
// gpu.launch_func, gpu.memset, gpu.dealloc, gpu.wait, lowered by
// --gpu-to-llvm and the translation of gpu.binary) runs against
// libQAFCudaRuntime.so: every mgpu* function it calls resolves, with the
// signature it calls it with. The driver is the stub of
// Inputs/cuda/fake-libcuda.c, which accepts the embedded PTX and runs its
// kernel as a no-op; the copies and the memset go through it.

// RUN: rm -rf %t && mkdir -p %t
// RUN: %cc -shared -fPIC -o %t/libcuda-stub.so %S/Inputs/cuda/fake-libcuda.c
// RUN: mlir-opt %s -nvvm-attach-target="chip=sm_80 features=+ptx70" -convert-linalg-to-loops -convert-gpu-to-nvvm -gpu-to-llvm -gpu-module-to-binary="format=isa" -convert-scf-to-cf -finalize-memref-to-llvm -convert-to-llvm -reconcile-unrealized-casts -o %t/host.mlir
// RUN: env QAF_CUDA_DRIVER=%t/libcuda-stub.so FAKE_CUDA_ANY_IMAGE=1 mlir-runner %t/host.mlir --entry-point-result=void --shared-libs=%qaf_lib_dir/libQAFCudaRuntime.so,%llvm_lib_dir/libmlir_runner_utils.so,%llvm_lib_dir/libmlir_c_runner_utils.so | FileCheck %s

// The host values copied to the device and back, then the device memset.
// CHECK: [2.5,  2.5,  2.5,  2.5]
// CHECK: [1,  1,  1,  1]

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @touch(%a: memref<4xf32>) kernel { gpu.return }
  }
  func.func private @printMemrefF32(memref<*xf32>)
  func.func @main() {
    %c1 = arith.constant 1 : index
    %host = memref.alloc() : memref<4xf32>
    %copied = memref.alloc() : memref<4xf32>
    %set = memref.alloc() : memref<4xf32>
    %value = arith.constant 2.5 : f32
    linalg.fill ins(%value : f32) outs(%host : memref<4xf32>)
    %t0 = gpu.wait async
    %device, %t1 = gpu.alloc async [%t0] () : memref<4xf32>
    %t2 = gpu.memcpy async [%t1] %device, %host : memref<4xf32>, memref<4xf32>
    %t3 = gpu.launch_func async [%t2] @kernels::@touch blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%device : memref<4xf32>)
    %t4 = gpu.memcpy async [%t3] %copied, %device : memref<4xf32>, memref<4xf32>
    %one = arith.constant 1.0 : f32
    %t5 = gpu.memset async [%t4] %device, %one : memref<4xf32>, f32
    %t6 = gpu.memcpy async [%t5] %set, %device : memref<4xf32>, memref<4xf32>
    %t7 = gpu.dealloc async [%t6] %device : memref<4xf32>
    gpu.wait [%t7]
    %c = memref.cast %copied : memref<4xf32> to memref<*xf32>
    call @printMemrefF32(%c) : (memref<*xf32>) -> ()
    %s = memref.cast %set : memref<4xf32> to memref<*xf32>
    call @printMemrefF32(%s) : (memref<*xf32>) -> ()
    return
  }
}
