// RUN: qaf-opt %s --qaf-decompose-kernel-ops="keep-qlinear=1" | FileCheck %s

// The CUDA target computes qaf.kernel.qlinear with its own kernels
// (qaf-cuda-kernels) but has none for the adapter gradients: with
// keep-qlinear the quantized product stays a kernel op and the gradients
// become their linalg reference.

// Its kernels read affine codes: a NormalFloat layer's op (with a
// codebook) is decomposed too, its reference contraction looking codes up.

// CHECK-LABEL: func.func @mixed
// CHECK: qaf.kernel.qlinear bits(4) group_size(32)
// CHECK-SAME: zero_points
// CHECK-NOT: qaf.kernel
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<16xf32>
// CHECK-NOT: qaf.kernel
// CHECK: linalg.generic
// CHECK: return
func.func @mixed(%x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %c: tensor<8x32xi8>, %init: tensor<?x8xf32>, %g: tensor<?x8xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>, %book: tensor<16xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x64xf32>, tensor<8x4xf32>) {
  %y = qaf.kernel.qlinear bits(4) group_size(32) input(%x : tensor<?x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%z : tensor<8x2xf32>) codes(%c : tensor<8x32xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %nf = qaf.kernel.qlinear bits(4) group_size(32) input(%x : tensor<?x64xf32>) scales(%s : tensor<8x2xf32>) codebook(%book : tensor<16xf32>) codes(%c : tensor<8x32xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return %y, %nf, %da, %db : tensor<?x8xf32>, tensor<?x8xf32>, tensor<4x64xf32>, tensor<8x4xf32>
}
