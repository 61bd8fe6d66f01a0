// RUN: qaf-opt %s | qaf-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s --check-prefix=INFER

// SoftmaxCrossEntropyLoss: the print/parse round trip (the default
// reduction "mean" is not printed) and shape inference: the loss has the
// labels' shape with reduction "none", else it is a scalar; log_prob has the
// scores' shape.

// ROUNDTRIP-LABEL: func.func @mean_ignore_index
// ROUNDTRIP: onnx.SoftmaxCrossEntropyLoss %{{.*}}, %{{.*}}, %{{.*}} {ignore_index = -100 : i64} : (tensor<2x7x5xf32>, tensor<2x5xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
// INFER-LABEL: func.func @mean_ignore_index
// INFER-SAME: -> (tensor<f32>, tensor<2x7x5xf32>)
func.func @mean_ignore_index(%scores: tensor<2x7x5xf32>, %labels: tensor<2x5xi64>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %loss, %log_prob = onnx.SoftmaxCrossEntropyLoss %scores, %labels, %none {ignore_index = -100 : i64, reduction = "mean"} : (tensor<2x7x5xf32>, tensor<2x5xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %loss, %log_prob : tensor<*xf32>, tensor<*xf32>
}

// ROUNDTRIP-LABEL: func.func @none_weights
// ROUNDTRIP: onnx.SoftmaxCrossEntropyLoss %{{.*}}, %{{.*}}, %{{.*}} {reduction = "none"}
// INFER-LABEL: func.func @none_weights
// INFER-SAME: -> tensor<?x3xf64>
func.func @none_weights(%scores: tensor<?x4x3xf64>, %labels: tensor<?x3xi32>, %weights: tensor<4xf64>) -> tensor<*xf64> {
  %loss, %log_prob = onnx.SoftmaxCrossEntropyLoss %scores, %labels, %weights {reduction = "none"} : (tensor<?x4x3xf64>, tensor<?x3xi32>, tensor<4xf64>) -> (tensor<*xf64>, tensor<*xf64>)
  return %loss : tensor<*xf64>
}
