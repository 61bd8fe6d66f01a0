// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The reverse passes of the normalisations and of RotaryEmbedding. The norms
// recompute x_hat and r = 1 / sqrt(mean(x^2) + eps) from the input (not
// from the op's stash-typed statistics); the scale's gradient is the Mul
// rule's (summed over the rows); dx = r (g - x_hat mean(g x_hat)) for the
// RMS norm, minus mean(g) too for LayerNormalization, with g = dy * scale.

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>, %[[SEED:.*]]: tensor<2x8xf32>)
// CHECK: %[[Y:.*]], %{{.*}} = onnx.SimplifiedLayerNormalization %[[X]], %[[W]]
// CHECK: %[[AXES:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK: %[[SQ:.*]] = onnx.Mul %[[X]], %[[X]]
// CHECK: %[[MS:.*]] = onnx.ReduceMean %[[SQ]], %[[AXES]] : {{.*}} -> tensor<2x1xf32>
// CHECK: %[[EPS:.*]] = onnx.Constant {value = dense<9.99999997E-7> : tensor<f32>}
// CHECK: %[[SHIFTED:.*]] = onnx.Add %[[MS]], %[[EPS]]
// CHECK: %[[ROOT:.*]] = onnx.Sqrt %[[SHIFTED]]
// CHECK: %[[R:.*]] = onnx.Reciprocal %[[ROOT]]
// CHECK: %[[XHAT:.*]] = onnx.Mul %[[X]], %[[R]]
// CHECK: %[[G:.*]] = onnx.Mul %[[SEED]], %[[W]]
// CHECK: %[[GX:.*]] = onnx.Mul %[[SEED]], %[[XHAT]]
// CHECK: %[[ROWS:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK: %[[DW2:.*]] = onnx.ReduceSum %[[GX]], %[[ROWS]]
// CHECK: %[[DW:.*]] = onnx.Reshape %[[DW2]]
// CHECK: %[[P:.*]] = onnx.Mul %[[G]], %[[XHAT]]
// CHECK: %[[MP:.*]] = onnx.ReduceMean %[[P]], %[[AXES]]
// CHECK: %[[PROJ:.*]] = onnx.Mul %[[XHAT]], %[[MP]]
// CHECK: %[[DIR:.*]] = onnx.Sub %[[G]], %[[PROJ]]
// CHECK: %[[DX:.*]] = onnx.Mul %[[DIR]], %[[R]]
// CHECK: return %[[Y]], %[[DX]], %[[DW]]
func.func @rms_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %y, %inv = onnx.SimplifiedLayerNormalization %x, %w {epsilon = 1.0e-6 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>)
  return %y : tensor<2x8xf32>
}

// Centred: x - mean(x) before the squares, and the extra mean(g) term; the
// bias's gradient is the seed summed over the rows (the Add rule's).
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>, %[[SEED:.*]]: tensor<2x8xf32>)
// CHECK: %[[AXES:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK: %[[MEAN:.*]] = onnx.ReduceMean %[[X]], %[[AXES]]
// CHECK: %[[XC:.*]] = onnx.Sub %[[X]], %[[MEAN]]
// CHECK: onnx.Mul %[[XC]], %[[XC]]
// CHECK: %[[R:.*]] = onnx.Reciprocal
// CHECK: %[[XHAT:.*]] = onnx.Mul %[[XC]], %[[R]]
// CHECK: %[[DB2:.*]] = onnx.ReduceSum %[[SEED]]
// CHECK: %[[DB:.*]] = onnx.Reshape %[[DB2]]
// CHECK: %[[G:.*]] = onnx.Mul %[[SEED]], %[[W]]
// CHECK: %[[DW:.*]] = onnx.Reshape
// CHECK: %[[DIR:.*]] = onnx.Sub %[[G]], %{{.*}}
// CHECK: %[[MG:.*]] = onnx.ReduceMean %[[G]], %[[AXES]]
// CHECK: %[[DIR2:.*]] = onnx.Sub %[[DIR]], %[[MG]]
// CHECK: %[[DX:.*]] = onnx.Mul %[[DIR2]], %[[R]]
// CHECK: return %{{.*}}, %[[DX]], %[[DW]], %[[DB]]
func.func @layer_norm(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %y, %m, %inv = onnx.LayerNormalization %x, %w, %b : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return %y : tensor<2x8xf32>
}

// The inverse rotation: the same op, attributes and positions, with the
// sine cache negated; the caches get no gradient.
// CHECK-LABEL: func.func @rotary
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x8xf32>, %[[P:.*]]: tensor<1x3xi64>, %[[SEED:.*]]: tensor<1x3x8xf32>)
// CHECK-SAME: -> (tensor<1x3x8xf32>, tensor<1x3x8xf32>)
// CHECK: %[[COS:.*]] = onnx.Constant {value = dense<5.000000e-01>
// CHECK: %[[SIN:.*]] = onnx.Constant {value = dense<2.500000e-01>
// CHECK: %[[R:.*]] = onnx.com.microsoft.RotaryEmbedding %[[X]], %[[P]], %[[COS]], %[[SIN]] {interleaved = 1 : i64}
// CHECK: %[[NEGSIN:.*]] = onnx.Neg %[[SIN]]
// CHECK: %[[DX:.*]] = onnx.com.microsoft.RotaryEmbedding %[[SEED]], %[[P]], %[[COS]], %[[NEGSIN]] {interleaved = 1 : i64}
// CHECK: return %[[R]], %[[DX]]
func.func @rotary(%x: tensor<1x3x8xf32>, %p: tensor<1x3xi64>) -> tensor<1x3x8xf32> {
  %c = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %s = onnx.Constant {value = dense<0.25> : tensor<4x4xf32>} : tensor<4x4xf32>
  %r = onnx.com.microsoft.RotaryEmbedding %x, %p, %c, %s {interleaved = 1 : i64} : (tensor<1x3x8xf32>, tensor<1x3xi64>, tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<1x3x8xf32>
  return %r : tensor<1x3x8xf32>
}
