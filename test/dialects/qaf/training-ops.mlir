// RUN: qaf-opt %s | qaf-opt | FileCheck %s

// The optimizer ops print and parse back.

// CHECK-LABEL: func.func @adamw
// CHECK: %new_param, %new_exp_avg, %new_exp_avg_sq = qaf.adamw_update %arg0, %arg1, %arg2, %arg3, %arg4 {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, schedule = "cosine", total_steps = 100 : i64, warmup_steps = 10 : i64, weight_decay = 0.000000e+00 : f64}
func.func @adamw(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>, %t: tensor<i64>) -> tensor<4x8xf32> {
  %p2, %m2, %v2 = qaf.adamw_update %p, %g, %m, %v, %t {lr = 1.0e-3 : f64, schedule = "cosine", warmup_steps = 10 : i64, total_steps = 100 : i64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<i64>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  return %p2 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @tsignsgd
// CHECK: qaf.tsignsgd_update %arg0, %arg1, %arg2 {total_steps = 1000 : i64} : (tensor<4x8xi8>, tensor<4x8xf32>, tensor<i64>) -> tensor<4x8xi8>
func.func @tsignsgd(%p: tensor<4x8xi8>, %g: tensor<4x8xf32>, %t: tensor<i64>) -> tensor<4x8xi8> {
  %p2 = qaf.tsignsgd_update %p, %g, %t {total_steps = 1000 : i64} : (tensor<4x8xi8>, tensor<4x8xf32>, tensor<i64>) -> tensor<4x8xi8>
  return %p2 : tensor<4x8xi8>
}
