// RUN: qaf-opt %s --qaf-quantize-weights | FileCheck %s
// RUN: qaf-opt %s --qaf-quantize-weights --qaf-lower-qlinear-to-onnx | FileCheck %s --check-prefix=BACK
// qaf-raise-matmulnbits raises these layers the same way (one
// implementation) and says why it leaves one.
// RUN: qaf-opt %s --qaf-raise-matmulnbits 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// REMARK: remark: left as MatMulNBits: g_idx and bias are not raised
// REMARK-NOT: remark

// ONNX Runtime MatMulNBits layers with constant weights (ORT GenAI's int4
// models) become qaf.qlinear over the same codes (B reshaped to [N, K/2],
// not requantized), the same scales ([N, blocks]) and float zero points
// unpacked from MatMulNBits' uint8 ones: 0x21 0x03 / 0x0F 0x09 (each row
// padded to whole bytes) are 1, 2, 3 / 15, 0, 9, i.e. the f32 bytes
// 0000803F 00000040 00004040 / 00007041 00000000 00001041.
// CHECK-LABEL: func.func @packed_zero_points
// CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense<17> : tensor<2x48xui8>}
// CHECK-DAG: %[[S:.*]] = onnx.Constant {value = dense<{{\[\[}}5.000000e-01, 1.000000e+00, 1.500000e+00], [2.000000e+00, 2.500000e+00, 3.000000e+00]]> : tensor<2x3xf32>}
// CHECK-DAG: %[[Z:.*]] = onnx.Constant {value = dense_resource<w.zero_points> : tensor<2x3xf32>}
// CHECK: qaf.qlinear %arg0, %[[C]], %[[S]], %[[Z]] {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, qaf.ort_accuracy_level = 4 : i64} : (tensor<?x96xf32>, tensor<2x48xui8>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
// CHECK-NOT: MatMulNBits
// Exported again, the layer is the MatMulNBits it was, accuracy_level too.
// BACK-LABEL: func.func @packed_zero_points
// BACK: onnx.com.microsoft.MatMulNBits %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {K = 96 : i64, N = 2 : i64, accuracy_level = 4 : i64, block_size = 32 : i64} : (tensor<?x96xf32>, tensor<2x3x16xui8>, tensor<6xf32>, tensor<2x2xui8>, none, none)
// BACK-LABEL: func.func @default_zero_points
// BACK: onnx.com.microsoft.MatMulNBits %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {K = 32 : i64, N = 3 : i64, bits = 8 : i64, block_size = 16 : i64} : (tensor<2x5x32xf32>, tensor<3x2x16xui8>, tensor<6xf32>, none, none, none)
func.func @packed_zero_points(%x: tensor<?x96xf32>) -> tensor<?x2xf32> {
  %b = onnx.Constant {value = dense<17> : tensor<2x3x16xui8>} : tensor<2x3x16xui8> loc("w")
  %s = onnx.Constant {value = dense<[0.5, 1.0, 1.5, 2.0, 2.5, 3.0]> : tensor<6xf32>} : tensor<6xf32>
  %z = onnx.Constant {value = dense<[[33, 3], [15, 9]]> : tensor<2x2xui8>} : tensor<2x2xui8>
  %none = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %x, %b, %s, %z, %none, %none {K = 96 : i64, N = 2 : i64, block_size = 32 : i64, accuracy_level = 4 : i64} : (tensor<?x96xf32>, tensor<2x3x16xui8>, tensor<6xf32>, tensor<2x2xui8>, none, none) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// The accuracy_level ONNX Runtime computes the layer with is kept for the
// export (lower-qlinear-to-onnx.mlir); 0, the default, is not kept.
// Without zero points the zero is 2^(bits - 1): 128.0 (0x43000000) for
// 8-bit codes, which keep their width.
// CHECK-LABEL: func.func @default_zero_points
// CHECK: qaf.qlinear %arg0, %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 8, group_size = 16, scheme = asym>} : (tensor<2x5x32xf32>, tensor<3x32xui8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<2x5x3xf32>
func.func @default_zero_points(%x: tensor<2x5x32xf32>) -> tensor<2x5x3xf32> {
  %b = onnx.Constant {value = dense<200> : tensor<3x2x16xui8>} : tensor<3x2x16xui8> loc("w8")
  %s = onnx.Constant {value = dense<0.25> : tensor<3x2xf32>} : tensor<3x2xf32>
  %none = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %x, %b, %s, %none, %none, %none {K = 32 : i64, N = 3 : i64, bits = 8 : i64, block_size = 16 : i64} : (tensor<2x5x32xf32>, tensor<3x2x16xui8>, tensor<3x2xf32>, none, none, none) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

// A bias (or g_idx) has no qaf.qlinear equivalent: the layer stays
// MatMulNBits, which compiles as it is.
// CHECK-LABEL: func.func @with_bias
// CHECK: onnx.com.microsoft.MatMulNBits
// CHECK-NOT: qaf.qlinear
func.func @with_bias(%x: tensor<?x32xf32>) -> tensor<?x2xf32> {
  %b = onnx.Constant {value = dense<17> : tensor<2x1x16xui8>} : tensor<2x1x16xui8>
  %s = onnx.Constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %bias = onnx.Constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %none = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %x, %b, %s, %none, %none, %bias {K = 32 : i64, N = 2 : i64, block_size = 32 : i64} : (tensor<?x32xf32>, tensor<2x1x16xui8>, tensor<2xf32>, none, none, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// CHECK: w.zero_points: "0x040000000000803F0000004000004040000070410000000000001041"
// BACK: w.zero_points_u8: "0x010000002103
// CHECK: w8.zero_points: "0x04000000000000430000004300000043000000430000004300000043"
