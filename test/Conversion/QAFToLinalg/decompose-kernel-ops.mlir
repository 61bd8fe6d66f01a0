// RUN: qaf-opt %s --split-input-file --qaf-decompose-kernel-ops --verify-diagnostics | FileCheck %s

// Targets without the qaf_qlinear kernel get its reference contraction:
// a linalg.generic over (m, n, k) into the same destination, reading the
// same operands (moves between the zero points and the codes).

// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$GROUP:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 32)>
// CHECK-DAG: #[[$MOVE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$BYTE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 4)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @moves_2bit
// CHECK-SAME: (%[[X:[^:]*]]: tensor<?x64xf32>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[Z:[^:]*]]: tensor<8x2xf32>, %[[M:[^:]*]]: tensor<8x64xi8>, %[[C:[^:]*]]: tensor<8x16xi8>, %[[INIT:[^:]*]]: tensor<?x8xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[$X]], #[[$GROUP]], #[[$GROUP]], #[[$MOVE]], #[[$BYTE]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[S]], %[[Z]], %[[M]], %[[C]] : tensor<?x64xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x64xi8>, tensor<8x16xi8>) outs(%[[INIT]] : tensor<?x8xf32>)
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[SV:.*]]: f32, %[[ZV:.*]]: f32, %[[MV:.*]]: i8, %[[BV:.*]]: i8, %[[ACC:.*]]: f32):
// Code k mod 4 of its byte: shift 2·(k mod 4), mask 3.
// CHECK: %[[K:.*]] = linalg.index 2
// CHECK: %[[POS:.*]] = arith.remui %[[K]], %c4
// CHECK: %[[WIDE:.*]] = arith.extui %[[BV]] : i8 to i32
// CHECK: %[[POS32:.*]] = arith.index_cast %[[POS]] : index to i32
// CHECK: %[[SHIFT:.*]] = arith.muli %[[POS32]], %c2_i32
// CHECK: %[[SHIFTED:.*]] = arith.shrui %[[WIDE]], %[[SHIFT]]
// CHECK: %[[CODE:.*]] = arith.andi %[[SHIFTED]], %c3_i32
// CHECK: %[[Q:.*]] = arith.uitofp %[[CODE]] : i32 to f32
// CHECK: %[[MF:.*]] = arith.sitofp %[[MV]] : i8 to f32
// CHECK: %[[MOVED:.*]] = arith.addf %[[Q]], %[[MF]]
// CHECK: %[[QZ:.*]] = arith.subf %[[MOVED]], %[[ZV]]
// CHECK: %[[W:.*]] = arith.mulf %[[QZ]], %[[SV]]
// CHECK: %[[P:.*]] = arith.mulf %[[XV]], %[[W]]
// CHECK: %[[SUM:.*]] = arith.addf %[[ACC]], %[[P]]
// CHECK: linalg.yield %[[SUM]]
// CHECK: return %[[Y]]
// CHECK-NOT: qaf.kernel
func.func @moves_2bit(%x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>, %m: tensor<8x64xi8>, %c: tensor<8x16xi8>, %init: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %y = qaf.kernel.qlinear bits(2) group_size(32) input(%x : tensor<?x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%z : tensor<8x2xf32>) moves(%m : tensor<8x64xi8>) codes(%c : tensor<8x16xi8>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// After bufferization there is no tensor to build the reference on.
func.func @on_buffers(%x: memref<2x64xf32>, %s: memref<8x2xf32>, %c: memref<8x32xi8>, %y: memref<2x8xf32>) {
  // expected-error @+1 {{'qaf.kernel.qlinear' op is on buffers: decompose kernel ops before bufferization}}
  qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<2x64xf32>) scales(%s : memref<8x2xf32>) zero_points(%s : memref<8x2xf32>) codes(%c : memref<8x32xi8>) outs(%y : memref<2x8xf32>)
  return
}

// -----

// With transpose_weight the contraction runs over W's rows: loops (m, k, n)
// read W at (n, k) = (d2, d1), the gradient at (m, n) = (d0, d2).
// CHECK-DAG: #[[$G:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$TGROUP:.*]] = affine_map<(d0, d1, d2) -> (d2, d1 floordiv 32)>
// CHECK-DAG: #[[$TBYTE:.*]] = affine_map<(d0, d1, d2) -> (d2, d1 floordiv 2)>
// CHECK-DAG: #[[$TOUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @transposed
// CHECK: linalg.generic {indexing_maps = [#[[$G]], #[[$TGROUP]], #[[$TGROUP]], #[[$TBYTE]], #[[$TOUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins({{.*}} : tensor<?x8xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x32xi8>) outs({{.*}} : tensor<?x64xf32>)
// The code's position in its byte comes from k, loop d1.
// CHECK: linalg.index 1
// CHECK-NOT: qaf.kernel
func.func @transposed(%g: tensor<?x8xf32>, %s: tensor<8x2xf32>, %c: tensor<8x32xi8>, %init: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %y = qaf.kernel.qlinear bits(4) group_size(32) input(%g : tensor<?x8xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x32xi8>) outs(%init : tensor<?x64xf32>) transpose_weight -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
