// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-test-gradients %s

// The data-movement rules need ranks (which dims move where).
func.func @unranked_transpose(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @below {{the gradient of 'onnx.Transpose' needs ranked operand and result types}}
  %0 = onnx.Transpose %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Which dims a Slice cuts must be known to scatter its gradient back.
func.func @slice_dynamic_axes(%x: tensor<4x6xf32>, %axes: tensor<1xi64>) -> tensor<?x?xf32> {
  %s = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %e = onnx.Constant {value = dense<3> : tensor<1xi64>} : tensor<1xi64>
  %n = onnx.NoValue
  // expected-error @below {{the gradient of 'onnx.Slice' needs constant axes}}
  %0 = onnx.Slice %x, %s, %e, %axes, %n : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
