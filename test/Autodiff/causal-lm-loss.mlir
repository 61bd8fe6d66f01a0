// RUN: qaf-opt --split-input-file --verify-diagnostics --qaf-test-causal-lm-loss %s | FileCheck %s
// RUN: qaf-opt --qaf-test-causal-lm-loss="reduction=sum count=1" %s --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=COUNT
//
// buildCausalLMLoss: logits[:, :-1] (B, T - 1, V) against labels[:, 1:],
// transposed to (B, V, T - 1) for SoftmaxCrossEntropyLoss with
// ignore_index -100; the token count counts the labels that are not -100.

// CHECK-LABEL: func.func @loss
// CHECK-SAME: (%[[LOGITS:.*]]: tensor<2x5x11xf32>, %[[IDS:.*]]: tensor<2x5xi64>) -> tensor<f32>
// CHECK-DAG: %[[AXIS:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK-DAG: %[[NONE:.*]] = onnx.NoValue
// CHECK-DAG: %[[ZERO:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK-DAG: %[[LAST:.*]] = onnx.Constant {value = dense<-1> : tensor<1xi64>}
// CHECK: %[[PRED:.*]] = onnx.Slice %[[LOGITS]], %[[ZERO]], %[[LAST]], %[[AXIS]], %[[NONE]] : {{.*}} -> tensor<2x4x11xf32>
// CHECK: %[[ONE:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK: %[[END:.*]] = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>}
// CHECK: %[[NEXT:.*]] = onnx.Slice %[[IDS]], %[[ONE]], %[[END]], %[[AXIS]], %[[NONE]] : {{.*}} -> tensor<2x4xi64>
// CHECK: %[[SCORES:.*]] = onnx.Transpose %[[PRED]] {perm = array<i64: 0, 2, 1>} : {{.*}} -> tensor<2x11x4xf32>
// CHECK: %[[LOSS:.*]], %{{.*}} = onnx.SoftmaxCrossEntropyLoss %[[SCORES]], %[[NEXT]], %[[NONE]] {ignore_index = -100 : i64} : {{.*}} -> (tensor<f32>, tensor<2x11x4xf32>)
// CHECK: return %[[LOSS]] : tensor<f32>

// COUNT-LABEL: func.func @loss
// COUNT: %[[NEXT:.*]] = onnx.Slice %arg1
// COUNT: onnx.SoftmaxCrossEntropyLoss {{.*}} {ignore_index = -100 : i64, reduction = "sum"}
// COUNT: %[[IGNORED:.*]] = onnx.Constant {value = dense<-100> : tensor<i64>}
// COUNT: %[[EQ:.*]] = onnx.Equal %[[NEXT]], %[[IGNORED]]
// COUNT: %[[COUNTED:.*]] = onnx.Not %[[EQ]]
// COUNT: %[[I64:.*]] = onnx.Cast %[[COUNTED]] {to = 7 : i64}
// COUNT: %[[AXES:.*]] = onnx.Constant {value = dense<[0, 1]> : tensor<2xi64>}
// COUNT: %[[N:.*]] = onnx.ReduceSum %[[I64]], %[[AXES]] {keepdims = 0 : i64} : {{.*}} -> tensor<i64>
// COUNT: return %[[N]] : tensor<i64>
func.func @loss(%logits: tensor<2x5x11xf32>, %ids: tensor<2x5xi64>) -> tensor<2x5x11xf32> {
  return %logits : tensor<2x5x11xf32>
}

// -----

// expected-error @below {{the causal-LM loss needs float logits of rank 3 (batch, sequence, vocabulary), got 'tensor<10x11xf32>'}}
func.func @flat_logits(%logits: tensor<10x11xf32>, %ids: tensor<2x5xi64>) -> tensor<10x11xf32> {
  return %logits : tensor<10x11xf32>
}

// -----

// expected-error @below {{the causal-LM loss needs int32/int64 labels of rank 2 (batch, sequence), got 'tensor<2x5xf32>'}}
func.func @float_labels(%logits: tensor<2x5x11xf32>, %ids: tensor<2x5xf32>) -> tensor<2x5x11xf32> {
  return %logits : tensor<2x5x11xf32>
}
