// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s
//
// The optimizer ops' lowering (the numbers are checked against numpy by
// test/e2e/optimizer_ops_numeric.py). t-SignSGD selects its quantile
// without sorting: four passes of a 256-bin histogram over the bit patterns
// of |g|, each followed by a scan of the bins, then one element-wise update.

// CHECK-LABEL: func.func @tsignsgd
// CHECK: %[[BITS:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xi32>)
// CHECK: math.absf
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[BITS]] {{\[\[}}0, 1]] : tensor<4x8xi32> into tensor<32xi32>
// CHECK-COUNT-4: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<256xi32>) {
// CHECK-NOT: sort
// CHECK: %[[SIGMA:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: %[[THRESHOLD:.*]] = arith.maximumf %[[SIGMA]], %{{.*}} : f32
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x8xi8>, tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xi8>)
// CHECK: arith.cmpf ogt, %{{.*}}, %[[THRESHOLD]] : f32
// CHECK: arith.minsi
// CHECK: arith.maxsi
func.func @tsignsgd(%p: tensor<4x8xi8>, %g: tensor<4x8xf32>, %t: tensor<i64>) -> tensor<4x8xi8> {
  %p2 = qaf.tsignsgd_update %p, %g, %t {total_steps = 1000 : i64} : (tensor<4x8xi8>, tensor<4x8xf32>, tensor<i64>) -> tensor<4x8xi8>
  return %p2 : tensor<4x8xi8>
}

// AdamW: scalars from the step (the cosine, the two bias corrections), then
// the moments and the parameter element by element.
// CHECK-LABEL: func.func @adamw
// CHECK: math.cos %{{.*}} : f64
// CHECK: math.powf %{{.*}}, %{{.*}} : f64
// CHECK: math.powf %{{.*}}, %{{.*}} : f64
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%arg2, %arg1 : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%arg3, %arg1 : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%arg0, %[[M]], %[[V]] : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: math.sqrt
// CHECK: return %[[P]], %[[M]], %[[V]]
func.func @adamw(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %t: tensor<i64>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %p2, %m2, %v2 = qaf.adamw_update %p, %g, %m, %v, %t {lr = 1.0e-3 : f64, schedule = "cosine", warmup_steps = 10 : i64, total_steps = 100 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.01 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<i64>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return %p2, %m2, %v2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
