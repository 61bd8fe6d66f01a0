// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-test-gradients %s

// An op without a rule on the path to the result is named.
func.func @no_rule(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @below {{no gradient rule for 'onnx.Cos', which lies between the loss and a value it is differentiated with respect to}}
  %0 = onnx.Cos %x : (tensor<3xf32>) -> tensor<3xf32>
  %1 = onnx.Neg %0 : (tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}

// -----

// Broadcasting needs ranks to know which dims to sum over.
func.func @unranked(%x: tensor<*xf32>, %y: tensor<3xf32>) -> tensor<*xf32> {
  // expected-error @below {{the gradient of a broadcasting op needs ranked operand and result types}}
  %0 = onnx.Add %x, %y : (tensor<*xf32>, tensor<3xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// expected-error @below {{argument 1 gets no gradient}}
func.func @unused_argument(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Neg %x : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
