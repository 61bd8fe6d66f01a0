// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s

// SoftmaxCrossEntropyLoss, "mean" with ignore_index -100: a run-time check
// that every label is a class or ignored; the log-sum-exp of each row (max,
// then the sum of exp(x - max)); the weight of each element (0 if ignored);
// its loss (lse - x[n, label]) * w reading one score at the clamped label;
// then sum(loss) / sum(w). log_prob is unused: nothing of the scores' size
// is computed.

// CHECK-LABEL: func.func @mean_ignore_index
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>, %[[L:.*]]: tensor<3xi64>)
// CHECK: %[[C:.*]] = arith.constant 4 : index
// CHECK: %[[VALID:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[L]] : tensor<3xi64>) outs({{.*}} : tensor<i1>)
// CHECK: %[[OK:.*]] = tensor.extract %[[VALID]][]
// CHECK: qaf.check %[[OK]], "SoftmaxCrossEntropyLoss: a label is outside the classes [0, {0}) and is not ignore_index"(%[[C]] : index)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<3x4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[MAX]] : tensor<3x4xf32>, tensor<3xf32>)
// CHECK: math.exp
// CHECK: %[[LSE:.*]] = linalg.generic {{.*}} ins(%[[MAX]], %[[SUM]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: math.log
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%[[L]] : tensor<3xi64>) outs({{.*}} : tensor<3xf32>)
// CHECK: arith.cmpi eq, %{{.*}}, %c-100_i64
// CHECK: %[[LOSSES:.*]] = linalg.generic {{.*}} ins(%[[L]], %[[LSE]], %[[W]] : tensor<3xi64>, tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[ROW:.*]] = linalg.index 0 : index
// CHECK: %[[CLASS:.*]] = arith.select %{{.*}}, %{{.*}}, %c0 : index
// CHECK: tensor.extract %[[X]][%[[ROW]], %[[CLASS]]] : tensor<3x4xf32>
// CHECK: %[[TOTAL:.*]] = linalg.generic {{.*}} ins(%[[LOSSES]] : tensor<3xf32>) outs({{.*}} : tensor<f32>)
// CHECK: %[[COUNT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<3xf32>) outs({{.*}} : tensor<f32>)
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[TOTAL]], %[[COUNT]] : tensor<f32>, tensor<f32>)
// CHECK: arith.divf
// CHECK-NOT: linalg.generic
// CHECK: return %[[MEAN]] : tensor<f32>
func.func @mean_ignore_index(%x: tensor<3x4xf32>, %labels: tensor<3xi64>) -> tensor<f32> {
  %none = onnx.NoValue
  %loss, %log_prob = onnx.SoftmaxCrossEntropyLoss %x, %labels, %none {ignore_index = -100 : i64} : (tensor<3x4xf32>, tensor<3xi64>, none) -> (tensor<f32>, tensor<3x4xf32>)
  return %loss : tensor<f32>
}
