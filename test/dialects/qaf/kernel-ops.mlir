// RUN: qaf-opt %s | qaf-opt | FileCheck %s

// qaf.kernel.qlinear prints and parses back on tensors (a result) and on
// buffers (none), with and without moves.

// CHECK-LABEL: func.func @on_tensors
// CHECK: %{{.*}} = qaf.kernel.qlinear bits(4) group_size(64) input(%{{.*}} : tensor<?x128xf32>) scales(%{{.*}} : tensor<8x2xf32>) zero_points(%{{.*}} : tensor<8x2xf32>) codes(%{{.*}} : tensor<8x64xi8>) outs(%{{.*}} : tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK: %{{.*}} = qaf.kernel.qlinear bits(3) group_size(32) input(%{{.*}} : tensor<?x128xf32>) scales(%{{.*}} : tensor<8x4xf32>) zero_points(%{{.*}} : tensor<8x4xf32>) moves(%{{.*}} : tensor<8x128xi8>) codes(%{{.*}} : tensor<8x48xi8>) outs(%{{.*}} : tensor<?x8xf32>) -> tensor<?x8xf32>
func.func @on_tensors(%x: tensor<?x128xf32>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %c: tensor<8x64xi8>, %init: tensor<?x8xf32>, %s3: tensor<8x4xf32>, %m: tensor<8x128xi8>, %c3: tensor<8x48xi8>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %y = qaf.kernel.qlinear bits(4) group_size(64) input(%x : tensor<?x128xf32>) scales(%s : tensor<8x2xf32>) zero_points(%z : tensor<8x2xf32>) codes(%c : tensor<8x64xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  %y3 = qaf.kernel.qlinear bits(3) group_size(32) input(%x : tensor<?x128xf32>) scales(%s3 : tensor<8x4xf32>) zero_points(%s3 : tensor<8x4xf32>) moves(%m : tensor<8x128xi8>) codes(%c3 : tensor<8x48xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y, %y3 : tensor<?x8xf32>, tensor<?x8xf32>
}

// Strided buffers whose rows are contiguous are what the kernel reads.
// CHECK-LABEL: func.func @on_buffers
// CHECK: qaf.kernel.qlinear bits(8) group_size(16) input(%{{.*}} : memref<4x32xf32, strided<[64, 1]>>) scales(%{{.*}} : memref<8x2xf32>) zero_points(%{{.*}} : memref<8x2xf32>) moves(%{{.*}} : memref<8x32xi8>) codes(%{{.*}} : memref<8x32xui8>) outs(%{{.*}} : memref<4x8xf32>){{$}}
func.func @on_buffers(%x: memref<4x32xf32, strided<[64, 1]>>, %s: memref<8x2xf32>, %m: memref<8x32xi8>, %c: memref<8x32xui8>, %y: memref<4x8xf32>) {
  qaf.kernel.qlinear bits(8) group_size(16) input(%x : memref<4x32xf32, strided<[64, 1]>>) scales(%s : memref<8x2xf32>) zero_points(%s : memref<8x2xf32>) moves(%m : memref<8x32xi8>) codes(%c : memref<8x32xui8>) outs(%y : memref<4x8xf32>)
  return
}
