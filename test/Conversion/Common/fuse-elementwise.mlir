// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-fuse-elementwise))' | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// An element-wise producer fuses into its element-wise consumer: -x * x
// becomes one loop.
// CHECK-LABEL: func.func @chain(
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<4x8xf32>) outs(%[[E]] : tensor<4x8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[NEG:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[MUL:.*]] = arith.mulf %[[NEG]], %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[MUL]] : f32
// CHECK-NEXT: } -> tensor<4x8xf32>
// CHECK-NEXT: return %[[R]]
func.func @chain(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<4x8xf32>
  %b = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %m = arith.mulf %in, %in2 : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// A projection on collapsed activations ([batch*seq, k] x [k, n]) stays a
// 2-D linalg.matmul between its reshapes, and the element-wise op after it
// is not fused into it: upstream's linalg-fuse-elementwise-ops would push
// the reshapes through and leave a 3-D generic contraction that no GEMM
// kernel recognises.
// CHECK-LABEL: func.func @projection(
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[MM:.*]] = linalg.matmul ins(%{{.*}}, %arg1 : tensor<6x8xf32>, tensor<8x16xf32>)
// CHECK-NEXT: %[[R:.*]] = tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]]
// CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<2x3x16xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @projection(%x: tensor<2x3x8xf32>, %w: tensor<8x16xf32>) -> tensor<2x3x16xf32> {
  %c = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6x16xf32>) -> tensor<6x16xf32>
  %m = linalg.matmul ins(%c, %w : tensor<6x8xf32>, tensor<8x16xf32>) outs(%f : tensor<6x16xf32>) -> tensor<6x16xf32>
  %r = tensor.expand_shape %m [[0, 1], [2]] output_shape [2, 3, 16] : tensor<6x16xf32> into tensor<2x3x16xf32>
  %e3 = tensor.empty() : tensor<2x3x16xf32>
  %relu = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r : tensor<2x3x16xf32>) outs(%e3 : tensor<2x3x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %v = arith.maximumf %in, %zero : f32
    linalg.yield %v : f32
  } -> tensor<2x3x16xf32>
  return %relu : tensor<2x3x16xf32>
}
