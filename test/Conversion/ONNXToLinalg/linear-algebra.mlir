// RUN: qaf-opt --qaf-convert-onnx-to-linalg -split-input-file -verify-diagnostics %s | FileCheck %s

// CHECK-LABEL: func.func @matmul_2d
// CHECK-SAME: (%[[A:.*]]: tensor<?x64xf32>, %[[B:.*]]: tensor<64x32xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = tensor.empty(%{{.*}}) : tensor<?x32xf32>
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[INIT]] : tensor<?x32xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<?x64xf32>, tensor<64x32xf32>) outs(%[[ACC]] : tensor<?x32xf32>)
// CHECK: return %[[Y]]
func.func @matmul_2d(%a: tensor<?x64xf32>, %b: tensor<64x32xf32>) -> tensor<?x32xf32> {
  %y = onnx.MatMul %a, %b : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// The transformer projection [b, s, k] x [k, n]: rows fold into one
// linalg.matmul; the result takes back the run-time [b, s].
// CHECK-LABEL: func.func @matmul_projection
// CHECK-SAME: (%[[A:.*]]: tensor<?x?x64xf32>, %[[B:.*]]: tensor<64x32xf32>)
// CHECK-DAG: %[[D0:.*]] = tensor.dim %[[A]], %c0
// CHECK-DAG: %[[D1:.*]] = tensor.dim %[[A]], %c1
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[ROWS]], %[[B]] : tensor<?x64xf32>, tensor<64x32xf32>)
// CHECK: tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]] output_shape [%[[D0]], %[[D1]], 32] : tensor<?x32xf32> into tensor<?x?x32xf32>
func.func @matmul_projection(%a: tensor<?x?x64xf32>, %b: tensor<64x32xf32>) -> tensor<?x?x32xf32> {
  %y = onnx.MatMul %a, %b : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// Attention scores: agreeing batch dims fold into one linalg.batch_matmul
// when the two dynamic batch sizes are equal at run time; a run-time 1
// against n broadcasts (ONNX Runtime's rule) through stride-0 views read by a
// generic contraction; other sizes are refused.
// CHECK-LABEL: func.func @matmul_attention
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x?x16xf32>, %[[K:.*]]: tensor<?x4x16x?xf32>)
// CHECK-DAG: %[[QB:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: %[[KB:.*]] = tensor.dim %[[K]], %c0
// CHECK: qaf.check %{{.*}}, "onnx.MatMul: sizes {0} and {1} of dimension 0 do not broadcast"(%[[QB]], %[[KB]] : index, index)
// CHECK: %[[B:.*]] = arith.select %{{.*}}, %[[KB]], %[[QB]] : index
// CHECK: %[[QV:.*]] = tensor.extract_slice %[[Q]][0, 0, 0, 0] [%[[B]], 4, %{{.*}}, 16] [%{{.*}}, 1, 1, 1]
// CHECK: %[[KV:.*]] = tensor.extract_slice %[[K]][0, 0, 0, 0] [%[[B]], 4, 16, %{{.*}}] [%{{.*}}, 1, 1, 1]
// CHECK: %[[QSAME:.*]] = arith.cmpi eq, %[[QB]], %[[B]]
// CHECK: %[[KSAME:.*]] = arith.cmpi eq, %[[KB]], %[[B]]
// CHECK: %[[SAME:.*]] = arith.andi %{{.*}}, %[[KSAME]]
// CHECK: scf.if %[[SAME]] -> (tensor<?x4x?x?xf32>)
// CHECK: %[[Q3:.*]] = tensor.collapse_shape %[[Q]] {{\[}}[0, 1], [2], [3]] : tensor<?x4x?x16xf32> into tensor<?x?x16xf32>
// CHECK: %[[K3:.*]] = tensor.collapse_shape %[[K]] {{\[}}[0, 1], [2], [3]] : tensor<?x4x16x?xf32> into tensor<?x16x?xf32>
// CHECK: %[[BMM:.*]] = linalg.batch_matmul ins(%[[Q3]], %[[K3]] : tensor<?x?x16xf32>, tensor<?x16x?xf32>)
// CHECK: tensor.expand_shape %[[BMM]] {{\[}}[0, 1], [2], [3]] output_shape [%[[B]], 4, %{{.*}}, %{{.*}}] : tensor<?x?x?xf32> into tensor<?x4x?x?xf32>
// CHECK: } else {
// CHECK: linalg.generic {{.*}} ins(%[[QV]], %[[KV]] : tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>)
func.func @matmul_attention(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32> {
  %y = onnx.MatMul %q, %k : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  return %y : tensor<?x4x?x?xf32>
}

// -----

// A dynamic batch size against a static 4: it is 4 (batch_matmul, the
// result cast to the static type) or a 1 that repeats (a stride-0 view of
// static size 4).
// CHECK-LABEL: func.func @matmul_dynamic_against_static
// CHECK-SAME: (%[[A:.*]]: tensor<?x3x5xf32>, %[[B:.*]]: tensor<4x5x6xf32>)
// CHECK: %[[AB:.*]] = tensor.dim %[[A]], %c0
// CHECK: qaf.check %{{.*}}, "onnx.MatMul: dimension 0 of size {0} does not broadcast with the static size {1} of another operand"(%[[AB]], %{{.*}} : index, index)
// CHECK: %[[AV:.*]] = tensor.extract_slice %[[A]][0, 0, 0] [4, 3, 5] [%{{.*}}, 1, 1] : tensor<?x3x5xf32> to tensor<4x3x5xf32>
// CHECK: scf.if %{{.*}} -> (tensor<4x3x6xf32>)
// CHECK: %[[BMM:.*]] = linalg.batch_matmul ins(%[[A]], %[[B]] : tensor<?x3x5xf32>, tensor<4x5x6xf32>)
// CHECK: tensor.cast %[[BMM]] : tensor<?x3x6xf32> to tensor<4x3x6xf32>
// CHECK: } else {
// CHECK: linalg.generic {{.*}} ins(%[[AV]], %[[B]] : tensor<4x3x5xf32>, tensor<4x5x6xf32>)
func.func @matmul_dynamic_against_static(%a: tensor<?x3x5xf32>, %b: tensor<4x5x6xf32>) -> tensor<4x3x6xf32> {
  %y = onnx.MatMul %a, %b : (tensor<?x3x5xf32>, tensor<4x5x6xf32>) -> tensor<4x3x6xf32>
  return %y : tensor<4x3x6xf32>
}

// -----

// Broadcasting batch dims are read through the indexing maps: no copy.
// CHECK-DAG: #[[$LHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[$RHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: arith.addf %{{.*}}, %[[P]]
func.func @matmul_broadcast(%a: tensor<2x1x3x5xf32>, %b: tensor<4x5x6xf32>) -> tensor<2x4x3x6xf32> {
  %y = onnx.MatMul %a, %b : (tensor<2x1x3x5xf32>, tensor<4x5x6xf32>) -> tensor<2x4x3x6xf32>
  return %y : tensor<2x4x3x6xf32>
}

// -----

// A 1-D left operand is a row: [5] -> [1, 5], and the 1 goes again.
// CHECK-LABEL: func.func @matmul_vector
// CHECK: %[[ROW:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 5] : tensor<5xf32> into tensor<1x5xf32>
// CHECK: %[[MM:.*]] = linalg.matmul ins(%[[ROW]], %{{.*}} : tensor<1x5xf32>, tensor<5x3xf32>)
// CHECK: tensor.collapse_shape %[[MM]] {{\[}}[0, 1]] : tensor<1x3xf32> into tensor<3xf32>
func.func @matmul_vector(%a: tensor<5xf32>, %b: tensor<5x3xf32>) -> tensor<3xf32> {
  %y = onnx.MatMul %a, %b : (tensor<5xf32>, tensor<5x3xf32>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// -----

// f16 products accumulate in f32.
// CHECK-LABEL: func.func @matmul_f16
// CHECK: %[[MM:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf16>, tensor<8x4xf16>) outs(%{{.*}} : tensor<3x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[MM]] : tensor<3x4xf32>) outs(%{{.*}} : tensor<3x4xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_f16(%a: tensor<3x8xf16>, %b: tensor<8x4xf16>) -> tensor<3x4xf16> {
  %y = onnx.MatMul %a, %b : (tensor<3x8xf16>, tensor<8x4xf16>) -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

// -----

// transB reads B[n, k] through the matmul's indexing maps (no transposed
// copy); with alpha = 1 the broadcast bias is where the sums start.
// CHECK-DAG: #[[$A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @gemm_bias
// CHECK-SAME: (%[[A:.*]]: tensor<?x64xf32>, %[[B:.*]]: tensor<32x64xf32>, %[[BIAS:.*]]: tensor<32xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<32xf32>) outs(%{{.*}} : tensor<?x32xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[A]], %[[B]] : tensor<?x64xf32>, tensor<32x64xf32>) outs(%[[INIT]] : tensor<?x32xf32>)
// CHECK: return %[[Y]]
func.func @gemm_bias(%a: tensor<?x64xf32>, %b: tensor<32x64xf32>, %c: tensor<32xf32>) -> tensor<?x32xf32> {
  %y = onnx.Gemm %a, %b, %c {transB = 1 : i64} : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// alpha != 1: alpha * (A B) + beta * C after the products.
// CHECK-LABEL: func.func @gemm_alpha
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%[[MM]], %{{.*}} : tensor<?x32xf32>, tensor<?x32xf32>)
// CHECK: %[[S:.*]] = arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: arith.addf %[[S]], %{{.*}} : f32
func.func @gemm_alpha(%a: tensor<?x64xf32>, %b: tensor<32x64xf32>, %c: tensor<32xf32>) -> tensor<?x32xf32> {
  %y = onnx.Gemm %a, %b, %c {alpha = 5.000000e-01 : f32, transB = 1 : i64} : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Each side is widened by its own ONNX signedness (ui8: extui, i8: extsi),
// its zero point subtracted, and the products summed in i32.
// CHECK-LABEL: func.func @matmul_integer
// CHECK-SAME: (%{{.*}}: tensor<3x8xi8>, %{{.*}}: tensor<8x4xi8>, %{{.*}}: tensor<i8>, %{{.*}}: tensor<4xi8>) -> tensor<3x4xi32>
// CHECK: ^bb0(%[[A:.*]]: i8, %[[B:.*]]: i8, %[[ZA:.*]]: i8, %[[ZB:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK: %[[AW:.*]] = arith.extui %[[A]] : i8 to i32
// CHECK: %[[BW:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK: %[[ZAW:.*]] = arith.extui %[[ZA]] : i8 to i32
// CHECK: %[[AS:.*]] = arith.subi %[[AW]], %[[ZAW]] : i32
// CHECK: %[[ZBW:.*]] = arith.extsi %[[ZB]] : i8 to i32
// CHECK: %[[BS:.*]] = arith.subi %[[BW]], %[[ZBW]] : i32
// CHECK: %[[P:.*]] = arith.muli %[[AS]], %[[BS]] : i32
// CHECK: arith.addi %[[ACC]], %[[P]] : i32
func.func @matmul_integer(%a: tensor<3x8xui8>, %b: tensor<8x4xi8>, %za: tensor<ui8>, %zb: tensor<4xi8>) -> tensor<3x4xi32> {
  %y = onnx.MatMulInteger %a, %b, %za, %zb : (tensor<3x8xui8>, tensor<8x4xi8>, tensor<ui8>, tensor<4xi8>) -> tensor<3x4xi32>
  return %y : tensor<3x4xi32>
}

// -----

// 4-bit codes, two per byte, blocks of 32: the contraction reads the packed
// byte, scale and packed zero point through affine maps and dequantizes in
// its body; no dequantized weight exists.
// CHECK-DAG: #[[$CODE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32, (d2 mod 32) floordiv 2)>
// CHECK-DAG: #[[$SCALE:.*]] = affine_map<(d0, d1, d2) -> (d1 * 2 + d2 floordiv 32)>
// CHECK-DAG: #[[$ZP:.*]] = affine_map<(d0, d1, d2) -> (d1 + (d2 floordiv 32) floordiv 2)>
// CHECK-LABEL: func.func @matmul_nbits
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$CODE]], #[[$SCALE]], #[[$ZP]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[ROWS]], %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<8x2x16xi8>, tensor<16xf32>, tensor<8xi8>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[BYTE:.*]]: i8, %[[S:.*]]: f32, %[[ZBYTE:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK: %[[K:.*]] = linalg.index 2 : index
// CHECK: %[[WIDE:.*]] = arith.extui %[[BYTE]] : i8 to i32
// CHECK: %[[SHIFTED:.*]] = arith.shrui %[[WIDE]], %{{.*}} : i32
// CHECK: %[[CODE:.*]] = arith.andi %[[SHIFTED]], %c15_i32 : i32
// CHECK: %[[Q:.*]] = arith.uitofp %[[CODE]] : i32 to f32
// CHECK: %[[Z:.*]] = arith.uitofp %{{.*}} : i32 to f32
// CHECK: %[[D:.*]] = arith.subf %[[Q]], %[[Z]] : f32
// CHECK: %[[W:.*]] = arith.mulf %[[D]], %[[S]] : f32
// CHECK: %[[P:.*]] = arith.mulf %[[X]], %[[W]] : f32
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
func.func @matmul_nbits(%a: tensor<?x?x64xf32>, %b: tensor<8x2x16xui8>, %s: tensor<16xf32>, %z: tensor<8xui8>) -> tensor<?x?x8xf32> {
  %n = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %a, %b, %s, %z, %n, %n {K = 64 : i64, N = 8 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<?x?x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8xui8>, none, none) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// Without zero points the zero is 2^(bits - 1).
// CHECK-LABEL: func.func @matmul_nbits_default_zero
// CHECK: %[[Q:.*]] = arith.uitofp %{{.*}} : i32 to f32
// CHECK: %[[Z:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: arith.subf %[[Q]], %[[Z]] : f32
func.func @matmul_nbits_default_zero(%a: tensor<4x32xf32>, %b: tensor<8x1x8xui8>, %s: tensor<8x1xf32>) -> tensor<4x8xf32> {
  %n = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %a, %b, %s, %n, %n, %n {K = 32 : i64, N = 8 : i64, bits = 2 : i64, block_size = 32 : i64} : (tensor<4x32xf32>, tensor<8x1x8xui8>, tensor<8x1xf32>, none, none, none) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A g_idx names each k's block: scales and zero points are read at
// [n, g_idx[k]] in the body.
// CHECK-LABEL: func.func @matmul_nbits_g_idx
// CHECK-SAME: %[[S:[^:]*]]: tensor<8x2xf32>, %[[Z:[^:]*]]: tensor<8x2xf32>, %[[G:[^:]*]]: tensor<32xi32>
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: i8, %[[GK:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[BLK:.*]] = arith.index_cast %[[GK]] : i32 to index
// CHECK: %[[N:.*]] = linalg.index 1 : index
// CHECK: tensor.extract %[[S]][%[[N]], %[[BLK]]] : tensor<8x2xf32>
// CHECK: tensor.extract %[[Z]][%[[N]], %[[BLK]]] : tensor<8x2xf32>
func.func @matmul_nbits_g_idx(%a: tensor<4x32xf32>, %b: tensor<8x2x8xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %g: tensor<32xi32>) -> tensor<4x8xf32> {
  %n = onnx.NoValue
  %y = onnx.com.microsoft.MatMulNBits %a, %b, %s, %z, %g, %n {K = 32 : i64, N = 8 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<4x32xf32>, tensor<8x2x8xui8>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<32xi32>, none) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @matmul_nbits_g_idx_packed_zero(%a: tensor<4x32xf32>, %b: tensor<8x2x8xui8>, %s: tensor<16xf32>, %z: tensor<8xui8>, %g: tensor<32xi32>) -> tensor<4x8xf32> {
  %n = onnx.NoValue
  // expected-error @+2 {{g_idx with packed uint8 zero_points is not supported (ONNX Runtime ignores such zero points); give float zero_points}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.MatMulNBits'}}
  %y = onnx.com.microsoft.MatMulNBits %a, %b, %s, %z, %g, %n {K = 32 : i64, N = 8 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<4x32xf32>, tensor<8x2x8xui8>, tensor<16xf32>, tensor<8xui8>, tensor<32xi32>, none) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Half-split rotation, 4 heads of 16: element i of a head pairs with
// i +/- 8 and reads cos/sin[position, i mod 8].
// CHECK-LABEL: func.func @rotary_embedding
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x64xf32>, %[[P:.*]]: tensor<?x?xi64>, %[[COS:.*]]: tensor<128x8xf32>, %[[SIN:.*]]: tensor<128x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[B:.*]] = linalg.index 0 : index
// CHECK: %[[S:.*]] = linalg.index 1 : index
// CHECK: %[[H:.*]] = linalg.index 2 : index
// CHECK: %[[I:.*]] = arith.remui %[[H]], %c16 : index
// CHECK: %[[POS64:.*]] = tensor.extract %[[P]][%[[B]], %[[S]]] : tensor<?x?xi64>
// CHECK: %[[POS:.*]] = arith.index_cast %[[POS64]] : i64 to index
// CHECK: %[[LOW:.*]] = arith.cmpi ult, %[[I]], %c8 : index
// CHECK: %[[CI:.*]] = arith.select %[[LOW]], %[[I]], %{{.*}} : index
// CHECK: %[[Y:.*]] = tensor.extract %[[X]][%[[B]], %[[S]], %{{.*}}] : tensor<?x?x64xf32>
// CHECK: %[[C:.*]] = tensor.extract %[[COS]][%[[POS]], %[[CI]]] : tensor<128x8xf32>
// CHECK: %[[SN:.*]] = tensor.extract %[[SIN]][%[[POS]], %[[CI]]] : tensor<128x8xf32>
// CHECK: %[[XC:.*]] = arith.mulf %[[IN]], %[[C]] : f32
// CHECK: %[[YS:.*]] = arith.mulf %[[Y]], %[[SN]] : f32
// CHECK: %[[FIRST:.*]] = arith.subf %[[XC]], %[[YS]] : f32
// CHECK: %[[SECOND:.*]] = arith.addf %[[XC]], %[[YS]] : f32
// CHECK: %[[R:.*]] = arith.select %[[LOW]], %[[FIRST]], %[[SECOND]] : f32
// CHECK: linalg.yield %[[R]]
func.func @rotary_embedding(%x: tensor<?x?x64xf32>, %p: tensor<?x?xi64>, %c: tensor<128x8xf32>, %s: tensor<128x8xf32>) -> tensor<?x?x64xf32> {
  %y = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %s {num_heads = 4 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<128x8xf32>, tensor<128x8xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

func.func @rotary_packed(%x: tensor<2x3x64xf32>, %p: tensor<2x3xi64>, %c: tensor<128x8xf32>, %s: tensor<128x8xf32>) -> tensor<2x3x64xf32> {
  // expected-error @+2 {{is_packed_batching is not supported}}
  // expected-error @+1 {{failed to legalize operation 'onnx.com.microsoft.RotaryEmbedding'}}
  %y = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %s {num_heads = 4 : i64, is_packed_batching = 1 : i64} : (tensor<2x3x64xf32>, tensor<2x3xi64>, tensor<128x8xf32>, tensor<128x8xf32>) -> tensor<2x3x64xf32>
  return %y : tensor<2x3x64xf32>
}
