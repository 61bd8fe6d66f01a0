// Export forms of qaf.qlinear; weights are random blobs appended here.
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx | FileCheck %s --check-prefix=NBITS
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=dequantizelinear | FileCheck %s --check-prefix=DQ
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=gguf 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: qaf-lower-qlinear-to-onnx: unknown format 'gguf' (matmulnbits or dequantizelinear)

// 4-bit: MatMulNBits reads the same code blob, reshaped to [N, blocks,
// bytes per block]; scales and float zero points flattened.
// NBITS-LABEL: func.func @four_bit
// NBITS-DAG: %[[B:.*]] = onnx.Constant {value = dense_resource<w4.qcodes> : tensor<8x2x16xui8>}
// NBITS-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<w4.scales> : tensor<16xf32>}
// NBITS-DAG: %[[Z:.*]] = onnx.Constant {value = dense<7.000000e+00> : tensor<16xf32>}
// NBITS: onnx.com.microsoft.MatMulNBits %arg0, %[[B]], %[[S]], %[[Z]], %{{.*}}, %{{.*}} {K = 64 : i64, N = 8 : i64, block_size = 32 : i64}
// NBITS-NOT: qaf.qlinear
// DQ-LABEL: func.func @four_bit
// DQ-DAG: %[[X:.*]] = onnx.Constant {value = dense_resource<w4.qcodes_kn> : tensor<64x8xui4>}
// DQ-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<w4.scales_gn> : tensor<2x8xf32>}
// DQ-DAG: %[[Z:.*]] = onnx.Constant {value = dense_resource<w4.zero_points_gn> : tensor<2x8xui4>}
// DQ: %[[W:.*]] = onnx.DequantizeLinear %[[X]], %[[S]], %[[Z]] {axis = 0 : i64, block_size = 32 : i64} : (tensor<64x8xui4>, tensor<2x8xf32>, tensor<2x8xui4>) -> tensor<64x8xf32>
// DQ: onnx.MatMul %arg0, %[[W]] : (tensor<?x64xf32>, tensor<64x8xf32>) -> tensor<?x8xf32>
func.func @four_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w4.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense_resource<w4.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<7.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// 3-bit codes travel in a 4-bit container (new blob; bits = 4 is the
// attribute default); zero points beyond
// the code range widen the DequantizeLinear type.
// NBITS-LABEL: func.func @three_bit
// NBITS: onnx.Constant {value = dense_resource<w3.qcodes4> : tensor<8x2x16xui8>}
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, block_size = 32 : i64}
// DQ-LABEL: func.func @three_bit
// DQ: onnx.DequantizeLinear {{.*}} : (tensor<64x8xsi8>, tensor<2x8xf32>, tensor<2x8xsi8>) -> tensor<64x8xf32>
func.func @three_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w3.qcodes> : tensor<8x24xui8>} : tensor<8x24xui8>
  %s = onnx.Constant {value = dense_resource<w3.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<-3.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x24xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// 8-bit MatMulNBits takes uint8 zero points.
// NBITS-LABEL: func.func @eight_bit
// NBITS: onnx.Constant {value = dense_resource<w8.zero_points_u8> : tensor<8x2xui8>}
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, bits = 8 : i64, block_size = 32 : i64}
// DQ-LABEL: func.func @eight_bit
// DQ: onnx.DequantizeLinear {{.*}} : (tensor<64x8xui8>, tensor<2x8xf32>, tensor<2x8xui8>) -> tensor<64x8xf32>
func.func @eight_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w8.qcodes> : tensor<8x64xui8>} : tensor<8x64xui8>
  %s = onnx.Constant {value = dense_resource<w8.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<128.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 8, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

