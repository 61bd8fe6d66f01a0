// The second case is an error: the first's output is checked on stdout,
// the error on stderr.
// RUN: not qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16 tied-head=1" 2>/dev/null | FileCheck %s
// RUN: not qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16 tied-head=1" 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR
// RUN: qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16" | FileCheck %s --check-prefix=UNTIED
// RUN: not qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16 tied-head=1 scheme=nf" 2>&1 | FileCheck %s --check-prefix=NF
// RUN: not qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16 tied-head=1 tied-head-bits=8 tied-head-group-size=32" 2>/dev/null | FileCheck %s --check-prefix=HEAD8
// RUN: not qaf-opt %s --split-input-file --qaf-quantize-weights="bits=4 group-size=16 tied-head=1 tied-head-bits=5" 2>&1 | FileCheck %s --check-prefix=HEADERR

// A tied embedding (SmolLM2's): one table read by the Gather and, through a
// Transpose, by the head. tied-head=1 quantizes it once: the Gather becomes
// GatherBlockQuantized and the head qaf.qlinear over the same code blob and
// scales ([V, H/2] bytes, [V, H/group] scales); GatherBlockQuantized takes
// the zero points as packed codes, the head as floats.
// CHECK-LABEL: func.func @tied
// CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense_resource<embed.qcodes> : tensor<4x16xui8>}
// CHECK-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<embed.scales> : tensor<4x2xf32>}
// CHECK-DAG: %[[Z:.*]] = onnx.Constant {value = dense_resource<embed.zero_points> : tensor<4x2xf32>}
// CHECK-DAG: %[[ZU:.*]] = onnx.Constant {value = dense_resource<embed.zero_points_u8> : tensor<4x1xui8>}
// CHECK: %[[E:.*]] = onnx.com.microsoft.GatherBlockQuantized %[[C]], %arg0, %[[S]], %[[ZU]] {block_size = 16 : i64} : (tensor<4x16xui8>, tensor<?x?xi64>, tensor<4x2xf32>, tensor<4x1xui8>) -> tensor<?x?x32xf32>
// CHECK: qaf.qlinear %[[E]], %[[C]], %[[S]], %[[Z]] {format = #qaf.qformat<bits = 4, group_size = 16, scheme = asym>} : (tensor<?x?x32xf32>, tensor<4x16xui8>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<?x?x4xf32>
// CHECK-NOT: onnx.Transpose
// CHECK-NOT: onnx.Gather %
// This table's groups span -1.25..1.25: zero point 8 (0x41000000) each,
// packed two per byte for GatherBlockQuantized.
// CHECK: embed.qcodes: "[[$CODES:0x[0-9A-F]+]]"
// CHECK: embed.zero_points: "0x040000000000004100000041000000410000004100000041000000410000004100000041"
// CHECK: embed.zero_points_u8: "0x0100000088888888"
// Without the option the tied table stays float (the default leaves heads
// and embeddings alone).
// UNTIED-LABEL: func.func @tied
// UNTIED: onnx.Gather
// UNTIED: onnx.Transpose
// UNTIED: onnx.MatMul
// UNTIED-NOT: qaf.qlinear
// NF: error: {{.*}}cannot quantize tied embedding 'embed': GatherBlockQuantized takes 2-, 4- or 8-bit integer codes (asym or sym)
// tied-head-bits / tied-head-group-size: the table in a format of its own
// (8 bits, one group of 32 per row: a byte per code, one zero-point byte).
// HEAD8-LABEL: func.func @tied
// HEAD8-DAG: %[[C:.*]] = onnx.Constant {value = dense_resource<embed.qcodes> : tensor<4x32xui8>}
// HEAD8-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<embed.scales> : tensor<4x1xf32>}
// HEAD8-DAG: %[[ZU:.*]] = onnx.Constant {value = dense_resource<embed.zero_points_u8> : tensor<4x1xui8>}
// HEAD8: onnx.com.microsoft.GatherBlockQuantized %[[C]], %arg0, %[[S]], %[[ZU]] {bits = 8 : i64, block_size = 32 : i64}
// HEAD8: qaf.qlinear {{.*}} {format = #qaf.qformat<bits = 8, group_size = 32, scheme = asym>}
// HEADERR: error: qaf-quantize-weights (tied-head-bits, tied-head-group-size): bits=5 group-size=16: bits must be 2, 3, 4 or 8, not 5
func.func @tied(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %e = onnx.Constant {value = dense<[[-1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00], [0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00], [-0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75], [1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25]]> : tensor<4x32xf32>} : tensor<4x32xf32> loc("embed")
  %x = onnx.Gather %e, %ids : (tensor<4x32xf32>, tensor<?x?xi64>) -> tensor<?x?x32xf32>
  %t = onnx.Transpose %e {perm = array<i64: 1, 0>} : (tensor<4x32xf32>) -> tensor<32x4xf32>
  %y = onnx.MatMul %x, %t : (tensor<?x?x32xf32>, tensor<32x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// ORT GenAI's fp32 builder stores the same tie the other way round: the
// head reads the table Eᵀ [H, V] itself, the Gather its Transpose. The table
// here is the one above transposed: quantized once the same way, it gives
// the same code bytes and zero points.
// CHECK-LABEL: func.func @tied_head_major
// CHECK-DAG: %[[C:.*]] = onnx.Constant {value = dense_resource<lm_head.qcodes> : tensor<4x16xui8>}
// CHECK-DAG: %[[S:.*]] = onnx.Constant {value = dense_resource<lm_head.scales> : tensor<4x2xf32>}
// CHECK-DAG: %[[Z:.*]] = onnx.Constant {value = dense_resource<lm_head.zero_points> : tensor<4x2xf32>}
// CHECK-DAG: %[[ZU:.*]] = onnx.Constant {value = dense_resource<lm_head.zero_points_u8> : tensor<4x1xui8>}
// CHECK: %[[E:.*]] = onnx.com.microsoft.GatherBlockQuantized %[[C]], %arg0, %[[S]], %[[ZU]] {block_size = 16 : i64} : (tensor<4x16xui8>, tensor<?x?xi64>, tensor<4x2xf32>, tensor<4x1xui8>) -> tensor<?x?x32xf32>
// CHECK: qaf.qlinear %[[E]], %[[C]], %[[S]], %[[Z]] {format = #qaf.qformat<bits = 4, group_size = 16, scheme = asym>} : (tensor<?x?x32xf32>, tensor<4x16xui8>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<?x?x4xf32>
// CHECK-NOT: onnx.Transpose
// CHECK-NOT: onnx.Gather %
// CHECK: lm_head.qcodes: "[[$CODES]]"
// CHECK: lm_head.zero_points: "0x040000000000004100000041000000410000004100000041000000410000004100000041"
// UNTIED-LABEL: func.func @tied_head_major
// UNTIED: onnx.Transpose
// UNTIED: onnx.Gather
// UNTIED: onnx.MatMul
// UNTIED-NOT: qaf.qlinear
func.func @tied_head_major(%ids: tensor<?x?xi64>) -> tensor<?x?x4xf32> {
  %w = onnx.Constant {value = dense<[[-1.25, 0.50, -0.50, 1.25], [-0.50, 1.25, 0.25, -0.75], [0.25, -0.75, 1.00, 0.00], [1.00, 0.00, -1.00, 0.75], [-1.00, 0.75, -0.25, -1.25], [-0.25, -1.25, 0.50, -0.50], [0.50, -0.50, 1.25, 0.25], [1.25, 0.25, -0.75, 1.00], [-0.75, 1.00, 0.00, -1.00], [0.00, -1.00, 0.75, -0.25], [0.75, -0.25, -1.25, 0.50], [-1.25, 0.50, -0.50, 1.25], [-0.50, 1.25, 0.25, -0.75], [0.25, -0.75, 1.00, 0.00], [1.00, 0.00, -1.00, 0.75], [-1.00, 0.75, -0.25, -1.25], [-0.25, -1.25, 0.50, -0.50], [0.50, -0.50, 1.25, 0.25], [1.25, 0.25, -0.75, 1.00], [-0.75, 1.00, 0.00, -1.00], [0.00, -1.00, 0.75, -0.25], [0.75, -0.25, -1.25, 0.50], [-1.25, 0.50, -0.50, 1.25], [-0.50, 1.25, 0.25, -0.75], [0.25, -0.75, 1.00, 0.00], [1.00, 0.00, -1.00, 0.75], [-1.00, 0.75, -0.25, -1.25], [-0.25, -1.25, 0.50, -0.50], [0.50, -0.50, 1.25, 0.25], [1.25, 0.25, -0.75, 1.00], [-0.75, 1.00, 0.00, -1.00], [0.00, -1.00, 0.75, -0.25]]> : tensor<32x4xf32>} : tensor<32x4xf32> loc("lm_head")
  %t = onnx.Transpose %w {perm = array<i64: 1, 0>} : (tensor<32x4xf32>) -> tensor<4x32xf32>
  %x = onnx.Gather %t, %ids : (tensor<4x32xf32>, tensor<?x?xi64>) -> tensor<?x?x32xf32>
  %y = onnx.MatMul %x, %w : (tensor<?x?x32xf32>, tensor<32x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// A table whose group holds values of one sign has an asym zero point
// outside the codes, which GatherBlockQuantized cannot store: an error
// naming the row and group.
// ERR: error: {{.*}}cannot quantize tied embedding 'pos': row 0, group 0 has zero point {{.*}}, outside the codes [0, 15]
func.func @one_sign(%ids: tensor<?xi64>) -> tensor<?x2xf32> {
  %e = onnx.Constant {value = dense<0.5> : tensor<2x16xf32>} : tensor<2x16xf32> loc("pos")
  %x = onnx.Gather %e, %ids : (tensor<2x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  %t = onnx.Transpose %e {perm = array<i64: 1, 0>} : (tensor<2x16xf32>) -> tensor<16x2xf32>
  %y = onnx.MatMul %x, %t : (tensor<?x16xf32>, tensor<16x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
