// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of onnx.GatherND.

func.func @int32_indices(%x: tensor<4x5xf32>, %i: tensor<2x1xi32>) {
  // expected-error @below {{'onnx.GatherND' op indices must be int64, got 'tensor<2x1xi32>'}}
  %0 = onnx.GatherND %x, %i : (tensor<4x5xf32>, tensor<2x1xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @scalar_indices(%x: tensor<4x5xf32>, %i: tensor<i64>) {
  // expected-error @below {{'onnx.GatherND' op indices must have rank >= 1}}
  %0 = onnx.GatherND %x, %i : (tensor<4x5xf32>, tensor<i64>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_dims_too_large(%x: tensor<4x5xf32>, %i: tensor<4x1xi64>) {
  // expected-error @below {{'onnx.GatherND' op batch_dims 2 must lie in [0, min(rank of data, rank of indices))}}
  %0 = onnx.GatherND %x, %i {batch_dims = 2 : i64} : (tensor<4x5xf32>, tensor<4x1xi64>) -> tensor<*xf32>
  return
}

// -----

func.func @batch_mismatch(%x: tensor<4x5xf32>, %i: tensor<3x1xi64>) {
  // expected-error @below {{'onnx.GatherND' op batch dim 0 has size 4 in data but 3 in indices}}
  %0 = onnx.GatherND %x, %i {batch_dims = 1 : i64} : (tensor<4x5xf32>, tensor<3x1xi64>) -> tensor<*xf32>
  return
}

// -----

func.func @tuple_too_long(%x: tensor<4x5xf32>, %i: tensor<2x3xi64>) {
  // expected-error @below {{'onnx.GatherND' op index tuples of length 3 after 0 batch dims exceed the data's rank 2}}
  %0 = onnx.GatherND %x, %i : (tensor<4x5xf32>, tensor<2x3xi64>) -> tensor<*xf32>
  return
}
