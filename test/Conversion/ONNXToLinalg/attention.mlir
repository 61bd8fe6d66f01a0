// RUN: qaf-opt --qaf-convert-onnx-to-linalg -split-input-file -verify-diagnostics %s | FileCheck %s

// com.microsoft.GroupQueryAttention: query head n reads kv head n / 2
// through `floordiv` indexing maps (no repeated K/V); present is
// max(past length, total_sequence_length) long: each row's past, its new
// tokens (computed once), zeros; the scores over the first total_sequence_length keys are
// reduced over the head dim, masked, soft-maxed along the key axis, and
// reduced over the keys into (B, S, N, H) (the head dim innermost, so each
// key adds a contiguous row of values), collapsed to (B, S, N * H).

// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-DAG: #[[PMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// CHECK-DAG: #[[VMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 floordiv 2, d3, d4)>
// CHECK: func.func @decode
// CHECK: %[[TOTAL:.*]] = arith.index_cast %{{.*}} : i32 to index
// CHECK: %[[PAST:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<2x2x8x16xf32>
// CHECK: %[[LENGTH:.*]] = arith.maxsi %[[PAST]], %[[TOTAL]] : index
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4x1x16xf32>)
// CHECK: qaf.check {{.*}} new tokens do not fit a present
// CHECK: %[[NK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x1x16xf32>)
// CHECK: %[[PK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x?x16xf32>)
// CHECK: tensor.extract %[[NK]]
// CHECK: tensor.extract %arg3
// CHECK: %[[PV:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x?x16xf32>)
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %[[PK]][0, 0, 0, 0] [2, 2, %[[TOTAL]], 16]
// CHECK: linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[KEYS]] : tensor<2x4x1x16xf32>, tensor<2x2x?x16xf32>)
// CHECK: %[[VALUES:.*]] = tensor.extract_slice %[[PV]][0, 0, 0, 0] [2, 2, %[[TOTAL]], 16]
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[PMAP]], #[[VMAP]], #[[QMAP]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%{{.*}}, %[[VALUES]] : tensor<2x4x1x?xf32>, tensor<2x2x?x16xf32>) outs(%{{.*}} : tensor<2x1x4x16xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] : tensor<2x1x4x16xf32> into tensor<2x1x64xf32>
// CHECK: return %[[FLAT]], %[[PK]], %[[PV]]
func.func @decode(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>, %v: tensor<2x1x32xf32>, %pk: tensor<2x2x8x16xf32>, %pv: tensor<2x2x8x16xf32>, %lengths: tensor<2xi32>, %total: tensor<i32>) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>) {
  %none = onnx.NoValue
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %v, %pk, %pv, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x1x?xf32>)
  return %o, %pko, %pvo : tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>
}

// -----

// qaf.present_in_past (the caller's cache buffer, qaf-compile's in-place
// cache): each row's new tokens are inserted into the past itself at the
// row's past length (checked at run time), no copy of the cache; the buffer
// must hold total_sequence_length positions (checked at run time).
// CHECK-LABEL: func.func @decode_in_place
// CHECK: qaf.check {{.*}} the cache buffer holds {0} positions
// CHECK: %[[NK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x1x16xf32>)
// CHECK: %[[PK:.*]] = scf.forall (%[[ROW:.*]]) in (2) shared_outs(%[[ACC:.*]] = %arg3) -> (tensor<2x2x?x16xf32>)
// CHECK: qaf.check {{.*}} new tokens end at position
// CHECK: %[[ROWNEW:.*]] = tensor.extract_slice %[[NK]][%[[ROW]], 0, 0, 0] [1, 2, 1, 16]
// CHECK: tensor.parallel_insert_slice %[[ROWNEW]] into %[[ACC]][%[[ROW]], 0, %{{.*}}, 0] [1, 2, 1, 16]
// CHECK: %[[PV:.*]] = scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %arg4) -> (tensor<2x2x?x16xf32>)
// CHECK: return %{{.*}}, %[[PK]], %[[PV]]
func.func @decode_in_place(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>, %v: tensor<2x1x32xf32>, %pk: tensor<2x2x?x16xf32>, %pv: tensor<2x2x?x16xf32>, %lengths: tensor<2xi32>, %total: tensor<i32>) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>) {
  %none = onnx.NoValue
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %v, %pk, %pv, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, qaf.present_in_past} : (tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x1x?xf32>)
  return %o, %pko, %pvo : tensor<2x1x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>
}

// -----

func.func @bidirectional(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) -> tensor<2x3x64xf32> {
  %none = onnx.NoValue
  // expected-error @+2 {{causal = 0 (bidirectional attention) is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.GroupQueryAttention'}}
  %o, %pk2, %pv2, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, causal = 0 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x3x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x3x?xf32>)
  return %o : tensor<2x3x64xf32>
}

// -----

func.func @qk_output(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) -> tensor<2x3x64xf32> {
  %none = onnx.NoValue
  // expected-error @+2 {{qk_output = 1 is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.GroupQueryAttention'}}
  %o, %pk2, %pv2, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, qk_output = 1 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x3x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x3x?xf32>)
  return %o : tensor<2x3x64xf32>
}

// -----

func.func @window_cache(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) -> tensor<2x3x64xf32> {
  %none = onnx.NoValue
  // expected-error @+2 {{sliding_window_cache = 1 is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.GroupQueryAttention'}}
  %o, %pk2, %pv2, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, sliding_window_cache = 1 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x3x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x3x?xf32>)
  return %o : tensor<2x3x64xf32>
}

// -----

func.func @quantized_cache(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) -> tensor<2x3x64xf32> {
  %none = onnx.NoValue
  // expected-error @+2 {{a quantized KV cache (k_quant_type, v_quant_type, kv_cache_bit_width) is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.GroupQueryAttention'}}
  %o, %pk2, %pv2, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, k_quant_type = "PER_TENSOR"} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<2x3x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x3x?xf32>)
  return %o : tensor<2x3x64xf32>
}

// -----

func.func @position_ids(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>, %p: tensor<2x3xi64>) -> tensor<2x3x64xf32> {
  %none = onnx.NoValue
  // expected-error @+2 {{input position_ids is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.GroupQueryAttention'}}
  %o, %pk2, %pv2, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %p, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, tensor<2x3xi64>, none, none, none, none, none, none) -> (tensor<2x3x64xf32>, tensor<2x2x?x16xf32>, tensor<2x2x?x16xf32>, tensor<2x4x3x?xf32>)
  return %o : tensor<2x3x64xf32>
}
