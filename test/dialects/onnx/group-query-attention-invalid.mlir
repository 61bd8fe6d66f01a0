// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of onnx.com.microsoft.GroupQueryAttention:
// head counts, hidden sizes, flags, dtypes, ranks and input pairs.

func.func @heads_divide(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op num_heads (4) must be a multiple of kv_num_heads (3)}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 3 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @zero_heads(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op num_heads and kv_num_heads must be > 0, got 0 and 2}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 0 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @hidden(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op query's last dim (64) must be a multiple of num_heads + 2 * kv_num_heads (packed QKV) (12)}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %none, %none, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 4 : i64} : (tensor<2x3x64xf32>, none, none, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @key_width(%q: tensor<2x3x64xf32>, %k: tensor<2x3x48xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op key must have size 32 in dimension 2, got 'tensor<2x3x48xf32>'}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x48xf32>, tensor<2x3x48xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @rotary_without_cache(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op do_rotary needs cos_cache and sin_cache}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, do_rotary = 1 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @smooth_softmax(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op smooth_softmax must be -1, 0 or 1, got 2}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, smooth_softmax = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @interleaved_flag(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op rotary_interleaved must be 0 or 1, got 3}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64, rotary_interleaved = 3 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @past_heads(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %p: tensor<2x4x8x16xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op past_key must have size 2 in dimension 1, got 'tensor<2x4x8x16xf32>'}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %p, %p, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @past_dtype(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %p: tensor<2x2x8x16xf16>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op past_key must have query's element type 'f32' or a quantized cache type, got 'tensor<2x2x8x16xf16>'}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %p, %p, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<2x2x8x16xf16>, tensor<2x2x8x16xf16>, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @past_alone(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %p: tensor<2x2x8x16xf32>, %l: tensor<2xi32>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op past_key and past_value must be given together (both or neither)}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %p, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, tensor<2x2x8x16xf32>, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @seqlens_dtype(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi64>, %t: tensor<i32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op seqlens_k and total_sequence_length must be int32, got 'tensor<2xi64>' and 'tensor<i32>'}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi64>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @qk_output_unset(%q: tensor<2x3x64xf32>, %k: tensor<2x3x32xf32>, %l: tensor<2xi32>, %t: tensor<i32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GroupQueryAttention' op output_qk is used but qk_output is 0}}
  %0:4 = onnx.com.microsoft.GroupQueryAttention %q, %k, %k, %none, %none, %l, %t, %none, %none, %none, %none, %none, %none, %none, %none, %none {num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<2x3x64xf32>, tensor<2x3x32xf32>, tensor<2x3x32xf32>, none, none, tensor<2xi32>, tensor<i32>, none, none, none, none, none, none, none, none, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#3 : tensor<*xf32>
}
