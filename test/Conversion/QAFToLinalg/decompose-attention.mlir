// RUN: qaf-opt %s --split-input-file --qaf-decompose-kernel-ops -canonicalize | FileCheck %s
// RUN: qaf-opt %s --split-input-file --qaf-decompose-kernel-ops="keep-attention-head-size=64" | FileCheck %s --check-prefix=KEEP

// qaf.kernel.attention as the chain it was fused from: the scores (a
// contraction over the head size reading key head h / 2 and key batch 0
// where the key's batch is 1), scaled and biased (each bias dimension of 1
// read at 0), the softmax's maximum, sum of exponentials and quotient, and
// the contraction with the values into the zeroed init.

// CHECK-LABEL: func.func @masked
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<?x4x?x16xf32>, %[[K:[^:]*]]: tensor<?x2x?x16xf32>, %[[V:[^:]*]]: tensor<?x2x?x8xf32>, %[[M:[^:]*]]: tensor<?x1x?x?xf32>, %[[INIT:[^:]*]]: tensor<?x4x?x8xf32>)
// CHECK-DAG: %[[MINUS_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: %[[KONE:.*]] = arith.cmpi eq, %{{.*}}, %c1
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]] : tensor<?x4x?x16xf32>)
// CHECK: %[[KB:.*]] = arith.select %[[KONE]], %c0,
// CHECK: %[[KH:.*]] = arith.divui %{{.*}}, %c2
// CHECK: tensor.extract %[[K]][%[[KB]], %[[KH]],
// CHECK: %[[BIASED:.*]] = linalg.generic {{.*}} ins(%[[SCORES]] : tensor<?x4x?x?xf32>)
// CHECK: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK: tensor.extract %[[M]][%{{.*}}, %c0, %{{.*}}, %{{.*}}] : tensor<?x1x?x?xf32>
// CHECK: linalg.fill ins(%[[MINUS_INF]] : f32)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[BIASED]] : tensor<?x4x?x?xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[BIASED]], %[[MAX]] :
// CHECK: math.exp
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[BIASED]], %[[MAX]], %[[SUM]] :
// CHECK: arith.divf
// CHECK: %[[ZEROED:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[INIT]] : tensor<?x4x?x8xf32>)
// CHECK: %[[O:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]] : tensor<?x4x?x?xf32>) outs(%[[ZEROED]] : tensor<?x4x?x8xf32>)
// CHECK: tensor.extract %[[V]]
// CHECK: return %[[O]]
// CHECK-NOT: qaf.kernel

// With keep-attention-head-size=64 (a target kernel taking head sizes up
// to 64), this op stays.
// KEEP-LABEL: func.func @masked
// KEEP: qaf.kernel.attention
func.func @masked(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x8xf32>, %mask: tensor<?x1x?x?xf32>, %init: tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = qaf.kernel.attention scale(0.25) ins(%q, %k, %v, %mask : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x?xf32>) outs(%init : tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// -----

// A head size over the kept one (128 > 64) is decomposed all the same.
// KEEP-LABEL: func.func @wide
// KEEP-NOT: qaf.kernel.attention
// KEEP: linalg.generic
// CHECK-LABEL: func.func @wide
// CHECK-NOT: qaf.kernel.attention
func.func @wide(%q: tensor<1x2x3x128xf32>, %k: tensor<1x2x5x128xf32>, %init: tensor<1x2x3x128xf32>) -> tensor<1x2x3x128xf32> {
  %o = qaf.kernel.attention scale(1.0) ins(%q, %k, %k : tensor<1x2x3x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>) outs(%init : tensor<1x2x3x128xf32>) -> tensor<1x2x3x128xf32>
  return %o : tensor<1x2x3x128xf32>
}

// -----

// zero_nan_rows: Where(IsNaN(p), 0, p) on the probabilities.
// CHECK-LABEL: func.func @zeroed
// CHECK: math.exp
// CHECK: %[[P:.*]] = arith.divf
// CHECK: %[[NAN:.*]] = arith.cmpf uno, %[[P]], %[[P]]
// CHECK: arith.select %[[NAN]], %{{.*}}, %[[P]]
func.func @zeroed(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %init: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %o = qaf.kernel.attention scale(1.0) zero_nan_rows ins(%q, %k, %k : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) outs(%init : tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}
