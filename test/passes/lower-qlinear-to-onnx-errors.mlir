// What has no export form is an error naming the layer; weights are random
// blobs appended here.
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx 2>&1 | FileCheck %s --check-prefix=NBITS
// RUN: not qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx=format=dequantizelinear 2>&1 | FileCheck %s --check-prefix=DQ

// Fractional zero points (what merges leave): 4-bit MatMulNBits keeps them,
// 8-bit MatMulNBits and DequantizeLinear cannot.
func.func @fractional(%x: tensor<?x64xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %c = onnx.Constant {value = dense_resource<wf.qcodes> : tensor<8x32xui8>} : tensor<8x32xui8>
  %c8 = onnx.Constant {value = dense_resource<wf8.qcodes> : tensor<8x64xui8>} : tensor<8x64xui8>
  %s = onnx.Constant {value = dense_resource<wf.scales> : tensor<8x2xf32>} : tensor<8x2xf32>
  %z = onnx.Constant {value = dense<7.25> : tensor<8x2xf32>} : tensor<8x2xf32>
  // DQ: error: 'qaf.qlinear' op cannot be exported as DequantizeLinear: zero point 7.250000e+00 of row 0, group 0 is not an integer (merged adapters leave fractional zero points; use the matmulnbits format)
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  // NBITS: error: 'qaf.qlinear' op cannot be exported as 8-bit MatMulNBits: zero point 7.250000e+00 of row 0, group 0 is not an integer in [0, 255] (ONNX Runtime takes float zero points only for 2 and 4 bits; use the dequantizelinear format)
  %y8 = qaf.qlinear %x, %c8, %s, %z {format = #qaf.qformat<bits = 8, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y, %y8 : tensor<?x8xf32>, tensor<?x8xf32>
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
