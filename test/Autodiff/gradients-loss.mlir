// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// SoftmaxCrossEntropyLoss: d scores = (softmax - one_hot) * w_e * g / sum(w_e)
// for "mean", with w_e = 0 where the label is ignore_index (-100) and 1
// elsewhere (no class weights); the labels get no gradient.

// CHECK-LABEL: func.func @mean_ignore_index
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[L:.*]]: tensor<3xi64>, %[[SEED:.*]]: tensor<f32>)
// CHECK-SAME: -> (tensor<f32>, tensor<3x4xf32>)
// CHECK: %[[LOSS:.*]], %{{.*}} = onnx.SoftmaxCrossEntropyLoss %[[X]], %[[L]]
// CHECK: %[[P:.*]] = onnx.Softmax %[[X]] {axis = 1 : i64}
// CHECK: %[[CLASSES:.*]] = onnx.Range
// CHECK: %[[ROW:.*]] = onnx.Reshape %[[CLASSES]], {{.*}} -> tensor<1x4xi64>
// CHECK: %[[COLUMN:.*]] = onnx.Unsqueeze %[[L]], {{.*}} -> tensor<3x1xi64>
// CHECK: %[[HOT:.*]] = onnx.Equal %[[COLUMN]], %[[ROW]] : {{.*}} -> tensor<3x4xi1>
// CHECK: %[[ONEHOT:.*]] = onnx.CastLike %[[HOT]], %[[X]] : {{.*}} -> tensor<3x4xf32>
// CHECK: %[[IGNORE:.*]] = onnx.Constant {value = dense<-100> : tensor<i64>}
// CHECK: %[[IGNORED:.*]] = onnx.Equal %[[L]], %[[IGNORE]]
// CHECK: %[[COUNTED:.*]] = onnx.Not %[[IGNORED]]
// CHECK: %[[W:.*]] = onnx.CastLike %[[COUNTED]], %[[X]] : {{.*}} -> tensor<3xf32>
// CHECK: %[[WG:.*]] = onnx.Mul %[[W]], %[[SEED]]
// CHECK: %[[N:.*]] = onnx.ReduceSum %[[W]], {{.*}} {keepdims = 0 : i64} : {{.*}} -> tensor<f32>
// CHECK: %[[FACTOR:.*]] = onnx.Div %[[WG]], %[[N]]
// CHECK: %[[DIFF:.*]] = onnx.Sub %[[P]], %[[ONEHOT]]
// CHECK: %[[COL:.*]] = onnx.Unsqueeze %[[FACTOR]], {{.*}} -> tensor<3x1xf32>
// CHECK: %[[DX:.*]] = onnx.Mul %[[DIFF]], %[[COL]] : {{.*}} -> tensor<3x4xf32>
// CHECK: return %[[LOSS]], %[[DX]]
func.func @mean_ignore_index(%x: tensor<3x4xf32>, %labels: tensor<3xi64>) -> tensor<f32> {
  %none = onnx.NoValue
  %loss, %log_prob = onnx.SoftmaxCrossEntropyLoss %x, %labels, %none {ignore_index = -100 : i64} : (tensor<3x4xf32>, tensor<3xi64>, none) -> (tensor<f32>, tensor<3x4xf32>)
  return %loss : tensor<f32>
}
