// RUN: qaf-opt %s | qaf-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s --check-prefix=INFER

// GatherND: the print/parse round trip (batch_dims 0 is not printed) and
// shape inference: indices.shape[:-1] + data.shape[batch_dims + k:].

// ROUNDTRIP-LABEL: func.func @elements
// ROUNDTRIP: onnx.GatherND %{{.*}}, %{{.*}} : (tensor<4x5x3xf32>, tensor<7x3xi64>) -> tensor<*xf32>
// INFER-LABEL: func.func @elements
// INFER-SAME: -> tensor<7xf32>
func.func @elements(%x: tensor<4x5x3xf32>, %i: tensor<7x3xi64>) -> tensor<*xf32> {
  %y = onnx.GatherND %x, %i {batch_dims = 0 : i64} : (tensor<4x5x3xf32>, tensor<7x3xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// ROUNDTRIP-LABEL: func.func @batch
// ROUNDTRIP: onnx.GatherND %{{.*}}, %{{.*}} {batch_dims = 1 : i64}
// INFER-LABEL: func.func @batch
// INFER-SAME: -> tensor<4x?x2x3xf16>
func.func @batch(%x: tensor<4x5x3xf16>, %i: tensor<?x?x2x1xi64>) -> tensor<*xf16> {
  %y = onnx.GatherND %x, %i {batch_dims = 1 : i64} : (tensor<4x5x3xf16>, tensor<?x?x2x1xi64>) -> tensor<*xf16>
  return %y : tensor<*xf16>
}

// The tuple length unknown: only the element type.
// INFER-LABEL: func.func @dynamic_tuple
// INFER-SAME: -> tensor<*xi32>
func.func @dynamic_tuple(%x: tensor<4x5xi32>, %i: tensor<2x?xi64>) -> tensor<*xi32> {
  %y = onnx.GatherND %x, %i : (tensor<4x5xi32>, tensor<2x?xi64>) -> tensor<*xi32>
  return %y : tensor<*xi32>
}
