// RUN: qaf-opt %s --qaf-onnx-infer-shapes -split-input-file -verify-diagnostics

// Inconsistencies that only shape inference sees: they need static dims or
// the values of constant operands. Each fails the pass with an error on
// the op.

func.func @matmul_inner_dims(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.MatMul' op inner dimensions differ: 'tensor<2x3xf32>' times 'tensor<4x5xf32>'}}
  %0 = onnx.MatMul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @matmul_batch_dims(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.MatMul' op batch dimensions of 'tensor<2x3x4xf32>' and 'tensor<3x4x5xf32>' are not broadcast-compatible}}
  %0 = onnx.MatMul %a, %b : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_inner_dims(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Gemm' op inner dimensions differ: op(A) is 2x3, op(B) is 4x5}}
  %0 = onnx.Gemm %a, %b, %none : (tensor<2x3xf32>, tensor<4x5xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gemm_bias(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>, %c: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Gemm' op C of type 'tensor<4xf32>' does not broadcast to 2x5}}
  %0 = onnx.Gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x5xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Add' op operand types 'tensor<2x3xf32>', 'tensor<4xf32>' are not broadcast-compatible}}
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @element_types(%a: tensor<3xf32>, %b: tensor<3xf16>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Mul' op operand element types differ: 'f32' vs 'f16'}}
  %0 = onnx.Mul %a, %b : (tensor<3xf32>, tensor<3xf16>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// A declared type (e.g. from value_info) that contradicts the operands.
func.func @declared_shape_conflict(%a: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'onnx.Relu' op inferred type 'tensor<2x3xf32>' conflicts with declared 'tensor<3x3xf32>'}}
  %0 = onnx.Relu %a : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @declared_element_type_conflict(%a: tensor<2x3xf32>) -> tensor<2x3xi1> {
  // expected-error @+1 {{'onnx.Sigmoid' op inferred type 'tensor<2x3xf32>' conflicts with declared 'tensor<2x3xi1>'}}
  %0 = onnx.Sigmoid %a : (tensor<2x3xf32>) -> tensor<2x3xi1>
  return %0 : tensor<2x3xi1>
}

// -----

func.func @declared_rank_conflict(%x: tensor<4x8xf32>) -> (tensor<*xf32>, tensor<4x8xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.LayerNormalization' op inferred type 'tensor<4x1xf32>' conflicts with declared 'tensor<4xf32>' for result #1}}
  %0:3 = onnx.LayerNormalization %x, %x, %none : (tensor<4x8xf32>, tensor<4x8xf32>, none) -> (tensor<*xf32>, tensor<4xf32>, tensor<*xf32>)
  return %0#0, %x : tensor<*xf32>, tensor<4x8xf32>
}

// -----

func.func @concat_dims(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'onnx.Concat' op inputs differ in dimension 1: 3 vs 4}}
  %0 = onnx.Concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @gather_index(%x: tensor<4x6xf32>) -> tensor<*xf32> {
  %i = onnx.Constant {value = dense<[0, 6]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Gather' op index 6 is out of bounds for dimension of size 6}}
  %0 = onnx.Gather %x, %i {axis = 1 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x3x4xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[5, 5]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op cannot reshape 'tensor<2x3x4xf32>' into 'tensor<5x5xf32>': the element counts differ}}
  %0 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_inferred_dim(%x: tensor<2x3x4xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[5, -1]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op cannot reshape 'tensor<2x3x4xf32>' into 'tensor<5x?xf32>': no size for the -1 entry fits the element count}}
  %0 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_two_inferred_dims(%x: tensor<?x4xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[-1, 2, -1]> : tensor<3xi64>} : tensor<3xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape has more than one -1 entry}}
  %0 = onnx.Reshape %x, %s : (tensor<?x4xf32>, tensor<3xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_copy_past_rank(%x: tensor<8xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[4, 0]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape entry 1 is 0 (copy) but the input has rank 1}}
  %0 = onnx.Reshape %x, %s : (tensor<8xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reshape_zero_and_inferred(%x: tensor<0x4xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Reshape' op shape has both 0 and -1 entries with allowzero = 1}}
  %0 = onnx.Reshape %x, %s {allowzero = 1 : i64} : (tensor<0x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @split_sizes(%x: tensor<6x2xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Split' op split sizes sum to 5 but dimension 0 has size 6}}
  %0:2 = onnx.Split %x, %s : (tensor<6x2xf32>, tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @split_equal_parts(%x: tensor<5x2xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Split' op cannot split dimension of size 5 into 2 equal parts}}
  %0:2 = onnx.Split %x, %none : (tensor<5x2xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}

// -----

func.func @squeeze_non_unit(%x: tensor<1x3xf32>) -> tensor<*xf32> {
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @+1 {{'onnx.Squeeze' op cannot squeeze dimension 1 of size 3}}
  %0 = onnx.Squeeze %x, %axes : (tensor<1x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @unsqueeze_repeated_axis(%x: tensor<3xf32>) -> tensor<*xf32> {
  %axes = onnx.Constant {value = dense<[0, -3]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Unsqueeze' op axis -3 is repeated}}
  %0 = onnx.Unsqueeze %x, %axes : (tensor<3xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  %axes = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @+1 {{'onnx.ReduceSum' op axis 2 is out of range for rank 2}}
  %0 = onnx.ReduceSum %x, %axes : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @slice_step(%x: tensor<4xf32>) -> tensor<*xf32> {
  %c = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Slice' op step 0 is 0}}
  %0 = onnx.Slice %x, %c, %c, %none, %c : (tensor<4xf32>, tensor<1xi64>, tensor<1xi64>, none, tensor<1xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @expand(%x: tensor<3x2xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[3, 4]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.Expand' op input of type 'tensor<3x2xf32>' does not broadcast to the requested shape}}
  %0 = onnx.Expand %x, %s : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @tile_repeats(%x: tensor<3x2xf32>) -> tensor<*xf32> {
  %r = onnx.Constant {value = dense<2> : tensor<3xi64>} : tensor<3xi64>
  // expected-error @+1 {{'onnx.Tile' op repeats has 3 entries for an input of rank 2}}
  %0 = onnx.Tile %x, %r : (tensor<3x2xf32>, tensor<3xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @constant_of_shape(%x: tensor<3x2xf32>) -> tensor<*xf32> {
  %s = onnx.Constant {value = dense<[2, -2]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @+1 {{'onnx.ConstantOfShape' op shape has a negative entry -2}}
  %0 = onnx.ConstantOfShape %s : (tensor<2xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @range_delta(%x: tensor<3x2xf32>) -> tensor<*xi64> {
  %a = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %b = onnx.Constant {value = dense<4> : tensor<i64>} : tensor<i64>
  // expected-error @+1 {{'onnx.Range' op needs scalar start, limit and delta of one type, and a nonzero delta}}
  %0 = onnx.Range %a, %b, %a : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
  return %0 : tensor<*xi64>
}

// -----

func.func @trilu_rank(%x: tensor<3xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  // expected-error @+1 {{'onnx.Trilu' op input must have rank >= 2, got 'tensor<3xf32>'}}
  %0 = onnx.Trilu %x, %none : (tensor<3xf32>, none) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Split sizes whose sum overflows must not pass for the dimension's size
// (2 · (2^63 − 1) + 2 wraps to 0).
func.func @split_sizes_overflow(%x: tensor<0xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %s = onnx.Constant {value = dense<[9223372036854775807, 9223372036854775807, 2]> : tensor<3xi64>} : tensor<3xi64>
  // expected-error @+1 {{'onnx.Split' op split sizes sum to more than 2^63}}
  %0:3 = onnx.Split %x, %s {axis = 0 : i64} : (tensor<0xf32>, tensor<3xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1, %0#2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
