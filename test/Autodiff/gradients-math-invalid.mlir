// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-test-gradients %s

// MatMul's rule transposes the last two dims, which needs the rank.
func.func @matmul_unranked(%a: tensor<*xf32>, %b: tensor<3x4xf32>) -> tensor<*xf32> {
  // expected-error @below {{'onnx.MatMul' op the gradient needs ranked operands}}
  %0 = onnx.MatMul %a, %b : (tensor<*xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Gemm's C gradient is summed to C's shape, which needs C's rank.
func.func @gemm_unranked_bias(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<*xf32>) -> tensor<2x4xf32> {
  // expected-error @below {{'onnx.Gemm' op the gradient of a broadcasting op needs ranked operand and result types}}
  %0 = onnx.Gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<*xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// An emitted op that fails shape inference (the seed cannot get back an
// axis out of range) makes the rule fail, naming the op it was for.
func.func @reduce_axis_out_of_range(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  %axes = onnx.Constant {value = dense<5> : tensor<1xi64>} : tensor<1xi64>
  // expected-error @below {{'onnx.Unsqueeze' op axis 5 is out of range for rank 2}}
  // expected-error @below {{'onnx.ReduceSum' op has a gradient rule that could not be built}}
  %0 = onnx.ReduceSum %x, %axes {keepdims = 0 : i64} : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
