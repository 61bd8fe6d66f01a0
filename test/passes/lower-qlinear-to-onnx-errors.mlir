// What has no export form is an error naming the layer; weights are random
// blobs appended here. Splits that do export print their IR (checked by the
// *-IR prefixes, stdout only).
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx 2>&1 >/dev/null | FileCheck %s --check-prefix=NBITS
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx 2>/dev/null | FileCheck %s --check-prefix=NBITS-IR
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=zero-points=uint8 2>&1 >/dev/null | FileCheck %s --check-prefix=UINT8
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=dequantizelinear 2>&1 >/dev/null | FileCheck %s --check-prefix=DQ
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=dequantizelinear 2>/dev/null | FileCheck %s --check-prefix=DQ-IR

// Fractional zero points (what merges leave): 4-bit MatMulNBits keeps them
// as floats (auto); asked for as uint8 they are an error naming the weight,
// and DequantizeLinear cannot take them.
// NBITS-IR-LABEL: func.func @fractional
// NBITS-IR: %[[Z:.*]] = onnx.Constant {value = dense<7.250000e+00> : tensor<16xf32>}
// NBITS-IR: onnx.com.microsoft.MatMulNBits {{.*}}, %[[Z]], {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<16xf32>, none, none)
func.func @fractional(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<wf.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense_resource<wf.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<7.25> : tensor<8x2xf32>} : tensor<8x2xf32>
  // DQ: error: 'qaf.qlinear' op cannot be exported as DequantizeLinear: zero point 7.250000e+00 of row 0, group 0 is not an integer (merged adapters leave fractional zero points; use the matmulnbits format)
  // UINT8: error: 'qaf.qlinear' op cannot be exported as 4-bit MatMulNBits: zero point 7.250000e+00 of row 0, group 0 of 'wf' is not an integer in [0, 15] (uint8 zero points were asked for; fractional ones, which merges leave, need zero-points=auto or float)
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// 8-bit MatMulNBits takes no float zero points, whatever the choice.
func.func @fractional_eight_bit(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c8 = onnx.Constant {value = dense_resource<wf8.qcodes> : tensor<8x64xui8>} : tensor<8x64xui8>
  %s = onnx.Constant {value = dense_resource<wf8.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<[[128.0, 128.0], [128.0, 7.25], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]> : tensor<8x2xf32>} : tensor<8x2xf32>
  // NBITS: error: 'qaf.qlinear' op cannot be exported as 8-bit MatMulNBits: zero point 7.250000e+00 of row 1, group 1 of 'wf8' is not an integer in [0, 255] (ONNX Runtime takes float zero points only for 2 and 4 bits; use the dequantizelinear format)
  // UINT8: error: 'qaf.qlinear' op cannot be exported as 8-bit MatMulNBits: zero point 7.250000e+00 of row 1, group 1 of 'wf8' is not an integer in [0, 255]
  %y8 = qaf.qlinear %x, %c8, %s, %z {format = #qaf.qformat<bits = 8, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y8 : tensor<?x8xf32>
}

// -----

// Integer zero points outside the code range: auto keeps them as floats,
// uint8 refuses them, and they widen the DequantizeLinear type.
// NBITS-IR-LABEL: func.func @beyond_code_range
// NBITS-IR: onnx.com.microsoft.MatMulNBits {{.*}} : (tensor<?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<16xf32>, none, none)
// DQ-IR-LABEL: func.func @beyond_code_range
// DQ-IR: onnx.DequantizeLinear {{.*}} : (tensor<64x8xsi8>, tensor<2x8xf32>, tensor<2x8xsi8>) -> tensor<64x8xf32>
func.func @beyond_code_range(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<w3n.qcodes> : tensor<8x24xui8>} : tensor<8x24xui8>
  %s = onnx.Constant {value = dense_resource<w3n.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<-3.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  // UINT8: error: 'qaf.qlinear' op cannot be exported as 4-bit MatMulNBits: zero point -3.000000e+00 of row 0, group 0 of 'w3n' is not an integer in [0, 15]
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x24xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @normal_float(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<wn.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense_resource<wn.scales> : tensor<8x1xf32>} : tensor<8x1xf32>
  // NBITS: error: 'qaf.qlinear' op cannot be exported: nf weights are codebook values, which neither MatMulNBits nor DequantizeLinear expresses
  // DQ: error: 'qaf.qlinear' op cannot be exported: nf weights are codebook values
  %y = qaf.qlinear %x, %c, %s {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x1xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @odd_group(%x: tensor<?x96xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<wg.qcodes> : tensor<8x48xui8>} : tensor<8x48xui8>
  %s = onnx.Constant {value = dense_resource<wg.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<7.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  // NBITS: error: 'qaf.qlinear' op cannot be exported as MatMulNBits: its group size 48 is not a power of two >= 16 (use the dequantizelinear format)
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 48, scheme = asym>} : (tensor<?x96xf32>, tensor<8x48xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// A zero point beyond int32 has no DequantizeLinear type.
func.func @huge_zero(%x: tensor<?x64xf32>) -> tensor<?x8xf32> {
  %c = onnx.Constant {value = dense_resource<wh.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense_resource<wh.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<2147483648.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  // DQ: error: 'qaf.qlinear' op cannot be exported as DequantizeLinear: zero point 2.147484e+09 of row 0, group 0 is outside int32
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Scales of another float type are refused rather than misread.
func.func @f16_scales(%x: tensor<?x64xf16>) -> tensor<?x8xf16> {
  %c = onnx.Constant {value = dense_resource<wf16.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %s = onnx.Constant {value = dense<1.0> : tensor<8x2xf16>} : tensor<8x2xf16>
  %z = onnx.Constant {value = dense<3.0> : tensor<8x2xf16>} : tensor<8x2xf16>
  // NBITS: error: 'qaf.qlinear' op cannot be exported: its scales and zero points must be f32
  // DQ: error: 'qaf.qlinear' op cannot be exported: its scales and zero points must be f32
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf16>, tensor<8x32xui8>, tensor<8x2xf16>, tensor<8x2xf16>) -> tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}
