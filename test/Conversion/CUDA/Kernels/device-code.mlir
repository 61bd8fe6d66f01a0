// RUN: qaf-opt %s -split-input-file -verify-diagnostics -qaf-cuda-kernels \
// RUN:   | FileCheck %s

// qaf-cuda-kernels rewrites host code, before the mapping to the gpu
// dialect: a matmul already inside a gpu.launch is the mapping's.
// CHECK-LABEL: func.func @matmul_in_launch
// CHECK: gpu.launch
// CHECK: linalg.matmul
// CHECK-NOT: gpu.launch_func
func.func @matmul_in_launch(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  %one = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %one, %gy = %one, %gz = %one)
             threads(%tx, %ty, %tz) in (%sx = %one, %sy = %one, %sz = %one) {
    linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x4xf32>)
                  outs(%c : memref<4x4xf32>)
    gpu.terminator
  }
  return
}

// -----

// A kernel op there cannot become a launch.
func.func @qlinear_in_launch(%x: memref<2x128xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>,
                             %c: memref<8x64xi8>, %y: memref<2x8xf32>) {
  %one = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %one, %gy = %one, %gz = %one)
             threads(%tx, %ty, %tz) in (%sx = %one, %sy = %one, %sz = %one) {
    // expected-error @+1 {{is in device code: qaf-cuda-kernels runs before the mapping to the gpu dialect}}
    qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<2x128xf32>)
      scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>)
      codes(%c : memref<8x64xi8>) outs(%y : memref<2x8xf32>)
    gpu.terminator
  }
  return
}
