// RUN: qaf-opt %s --pass-pipeline="builtin.module(qaf-linalg-to-cpu-kernels)" | FileCheck %s

// A bufferized qaf.kernel.adapter_gradients becomes a call of
// qaf_lota_factor_gradients(M, N, K, rank, then each buffer after g and x
// as its address and row stride, group size, ω) or qaf_l4q_gradients (the
// same, with bits before the group size and α last).

// CHECK-DAG: func.func private @qaf_lota_factor_gradients(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
// CHECK-DAG: func.func private @qaf_l4q_gradients(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f64)
// CHECK-LABEL: func.func @lota
// CHECK-DAG: %[[K:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[R:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 32 : i64
// CHECK-DAG: %[[OMEGA:.*]] = arith.constant 3.000000e+00 : f64
// CHECK: call @qaf_lota_factor_gradients(%{{.*}}, %{{.*}}, %[[K]], %[[R]], {{.*}}, %[[GROUP]], %[[OMEGA]])
// CHECK-NOT: qaf.kernel
func.func @lota(%g: memref<?x8xf32>, %x: memref<?x64xf32>, %s: memref<8x2xf32>, %a: memref<4x64xi8>, %b: memref<8x4xi8>, %da: memref<4x64xf32>, %db: memref<8x4xf32>) {
  qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : memref<?x8xf32>, memref<?x64xf32>, memref<8x2xf32>, memref<4x64xi8>, memref<8x4xi8>) outs(%da, %db : memref<4x64xf32>, memref<8x4xf32>)
  return
}

// CHECK-LABEL: func.func @l4q
// CHECK-DAG: %[[BITS:.*]] = arith.constant 3 : i64
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 1.500000e+00 : f64
// CHECK: call @qaf_l4q_gradients({{.*}}, %[[BITS]], %[[GROUP]], %[[ALPHA]])
func.func @l4q(%g: memref<?x8xf32>, %x: memref<?x32xf32>, %u: memref<8x32xf32>, %w: memref<8x32xf32>, %a: memref<2x32xf32>, %b: memref<8x2xf32>, %da: memref<2x32xf32>, %db: memref<8x2xf32>, %ds: memref<8x2xf32>, %dz: memref<8x2xf32>) {
  qaf.kernel.adapter_gradients "l4q" group_size(16) coefficient(1.5) bits(3) ins(%g, %x, %u, %w, %a, %b : memref<?x8xf32>, memref<?x32xf32>, memref<8x32xf32>, memref<8x32xf32>, memref<2x32xf32>, memref<8x2xf32>) outs(%da, %db, %ds, %dz : memref<2x32xf32>, memref<8x2xf32>, memref<8x2xf32>, memref<8x2xf32>)
  return
}
