// RUN: qaf-opt %s --split-input-file --qaf-decompose-kernel-ops | FileCheck %s

// Targets without the adapter gradient kernels get METHODS.md's algebra
// step by step: the dense Gw = gᵀ · x [N, K] (loops (n, k, m)), D from it,
// and the products with the factors accumulated into the op's inits.

// CHECK-DAG: #[[$GT:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 32)>
// CHECK-DAG: #[[$ROWS:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$COLS:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @lota
// CHECK-SAME: (%[[G:[^:]*]]: tensor<?x8xf32>, %[[XV:[^:]*]]: tensor<?x64xf32>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[A:[^:]*]]: tensor<4x64xi8>, %[[B:[^:]*]]: tensor<8x4xi8>, %[[DA:[^:]*]]: tensor<4x64xf32>, %[[DB:[^:]*]]: tensor<8x4xf32>)
// CHECK: %[[GW:.*]] = linalg.generic {indexing_maps = [#[[$GT]], #[[$X]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[G]], %[[XV]] : {{.*}}) outs(%{{.*}} : tensor<8x64xf32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8x2x32xf32>) outs(%{{.*}} : tensor<8x2xf32>)
// CHECK: %[[D:.*]] = linalg.generic {{.*}}#[[$GROUP]], #[[$GROUP]]{{.*}} ins(%[[GW]], %[[S]], %[[SUMS]] : {{.*}}) outs(%{{.*}} : tensor<8x64xf32>)
// CHECK: %[[RA:.*]] = linalg.generic {indexing_maps = [#[[$GT]], #[[$X]], #[[$OUT]]]{{.*}} ins(%[[B]], %[[D]] : {{.*}}) outs(%[[DA]] : tensor<4x64xf32>)
// CHECK: arith.sitofp
// CHECK: %[[RB:.*]] = linalg.generic {indexing_maps = [#[[$ROWS]], #[[$COLS]], #[[$OUT]]]{{.*}} ins(%[[D]], %[[A]] : {{.*}}) outs(%[[DB]] : tensor<8x4xf32>)
// CHECK: return %[[RA]], %[[RB]]
// CHECK-NOT: qaf.kernel
func.func @lota(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>, %da0: tensor<4x64xf32>, %db0: tensor<8x4xf32>) -> (tensor<4x64xf32>, tensor<8x4xf32>) {
  %da, %db = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) outs(%da0, %db0 : tensor<4x64xf32>, tensor<8x4xf32>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return %da, %db : tensor<4x64xf32>, tensor<8x4xf32>
}

// -----

// L4Q: the mask M = [−4 ≤ u ≤ 3] (3 bits) selects Gw; the scale and offset
// gradients are group sums added to their inits; α scales the products.
// CHECK-LABEL: func.func @l4q
// CHECK-SAME: %[[DS:[^:]*]]: tensor<8x2xf32>, %[[DZ:[^:]*]]: tensor<8x2xf32>)
// CHECK: %[[LOW:.*]] = arith.constant -4.000000e+00 : f32
// CHECK: arith.cmpf oge, %{{.*}}, %[[LOW]]
// CHECK: %[[HIGH:.*]] = arith.constant 3.000000e+00 : f32
// CHECK: arith.cmpf ole, %{{.*}}, %[[HIGH]]
// CHECK: arith.select
// CHECK: ins(%[[DS]], %{{.*}} : tensor<8x2xf32>, tensor<8x2xf32>)
// CHECK: ins(%[[DZ]], %{{.*}} : tensor<8x2xf32>, tensor<8x2xf32>)
// CHECK: %[[ALPHA:.*]] = arith.constant 1.500000e+00 : f32
// CHECK: arith.mulf %[[ALPHA]]
// CHECK-NOT: qaf.kernel
func.func @l4q(%g: tensor<?x8xf32>, %x: tensor<?x32xf32>, %u: tensor<8x32xf32>, %w: tensor<8x32xf32>, %a: tensor<2x32xf32>, %b: tensor<8x2xf32>, %da: tensor<2x32xf32>, %db: tensor<8x2xf32>, %ds: tensor<8x2xf32>, %dz: tensor<8x2xf32>) -> (tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>) {
  %0:4 = qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.5) bits(3) ins(%g, %x, %u, %w, %a, %b : tensor<?x8xf32>, tensor<?x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<2x32xf32>, tensor<8x2xf32>) outs(%da, %db, %ds, %dz : tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>
  return %0#0, %0#1, %0#2, %0#3 : tensor<2x32xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>
}
