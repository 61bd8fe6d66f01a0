// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-test-gradients %s

// The statistics' gradients divide by the row size N, which must be known.
func.func @dynamic_row_statistics(%x: tensor<2x?xf32>) -> tensor<2x1xf32> {
  %w = onnx.Constant {value = dense<1.0> : tensor<1xf32>} : tensor<1xf32>
  // expected-error @below {{the gradient of a normalisation's statistic results needs static normalised dims}}
  %y, %inv = onnx.SimplifiedLayerNormalization %x, %w : (tensor<2x?xf32>, tensor<1xf32>) -> (tensor<2x?xf32>, tensor<2x1xf32>)
  return %inv : tensor<2x1xf32>
}

// -----

// ONNX Runtime leaves the Skip variant's mean output empty.
func.func @skip_norm_mean(%x: tensor<2x4xf32>, %k: tensor<2x4xf32>) -> tensor<2x1xf32> {
  %w = onnx.Constant {value = dense<1.0> : tensor<4xf32>} : tensor<4xf32>
  %none = onnx.NoValue
  // expected-error @below {{the mean output of SkipSimplifiedLayerNormalization is not defined (ONNX Runtime leaves it empty): no gradient}}
  %y, %mean, %inv, %sum = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %k, %w, %none : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, none) -> (tensor<2x4xf32>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x4xf32>)
  return %mean : tensor<2x1xf32>
}
