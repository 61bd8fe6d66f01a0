// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-unshare-fill-destinations))' | FileCheck %s

// Two products writing into the one zeroed tensor CSE left them (a gate and
// an up projection of the same input): each gets an empty tensor and a fill
// of its own, just before it, so bufferization neither copies a filled
// buffer nor makes one product wait on the other's fill. The shared ones
// go when nothing else reads them.
// CHECK-LABEL: func.func @shared_destination(
// CHECK-SAME: %[[X:.*]]: tensor<?x4xf32>, %[[W:.*]]: tensor<4x6xf32>, %[[V:.*]]: tensor<4x6xf32>
// CHECK: %[[E0:.*]] = tensor.empty(%{{.*}}) : tensor<?x6xf32>
// CHECK-NEXT: %[[F0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E0]] : tensor<?x6xf32>)
// CHECK-NEXT: %[[A:.*]] = linalg.matmul ins(%[[X]], %[[W]] : {{.*}}) outs(%[[F0]] : tensor<?x6xf32>)
// CHECK-NEXT: %[[E1:.*]] = tensor.empty(%{{.*}}) : tensor<?x6xf32>
// CHECK-NEXT: %[[F1:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E1]] : tensor<?x6xf32>)
// CHECK-NEXT: %[[B:.*]] = linalg.matmul ins(%[[X]], %[[V]] : {{.*}}) outs(%[[F1]] : tensor<?x6xf32>)
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @shared_destination(%x: tensor<?x4xf32>, %w: tensor<4x6xf32>, %v: tensor<4x6xf32>) -> (tensor<?x6xf32>, tensor<?x6xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %rows = tensor.dim %x, %c0 : tensor<?x4xf32>
  %empty = tensor.empty(%rows) : tensor<?x6xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x6xf32>) -> tensor<?x6xf32>
  %a = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x6xf32>) outs(%fill : tensor<?x6xf32>) -> tensor<?x6xf32>
  %b = linalg.matmul ins(%x, %v : tensor<?x4xf32>, tensor<4x6xf32>) outs(%fill : tensor<?x6xf32>) -> tensor<?x6xf32>
  return %a, %b : tensor<?x6xf32>, tensor<?x6xf32>
}

// A fill also read as an input (or returned) stays for that reader; a fill
// of something other than an empty tensor is not duplicated.
// CHECK-LABEL: func.func @other_readers(
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x2xf32>)
// CHECK: %[[OWN:.*]] = linalg.fill
// CHECK-NEXT: linalg.matmul ins(%[[F]], %[[F]] : {{.*}}) outs(%[[OWN]] :
// CHECK: %[[G:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%arg0 : tensor<2x2xf32>)
// CHECK-NEXT: linalg.matmul {{.*}} outs(%[[G]] :
// CHECK-NEXT: linalg.matmul {{.*}} outs(%[[G]] :
func.func @other_readers(%t: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x2xf32>) -> tensor<2x2xf32>
  %a = linalg.matmul ins(%fill, %fill : tensor<2x2xf32>, tensor<2x2xf32>) outs(%fill : tensor<2x2xf32>) -> tensor<2x2xf32>
  %g = linalg.fill ins(%zero : f32) outs(%t : tensor<2x2xf32>) -> tensor<2x2xf32>
  %b = linalg.matmul ins(%t, %t : tensor<2x2xf32>, tensor<2x2xf32>) outs(%g : tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = linalg.matmul ins(%t, %t : tensor<2x2xf32>, tensor<2x2xf32>) outs(%g : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %a, %b, %c, %fill : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
