// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The reverse walk (qaf::buildReverseMode) differentiates only what lies
// between the result and an argument: ops that depend on no argument are
// skipped (they need no rule), and the gradients a rule builds for such
// operands are erased again.

// d/dx (exp(c) / x) = -seed * (exp(c) / x) / x. exp(c) depends on no
// argument: no gradient for it or for c (Div's rule builds seed / x for its
// numerator, which is erased); Erf has no rule, but lies off the path.
// CHECK-LABEL: func.func @constant_operands
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[SEED:.*]]: tensor<4xf32>)
// CHECK: %[[C:.*]] = onnx.Constant
// CHECK: %[[E:.*]] = onnx.Erf %[[C]]
// CHECK: %[[Q:.*]] = onnx.Div %[[E]], %[[X]]
// CHECK-NEXT: %[[SQ:.*]] = onnx.Mul %[[SEED]], %[[Q]]
// CHECK-NEXT: %[[T:.*]] = onnx.Div %[[SQ]], %[[X]]
// CHECK-NEXT: %[[DX:.*]] = onnx.Neg %[[T]]
// CHECK-NEXT: return %[[Q]], %[[DX]]
func.func @constant_operands(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = onnx.Constant {value = dense<2.0> : tensor<4xf32>} : tensor<4xf32>
  %e = onnx.Erf %c : (tensor<4xf32>) -> tensor<4xf32>
  %y = onnx.Div %e, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
