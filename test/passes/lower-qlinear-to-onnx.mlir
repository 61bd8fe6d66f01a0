// Export forms of qaf.qlinear; weights are random blobs appended here.
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx | FileCheck %s --check-prefix=NBITS
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=zero-points=uint8 | FileCheck %s --check-prefix=UINT8
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=zero-points=float | FileCheck %s --check-prefix=FLOAT
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=dequantizelinear | FileCheck %s --check-prefix=DQ
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=gguf 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=zero-points=int4 2>&1 | FileCheck %s --check-prefix=ZEROS
// FORMAT: error: qaf-lower-qlinear-to-onnx: unknown format 'gguf' (matmulnbits or dequantizelinear)
// ZEROS: error: qaf-lower-qlinear-to-onnx: unknown zero-points form 'int4' (auto, uint8 or float)

// Zero points by `zero-points`: NBITS is the default (auto): integers in
// the code range become uint8 codes packed like B, one row of
// ceil(blocks * bits / 8) bytes per output, first code in the low bits; all
// equal to ONNX Runtime's default 2^(bits - 1), no operand at all. UINT8
// always packs; FLOAT keeps the f32 zero points (flattened like the scales).
// The packed bytes are checked in the resource section at the end of each
// split (0x, the 4-byte alignment 01000000, then the bytes).

// 4-bit: MatMulNBits reads the same code blob, reshaped to [N, blocks,
// bytes per block]; scales flattened. Two 7s per row pack into 0x77.
// NBITS-LABEL: func.func @four_bit
// NBITS-DAG: %[[B:.*]] = onnx.Constant {value = dense_resource<w4.qcodes> : tensor<8x2x16xui8>}
// NBITS-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<w4.scales> : tensor<16xf32>}
// NBITS-DAG: %[[Z:.*]] = onnx.Constant {value = dense_resource<w4.zero_points_u8> : tensor<8x1xui8>}
// NBITS: onnx.com.microsoft.MatMulNBits %arg0, %[[B]], %[[S]], %[[Z]], %{{.*}}, %{{.*}} {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8x1xui8>, none, none)
// NBITS-NOT: qaf.qlinear
// NBITS: w4.zero_points_u8: "0x010000007777777777777777"
// UINT8-LABEL: func.func @four_bit
// UINT8: w4.zero_points_u8: "0x010000007777777777777777"
// FLOAT-LABEL: func.func @four_bit
// FLOAT-DAG: %[[B:.*]] = onnx.Constant {value = dense_resource<w4.qcodes> : tensor<8x2x16xui8>}
// FLOAT-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<w4.scales> : tensor<16xf32>}
// FLOAT-DAG: %[[Z:.*]] = onnx.Constant {value = dense<7.000000e+00> : tensor<16xf32>}
// FLOAT: onnx.com.microsoft.MatMulNBits %arg0, %[[B]], %[[S]], %[[Z]], %{{.*}}, %{{.*}} {K = 64 : i64, N = 8 : i64, block_size = 32 : i64}
// FLOAT-NOT: zero_points_u8
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

