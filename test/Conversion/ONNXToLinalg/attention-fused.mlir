// RUN: qaf-opt --qaf-convert-onnx-to-linalg="fuse-attention=1" -split-input-file %s | FileCheck %s

// With fuse-attention (the CUDA target), GroupQueryAttention's attention
// is one qaf.kernel.attention after the cache update: the query (rotated
// where asked, here not) [B, N, S, H], the present's first
// total_sequence_length positions as key and value (read at kv head n / 2
// by the op), its causal / length mask as a bias [B, 1, S, T] of 0 and
// -inf, the scale 1/sqrt(16); the result [B, N, S, H] transposed to
// (B, S, N, H) and collapsed to (B, S, N * H).

// CHECK-LABEL: func.func @decode
// CHECK: %[[MINUS_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MASK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x1x1x?xf32>)
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[MINUS_INF]] : f32
// CHECK: %[[K:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 2, %{{.*}}, 16] [1, 1, 1, 1]
// CHECK: %[[V:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0] [2, 2, %{{.*}}, 16] [1, 1, 1, 1]
// CHECK: %[[O:.*]] = qaf.kernel.attention scale(2.500000e-01) ins(%{{.*}}, %[[K]], %[[V]], %[[MASK]] : tensor<2x4x1x16xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x1x1x?xf32>) outs(%{{.*}} : tensor<2x4x1x16xf32>)
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[O]] : tensor<2x4x1x16xf32>) outs(%{{.*}} : tensor<2x1x4x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %[[T]] {{\[\[}}0], [1], [2, 3]] : tensor<2x1x4x16xf32> into tensor<2x1x64xf32>
// CHECK-NOT: math.exp
func.func @decode(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>, %v: tensor<2x1x32xf32>, %pk: tensor<2x2x8x16xf32>, %pv: tensor<2x2x8x16xf32>, %lengths: tensor<2xi32>, %total: tensor<i32>) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>) {
  %none = onnx.NoValue
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %v, %pk, %pv, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x1x?xf32>)
  return %o, %pko, %pvo : tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>
}

// -----

// A softcap is not the fused kernel's: the attention stays unfused.
// CHECK-LABEL: func.func @softcap
// CHECK-NOT: qaf.kernel.attention
// CHECK: math.tanh
// CHECK-NOT: qaf.kernel.attention
func.func @softcap(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>, %v: tensor<2x1x32xf32>, %pk: tensor<2x2x8x16xf32>, %pv: tensor<2x2x8x16xf32>, %lengths: tensor<2xi32>, %total: tensor<i32>) -> tensor<2x1x64xf32> {
  %none = onnx.NoValue
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %v, %pk, %pv, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, softcap = 30.0 : f32} : (tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x1x?xf32>)
  return %o : tensor<2x1x64xf32>
}
