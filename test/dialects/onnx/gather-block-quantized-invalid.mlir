// RUN: qaf-opt %s -split-input-file -verify-diagnostics

// One case per verifier error of onnx.com.microsoft.GatherBlockQuantized.

func.func @bits(%d: tensor<4x8xui8>, %i: tensor<2xi64>, %s: tensor<4x1xf32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op bits must be 4 or 8, got 2}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {bits = 2 : i64, block_size = 16 : i64} : (tensor<4x8xui8>, tensor<2xi64>, tensor<4x1xf32>, none) -> tensor<*xf32>
  return
}

// -----

func.func @block_size(%d: tensor<4x8xui8>, %i: tensor<2xi64>, %s: tensor<4x1xf32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op block_size must be a power of 2 and at least 16, got 24}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 24 : i64} : (tensor<4x8xui8>, tensor<2xi64>, tensor<4x1xf32>, none) -> tensor<*xf32>
  return
}

// -----

func.func @float_data(%d: tensor<4x8xf32>, %i: tensor<2xi64>, %s: tensor<4x1xf32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op data must be uint8, int4 or uint4, got 'tensor<4x8xf32>'}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 16 : i64} : (tensor<4x8xf32>, tensor<2xi64>, tensor<4x1xf32>, none) -> tensor<*xf32>
  return
}

// -----

func.func @integer_scales(%d: tensor<4x8xui8>, %i: tensor<2xi64>, %s: tensor<4x1xi32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op scales must be float, float16 or bfloat16, got 'tensor<4x1xi32>'}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 16 : i64} : (tensor<4x8xui8>, tensor<2xi64>, tensor<4x1xi32>, none) -> tensor<*xf32>
  return
}

// -----

func.func @zero_point_type(%d: tensor<4x8xui8>, %i: tensor<2xi64>, %s: tensor<4x1xf32>, %z: tensor<4x1xf32>) {
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op zero_points must have data's element type, got 'tensor<4x1xf32>'}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %z {block_size = 16 : i64} : (tensor<4x8xui8>, tensor<2xi64>, tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @packed_axes(%d: tensor<4x8xui8>, %i: tensor<2xi64>, %s: tensor<1x8xf32>) {
  %none = onnx.NoValue
  // expected-error @below {{'onnx.com.microsoft.GatherBlockQuantized' op uint8 data needs gather_axis 0 and quantize_axis the last axis (its codes are packed along it)}}
  %0 = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 16 : i64, quantize_axis = 0 : i64} : (tensor<4x8xui8>, tensor<2xi64>, tensor<1x8xf32>, none) -> tensor<*xf32>
  return
}
