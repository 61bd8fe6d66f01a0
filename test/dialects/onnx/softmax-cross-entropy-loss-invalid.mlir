// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of onnx.SoftmaxCrossEntropyLoss.

func.func @reduction(%s: tensor<2x3xf32>, %l: tensor<2xi64>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op reduction must be "none", "sum" or "mean", got "max"}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none {reduction = "max"} : (tensor<2x3xf32>, tensor<2xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @integer_scores(%s: tensor<2x3xi32>, %l: tensor<2xi64>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op scores must have a float element type, got 'tensor<2x3xi32>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none : (tensor<2x3xi32>, tensor<2xi64>, none) -> (tensor<*xi32>, tensor<*xi32>)
  return
}

// -----

func.func @float_labels(%s: tensor<2x3xf32>, %l: tensor<2xf32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op labels must be int32 or int64, got 'tensor<2xf32>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none : (tensor<2x3xf32>, tensor<2xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @scores_rank(%s: tensor<3xf32>, %l: tensor<i64>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op scores must have rank 2 or more (N, C, ...), got 'tensor<3xf32>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none : (tensor<3xf32>, tensor<i64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @labels_rank(%s: tensor<2x3x4xf32>, %l: tensor<2xi64>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op labels must have rank 2, got 'tensor<2xi64>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none : (tensor<2x3x4xf32>, tensor<2xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

// labels (N, d1) must match scores (N, C, d1) outside the class dim.
func.func @labels_dim(%s: tensor<2x3x4xf32>, %l: tensor<2x5xi64>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op labels must have size 4 in dimension 1, got 'tensor<2x5xi64>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %none : (tensor<2x3x4xf32>, tensor<2x5xi64>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @weights_size(%s: tensor<2x3xf32>, %l: tensor<2xi64>, %w: tensor<4xf32>) {
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op weights must have size 3 in dimension 0, got 'tensor<4xf32>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %w : (tensor<2x3xf32>, tensor<2xi64>, tensor<4xf32>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}

// -----

func.func @weights_type(%s: tensor<2x3xf32>, %l: tensor<2xi64>, %w: tensor<3xf64>) {
  // expected-error @below {{'onnx.SoftmaxCrossEntropyLoss' op weights must have the element type of scores, got 'tensor<3xf64>'}}
  %0:2 = onnx.SoftmaxCrossEntropyLoss %s, %l, %w : (tensor<2x3xf32>, tensor<2xi64>, tensor<3xf64>) -> (tensor<*xf32>, tensor<*xf32>)
  return
}
