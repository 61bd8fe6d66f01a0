// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-convert-onnx-to-linalg %s

// Run-time reduction axes need a count known when compiling.
func.func @axes_count_unknown(%x: tensor<3x4xf32>, %axes: tensor<?xi64>) -> tensor<*xf32> {
  // expected-error @below {{run-time axes need a 1-D axes tensor of static length and a rank of at most 8}}
  // expected-error @below {{failed to legalize operation 'onnx.ReduceSum'}}
  %0 = onnx.ReduceSum %x, %axes : (tensor<3x4xf32>, tensor<?xi64>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @bad_broadcast(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<*xf32> {
  // expected-error @below {{operand shapes do not broadcast together}}
  // expected-error @below {{failed to legalize operation 'onnx.Add'}}
  %0 = onnx.Add %a, %b : (tensor<3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

func.func @cast_f8(%a: tensor<3xf32>) -> tensor<3xf8E4M3FN> {
  // expected-error @below {{casts from f32 to f8E4M3FN are not supported}}
  // expected-error @below {{failed to legalize operation 'onnx.Cast'}}
  %0 = onnx.Cast %a {to = 17 : i64} : (tensor<3xf32>) -> tensor<3xf8E4M3FN>
  return %0 : tensor<3xf8E4M3FN>
}


// -----

// The preconditions every pattern shares (LinalgLoweringPattern): each given
// operand is a ranked tensor...
func.func @unranked_operand(%x: tensor<*xf32>) -> tensor<3x2xf32> {
  // expected-error @below {{'onnx.Transpose' op operand 0 has type 'tensor<*xf32>'; expected a ranked tensor}}
  // expected-error @below {{failed to legalize operation 'onnx.Transpose'}}
  %0 = onnx.Transpose %x : (tensor<*xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// ... and each result converts to a ranked tensor, where the pattern needs
// its rank.
func.func @unranked_result(%x: tensor<2x3xf32>) -> tensor<*xf32> {
  // expected-error @below {{'onnx.Transpose' op result 0 has type 'tensor<*xf32>'; expected a ranked tensor}}
  // expected-error @below {{failed to legalize operation 'onnx.Transpose'}}
  %0 = onnx.Transpose %x : (tensor<2x3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// The element-wise pattern (selected by the ONNX_Elementwise trait) checks
// the same.
func.func @unranked_elementwise_operand(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @below {{'onnx.Sqrt' op operand 0 has type 'tensor<*xf32>'; expected a ranked tensor}}
  // expected-error @below {{failed to legalize operation 'onnx.Sqrt'}}
  %0 = onnx.Sqrt %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Constant axes are read by the lowering even where shape inference has not
// checked them: out of range, repeated, or a dim that is not 1 is an error,
// never a crash (the mutation fuzz of test/fuzz/mutate_mlir.py found these).
func.func @squeeze_axis_out_of_range(%x: tensor<1x?x1x4xf32>) -> tensor<?x4xf32> {
  %a = onnx.Constant {value = dense<[0, 9223372036854775807]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @below {{axis 9223372036854775807 is out of range for rank 4}}
  // expected-error @below {{failed to legalize operation 'onnx.Squeeze'}}
  %y = onnx.Squeeze %x, %a : (tensor<1x?x1x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @squeeze_not_one(%x: tensor<1x3x1x4xf32>) -> tensor<1x1x4xf32> {
  %a = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @below {{cannot squeeze dimension 1 of size 3}}
  // expected-error @below {{failed to legalize operation 'onnx.Squeeze'}}
  %y = onnx.Squeeze %x, %a : (tensor<1x3x1x4xf32>, tensor<1xi64>) -> tensor<1x1x4xf32>
  return %y : tensor<1x1x4xf32>
}

// -----

func.func @unsqueeze_axis_out_of_range(%x: tensor<?x4xf32>) -> tensor<1x?x4x1xf32> {
  %a = onnx.Constant {value = dense<[-64, -1]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @below {{axis -64 is out of range for rank 4}}
  // expected-error @below {{failed to legalize operation 'onnx.Unsqueeze'}}
  %y = onnx.Unsqueeze %x, %a : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<1x?x4x1xf32>
  return %y : tensor<1x?x4x1xf32>
}

// -----

func.func @unsqueeze_axis_twice(%x: tensor<?x4xf32>) -> tensor<1x?x4x1xf32> {
  %a = onnx.Constant {value = dense<[0, -4]> : tensor<2xi64>} : tensor<2xi64>
  // expected-error @below {{axes name dimension 0 twice}}
  // expected-error @below {{failed to legalize operation 'onnx.Unsqueeze'}}
  %y = onnx.Unsqueeze %x, %a : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<1x?x4x1xf32>
  return %y : tensor<1x?x4x1xf32>
}
