// RUN: not qaf-opt %s -qaf-cuda-kernels="arch=sm_75" 2>&1 | FileCheck %s --check-prefix=ARCH
// RUN: not qaf-opt %s -qaf-cuda-kernels="precision=f16" 2>&1 | FileCheck %s --check-prefix=PRECISION
// RUN: not qaf-opt %s -qaf-cuda-kernels 2>&1 | FileCheck %s --check-prefix=TENSORS

// ARCH: error: qaf-cuda-kernels: arch must be sm_80 or newer (the kernels use mma.sync with tf32 and bf16), not sm_75
// PRECISION: error: qaf-cuda-kernels: precision must be tf32 or bf16, not f16

// A kernel op still on tensors has no buffers to launch on.
// TENSORS: error: 'qaf.kernel.qlinear' op must be bufferized before qaf-cuda-kernels
func.func @on_tensors(%x: tensor<?x128xf32>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>,
                      %c: tensor<8x64xi8>, %y: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %r = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<?x128xf32>)
    scales(%s : tensor<8x2xf32>) zero_points(%z : tensor<8x2xf32>)
    codes(%c : tensor<8x64xi8>) outs(%y : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

