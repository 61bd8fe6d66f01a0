// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The reverse pass of L = sum(r * seed): element-wise rules in the result's
// shape, then, for broadcasting ops, a sum over the dims each operand was
// broadcast along (the missing leading dims and the size-1 dims), brought
// back to the operand's rank.

// d/dx (x + y) = seed; d/dy = the seed summed over dim 0, which y lacks.
// CHECK-LABEL: func.func @add_missing_leading_dim
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>, %[[SEED:.*]]: tensor<2x3xf32>)
// CHECK-SAME: -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>)
// CHECK: %[[R:.*]] = onnx.Add %[[X]], %[[Y]]
// CHECK: %[[AXES:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK: %[[SUM:.*]] = onnx.ReduceSum %[[SEED]], %[[AXES]] : {{.*}} -> tensor<1x3xf32>
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[Y]]
// CHECK: %[[DY:.*]] = onnx.Reshape %[[SUM]], %[[SHAPE]] : {{.*}} -> tensor<3xf32>
// CHECK: return %[[R]], %[[SEED]], %[[DY]]
func.func @add_missing_leading_dim(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  %r = onnx.Add %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// d/dx (x - y) = seed; d/dy = -seed summed over y's size-1 dim 1 (kept).
// CHECK-LABEL: func.func @sub_size_one_dim
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<2x1xf32>, %[[SEED:.*]]: tensor<2x3xf32>)
// CHECK: %[[R:.*]] = onnx.Sub %[[X]], %[[Y]]
// CHECK: %[[NEG:.*]] = onnx.Neg %[[SEED]]
// CHECK: %[[AXES:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK: %[[DY:.*]] = onnx.ReduceSum %[[NEG]], %[[AXES]] : {{.*}} -> tensor<2x1xf32>
// CHECK-NOT: onnx.Reshape
// CHECK: return %[[R]], %[[SEED]], %[[DY]]
func.func @sub_size_one_dim(%x: tensor<2x3xf32>, %y: tensor<2x1xf32>) -> tensor<2x3xf32> {
  %r = onnx.Sub %x, %y : (tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// d/dx (x * y) = seed * y, d/dy = seed * x; d/dx (x / y) = seed / y,
// d/dy = -(seed * (x / y)) / y. x is used twice: its gradients add up.
// CHECK-LABEL: func.func @mul_div_reuse
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>, %[[SEED:.*]]: tensor<4xf32>)
// CHECK: %[[P:.*]] = onnx.Mul %[[X]], %[[Y]]
// CHECK: %[[Q:.*]] = onnx.Div %[[P]], %[[X]]
// CHECK: %[[SQ:.*]] = onnx.Mul %[[SEED]], %[[Q]]
// CHECK: %[[DP:.*]] = onnx.Div %[[SEED]], %[[X]]
// CHECK: %[[T:.*]] = onnx.Div %[[SQ]], %[[X]]
// CHECK: %[[DX1:.*]] = onnx.Neg %[[T]]
// CHECK: %[[DX2:.*]] = onnx.Mul %[[DP]], %[[Y]]
// CHECK: %[[DY:.*]] = onnx.Mul %[[DP]], %[[X]]
// CHECK: %[[DX:.*]] = onnx.Add %[[DX1]], %[[DX2]]
// CHECK: return %[[Q]], %[[DX]], %[[DY]]
func.func @mul_div_reuse(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %p = onnx.Mul %x, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %q = onnx.Div %p, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %q : tensor<4xf32>
}
