// qaf-share-grouped-kv: the attention products of grouped-query attention
// read the key/value heads themselves, not their repeat_kv copies (the query
// heads regrouped by Reshapes that move no data); anything else is left.
// RUN: qaf-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(qaf-share-grouped-kv),canonicalize)" | FileCheck %s

// CHECK-LABEL: func.func @attention(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x?x16xf32>, %[[P:[a-z0-9]+]]: tensor<?x4x?x?xf32>
// CHECK-NOT: onnx.Expand
// CHECK-DAG: %[[SPLIT_HEADS:.*]] = onnx.Constant {value = dense<[1, 2, 1, 1]> : tensor<4xi64>}
// CHECK-DAG: %[[MERGE_ROWS:.*]] = onnx.Constant {value = dense<[1, 1, 2, 1]> : tensor<4xi64>}
// CHECK: %[[KT:.*]] = onnx.Transpose %[[K]] {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x16x?xf32>
// The query heads grouped: [b, 4, s, 16] as [b, 2, 2s, 16], the shape
// computed at run time (a -1 cannot be inferred for an empty sequence).
// CHECK: %[[QS:.*]] = onnx.Shape %[[Q]]
// CHECK: %[[QM:.*]] = onnx.Mul %[[QS]], %[[MERGE_ROWS]]
// CHECK: %[[QSHAPE:.*]] = onnx.Div %[[QM]], %[[SPLIT_HEADS]]
// CHECK: %[[QG:.*]] = onnx.Reshape %[[Q]], %[[QSHAPE]] : (tensor<?x4x?x16xf32>, tensor<4xi64>) -> tensor<?x2x?x16xf32>
// CHECK: %[[SG:.*]] = onnx.MatMul %[[QG]], %[[KT]] : (tensor<?x2x?x16xf32>, tensor<?x2x16x?xf32>) -> tensor<?x2x?x?xf32>
// CHECK: %[[SS:.*]] = onnx.Shape %[[SG]]
// CHECK: %[[SM:.*]] = onnx.Mul %[[SS]], %[[SPLIT_HEADS]]
// CHECK: %[[SSHAPE:.*]] = onnx.Div %[[SM]], %[[MERGE_ROWS]]
// CHECK: %[[S:.*]] = onnx.Reshape %[[SG]], %[[SSHAPE]] : (tensor<?x2x?x?xf32>, tensor<4xi64>) -> tensor<?x4x?x?xf32>
// CHECK: %[[PG:.*]] = onnx.Reshape %[[P]], %{{.*}} : (tensor<?x4x?x?xf32>, tensor<4xi64>) -> tensor<?x2x?x?xf32>
// CHECK: %[[OG:.*]] = onnx.MatMul %[[PG]], %[[V]] : (tensor<?x2x?x?xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
// CHECK: %[[O:.*]] = onnx.Reshape %[[OG]], %{{.*}} : (tensor<?x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
// CHECK: return %[[S]], %[[O]]
func.func @attention(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %p: tensor<?x4x?x?xf32>) -> (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) {
  %axes = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %repeat = onnx.Constant {value = dense<[1, 1, 2, 1, 1]> : tensor<5xi64>} : tensor<5xi64>
  %heads = onnx.Constant {value = dense<[0, 4, -1, 16]> : tensor<4xi64>} : tensor<4xi64>
  %k5 = onnx.Unsqueeze %k, %axes : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ke = onnx.Expand %k5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = onnx.Reshape %ke, %heads : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = onnx.Transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %v5 = onnx.Unsqueeze %v, %axes : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ve = onnx.Expand %v5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %vr = onnx.Reshape %ve, %heads : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %o = onnx.MatMul %p, %vr : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %s, %o : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>
}

// -----

// Not a repeat_kv product: a MatMul with another transpose between it and
// the repeat_kv (an identity permutation, which the pass does not look
// through), and an Unsqueeze of another axis. Both stay as they are.
// CHECK-LABEL: func.func @other_patterns(
// CHECK: onnx.Expand
// CHECK: onnx.MatMul {{.*}} : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>)
// CHECK: onnx.Expand
// CHECK: onnx.MatMul {{.*}} : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>)
func.func @other_patterns(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<2x?x?x16xf32>, %p: tensor<?x4x?x?xf32>) -> (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) {
  %axes2 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %axes1 = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %repeat = onnx.Constant {value = dense<[1, 1, 2, 1, 1]> : tensor<5xi64>} : tensor<5xi64>
  %repeat1 = onnx.Constant {value = dense<[1, 2, 1, 1, 1]> : tensor<5xi64>} : tensor<5xi64>
  %heads = onnx.Constant {value = dense<[0, 4, -1, 16]> : tensor<4xi64>} : tensor<4xi64>
  %k5 = onnx.Unsqueeze %k, %axes2 : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ke = onnx.Expand %k5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = onnx.Reshape %ke, %heads : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = onnx.Transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %kt2 = onnx.Transpose %kt {perm = array<i64: 0, 1, 2, 3>} : (tensor<?x4x16x?xf32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %q, %kt2 : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %v5 = onnx.Unsqueeze %v, %axes1 : (tensor<2x?x?x16xf32>, tensor<1xi64>) -> tensor<2x1x?x?x16xf32>
  %ve = onnx.Expand %v5, %repeat1 : (tensor<2x1x?x?x16xf32>, tensor<5xi64>) -> tensor<2x2x?x?x16xf32>
  %vr = onnx.Reshape %ve, %heads : (tensor<2x2x?x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %o = onnx.MatMul %p, %vr : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %s, %o : tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>
}

// -----

// The mask's length read off the repeated keys: Shape(R) = Shape(k) ·
// [1, n, 1, 1], so nothing reads the copy any more.
// CHECK-LABEL: func.func @keys_length(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x6x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x?x16xf32>
// CHECK-NOT: onnx.Expand
// CHECK-DAG: %[[REPEATS:.*]] = onnx.Constant {value = dense<[1, 3, 1, 1]> : tensor<4xi64>}
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[K]] : (tensor<?x2x?x16xf32>) -> tensor<4xi64>
// CHECK: %[[SCALED:.*]] = onnx.Mul %[[SHAPE]], %[[REPEATS]]
// CHECK: return %{{.*}}, %[[SCALED]]
func.func @keys_length(%q: tensor<?x6x?x16xf32>, %k: tensor<?x2x?x16xf32>) -> (tensor<?x6x?x?xf32>, tensor<4xi64>) {
  %axes = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %repeat = onnx.Constant {value = dense<[1, 1, 3, 1, 1]> : tensor<5xi64>} : tensor<5xi64>
  %heads = onnx.Constant {value = dense<[0, 6, -1, 16]> : tensor<4xi64>} : tensor<4xi64>
  %k5 = onnx.Unsqueeze %k, %axes : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ke = onnx.Expand %k5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x3x?x16xf32>
  %kr = onnx.Reshape %ke, %heads : (tensor<?x2x3x?x16xf32>, tensor<4xi64>) -> tensor<?x6x?x16xf32>
  %kt = onnx.Transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x6x?x16xf32>) -> tensor<?x6x16x?xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x6x?x16xf32>, tensor<?x6x16x?xf32>) -> tensor<?x6x?x?xf32>
  %shape = onnx.Shape %kr : (tensor<?x6x?x16xf32>) -> tensor<4xi64>
  return %s, %shape : tensor<?x6x?x?xf32>, tensor<4xi64>
}