// Three groups per row: rows [1, 2, 3] and [15, 0, 9] pack into 0x21 0x03
// and 0x0F 0x09 (each row padded to whole bytes).
// NBITS-LABEL: func.func @odd_group_count
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x96xf32>, tensor<2x3x16xui8>, tensor<6xf32>, tensor<2x2xui8>, none, none)
// NBITS: w4o.zero_points_u8: "0x0100000021030F09"
// UINT8-LABEL: func.func @odd_group_count
// UINT8: w4o.zero_points_u8: "0x0100000021030F09"
// FLOAT-LABEL: func.func @odd_group_count
// FLOAT: onnx.Constant {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 1.500000e+01, 0.000000e+00, 9.000000e+00]> : tensor<6xf32>}
// FLOAT: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x96xf32>, tensor<2x3x16xui8>, tensor<6xf32>, tensor<6xf32>, none, none)
func.func @odd_group_count(%x: tensor<?x96xf32>) -> tensor<?x2xf32> {
  %c = onnx.Constant {value = dense_resource<w4o.qcodes> : tensor<2x48xui8>} : tensor<2x48xui8>
  %s = onnx.Constant {value = dense_resource<w4o.scales> : tensor<2x3xf32>} : tensor<2x3xf32>
  %z = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [15.0, 0.0, 9.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x96xf32>, tensor<2x48xui8>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Symmetric 4-bit zero points are all 8, ONNX Runtime's default: auto
// leaves the operand out.
// NBITS-LABEL: func.func @symmetric
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, none, none, none)
// NBITS-NOT: zero_points
// UINT8-LABEL: func.func @symmetric
// UINT8: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8x1xui8>, none, none)
// UINT8: ws.zero_points_u8: "0x010000008888888888888888"
// FLOAT-LABEL: func.func @symmetric
// FLOAT: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<16xf32>, none, none)
func.func @symmetric(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<ws.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense_resource<ws.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<8.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = sym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// 3-bit codes travel in a 4-bit container (new blob; bits = 4 is the
// attribute default). Symmetric 3-bit zero points are 4, not the
// container's default 8: they are written, packed as 4-bit codes.
// NBITS-LABEL: func.func @three_bit
// NBITS: onnx.Constant {value = dense_resource<w3.qcodes4> : tensor<8x2x16xui8>}
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8x1xui8>, none, none)
// NBITS: w3.zero_points_u8: "0x010000004444444444444444"
// UINT8-LABEL: func.func @three_bit
// UINT8: w3.zero_points_u8: "0x010000004444444444444444"
// FLOAT-LABEL: func.func @three_bit
// FLOAT: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<16xf32>, none, none)
// DQ-LABEL: func.func @three_bit
// DQ: onnx.DequantizeLinear {{.*}} : (tensor<64x8xui4>, tensor<2x8xf32>, tensor<2x8xui4>) -> tensor<64x8xf32>
func.func @three_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w3.qcodes> : tensor<8x24xui8>} : tensor<8x24xui8>
  %s = onnx.Constant {value = dense_resource<w3.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<4.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = sym>} : (tensor<?x64xf32>, tensor<8x24xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// 2-bit: four codes per byte; rows [0, 3] and [2, 1] pack into 0x0C and
// 0x06.
// NBITS-LABEL: func.func @two_bit
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 2 : i64, bits = 2 : i64, block_size = 32 : i64} : (tensor<?x64xf32>, tensor<2x2x8xui8>, tensor<4xf32>, tensor<2x1xui8>, none, none)
// NBITS: w2.zero_points_u8: "0x010000000C06"
// UINT8-LABEL: func.func @two_bit
// UINT8: w2.zero_points_u8: "0x010000000C06"
// FLOAT-LABEL: func.func @two_bit
// FLOAT: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<2x2x8xui8>, tensor<4xf32>, tensor<4xf32>, none, none)
func.func @two_bit(%x: tensor<?x64xf32>) -> tensor<?x2xf32> {
  %c = onnx.Constant {value = dense_resource<w2.qcodes> : tensor<2x16xui8>} : tensor<2x16xui8>
  %s = onnx.Constant {value = dense_resource<w2.scales> : tensor<2x2xf32>} : tensor<2x2xf32>
  %z = onnx.Constant {value = dense<[[0.0, 3.0], [2.0, 1.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 2, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<2x16xui8>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// 8-bit MatMulNBits takes uint8 zero points only, whatever the choice;
// 128 is its default, which auto leaves out.
// NBITS-LABEL: func.func @eight_bit
// NBITS: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<?x64xf32>, tensor<8x2x32xui8>, tensor<16xf32>, none, none, none)
// UINT8-LABEL: func.func @eight_bit
// UINT8: onnx.Constant {value = dense_resource<w8.zero_points_u8> : tensor<8x2xui8>}
// UINT8: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, bits = 8 : i64, block_size = 32 : i64}
// FLOAT-LABEL: func.func @eight_bit
// FLOAT: onnx.Constant {value = dense_resource<w8.zero_points_u8> : tensor<8x2xui8>}
// FLOAT: onnx.com.microsoft.MatMulNBits {{.*}} {K = 64 : i64, N = 8 : i64, bits = 8 : i64, block_size = 32 : i64}
// FLOAT: w8.zero_points_u8: "0x0100000080808080808080808080808080808080"
// DQ-LABEL: func.func @eight_bit
// DQ: onnx.DequantizeLinear {{.*}} : (tensor<64x8xui8>, tensor<2x8xf32>, tensor<2x8xui8>) -> tensor<64x8xf32>
func.func @eight_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w8.qcodes> : tensor<8x64xui8>} : tensor<8x64xui8>
  %s = onnx.Constant {value = dense_resource<w8.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<128.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 8, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
