// RUN: qaf-opt %s | qaf-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s --check-prefix=INFER

// com.microsoft.GatherBlockQuantized: the print/parse round trip and shape
// inference: packed uint8 data (N, K * bits / 8) gives rows of K values of
// the scales' type, indices.shape + (K).

// ROUNDTRIP-LABEL: func.func @packed_int4
// ROUNDTRIP: onnx.com.microsoft.GatherBlockQuantized %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_size = 32 : i64} : (tensor<10x32xui8>, tensor<2x?xi64>, tensor<10x2xf16>, none) -> tensor<*xf16>
// INFER-LABEL: func.func @packed_int4
// INFER-SAME: -> tensor<2x?x64xf16>
func.func @packed_int4(%d: tensor<10x32xui8>, %i: tensor<2x?xi64>, %s: tensor<10x2xf16>) -> tensor<*xf16> {
  %none = onnx.NoValue
  %y = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 32 : i64, bits = 4 : i64} : (tensor<10x32xui8>, tensor<2x?xi64>, tensor<10x2xf16>, none) -> tensor<*xf16>
  return %y : tensor<*xf16>
}

// INFER-LABEL: func.func @packed_int8
// INFER-SAME: -> tensor<3x16xf32>
func.func @packed_int8(%d: tensor<10x16xui8>, %i: tensor<3xi32>, %s: tensor<10x1xf32>, %z: tensor<10x1xui8>) -> tensor<*xf32> {
  %y = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %z {block_size = 16 : i64, bits = 8 : i64} : (tensor<10x16xui8>, tensor<3xi32>, tensor<10x1xf32>, tensor<10x1xui8>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// uint4 data (one code per element): the logical shape is data's.
// INFER-LABEL: func.func @uint4
// INFER-SAME: -> tensor<2x64xf32>
func.func @uint4(%d: tensor<10x64xui4>, %i: tensor<2xi64>, %s: tensor<10x4xf32>) -> tensor<*xf32> {
  %none = onnx.NoValue
  %y = onnx.com.microsoft.GatherBlockQuantized %d, %i, %s, %none {block_size = 16 : i64} : (tensor<10x64xui4>, tensor<2xi64>, tensor<10x4xf32>, none) -> tensor<*xf32>
  return %y : tensor<*xf32>
}
