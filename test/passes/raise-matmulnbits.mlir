// qaf-raise-matmulnbits is the inverse of qaf-lower-qlinear-to-onnx: the
// MatMulNBits layers the export forms of lower-qlinear-to-onnx.mlir write
// (2, 4 and 8 bits, packed uint8, default and float zero points) raise to
// qaf.qlinear, and lowering them again writes the very same blobs (codes,
// scales and zero points byte for byte): nothing was dequantized.
// RUN: %python %S/Inputs/append_blobs.py %S/lower-qlinear-to-onnx.mlir > %t.mlir
// RUN: qaf-opt %t.mlir --split-input-file --qaf-lower-qlinear-to-onnx > %t.lowered.mlir
// RUN: qaf-opt %t.lowered.mlir --split-input-file --qaf-raise-matmulnbits | FileCheck %s
// RUN: qaf-opt %t.lowered.mlir --split-input-file --qaf-raise-matmulnbits --qaf-lower-qlinear-to-onnx > %t.again.mlir
// RUN: grep -oE ': "0x[0-9A-F]+"' %t.lowered.mlir | sort > %t.blobs
// RUN: grep -oE ': "0x[0-9A-F]+"' %t.again.mlir | sort > %t.blobs.again
// RUN: diff %t.blobs %t.blobs.again
// RUN: grep -c '"0x' %t.blobs | FileCheck %s --check-prefix=COUNT
// COUNT: 16

// CHECK-LABEL: func.func @four_bit
// CHECK-NOT: MatMulNBits
// CHECK: qaf.qlinear %arg0, %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<8x32xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
// CHECK: w4.qcodes{{(_1)?}}: "0x
// CHECK-NOT: MatMulNBits
