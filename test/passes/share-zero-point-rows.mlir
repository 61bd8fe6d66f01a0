// RUN: qaf-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(qaf-share-zero-point-rows))" | FileCheck %s

// Zero points whose rows are all equal (ORT GenAI's implicit 2^(bits-1))
// become one [1, K / g] row broadcast by onnx.Expand; the layer and its
// input gradient read the same Expand, and the full constant is gone.
// CHECK-LABEL: func.func @equal_rows
// CHECK-DAG: %[[ROW:.*]] = onnx.Constant {value = dense_resource<zero_points.row> : tensor<1x2xf32>} : tensor<1x2xf32>
// CHECK-DAG: %[[SHAPE:.*]] = onnx.Constant {value = dense<[3, 2]> : tensor<2xi64>} : tensor<2xi64>
// CHECK: %[[Z:.*]] = onnx.Expand %[[ROW]], %[[SHAPE]] : (tensor<1x2xf32>, tensor<2xi64>) -> tensor<3x2xf32>
// CHECK-NOT: tensor<3x2xf32>} : tensor<3x2xf32>
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %[[Z]]
// CHECK: qaf.qlinear_transposed %{{.*}}, %{{.*}}, %{{.*}} zero_points(%[[Z]])
// The row holds 8.0 and 7.0 (little-endian f32 after the blob's alignment).
// CHECK: zero_points.row: "0x04000000000000410000E040"
func.func @equal_rows(%x: tensor<?x64xf32>, %g: tensor<?x3xf32>, %codes: tensor<3x32xui8>, %s: tensor<3x2xf32>) -> (tensor<?x3xf32>, tensor<?x64xf32>) {
  %z = onnx.Constant {value = dense<[[8.0, 7.0], [8.0, 7.0], [8.0, 7.0]]> : tensor<3x2xf32>} : tensor<3x2xf32>
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<3x32xui8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
  %dx = qaf.qlinear_transposed %g, %codes, %s zero_points(%z) {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x3xf32>, tensor<3x32xui8>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<?x64xf32>
  return %y, %dx : tensor<?x3xf32>, tensor<?x64xf32>
}

// -----

// Rows that differ in one value (qaf's own quantizer, merged models) stay.
// CHECK-LABEL: func.func @different_rows
// CHECK: %[[Z:.*]] = onnx.Constant {value = dense<{{\[\[}}8.000000e+00, 7.000000e+00], [8.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>} : tensor<2x2xf32>
// CHECK-NOT: onnx.Expand
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %[[Z]]
func.func @different_rows(%x: tensor<?x64xf32>, %codes: tensor<2x32xui8>, %s: tensor<2x2xf32>) -> tensor<?x2xf32> {
  %z = onnx.Constant {value = dense<[[8.0, 7.0], [8.0, 6.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<2x32xui8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A constant another op also reads keeps its full form for that op.
// CHECK-LABEL: func.func @also_read_elsewhere
// CHECK: %[[E:.*]] = onnx.Expand
// CHECK: %[[Z:.*]] = onnx.Constant {value = dense<8.000000e+00> : tensor<2x2xf32>} : tensor<2x2xf32>
// CHECK: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}}, %[[E]]
// CHECK: onnx.Add %[[Z]], %[[Z]]
func.func @also_read_elsewhere(%x: tensor<?x64xf32>, %codes: tensor<2x32xui8>, %s: tensor<2x2xf32>) -> (tensor<?x2xf32>, tensor<2x2xf32>) {
  %z = onnx.Constant {value = dense<8.0> : tensor<2x2xf32>} : tensor<2x2xf32>
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<2x32xui8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %sum = onnx.Add %z, %z : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y, %sum : tensor<?x2xf32>, tensor<2x2xf32>
}
