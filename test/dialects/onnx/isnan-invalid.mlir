// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of onnx.IsNaN.

func.func @integer_input(%x: tensor<3xi32>) {
  // expected-error @below {{'onnx.IsNaN' op X must have a float element type, got 'tensor<3xi32>'}}
  %0 = onnx.IsNaN %x : (tensor<3xi32>) -> tensor<3xi1>
  return
}

// -----

func.func @float_result(%x: tensor<3xf32>) {
  // expected-error @below {{'onnx.IsNaN' op Y must have a bool (i1) element type, got 'tensor<3xf32>'}}
  %0 = onnx.IsNaN %x : (tensor<3xf32>) -> tensor<3xf32>
  return
}
