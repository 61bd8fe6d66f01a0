// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The ops the math rules (ONNXGradientsMath.cpp) emit for the reverse pass
// of L = sum(r * seed); their values are checked against finite differences
// in gradients-math-numeric.test.

// Batched matmul: dA = seed B^T and dB = A^T seed in the broadcast batch
// shape (2, 5); A was broadcast along batch dim 1, B along the leading dim
// it lacks, which Reshape drops again.
// CHECK-LABEL: func.func @matmul_batch_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<2x1x3x4xf32>, %[[B:.*]]: tensor<5x4x6xf32>, %[[SEED:.*]]: tensor<2x5x3x6xf32>)
// CHECK: %[[BT:.*]] = onnx.Transpose %[[B]] {perm = array<i64: 0, 2, 1>} : {{.*}} -> tensor<5x6x4xf32>
// CHECK: %[[DA:.*]] = onnx.MatMul %[[SEED]], %[[BT]] : {{.*}} -> tensor<2x5x3x4xf32>
// CHECK: %[[AT:.*]] = onnx.Transpose %[[A]] {perm = array<i64: 0, 1, 3, 2>} : {{.*}} -> tensor<2x1x4x3xf32>
// CHECK: %[[DB:.*]] = onnx.MatMul %[[AT]], %[[SEED]] : {{.*}} -> tensor<2x5x4x6xf32>
// CHECK: %[[AXIS1:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK: %[[DA_SUM:.*]] = onnx.ReduceSum %[[DA]], %[[AXIS1]] : {{.*}} -> tensor<2x1x3x4xf32>
// CHECK: %[[AXIS0:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK: %[[DB_SUM:.*]] = onnx.ReduceSum %[[DB]], %[[AXIS0]] : {{.*}} -> tensor<1x5x4x6xf32>
// CHECK: %[[B_SHAPE:.*]] = onnx.Shape %[[B]]
// CHECK: %[[DB_OUT:.*]] = onnx.Reshape %[[DB_SUM]], %[[B_SHAPE]] : {{.*}} -> tensor<5x4x6xf32>
// CHECK: return %{{.*}}, %[[DA_SUM]], %[[DB_OUT]]
func.func @matmul_batch_broadcast(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  %r = onnx.MatMul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %r : tensor<2x5x3x6xf32>
}

