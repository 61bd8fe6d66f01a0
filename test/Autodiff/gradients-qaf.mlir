// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The reverse pass through the qaf ops (METHODS.md §1–§6): frozen weights
// get no gradient; the input gradient of a quantized layer is a product
// with its codes; the additive adapters go through the rank, on the
// activations flattened to rows; LoTA-QAF and L4Q reduce their layer's
// dL/dW to their parameters (a kernel op in f32; in other types the dense
// [N, K] gradient as onnx ops, formed once).

// dx = dy · W, from the packed codes (scales and zero points are frozen).
// CHECK-LABEL: func.func @qlinear
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[SEED:.*]]: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x64xf32>)
// CHECK: %[[C:.*]] = onnx.Constant {{.*}} : tensor<4x32xui8>
// CHECK: %[[S:.*]] = onnx.Constant {{.*}} : tensor<4x2xf32>
// CHECK: %[[Z:.*]] = onnx.Constant {{.*}} : tensor<4x2xf32>
// CHECK: %[[Y:.*]] = qaf.qlinear %[[X]], %[[C]], %[[S]], %[[Z]]
// CHECK: %[[DX:.*]] = qaf.qlinear_transposed %[[SEED]], %[[C]], %[[S]] zero_points(%[[Z]]) {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : {{.*}} -> tensor<?x64xf32>
// CHECK: return %[[Y]], %[[DX]]
func.func @qlinear(%x: tensor<?x64xf32>) -> tensor<?x4xf32> {
  %c = onnx.Constant {value = dense<17> : tensor<4x32xui8>} : tensor<4x32xui8>
  %s = onnx.Constant {value = dense<0.5> : tensor<4x2xf32>} : tensor<4x2xf32>
  %z = onnx.Constant {value = dense<8.0> : tensor<4x2xf32>} : tensor<4x2xf32>
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<4x32xui8>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// LoRA, Δy = 2 · (x Aᵀ) Bᵀ on rows [6, 8]: h = x Aᵀ [6, 2], dB = 2 dyᵀ h,
// dh = 2 dy B, dA = dhᵀ x, dx = dh A; nothing is [N, K] = [4, 8].
// CHECK-LABEL: func.func @lora
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<4x2xf32>, %[[SEED:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[ROWS:.*]] = onnx.Reshape %[[X]], {{.*}} -> tensor<6x8xf32>
// CHECK: %[[DY:.*]] = onnx.Reshape %[[SEED]], {{.*}} -> tensor<6x4xf32>
// CHECK: %[[H:.*]] = onnx.Gemm %[[ROWS]], %[[A]], %{{.*}} {transB = 1 : i64} : {{.*}} -> tensor<6x2xf32>
// CHECK: %[[DB:.*]] = onnx.Gemm %[[DY]], %[[H]], %{{.*}} {alpha = 2.000000e+00 : f32, transA = 1 : i64} : {{.*}} -> tensor<4x2xf32>
// CHECK: %[[DH:.*]] = onnx.Gemm %[[DY]], %[[B]], %{{.*}} {alpha = 2.000000e+00 : f32} : {{.*}} -> tensor<6x2xf32>
// CHECK: %[[DA:.*]] = onnx.Gemm %[[DH]], %[[ROWS]], %{{.*}} {transA = 1 : i64} : {{.*}} -> tensor<2x8xf32>
// CHECK: %[[DXROWS:.*]] = onnx.Gemm %[[DH]], %[[A]], %{{.*}} : {{.*}} -> tensor<6x8xf32>
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[X]]
// CHECK: %[[DX:.*]] = onnx.Reshape %[[DXROWS]], %[[SHAPE]] : {{.*}} -> tensor<2x3x8xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DA]], %[[DB]]
func.func @lora(%x: tensor<2x3x8xf32>, %a: tensor<2x8xf32>, %b: tensor<4x2xf32>) -> tensor<2x3x4xf32> {
  %y = qaf.lora %x, %a, %b {scale = 2.0 : f64} : (tensor<2x3x8xf32>, tensor<2x8xf32>, tensor<4x2xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// QA-LoRA pools x over groups of 4: x̄ = mean of [3, 2, 4] over its last
// dim; dx spreads dx̄ [3, 2] over each group, divided by 4.
// CHECK-LABEL: func.func @qalora
// CHECK: %[[GROUPS:.*]] = onnx.Reshape %{{.*}}, {{.*}} -> tensor<3x2x4xf32>
// CHECK: %[[POOLED:.*]] = onnx.ReduceMean %[[GROUPS]], %{{.*}} {keepdims = 0 : i64} : {{.*}} -> tensor<3x2xf32>
// CHECK: onnx.Gemm %[[POOLED]], %{{.*}} {transB = 1 : i64} : {{.*}} -> tensor<3x1xf32>
// CHECK: %[[DA:.*]] = onnx.Gemm %{{.*}}, %[[POOLED]], %{{.*}} {transA = 1 : i64} : {{.*}} -> tensor<1x2xf32>
// CHECK: %[[DPOOLED:.*]] = onnx.Gemm {{.*}} -> tensor<3x2xf32>
// CHECK: %[[COLUMN:.*]] = onnx.Reshape %[[DPOOLED]], {{.*}} -> tensor<3x2x1xf32>
// CHECK: %[[QUARTER:.*]] = onnx.Constant {value = dense<2.500000e-01> : tensor<1x1x4xf32>}
// CHECK: %[[SPREAD:.*]] = onnx.Mul %[[COLUMN]], %[[QUARTER]] : {{.*}} -> tensor<3x2x4xf32>
// CHECK: %[[DX:.*]] = onnx.Reshape %[[SPREAD]], {{.*}} -> tensor<3x8xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DA]], %{{.*}}
func.func @qalora(%x: tensor<3x8xf32>, %a: tensor<1x2xf32>, %b: tensor<4x1xf32>) -> tensor<3x4xf32> {
  %y = qaf.qalora %x, %a, %b {group_size = 4 : i64, scale = 0.5 : f64} : (tensor<3x8xf32>, tensor<1x2xf32>, tensor<4x1xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// QA-HiRA repeats each row of M·x̄ twice: dU sums dy over each pair of
// outputs; dM = α dUᵀ x̄ and dx̄ = α dU M, with no second factor.
// CHECK-LABEL: func.func @qahira
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[M:.*]]: tensor<2x2xf32>, %[[SEED:.*]]: tensor<3x4xf32>)
// CHECK: %[[POOLED:.*]] = onnx.ReduceMean {{.*}} -> tensor<3x2xf32>
// CHECK: %[[PAIRS:.*]] = onnx.Reshape %{{.*}}, {{.*}} -> tensor<3x2x2xf32>
// CHECK: %[[DU:.*]] = onnx.ReduceSum %[[PAIRS]], %{{.*}} {keepdims = 0 : i64} : {{.*}} -> tensor<3x2xf32>
// CHECK: %[[DM:.*]] = onnx.Gemm %[[DU]], %[[POOLED]], %{{.*}} {alpha = 1.500000e+00 : f32, transA = 1 : i64} : {{.*}} -> tensor<2x2xf32>
// CHECK: onnx.Gemm %[[DU]], %[[M]], %{{.*}} {alpha = 1.500000e+00 : f32} : {{.*}} -> tensor<3x2xf32>
// CHECK: return %{{.*}}, %{{.*}}, %[[DM]]
func.func @qahira(%x: tensor<3x8xf32>, %m: tensor<2x2xf32>) -> tensor<3x4xf32> {
  %y = qaf.qahira %x, %m {alpha = 1.5 : f64, group_size = 4 : i64, repeat_out = 2 : i64} : (tensor<3x8xf32>, tensor<2x2xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// Q-BaRA pools x by 2 and repeats outputs 2 times.
// CHECK-LABEL: func.func @qbara
// CHECK: onnx.ReduceMean {{.*}} -> tensor<3x4xf32>
// CHECK: onnx.ReduceSum {{.*}} -> tensor<3x2xf32>
// CHECK: %[[DB:.*]] = onnx.Gemm {{.*}} {alpha = 5.000000e-01 : f32, transA = 1 : i64} : {{.*}} -> tensor<2x4xf32>
// CHECK: %[[DA:.*]] = onnx.Gemm {{.*}} {transA = 1 : i64} : {{.*}} -> tensor<4x4xf32>
// CHECK: return %{{.*}}, %{{.*}}, %[[DA]], %[[DB]]
func.func @qbara(%x: tensor<3x8xf32>, %a: tensor<4x4xf32>, %b: tensor<2x4xf32>) -> tensor<3x4xf32> {
  %y = qaf.qbara %x, %a, %b {pool = 2 : i64, scale = 0.5 : f64} : (tensor<3x8xf32>, tensor<4x4xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// LoTA-QAF: dx multiplies by the moved codes and zero points; the ternary
// int8 factors get float gradients from dL/dΔW = s⊙Gw + P_g(s⊙Gw)/ω, with
// Gw = dyᵀ x [4, 64] and ω = 4: in f32 one qaf.adapter_gradients on the
// rows of dy and x.
// CHECK-LABEL: func.func @lota
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xf32>, %[[A:.*]]: tensor<5x64xi8>, %[[B:.*]]: tensor<4x5xi8>, %[[SEED:.*]]: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x64xf32>, tensor<5x64xf32>, tensor<4x5xf32>)
// CHECK: %[[C:.*]] = onnx.Constant {{.*}} : tensor<4x32xui8>
// CHECK: %[[S:.*]] = onnx.Constant {{.*}} : tensor<4x2xf32>
// CHECK: %[[Z:.*]] = onnx.Constant {{.*}} : tensor<4x2xf32>
// CHECK: %[[MOVES:.*]], %[[ZMOVED:.*]] = qaf.lota_update %[[C]], %[[Z]], %[[A]], %[[B]] {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, omega = 4.000000e+00 : f64}
// CHECK: %[[DX:.*]] = qaf.qlinear_transposed %[[SEED]], %[[C]], %[[S]] zero_points(%[[ZMOVED]]) moves(%[[MOVES]])
// CHECK: %[[DYROWS:.*]] = onnx.Reshape %[[SEED]], {{.*}} -> tensor<3x4xf32>
// CHECK: %[[XROWS:.*]] = onnx.Reshape %[[X]], {{.*}} -> tensor<3x64xf32>
// CHECK: %[[DA:.*]]:2 = qaf.adapter_gradients "lota" group_size(32) coefficient(4.000000e+00) ins(%[[DYROWS]], %[[XROWS]], %[[S]], %[[A]], %[[B]] : {{.*}}) -> tensor<5x64xf32>, tensor<4x5xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DA]]#0, %[[DA]]#1
func.func @lota(%x: tensor<3x64xf32>, %a: tensor<5x64xi8>, %b: tensor<4x5xi8>) -> tensor<3x4xf32> {
  %c = onnx.Constant {value = dense<17> : tensor<4x32xui8>} : tensor<4x32xui8>
  %s = onnx.Constant {value = dense<0.5> : tensor<4x2xf32>} : tensor<4x2xf32>
  %z = onnx.Constant {value = dense<8.0> : tensor<4x2xf32>} : tensor<4x2xf32>
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, omega = 4.0 : f64} : (tensor<3x64xf32>, tensor<4x32xui8>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<5x64xi8>, tensor<4x5xi8>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// L4Q (3 bits: Q_N = -4, Q_P = 3): u and w̃ from qaf.l4q_quantize, W_q =
// s·w̃ + β for dx; in f32 the four parameter gradients come from one
// qaf.adapter_gradients (G = dyᵀ x masked where -4 <= u <= 3, group sums
// of 4, α = 1.5). W0 (the constant) gets no gradient.
// CHECK-LABEL: func.func @l4q
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<4x2xf32>, %[[S:.*]]: tensor<4x2xf32>, %[[BETA:.*]]: tensor<4x2xf32>, %[[SEED:.*]]: tensor<3x4xf32>)
// CHECK: %[[W:.*]] = onnx.Constant {{.*}} : tensor<8x4xf32>
// CHECK: %[[U:.*]], %[[CODES:.*]] = qaf.l4q_quantize %[[W]], %[[A]], %[[B]], %[[S]], %[[BETA]] {alpha = 1.500000e+00 : f64, bits = 3 : i64, group_size = 4 : i64} : {{.*}} -> (tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: %[[WQ3:.*]] = onnx.Add
// CHECK: %[[WQ:.*]] = onnx.Reshape %[[WQ3]], {{.*}} -> tensor<4x8xf32>
// CHECK: %[[DYROWS:.*]] = onnx.Reshape %[[SEED]]
// CHECK: %[[DXROWS:.*]] = onnx.MatMul %[[DYROWS]], %[[WQ]] : {{.*}} -> tensor<3x8xf32>
// CHECK: %[[DX:.*]] = onnx.Reshape %[[DXROWS]]
// CHECK: %[[XROWS:.*]] = onnx.Reshape %[[X]], {{.*}} -> tensor<3x8xf32>
// CHECK: %[[G:.*]]:4 = qaf.adapter_gradients "l4q" group_size(4) coefficient(1.500000e+00) bits(3) ins(%[[DYROWS]], %[[XROWS]], %[[U]], %[[CODES]], %[[A]], %[[B]] : {{.*}}) -> tensor<2x8xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[G]]#0, %[[G]]#1, %[[G]]#2, %[[G]]#3
func.func @l4q(%x: tensor<3x8xf32>, %a: tensor<2x8xf32>, %b: tensor<4x2xf32>, %s: tensor<4x2xf32>, %beta: tensor<4x2xf32>) -> tensor<3x4xf32> {
  %w = onnx.Constant {value = dense<0.1> : tensor<8x4xf32>} : tensor<8x4xf32>
  %y = qaf.l4q_linear %x, %w, %a, %b, %s, %beta {alpha = 1.5 : f64, bits = 3 : i64, group_size = 4 : i64} : (tensor<3x8xf32>, tensor<8x4xf32>, tensor<2x8xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// The kernel computes f32 only: in f16 LoTA-QAF's rule forms Gw = dyᵀ x as
// an onnx.Gemm and reduces it with onnx ops.
// CHECK-LABEL: func.func @lota_f16
// CHECK-NOT: qaf.adapter_gradients
// CHECK: onnx.Gemm %{{.*}}, %{{.*}}, %{{.*}} {transA = 1 : i64} : {{.*}} -> tensor<4x64xf16>
// CHECK: onnx.ReduceMean
// CHECK: return
func.func @lota_f16(%x: tensor<3x64xf16>, %a: tensor<5x64xi8>, %b: tensor<4x5xi8>) -> tensor<3x4xf16> {
  %c = onnx.Constant {value = dense<17> : tensor<4x32xui8>} : tensor<4x32xui8>
  %s = onnx.Constant {value = dense<0.5> : tensor<4x2xf16>} : tensor<4x2xf16>
  %z = onnx.Constant {value = dense<8.0> : tensor<4x2xf16>} : tensor<4x2xf16>
  %y = qaf.lota_linear %x, %c, %s, %z, %a, %b {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>, omega = 4.0 : f64} : (tensor<3x64xf16>, tensor<4x32xui8>, tensor<4x2xf16>, tensor<4x2xf16>, tensor<5x64xi8>, tensor<4x5xi8>) -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}
