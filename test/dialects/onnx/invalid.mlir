// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of the onnx ops.

func.func @gelu_approximate(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Gelu' op approximate must be "none" or "tanh", got "erf"}}
  %0 = onnx.Gelu %x {approximate = "erf"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'onnx.Softmax' op axis 2 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.Softmax %x {axis = 2 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @log_softmax_axis(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'onnx.LogSoftmax' op axis -3 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.LogSoftmax %x {axis = -3 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @max_no_input() -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Max' op needs at least one input}}
  %0 = onnx.Max : () -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @min_no_input() -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Min' op needs at least one input}}
  %0 = onnx.Min : () -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @cast_to_string(%x: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error @+1 {{'onnx.Cast' op 'to' is 8 (STRING), not a data type qaf supports}}
  %0 = onnx.Cast %x {to = 8 : i64} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @cast_result_type(%x: tensor<4xf32>) -> tensor<4xi32> {
  // expected-error @+1 {{'onnx.Cast' op result element type 'i32' differs from 'to' = 7 (INT64, 'i64')}}
  %0 = onnx.Cast %x {to = 7 : i64} : (tensor<4xf32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @cast_saturate(%x: tensor<4xf32>) -> tensor<4xf16> {
  // expected-error @+1 {{'onnx.Cast' op saturate must be 0 or 1, got 2}}
  %0 = onnx.Cast %x {to = 10 : i64, saturate = 2 : i64} : (tensor<4xf32>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.MatMul' op operands must have rank >= 1}}
  %0 = onnx.MatMul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Gemm' op A must have rank 2, got 'tensor<2x3x4xf32>'}}
  %0 = onnx.Gemm %a, %b, %none : (tensor<2x3x4xf32>, tensor<4x5xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_b_rank(%a: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Gemm' op B must have rank 2, got 'tensor<4xf32>'}}
  %0 = onnx.Gemm %a, %b, %none : (tensor<3x4xf32>, tensor<4xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_c_rank(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<1x3x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Gemm' op C must have rank <= 2, got 'tensor<1x3x5xf32>'}}
  %0 = onnx.Gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<1x3x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_trans(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Gemm' op transA must be 0 or 1, got 2}}
  %0 = onnx.Gemm %a, %b, %none {transA = 2 : i64} : (tensor<3x4xf32>, tensor<4x5xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_integer_type(%a: tensor<2x4xi16>, %b: tensor<4x5xi8>) -> tensor<*xi32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.MatMulInteger' op a must be int8 or uint8, got 'i16'}}
  %0 = onnx.MatMulInteger %a, %b, %none, %none : (tensor<2x4xi16>, tensor<4x5xi8>, none, none) -> tensor<*xi32>
  return %0 : tensor<*xi32>
}

// -----

func.func @matmul_integer_zero_point(%a: tensor<2x4xui8>, %b: tensor<4x5xi8>, %zb: tensor<ui8>) -> tensor<*xi32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.MatMulInteger' op b_zero_point must have element type 'i8', got 'ui8'}}
  %0 = onnx.MatMulInteger %a, %b, %none, %zb : (tensor<2x4xui8>, tensor<4x5xi8>, none, tensor<ui8>) -> tensor<*xi32>
  return %0 : tensor<*xi32>
}

// -----

func.func @matmul_integer_scalar(%a: tensor<ui8>, %b: tensor<4x5xi8>) -> tensor<*xi32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.MatMulInteger' op operands must have rank >= 1}}
  %0 = onnx.MatMulInteger %a, %b, %none, %none : (tensor<ui8>, tensor<4x5xi8>, none, none) -> tensor<*xi32>
  return %0 : tensor<*xi32>
}

// -----

func.func @nbits_bits(%a: tensor<2x64xf32>, %b: tensor<8x2x12xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op bits must be 2, 4 or 8 (the widths ONNX Runtime implements), got 3}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, bits = 3 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x12xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_block_size(%a: tensor<2x64xf32>, %b: tensor<8x3x12xui8>, %s: tensor<24xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op block_size must be a power of two >= 16, got 24}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 24 : i64} : (tensor<2x64xf32>, tensor<8x3x12xui8>, tensor<24xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_k_n(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op K and N must be positive, got K = 64, N = 0}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 0 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_accuracy_level(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op accuracy_level must be in [0, 4], got 5}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, accuracy_level = 5 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_a_scalar(%a: tensor<f32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op A must have rank >= 1}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<f32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_a_k(%a: tensor<2x48xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op A must have size 64 in dimension 1, got 'tensor<2x48xf32>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x48xf32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_b_rank(%a: tensor<2x64xf32>, %b: tensor<8x32xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op B must have rank 3, got 'tensor<8x32xui8>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x32xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// 4-bit codes in blocks of 32 take 16 bytes per block.
func.func @nbits_b_blob(%a: tensor<2x64xf32>, %b: tensor<8x2x32xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op B must have size 16 in dimension 2, got 'tensor<8x2x32xui8>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x32xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_scales_rank(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<8x2x1xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op scales must have rank 1 or 2, got 'tensor<8x2x1xf32>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<8x2x1xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_scales_count(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<8xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op scales must hold N * ceil(K / block_size) = 16 values, got 'tensor<8xf32>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<8xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @nbits_bias(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>, %bias: tensor<4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op bias must have size 8 in dimension 0, got 'tensor<4xf32>'}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %bias {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Transpose' op perm has 3 entries for an input of rank 2}}
  %0 = onnx.Transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @transpose_perm(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Transpose' op perm is not a permutation of [0, 2)}}
  %0 = onnx.Transpose %x {perm = array<i64: 1, 1>} : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_shape_rank(%x: tensor<6xf32>, %s: tensor<1x2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Reshape' op shape must have rank 1, got 'tensor<1x2xi64>'}}
  %0 = onnx.Reshape %x, %s : (tensor<6xf32>, tensor<1x2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_shape_type(%x: tensor<6xf32>, %s: tensor<2xi32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Reshape' op shape must be int64, got 'tensor<2xi32>'}}
  %0 = onnx.Reshape %x, %s : (tensor<6xf32>, tensor<2xi32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_allowzero(%x: tensor<6xf32>, %s: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Reshape' op allowzero must be 0 or 1, got 3}}
  %0 = onnx.Reshape %x, %s {allowzero = 3 : i64} : (tensor<6xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Flatten' op axis 3 is out of range [-2, 2]}}
  %0 = onnx.Flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_empty() -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Concat' op needs at least one input}}
  %0 = onnx.Concat {axis = 0 : i64} : () -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Concat' op inputs have different ranks: 2 and 1}}
  %0 = onnx.Concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Concat' op axis 2 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.Concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @split_no_result(%x: tensor<4xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Split' op needs at least one result}}
  onnx.Split %x, %none : (tensor<4xf32>, none) -> ()
  return
}

// -----

func.func @split_both(%x: tensor<4xf32>, %s: tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @+1 {{'onnx.Split' op takes either the split input or num_outputs, not both}}
  %0:2 = onnx.Split %x, %s {num_outputs = 2 : i64} : (tensor<4xf32>, tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @split_num_outputs(%x: tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Split' op num_outputs is 3 but the op has 2 results}}
  %0:2 = onnx.Split %x, %none {num_outputs = 3 : i64} : (tensor<4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @split_sizes_count(%x: tensor<4xf32>, %s: tensor<3xi64>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @+1 {{'onnx.Split' op split must have size 2 in dimension 0, got 'tensor<3xi64>'}}
  %0:2 = onnx.Split %x, %s : (tensor<4xf32>, tensor<3xi64>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @split_axis(%x: tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Split' op axis 1 is out of range [-1, 1) for an operand of rank 1}}
  %0:2 = onnx.Split %x, %none {axis = 1 : i64} : (tensor<4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @gather_scalar_data(%x: tensor<f32>, %i: tensor<i64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Gather' op data must have rank >= 1}}
  %0 = onnx.Gather %x, %i : (tensor<f32>, tensor<i64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_indices_type(%x: tensor<4xf32>, %i: tensor<2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Gather' op indices must be int32 or int64, got 'f32'}}
  %0 = onnx.Gather %x, %i : (tensor<4xf32>, tensor<2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_axis(%x: tensor<4x5xf32>, %i: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Gather' op axis -3 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.Gather %x, %i {axis = -3 : i64} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_elements_rank(%x: tensor<4x5xf32>, %i: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.GatherElements' op data and indices must have the same rank, got 2 and 1}}
  %0 = onnx.GatherElements %x, %i : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_elements_indices_type(%x: tensor<4xf32>, %i: tensor<2xi8>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.GatherElements' op indices must be int32 or int64, got 'i8'}}
  %0 = onnx.GatherElements %x, %i : (tensor<4xf32>, tensor<2xi8>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_elements_axis(%x: tensor<4xf32>, %i: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.GatherElements' op axis 1 is out of range [-1, 1) for an operand of rank 1}}
  %0 = onnx.GatherElements %x, %i {axis = 1 : i64} : (tensor<4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @constant_of_shape_value(%s: tensor<2xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ConstantOfShape' op value must hold exactly one element, got 2}}
  %0 = onnx.ConstantOfShape %s {value = dense<1.0> : tensor<2xf32>} : (tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @constant_of_shape_input_rank(%s: tensor<i64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ConstantOfShape' op input must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.ConstantOfShape %s : (tensor<i64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @constant_of_shape_input_type(%s: tensor<2xi32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ConstantOfShape' op input must be int64, got 'tensor<2xi32>'}}
  %0 = onnx.ConstantOfShape %s : (tensor<2xi32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @scatter_reduction(%d: tensor<4xf32>, %i: tensor<1x1xi64>, %u: tensor<1xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ScatterND' op reduction must be one of none, add, mul, max, min; got "sum"}}
  %0 = onnx.ScatterND %d, %i, %u {reduction = "sum"} : (tensor<4xf32>, tensor<1x1xi64>, tensor<1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @scatter_indices_type(%d: tensor<4xf32>, %i: tensor<1x1xi32>, %u: tensor<1xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ScatterND' op indices must be int64, got 'tensor<1x1xi32>'}}
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4xf32>, tensor<1x1xi32>, tensor<1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @scatter_indices_rank(%d: tensor<4xf32>, %i: tensor<i64>, %u: tensor<1xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ScatterND' op indices must have rank >= 1}}
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4xf32>, tensor<i64>, tensor<1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @scatter_indices_depth(%d: tensor<4xf32>, %i: tensor<1x2xi64>, %u: tensor<1xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ScatterND' op indices address 2 dimensions of data of rank 1}}
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4xf32>, tensor<1x2xi64>, tensor<1xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// updates.shape = indices.shape[:-1] + data.shape[1:] = (3, 5).
func.func @scatter_updates_rank(%d: tensor<4x5xf32>, %i: tensor<3x1xi64>, %u: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.ScatterND' op updates must have rank 2, got 'tensor<3xf32>'}}
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4x5xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @layer_norm_stash_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.LayerNormalization' op stash_type 7 is not a floating-point ONNX data type}}
  %0:3 = onnx.LayerNormalization %x, %w, %none {stash_type = 7 : i64} : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.LayerNormalization' op axis 2 is out of range [-2, 2) for an operand of rank 2}}
  %0:3 = onnx.LayerNormalization %x, %w, %none {axis = 2 : i64} : (tensor<2x8xf32>, tensor<8xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @simplified_layer_norm_stash_type(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @+1 {{'onnx.SimplifiedLayerNormalization' op stash_type 0 is not a floating-point ONNX data type}}
  %0:2 = onnx.SimplifiedLayerNormalization %x, %w {stash_type = 0 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @simplified_layer_norm_axis(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  // expected-error @+1 {{'onnx.SimplifiedLayerNormalization' op axis -3 is out of range [-2, 2) for an operand of rank 2}}
  %0:2 = onnx.SimplifiedLayerNormalization %x, %w {axis = -3 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @skip_layer_norm_rank(%x: tensor<8xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.SkipSimplifiedLayerNormalization' op input must have rank 2 or 3, got 'tensor<8xf32>'}}
  %0:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %none : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2, %0#3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @skip_layer_norm_gamma(%x: tensor<2x3x8xf32>, %w: tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.SkipSimplifiedLayerNormalization' op gamma must have size 8 in dimension 0, got 'tensor<4xf32>'}}
  %0:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %none : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2, %0#3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @skip_layer_norm_gamma_rank(%x: tensor<2x3x8xf32>, %w: tensor<1x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.SkipSimplifiedLayerNormalization' op gamma must have rank 1, got 'tensor<1x8xf32>'}}
  %0:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %none : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<1x8xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2, %0#3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @skip_layer_norm_skip(%x: tensor<2x3x8xf32>, %s: tensor<2x3x4xf32>, %w: tensor<8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.SkipSimplifiedLayerNormalization' op skip must have size 8 in dimension 2, got 'tensor<2x3x4xf32>'}}
  %0:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %s, %w, %none : (tensor<2x3x8xf32>, tensor<2x3x4xf32>, tensor<8xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2, %0#3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @skip_layer_norm_bias(%x: tensor<2x3x8xf32>, %w: tensor<8xf32>, %b: tensor<2x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // expected-error @+1 {{'onnx.com.microsoft.SkipSimplifiedLayerNormalization' op bias must have rank 1, got 'tensor<2x8xf32>'}}
  %0:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %b : (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2, %0#3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @rotary_rank(%x: tensor<4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<16x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op input must have rank 3 or 4, got 'tensor<4x8xf32>'}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %c : (tensor<4x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rotary_interleaved(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<16x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op interleaved must be 0 or 1, got 2}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %c {interleaved = 2 : i64} : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rotary_num_heads(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<16x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op num_heads and rotary_embedding_dim must be >= 0}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %c {num_heads = -1 : i64} : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rotary_partial_dim(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<16x2xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op rotary_embedding_dim needs num_heads}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %c {rotary_embedding_dim = 4 : i64} : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<16x2xf32>, tensor<16x2xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rotary_cache_rank(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<64xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op cos_cache must have rank 2, got 'tensor<64xf32>'}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %c : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<64xf32>, tensor<64xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @rotary_caches_differ(%x: tensor<1x4x8xf32>, %p: tensor<1x4xi64>, %c: tensor<16x4xf32>, %s: tensor<8x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.com.microsoft.RotaryEmbedding' op cos_cache and sin_cache shapes differ: 'tensor<16x4xf32>' vs 'tensor<8x4xf32>'}}
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %s : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<8x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @quantize_saturate(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op saturate must be 0 or 1, got 5}}
  %0 = onnx.QuantizeLinear %x, %s, %none {saturate = 5 : i64} : (tensor<4xf32>, tensor<f32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_output_dtype(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op output_dtype 8 is not a data type qaf supports}}
  %0 = onnx.QuantizeLinear %x, %s, %none {output_dtype = 8 : i64} : (tensor<4xf32>, tensor<f32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_output_dtype_vs_zero_point(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<*xui8> {
  // expected-error @+1 {{'onnx.QuantizeLinear' op output_dtype 3 ('i8') differs from the y_zero_point element type 'ui8'}}
  %0 = onnx.QuantizeLinear %x, %s, %z {output_dtype = 3 : i64} : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_scale_type(%x: tensor<4xf32>, %s: tensor<i32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op scale must be a float tensor, got 'tensor<i32>'}}
  %0 = onnx.QuantizeLinear %x, %s, %none : (tensor<4xf32>, tensor<i32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_block_size(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op block_size must be >= 0, got -1}}
  %0 = onnx.QuantizeLinear %x, %s, %none {block_size = -1 : i64} : (tensor<4xf32>, tensor<f32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_per_axis_size(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op per-axis scale must have size 4 in dimension 0, got 'tensor<8xf32>'}}
  %0 = onnx.QuantizeLinear %x, %s, %none {axis = 0 : i64} : (tensor<4x8xf32>, tensor<8xf32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @quantize_per_axis_axis(%x: tensor<4x8xf32>, %s: tensor<8xf32>) -> tensor<*xui8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op axis 2 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.QuantizeLinear %x, %s, %none {axis = 2 : i64} : (tensor<4x8xf32>, tensor<8xf32>, none) -> tensor<*xui8>
  return %0 : tensor<*xui8>
}

// -----

func.func @dequantize_zero_point_type(%x: tensor<4xi8>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.DequantizeLinear' op x_zero_point element type 'ui8' differs from x's 'i8'}}
  %0 = onnx.DequantizeLinear %x, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<ui8>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_output_dtype(%x: tensor<4xi8>, %s: tensor<f32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op output_dtype 7 is not a float data type qaf supports}}
  %0 = onnx.DequantizeLinear %x, %s, %none {output_dtype = 7 : i64} : (tensor<4xi8>, tensor<f32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_zero_point_shape(%x: tensor<4x8xi8>, %s: tensor<4xf32>, %z: tensor<2xi8>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.DequantizeLinear' op zero point shape 'tensor<2xi8>' differs from scale shape 'tensor<4xf32>'}}
  %0 = onnx.DequantizeLinear %x, %s, %z {axis = 0 : i64} : (tensor<4x8xi8>, tensor<4xf32>, tensor<2xi8>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_rank2_scale_unblocked(%x: tensor<4x8xi8>, %s: tensor<4x2xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op a scale of rank 2 needs block_size > 0}}
  %0 = onnx.DequantizeLinear %x, %s, %none : (tensor<4x8xi8>, tensor<4x2xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_blocked_rank(%x: tensor<4x64xi4>, %s: tensor<8xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op blocked quantization needs a scale of rank 2, got 'tensor<8xf32>'}}
  %0 = onnx.DequantizeLinear %x, %s, %none {block_size = 32 : i64} : (tensor<4x64xi4>, tensor<8xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// 64 columns in blocks of 32 are 2 blocks per row.
func.func @dequantize_blocked_dims(%x: tensor<4x64xi4>, %s: tensor<4x3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op scale must have size 2 in dimension 1, got 'tensor<4x3xf32>'}}
  %0 = onnx.DequantizeLinear %x, %s, %none {block_size = 32 : i64} : (tensor<4x64xi4>, tensor<4x3xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_blocked_axis(%x: tensor<4x64xi4>, %s: tensor<4x2xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op axis 5 is out of range [-2, 2) for an operand of rank 2}}
  %0 = onnx.DequantizeLinear %x, %s, %none {axis = 5 : i64, block_size = 32 : i64} : (tensor<4x64xi4>, tensor<4x2xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Data type codes are int64 attributes: a value beyond int32 must not wrap
// onto a valid code (2^32 + 1 would read as FLOAT).

func.func @cast_to_wraps(%x: tensor<4xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'onnx.Cast' op 'to' is 4294967297 (UNKNOWN), not a data type qaf supports}}
  %0 = onnx.Cast %x {to = 4294967297 : i64} : (tensor<4xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @quantize_output_dtype_wraps(%x: tensor<4x64xf32>, %s: tensor<f32>) -> tensor<4x64xi8> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.QuantizeLinear' op output_dtype 4294967299 is not a data type qaf supports}}
  %0 = onnx.QuantizeLinear %x, %s, %none {output_dtype = 4294967299 : i64} : (tensor<4x64xf32>, tensor<f32>, none) -> tensor<4x64xi8>
  return %0 : tensor<4x64xi8>
}

// -----

func.func @dequantize_output_dtype_wraps(%x: tensor<4x64xi8>, %s: tensor<f32>) -> tensor<4x64xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.DequantizeLinear' op output_dtype 4294967297 is not a float data type qaf supports}}
  %0 = onnx.DequantizeLinear %x, %s, %none {output_dtype = 4294967297 : i64} : (tensor<4x64xi8>, tensor<f32>, none) -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

func.func @layer_norm_stash_type_wraps(%x: tensor<4x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{'onnx.LayerNormalization' op stash_type 4294967297 is not a floating-point ONNX data type}}
  %0:3 = onnx.LayerNormalization %x, %g, %g {stash_type = 4294967297 : i64} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<4x64xf32>, tensor<4x1xf32>, tensor<4x1xf32>)
  return
}

// -----

// Sizes computed from attributes up to 2^63 neither overflow nor wrap.

func.func @matmulnbits_scale_count_overflows(%a: tensor<2x?xf32>, %b: tensor<?x?x?xui8>, %s: tensor<16xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.com.microsoft.MatMulNBits' op N * ceil(K / block_size) = 4611686018427387904 * 576460752303423488 scales are more than 2^63}}
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %s, %none, %none, %none {K = 9223372036854775807 : i64, N = 4611686018427387904 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<2x?xf32>, tensor<?x?x?xui8>, tensor<16xf32>, none, none, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @dequantize_huge_block(%x: tensor<4x64xi8>, %s: tensor<4x2xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // One block of 2^63 - 1 covers the 64 columns: ceil(64 / block_size) = 1.
  // expected-error @+1 {{'onnx.DequantizeLinear' op scale must have size 1 in dimension 1, got 'tensor<4x2xf32>'}}
  %0 = onnx.DequantizeLinear %x, %s, %none {axis = 1 : i64, block_size = 9223372036854775807 : i64} : (tensor<4x64xi8>, tensor<4x2xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Result ranks the lowering relies on.

func.func @expand_below_input_rank(%x: tensor<3x2xf32>, %shape: tensor<2xi64>) -> tensor<f32> {
  // expected-error @+1 {{'onnx.Expand' op result rank 0 is below the input rank 2}}
  %0 = onnx.Expand %x, %shape : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @expand_below_shape_length(%x: tensor<2xf32>, %shape: tensor<3xi64>) -> tensor<4x2xf32> {
  // expected-error @+1 {{'onnx.Expand' op result rank 2 is below the 3 dimensions shape asks for}}
  %0 = onnx.Expand %x, %shape : (tensor<2xf32>, tensor<3xi64>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

func.func @expand_shape_rank(%x: tensor<2xf32>, %shape: tensor<1x3xi64>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Expand' op shape must have rank 1, got 'tensor<1x3xi64>'}}
  %0 = onnx.Expand %x, %shape : (tensor<2xf32>, tensor<1x3xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @range_scalar_result(%start: tensor<i64>, %limit: tensor<i64>, %delta: tensor<i64>) -> tensor<i64> {
  // expected-error @+1 {{'onnx.Range' op the result must have rank 1, got 'tensor<i64>'}}
  %0 = onnx.Range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

func.func @range_vector_start(%start: tensor<2xi64>, %limit: tensor<i64>, %delta: tensor<i64>) -> tensor<?xi64> {
  // expected-error @+1 {{'onnx.Range' op start must be a scalar, got 'tensor<2xi64>'}}
  %0 = onnx.Range %start, %limit, %delta : (tensor<2xi64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}
