// RUN: qaf-opt %s | qaf-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s --check-prefix=INFER

// com.microsoft.GroupQueryAttention: the print/parse round trip and shape
// inference. output is (B, S, num_heads * H); present is (B, kv_num_heads,
// max(past length, total_sequence_length), H), static only when the past
// length and total_sequence_length are known; output_qk (B, num_heads, S,
// that length).

// ROUNDTRIP-LABEL: func.func @decode
// ROUNDTRIP: onnx.com.microsoft.GroupQueryAttention %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %{{.*}}, %arg6, %arg6, %{{.*}} {do_rotary = 1 : i64, kv_num_heads = 2 : i64, local_window_size = 4 : i64, num_heads = 4 : i64, softcap = 3.000000e+01 : f32}
// INFER-LABEL: func.func @decode
// INFER: -> (tensor<2x1x64xf32>, tensor<2x2x9x16xf32>, tensor<2x2x9x16xf32>, tensor<2x4x1x9xf32>)
func.func @decode(%q: tensor<2x1x64xf32>, %k: tensor<2x1x32xf32>, %v: tensor<2x1x32xf32>, %pk: tensor<2x2x8x16xf32>, %pv: tensor<2x2x8x16xf32>, %lengths: tensor<2xi32>, %cache: tensor<32x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %total = onnx.Constant {value = dense<9> : tensor<i32>} : tensor<i32>
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %v, %pk, %pv, %lengths, %total, %cache, %cache, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, do_rotary = 1 : i64, local_window_size = 4 : i64, softcap = 30.0 : f32} : (tensor<2x1x64xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>, tensor<i32>, tensor<32x8xf32>, tensor<32x8xf32>, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %o, %pko, %pvo : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// Packed QKV: H = 128 / (4 + 2 * 2); a run-time total length leaves the
// present length dynamic.
// INFER-LABEL: func.func @packed_dynamic
// INFER: -> (tensor<?x?x64xf16>, tensor<?x2x?x16xf16>, tensor<?x2x?x16xf16>, tensor<?x4x?x?xf16>)
func.func @packed_dynamic(%qkv: tensor<?x?x128xf16>, %pk: tensor<?x2x?x16xf16>, %lengths: tensor<?xi32>, %total: tensor<i32>) -> (tensor<*xf16>, tensor<*xf16>, tensor<*xf16>) {
  %none = onnx.NoValue
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %qkv, %none, %none, %pk, %pk, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<?x?x128xf16>, none, none, tensor<?x2x?x16xf16>, tensor<?x2x?x16xf16>, tensor<?xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>)
  return %o, %pko, %pvo : tensor<*xf16>, tensor<*xf16>, tensor<*xf16>
}

// No past: present is total_sequence_length long.
// INFER-LABEL: func.func @prefill
// INFER: -> (tensor<1x5x32xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>, tensor<1x4x5x5xf32>)
func.func @prefill(%q: tensor<1x5x32xf32>, %k: tensor<1x5x8xf32>, %lengths: tensor<1xi32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %total = onnx.Constant {value = dense<5> : tensor<i32>} : tensor<i32>
  %o, %pko, %pvo, %qk = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %lengths, %total, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 1 : i64} : (tensor<1x5x32xf32>, tensor<1x5x8xf32>, tensor<1x5x8xf32>, none, none, tensor<1xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %o, %pko, %pvo : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
