// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s
// RUN: qaf-opt --qaf-convert-onnx-to-linalg --qaf-decompose-kernel-ops %s | FileCheck %s --check-prefix=REF

// qaf.qlinear layers the qaf_qlinear kernel computes (f32, zero points,
// groups of whole bytes) lower to a qaf.kernel.qlinear on the activations
// collapsed to rows; the others, and every such op once decomposed (REF),
// are a contraction that dequantizes inside: no dequantized weight tensor
// exists, each (m, n, k) step unpacks its code and applies its group's
// scale and zero point. Numerics: test/e2e/qaf_ops_numeric.py.

// 4-bit: the code byte is read through a map (two codes per byte), scales
// and zero points per (n, k / 64).
// REF-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// REF-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
// REF-DAG: #[[$BYTE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// REF-DAG: #[[$FIRST:.*]] = affine_map<(d0, d1, d2) -> (d1, (d2 * 3) floordiv 8)>
// REF-DAG: #[[$ROW0:.*]] = affine_map<(d0, d1, d2) -> (0, d2 floordiv 64)>
// CHECK-LABEL: func.func @qlinear_4bit
// CHECK-SAME: (%[[IN:[^:]*]]: tensor<?x128xf32>, %[[CODES:[^:]*]]: tensor<8x64xi8>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[Z:[^:]*]]: tensor<8x2xf32>)
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: %[[Y:.*]] = qaf.kernel.qlinear bits(4) group_size(64) input(%[[IN]] : tensor<?x128xf32>) scales(%[[S]] : tensor<8x2xf32>) zero_points(%[[Z]] : tensor<8x2xf32>) codes(%[[CODES]] : tensor<8x64xi8>) outs(%[[ZERO]] : tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
// REF-LABEL: func.func @qlinear_4bit
// REF-SAME: (%[[IN:.*]]: tensor<?x128xf32>, %[[CODES:.*]]: tensor<8x64xi8>
// REF-NOT: qaf.kernel
// REF: linalg.generic {indexing_maps = [#[[$X]], #[[$GROUP]], #[[$GROUP]], #[[$BYTE]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// REF-SAME: ins(%[[IN]], %{{.*}}, %{{.*}}, %[[CODES]] :
// REF: ^bb0(%[[XV:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: f32, %[[BYTEV:.*]]: i8, %[[ACC:.*]]: f32):
// REF: arith.extui %[[BYTEV]] : i8 to i32
// REF: arith.shrui
// REF: arith.andi
// REF: %[[Q:.*]] = arith.uitofp
// REF: %[[QZ:.*]] = arith.subf %[[Q]], %[[Z]]
// REF: %[[W:.*]] = arith.mulf %[[QZ]], %[[S]]
// REF: %[[P:.*]] = arith.mulf %[[XV]], %[[W]]
// REF: arith.addf %[[ACC]], %[[P]]
// REF-NOT: tensor<8x128xf32>
func.func @qlinear_4bit(%x: tensor<?x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> tensor<?x8xf32> {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// 3-bit codes can straddle two bytes: the first is read through the map
// (byte 3k / 8), the second in the body. Batch dimensions are collapsed
// into the kernel's rows and expanded back.
// CHECK-LABEL: func.func @qlinear_3bit
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x128xf32> into tensor<6x128xf32>
// CHECK: %[[Y:.*]] = qaf.kernel.qlinear bits(3) group_size(32) input(%[[ROWS]] : tensor<6x128xf32>) {{.*}} codes(%{{.*}} : tensor<8x48xi8>) outs(%{{.*}} : tensor<6x8xf32>) -> tensor<6x8xf32>
// CHECK: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 8] : tensor<6x8xf32> into tensor<2x3x8xf32>
// REF-LABEL: func.func @qlinear_3bit
// REF-NOT: qaf.kernel
// REF: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[$FIRST]], #{{.*}}]
// REF: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %[[BYTE:.*]]: i8, %{{.*}}: f32):
// REF: %[[LOW:.*]] = arith.extui %[[BYTE]]
// REF: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<8x48xi8>
// REF: arith.ori %[[LOW]]
func.func @qlinear_3bit(%x: tensor<2x3x128xf32>, %codes: tensor<8x48xui8>, %s: tensor<8x4xf32>, %z: tensor<8x4xf32>) -> tensor<2x3x8xf32> {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = asym>} : (tensor<2x3x128xf32>, tensor<8x48xui8>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// NF4: the code indexes the codebook (QLoRA's NF4 values); the scale
// multiplies the entry. The kernel op carries the codebook in place of zero
// points; its reference contraction looks each code up.
// CHECK-LABEL: func.func @qlinear_nf4
// CHECK: %[[BOOK:.*]] = arith.constant dense<[-1.000000e+00, -0.6961928, -0.525073051, {{.*}}, 1.000000e+00]> : tensor<16xf32>
// CHECK: qaf.kernel.qlinear bits(4) group_size(64) input(%{{.*}} : tensor<2x128xf32>) scales(%{{.*}} : tensor<8x2xf32>) codebook(%[[BOOK]] : tensor<16xf32>) codes(%{{.*}} : tensor<8x64xi8>)
// REF-LABEL: func.func @qlinear_nf4
// REF: %[[BOOK:.*]] = arith.constant dense<[-1.000000e+00, {{.*}}]> : tensor<16xf32>
// REF: linalg.generic
// REF: tensor.extract %[[BOOK]]
// REF-NOT: qaf.kernel
func.func @qlinear_nf4(%x: tensor<2x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>) -> tensor<2x8xf32> {
  %y = qaf.qlinear %x, %codes, %s {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// Groups of three 4-bit codes are not whole bytes, and f16 layers are not
// f32: no kernel, the reference contraction (in f32, from f16 operands).
// CHECK-LABEL: func.func @qlinear_no_kernel
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x96xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x48xi8>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x128xf16>, tensor<8x2xf16>, tensor<8x2xf16>, tensor<8x64xi8>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: qaf.kernel
func.func @qlinear_no_kernel(%x: tensor<2x96xf32>, %codes: tensor<8x48xui8>, %s: tensor<8x32xf32>, %z: tensor<8x32xf32>, %h: tensor<2x128xf16>, %c16: tensor<8x64xui8>, %s16: tensor<8x2xf16>, %z16: tensor<8x2xf16>) -> (tensor<2x8xf32>, tensor<2x8xf16>) {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 3, scheme = asym>} : (tensor<2x96xf32>, tensor<8x48xui8>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<2x8xf32>
  %y16 = qaf.qlinear %h, %c16, %s16, %z16 {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<2x128xf16>, tensor<8x64xui8>, tensor<8x2xf16>, tensor<8x2xf16>) -> tensor<2x8xf16>
  return %y, %y16 : tensor<2x8xf32>, tensor<2x8xf16>
}

// LoTA-QAF: ΔW = B_T·A_T (i32), the ternary move Ŵ (i8) and the zero-point
// shift per group are computed each call; the codes move inside the
// kernel (or the contraction), and no dequantized f32 weight is formed.
// CHECK-LABEL: func.func @lota
// CHECK-SAME: (%[[IN:[^:]*]]: tensor<?x128xf32>, %[[CODES:[^:]*]]: tensor<8x64xi8>, %[[S:[^:]*]]: tensor<8x2xf32>
// CHECK: %[[DW:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x16xi8>, tensor<16x128xi8>) outs(%{{.*}} : tensor<8x128xi32>)
// CHECK: arith.muli
// CHECK: %[[MOVE:.*]] = linalg.generic {{.*}} ins(%[[DW]] : tensor<8x128xi32>) outs(%{{.*}} : tensor<8x128xi8>)
// CHECK: arith.select
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x2x64xi32>, tensor<8x2x64xi8>) outs(%{{.*}} : tensor<8x2xf32>)
// CHECK: %[[SHIFTED:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8x2xf32>)
// CHECK: qaf.kernel.qlinear bits(4) group_size(64) input(%[[IN]] : tensor<?x128xf32>) scales(%[[S]] : tensor<8x2xf32>) zero_points(%[[SHIFTED]] : tensor<8x2xf32>) moves(%[[MOVE]] : tensor<8x128xi8>) codes(%[[CODES]] : tensor<8x64xi8>) outs(%{{.*}} : tensor<?x8xf32>) -> tensor<?x8xf32>
// CHECK-NOT: tensor<8x128xf32>
// REF-LABEL: func.func @lota
// REF: %[[MOVE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8x128xi8>)
// REF: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[MOVE]], %{{.*}} : tensor<?x128xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x128xi8>, tensor<8x64xi8>) outs(%{{.*}} : tensor<?x8xf32>) {
// REF: ^bb0(%{{.*}}: f32, %[[S:.*]]: f32, %[[Z:.*]]: f32, %[[M:.*]]: i8, %{{.*}}: i8, %{{.*}}: f32):
// REF: %[[Q:.*]] = arith.uitofp
// REF: %[[MF:.*]] = arith.sitofp %[[M]] : i8 to f32
// REF: %[[MOVED:.*]] = arith.addf %[[Q]], %[[MF]]
// REF: %[[QZ:.*]] = arith.subf %[[MOVED]], %[[Z]]
// REF: arith.mulf %[[QZ]], %[[S]]
// REF-NOT: qaf.kernel
// REF-NOT: tensor<8x128xf32>
func.func @lota(%x: tensor<?x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %a: tensor<16x128xi8>, %b: tensor<8x16xi8>) -> tensor<?x8xf32> {
  %y = qaf.lota_linear %x, %codes, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, omega = 12.0 : f64} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<16x128xi8>, tensor<8x16xi8>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// LoRA: two contractions through the rank-r hidden vector, the factors
// read in place (x · Aᵀ needs no transpose).
// CHECK-LABEL: func.func @lora
// CHECK: %[[H:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x128xf32>, tensor<4x128xf32>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[H]], %{{.*}} : tensor<?x4xf32>, tensor<8x4xf32>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
func.func @lora(%x: tensor<?x128xf32>, %a: tensor<4x128xf32>, %b: tensor<8x4xf32>) -> tensor<?x8xf32> {
  %y = qaf.lora %x, %a, %b {scale = 4.0 : f64} : (tensor<?x128xf32>, tensor<4x128xf32>, tensor<8x4xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Zero points that are one row broadcast to every output (an onnx.Expand of
// a [1, K / g] tensor, as qaf-share-zero-point-rows writes them) reach the
// kernel as that row; the reference reads row 0 for every n (ROW0).
// CHECK-LABEL: func.func @qlinear_shared_zero_row
// CHECK-SAME: (%[[IN:[^:]*]]: tensor<?x128xf32>, %[[CODES:[^:]*]]: tensor<8x64xi8>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[ROW:[^:]*]]: tensor<1x2xf32>)
// CHECK: qaf.kernel.qlinear bits(4) group_size(64) input(%[[IN]] : tensor<?x128xf32>) scales(%[[S]] : tensor<8x2xf32>) zero_points(%[[ROW]] : tensor<1x2xf32>) codes(%[[CODES]] : tensor<8x64xi8>)
// CHECK-NOT: tensor<8x2xf32>) codes
// REF-LABEL: func.func @qlinear_shared_zero_row
// REF-SAME: %[[ROW:[^:]*]]: tensor<1x2xf32>)
// REF-NOT: qaf.kernel
// REF: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[$ROW0]], #{{.*}}, #{{.*}}]
// REF-SAME: ins(%{{.*}}, %{{.*}}, %[[ROW]], %{{.*}} :
func.func @qlinear_shared_zero_row(%x: tensor<?x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>, %row: tensor<1x2xf32>) -> tensor<?x8xf32> {
  %shape = onnx.Constant {value = dense<[8, 2]> : tensor<2xi64>} : tensor<2xi64>
  %z = onnx.Expand %row, %shape : (tensor<1x2xf32>, tensor<2xi64>) -> tensor<8x2xf32>
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