// A 1-D A is the row [1, 4]: the seed gets back the dim the result
// dropped (Unsqueeze at 1), dA loses it again (Squeeze) and is summed over
// the batch dim of B.
// CHECK-LABEL: func.func @matmul_vector_matrix
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<2x4x3xf32>, %[[SEED:.*]]: tensor<2x3xf32>)
// CHECK: %[[ROW:.*]] = onnx.Unsqueeze %[[A]], %{{.*}} : {{.*}} -> tensor<1x4xf32>
// CHECK: %[[G:.*]] = onnx.Unsqueeze %[[SEED]], %{{.*}} : {{.*}} -> tensor<2x1x3xf32>
// CHECK: %[[BT:.*]] = onnx.Transpose %[[B]] {perm = array<i64: 0, 2, 1>}
// CHECK: %[[DROW:.*]] = onnx.MatMul %[[G]], %[[BT]] : {{.*}} -> tensor<2x1x4xf32>
// CHECK: %[[DA:.*]] = onnx.Squeeze %[[DROW]], %{{.*}} : {{.*}} -> tensor<2x4xf32>
// CHECK: %[[ROWT:.*]] = onnx.Transpose %[[ROW]] {perm = array<i64: 1, 0>} : {{.*}} -> tensor<4x1xf32>
// CHECK: %[[DB:.*]] = onnx.MatMul %[[ROWT]], %[[G]] : {{.*}} -> tensor<2x4x3xf32>
// CHECK: %[[DA_SUM:.*]] = onnx.ReduceSum %[[DA]], %{{.*}} : {{.*}} -> tensor<1x4xf32>
// CHECK: %[[A_SHAPE:.*]] = onnx.Shape %[[A]]
// CHECK: %[[DA_OUT:.*]] = onnx.Reshape %[[DA_SUM]], %[[A_SHAPE]] : {{.*}} -> tensor<4xf32>
// CHECK: return %{{.*}}, %[[DA_OUT]], %[[DB]]
func.func @matmul_vector_matrix(%a: tensor<4xf32>, %b: tensor<2x4x3xf32>) -> tensor<2x3xf32> {
  %r = onnx.MatMul %a, %b : (tensor<4xf32>, tensor<2x4x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// Y = 0.5 A^T B^T + 2 C: dA = 0.5 B^T seed^T and dB = 0.5 seed^T A^T, each
// one Gemm without C; dC = 2 seed summed over the rows C was broadcast to.
// CHECK-LABEL: func.func @gemm_transposed
// CHECK-SAME: (%[[A:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<5x4xf32>, %[[C:.*]]: tensor<5xf32>, %[[SEED:.*]]: tensor<3x5xf32>)
// CHECK: %[[NONE:.*]] = onnx.NoValue
// CHECK: %[[DA:.*]] = onnx.Gemm %[[B]], %[[SEED]], %[[NONE]] {alpha = 5.000000e-01 : f32, transA = 1 : i64, transB = 1 : i64} : {{.*}} -> tensor<4x3xf32>
// CHECK: %[[NONE2:.*]] = onnx.NoValue
// CHECK: %[[DB:.*]] = onnx.Gemm %[[SEED]], %[[A]], %[[NONE2]] {alpha = 5.000000e-01 : f32, transA = 1 : i64, transB = 1 : i64} : {{.*}} -> tensor<5x4xf32>
// CHECK: %[[BETA:.*]] = onnx.Constant {value = dense<2.000000e+00> : tensor<f32>}
// CHECK: %[[SCALED:.*]] = onnx.Mul %[[SEED]], %[[BETA]]
// CHECK: %[[DC_SUM:.*]] = onnx.ReduceSum %[[SCALED]], %{{.*}} : {{.*}} -> tensor<1x5xf32>
// CHECK: %[[DC:.*]] = onnx.Reshape %[[DC_SUM]], %{{.*}} : {{.*}} -> tensor<5xf32>
// CHECK: return %{{.*}}, %[[DA]], %[[DB]], %[[DC]]
func.func @gemm_transposed(%a: tensor<4x3xf32>, %b: tensor<5x4xf32>, %c: tensor<5xf32>) -> tensor<3x5xf32> {
  %r = onnx.Gemm %a, %b, %c {alpha = 0.5 : f32, beta = 2.0 : f32, transA = 1 : i64, transB = 1 : i64} : (tensor<4x3xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// A mean over 8 static elements scales by the constant 1/8; the seed gets
// its reduced dims back (Unsqueeze with the reduction's own axes) and is
// expanded to the data's shape.
// CHECK-LABEL: func.func @reduce_mean_static
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x2xf32>, %[[SEED:.*]]: tensor<2xf32>)
// CHECK: %[[AXES:.*]] = onnx.Constant {value = dense<[-1, 1]> : tensor<2xi64>}
// CHECK: %[[G:.*]] = onnx.Unsqueeze %[[SEED]], %[[AXES]] : {{.*}} -> tensor<2x1x1xf32>
// CHECK: %[[SCALE:.*]] = onnx.Constant {value = dense<1.250000e-01> : tensor<f32>}
// CHECK: %[[MEAN:.*]] = onnx.Mul %[[G]], %[[SCALE]]
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[X]]
// CHECK: %[[DX:.*]] = onnx.Expand %[[MEAN]], %[[SHAPE]] : {{.*}} -> tensor<2x4x2xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @reduce_mean_static(%x: tensor<2x4x2xf32>) -> tensor<2xf32> {
  %axes = onnx.Constant {value = dense<[-1, 1]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.ReduceMean %x, %axes {keepdims = 0 : i64} : (tensor<2x4x2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %r : tensor<2xf32>
}

// With a dynamic reduced dim the count is |X| / |Y|, read with Size.
// CHECK-LABEL: func.func @reduce_mean_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<2x?xf32>, %[[SEED:.*]]: tensor<2x1xf32>)
// CHECK-DAG: %[[RESULT_SIZE:.*]] = onnx.Size %[[R:[^ ]*]]
// CHECK-DAG: %[[DATA_SIZE:.*]] = onnx.Size %[[X]]
// CHECK-DAG: %[[RESULT_COUNT:.*]] = onnx.CastLike %[[RESULT_SIZE]], %[[X]] : {{.*}} -> tensor<f32>
// CHECK-DAG: %[[DATA_COUNT:.*]] = onnx.CastLike %[[DATA_SIZE]], %[[X]] : {{.*}} -> tensor<f32>
// CHECK: %[[SCALE:.*]] = onnx.Div %[[RESULT_COUNT]], %[[DATA_COUNT]]
// CHECK: %[[MEAN:.*]] = onnx.Mul %[[SEED]], %[[SCALE]]
// CHECK: %[[SHAPE:.*]] = onnx.Shape %[[X]]
// CHECK: %[[DX:.*]] = onnx.Expand %[[MEAN]], %[[SHAPE]] : {{.*}} -> tensor<2x?xf32>
// CHECK: return %[[R]], %[[DX]]
func.func @reduce_mean_dynamic(%x: tensor<2x?xf32>) -> tensor<2x1xf32> {
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.ReduceMean %x, %axes : (tensor<2x?xf32>, tensor<1xi64>) -> tensor<2x1xf32>
  return %r : tensor<2x1xf32>
}

// dX = Y (seed - sum(seed Y)) along the softmax axis.
// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[SEED:.*]]: tensor<2x3xf32>)
// CHECK: %[[Y:.*]] = onnx.Softmax %[[X]] {axis = 0 : i64}
// CHECK: %[[GY:.*]] = onnx.Mul %[[SEED]], %[[Y]]
// CHECK: %[[AXIS:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK: %[[SUM:.*]] = onnx.ReduceSum %[[GY]], %[[AXIS]] : {{.*}} -> tensor<1x3xf32>
// CHECK: %[[DIFF:.*]] = onnx.Sub %[[SEED]], %[[SUM]]
// CHECK: %[[DX:.*]] = onnx.Mul %[[Y]], %[[DIFF]]
// CHECK: return %[[Y]], %[[DX]]
func.func @softmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = onnx.Softmax %x {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// Relu passes the seed where x > 0; a float-to-float Cast casts it back to
// the input's type (to = 1: FLOAT).
// CHECK-LABEL: func.func @relu_cast
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[SEED:.*]]: tensor<3xf16>)
// CHECK: %[[H:.*]] = onnx.Cast %{{.*}} {to = 10 : i64}
// CHECK: %[[DH:.*]] = onnx.Cast %[[SEED]] {to = 1 : i64} : (tensor<3xf16>) -> tensor<3xf32>
// CHECK: %[[ZERO:.*]] = onnx.Constant {value = dense<0.000000e+00> : tensor<f32>}
// CHECK: %[[POSITIVE:.*]] = onnx.Greater %[[X]], %[[ZERO]]
// CHECK: %[[DX:.*]] = onnx.Where %[[POSITIVE]], %[[DH]], %[[ZERO]]
// CHECK: return %[[H]], %[[DX]]
func.func @relu_cast(%x: tensor<3xf32>) -> tensor<3xf16> {
  %0 = onnx.Relu %x : (tensor<3xf32>) -> tensor<3xf32>
  %r = onnx.Cast %0 {to = 10 : i64} : (tensor<3xf32>) -> tensor<3xf16>
  return %r : tensor<3xf16>
}

// Clip(x, lo, hi) = Min(Max(x, lo), hi): hi takes the seed where Max(x, lo)
// exceeds it, lo where x is below it, x the rest.
// CHECK-LABEL: func.func @clip
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[LO:.*]]: tensor<f32>, %[[HI:.*]]: tensor<f32>, %[[SEED:.*]]: tensor<4xf32>)
// CHECK: %[[ZERO:.*]] = onnx.Constant {value = dense<0.000000e+00> : tensor<f32>}
// CHECK: %[[LOWER:.*]] = onnx.Max %[[X]], %[[LO]]
// CHECK: %[[ABOVE:.*]] = onnx.Greater %[[LOWER]], %[[HI]]
// CHECK: %[[TO_HI:.*]] = onnx.Where %[[ABOVE]], %[[SEED]], %[[ZERO]]
// CHECK: %[[PASSED:.*]] = onnx.Where %[[ABOVE]], %[[ZERO]], %[[SEED]]
// CHECK: %[[HI_SUM:.*]] = onnx.ReduceSum %[[TO_HI]], %{{.*}} : {{.*}} -> tensor<1xf32>
// CHECK: %[[DHI:.*]] = onnx.Reshape %[[HI_SUM]], %{{.*}} : {{.*}} -> tensor<f32>
// CHECK: %[[BELOW:.*]] = onnx.Less %[[X]], %[[LO]]
// CHECK: %[[TO_LO:.*]] = onnx.Where %[[BELOW]], %[[PASSED]], %[[ZERO]]
// CHECK: %[[DX:.*]] = onnx.Where %[[BELOW]], %[[ZERO]], %[[PASSED]]
// CHECK: %[[LO_SUM:.*]] = onnx.ReduceSum %[[TO_LO]], %{{.*}} : {{.*}} -> tensor<1xf32>
// CHECK: %[[DLO:.*]] = onnx.Reshape %[[LO_SUM]], %{{.*}} : {{.*}} -> tensor<f32>
// CHECK: return %{{.*}}, %[[DX]], %[[DLO]], %[[DHI]]
func.func @clip(%x: tensor<4xf32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<4xf32> {
  %r = onnx.Clip %x, %lo, %hi : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
