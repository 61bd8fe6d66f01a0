// RUN: qaf-opt %s | qaf-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s --check-prefix=INFER

// IsNaN: the print/parse round trip, and shape inference (the input's shape,
// bool elements, whatever the float type).

// ROUNDTRIP-LABEL: func.func @isnan_f16
// ROUNDTRIP: onnx.IsNaN %{{.*}} : (tensor<2x?xf16>) -> tensor<*xi1>
// INFER-LABEL: func.func @isnan_f16
// INFER-SAME: -> tensor<2x?xi1>
func.func @isnan_f16(%x: tensor<2x?xf16>) -> tensor<*xi1> {
  %0 = onnx.IsNaN %x : (tensor<2x?xf16>) -> tensor<*xi1>
  return %0 : tensor<*xi1>
}

// INFER-LABEL: func.func @isnan_bf16
// INFER-SAME: -> tensor<4xi1>
func.func @isnan_bf16(%x: tensor<4xbf16>) -> tensor<*xi1> {
  %0 = onnx.IsNaN %x : (tensor<4xbf16>) -> tensor<*xi1>
  return %0 : tensor<*xi1>
}
