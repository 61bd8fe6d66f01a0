// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s

// qaf.qlinear dequantizes inside the contraction: no dequantized weight
// tensor exists, each (m, n, k) step unpacks its code and applies its
// group's scale and zero point. Numerics: test/e2e/qaf_ops_numeric.py.

// 4-bit: the code byte is read through a map (two codes per byte), scales
// and zero points per (n, k / 64).
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 64)>
// CHECK-DAG: #[[$BYTE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 2)>
// CHECK-DAG: #[[$FIRST:.*]] = affine_map<(d0, d1, d2) -> (d1, (d2 * 3) floordiv 8)>
// CHECK-LABEL: func.func @qlinear_4bit
// CHECK-SAME: (%[[IN:.*]]: tensor<?x128xf32>, %[[CODES:.*]]: tensor<8x64xi8>
// CHECK: linalg.generic {indexing_maps = [#[[$X]], #[[$GROUP]], #[[$GROUP]], #[[$BYTE]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[IN]], %{{.*}}, %{{.*}}, %[[CODES]] :
// CHECK-SAME: attrs = {qaf.qlinear_kernel = {bits = 4 : i64, group_size = 64 : i64, moves = false}}
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: f32, %[[BYTEV:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK: arith.extui %[[BYTEV]] : i8 to i32
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: %[[Q:.*]] = arith.uitofp
// CHECK: %[[QZ:.*]] = arith.subf %[[Q]], %[[Z]]
// CHECK: %[[W:.*]] = arith.mulf %[[QZ]], %[[S]]
// CHECK: %[[P:.*]] = arith.mulf %[[XV]], %[[W]]
// CHECK: arith.addf %[[ACC]], %[[P]]
// CHECK-NOT: tensor<8x128xf32>
func.func @qlinear_4bit(%x: tensor<?x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> tensor<?x8xf32> {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// 3-bit codes can straddle two bytes: the first is read through the map
// (byte 3k / 8), the second in the body.
// CHECK-LABEL: func.func @qlinear_3bit
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[$FIRST]], #{{.*}}]
// CHECK-SAME: attrs = {qaf.qlinear_kernel = {bits = 3 : i64, group_size = 32 : i64, moves = false}}
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %[[BYTE:.*]]: i8, %{{.*}}: f32):
// CHECK: %[[LOW:.*]] = arith.extui %[[BYTE]]
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<8x48xi8>
// CHECK: arith.ori %[[LOW]]
func.func @qlinear_3bit(%x: tensor<2x128xf32>, %codes: tensor<8x48xui8>, %s: tensor<8x4xf32>, %z: tensor<8x4xf32>) -> tensor<2x8xf32> {
  %y = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 3, group_size = 32, scheme = asym>} : (tensor<2x128xf32>, tensor<8x48xui8>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// NF4: the code indexes the codebook; the scale multiplies the entry.
// CHECK-LABEL: func.func @qlinear_nf4
// CHECK: %[[BOOK:.*]] = arith.constant dense<[-1.000000e+00, -0.6961928, -0.525073051, {{.*}}, 1.000000e+00]> : tensor<16xf32>
// CHECK: linalg.generic
// CHECK: tensor.extract %[[BOOK]]
func.func @qlinear_nf4(%x: tensor<2x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>) -> tensor<2x8xf32> {
  %y = qaf.qlinear %x, %codes, %s {format = #qaf.qformat<bits = 4, group_size = 64, scheme = nf>} : (tensor<2x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// LoTA-QAF: ΔW = B_T·A_T (i32), the ternary move Ŵ (i8) and the zero-point
// shift per group are computed each call; the codes move inside the
// contraction, and no dequantized f32 weight is formed.
// CHECK-LABEL: func.func @lota
// CHECK: %[[DW:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x16xi8>, tensor<16x128xi8>) outs(%{{.*}} : tensor<8x128xi32>)
// CHECK: arith.muli
// CHECK: %[[MOVE:.*]] = linalg.generic {{.*}} ins(%[[DW]] : tensor<8x128xi32>) outs(%{{.*}} : tensor<8x128xi8>)
// CHECK: arith.select
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x2x64xi32>, tensor<8x2x64xi8>) outs(%{{.*}} : tensor<8x2xf32>)
// The contraction is tagged for targets with a quantized-linear kernel.
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[MOVE]], %{{.*}} : tensor<?x128xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x128xi8>, tensor<8x64xi8>) outs(%{{.*}} : tensor<?x8xf32>) attrs = {qaf.qlinear_kernel = {bits = 4 : i64, group_size = 64 : i64, moves = true}}
// CHECK-NOT: tensor<8x128xf32>
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
