// RUN: qaf-opt %s --split-input-file --pass-pipeline="builtin.module(qaf-linalg-to-cpu-kernels)" --verify-diagnostics | FileCheck %s

// A bufferized qaf.kernel.qlinear becomes a call of qaf_qlinear(M, N, K,
// x, ldx, codes, codes stride, scales, scales stride, zeros, zeros stride,
// moves, moves stride, codebook, y, ldy, bits, group size, accumulate = 1),
// each buffer as its aligned address plus offset and its row stride, an
// absent one as 0.

// CHECK: func.func private @qaf_qlinear(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)
// CHECK-LABEL: func.func @with_moves
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x64xf32>, %[[S:[^:]*]]: memref<8x2xf32>, %[[Z:[^:]*]]: memref<8x2xf32>, %[[M:[^:]*]]: memref<8x64xi8>, %[[C:[^:]*]]: memref<8x24xi8>, %[[Y:[^:]*]]: memref<?x8xf32>)
// CHECK: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[XA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[ROWS:.*]] = arith.index_cast %sizes{{[_0-9]*}}#0 : index to i64
// CHECK: %[[K:.*]] = arith.index_cast %sizes{{[_0-9]*}}#1 : index to i64
// CHECK: %[[XS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[S]]
// CHECK: %[[SA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[SS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[Z]]
// CHECK: %[[ZA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[ZS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: %[[CA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[CS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: %[[YA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[N:.*]] = arith.index_cast %sizes{{[_0-9]*}}#1 : index to i64
// CHECK: %[[YS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[M]]
// CHECK: %[[MA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[MS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: call @qaf_qlinear(%[[ROWS]], %[[N]], %[[K]], %[[XA]], %[[XS]], %[[CA]], %[[CS]], %[[SA]], %[[SS]], %[[ZA]], %[[ZS]], %[[MA]], %[[MS]], %c0_i64, %[[YA]], %[[YS]], %c3_i64, %c32_i64, %c1_i32)
// CHECK-NOT: qaf.kernel
func.func @with_moves(%x: memref<?x64xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>, %m: memref<8x64xi8>, %c: memref<8x24xi8>, %y: memref<?x8xf32>) {
  qaf.kernel.qlinear bits(3) group_size(32) input(%x : memref<?x64xf32>) scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>) moves(%m : memref<8x64xi8>) codes(%c : memref<8x24xi8>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// The kernel reads buffers: on tensors the op is an error, not loops.
func.func @on_tensors(%x: tensor<2x64xf32>, %s: tensor<8x2xf32>, %c: tensor<8x32xi8>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'qaf.kernel.qlinear' op must be bufferized before qaf-linalg-to-cpu-kernels}}
  %r = qaf.kernel.qlinear bits(4) group_size(32) input(%x : tensor<2x64xf32>) scales(%s : tensor<8x2xf32>) zero_points(%s : tensor<8x2xf32>) codes(%c : tensor<8x32xi8>) outs(%y : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// transpose_weight calls qaf_qlinear_transposed with the same arguments,
// N from x (the layer's output gradient, [M, N]) and K from y ([M, K]).
// CHECK: func.func private @qaf_qlinear_transposed(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[G:[^:]*]]: memref<?x8xf32>, %{{[^:]*}}: memref<8x2xf32>, %{{[^:]*}}: memref<8x32xi8>, %[[DX:[^:]*]]: memref<?x64xf32>)
// CHECK: memref.extract_aligned_pointer_as_index %[[G]]
// CHECK: %[[ROWS:.*]] = arith.index_cast %sizes{{[_0-9]*}}#0 : index to i64
// CHECK: %[[N:.*]] = arith.index_cast %sizes{{[_0-9]*}}#1 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[DX]]
// CHECK: %[[K:.*]] = arith.index_cast %sizes{{[_0-9]*}}#1 : index to i64
// CHECK: call @qaf_qlinear_transposed(%[[ROWS]], %[[N]], %[[K]], {{.*}}, %c4_i64, %c32_i64, %c1_i32)
// CHECK-NOT: qaf.kernel
func.func @transposed(%g: memref<?x8xf32>, %s: memref<8x2xf32>, %c: memref<8x32xi8>, %dx: memref<?x64xf32>) {
  qaf.kernel.qlinear bits(4) group_size(32) input(%g : memref<?x8xf32>) scales(%s : memref<8x2xf32>) zero_points(%s : memref<8x2xf32>) codes(%c : memref<8x32xi8>) outs(%dx : memref<?x64xf32>) transpose_weight
  return
}

// -----

// A NormalFloat layer passes its codebook's address and no zero points or
// moves (address and stride 0).
// CHECK-LABEL: func.func @codebook
// CHECK-SAME: (%{{[^:]*}}: memref<?x64xf32>, %[[S:[^:]*]]: memref<8x2xf32>, %[[T:[^:]*]]: memref<16xf32>, %{{[^:]*}}: memref<8x32xi8>, %{{[^:]*}}: memref<?x8xf32>)
// CHECK: memref.extract_aligned_pointer_as_index %[[S]]
// CHECK: %[[SA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[SS:.*]] = arith.index_cast %strides{{[_0-9]*}}#0 : index to i64
// CHECK: memref.extract_aligned_pointer_as_index %[[T]]
// CHECK: %[[TA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: call @qaf_qlinear(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SA]], %[[SS]], %c0_i64, %c0_i64, %c0_i64, %c0_i64, %[[TA]], %{{.*}}, %{{.*}}, %c4_i64, %c32_i64, %c1_i32)
func.func @codebook(%x: memref<?x64xf32>, %s: memref<8x2xf32>, %t: memref<16xf32>, %c: memref<8x32xi8>, %y: memref<?x8xf32>) {
  qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<?x64xf32>) scales(%s : memref<8x2xf32>) codebook(%t : memref<16xf32>) codes(%c : memref<8x32xi8>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// One row of zero points [1, K/g], every row's: its address with row
// stride 0 (the row's own stride, 2, would read past it).
// CHECK-LABEL: func.func @shared_zero_row
// CHECK-SAME: (%{{[^:]*}}: memref<?x64xf32>, %{{[^:]*}}: memref<8x2xf32>, %[[Z:[^:]*]]: memref<1x2xf32>, %{{[^:]*}}: memref<8x32xi8>, %{{[^:]*}}: memref<?x8xf32>)
// CHECK: memref.extract_aligned_pointer_as_index %[[Z]]
// CHECK: %[[ZA:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: call @qaf_qlinear(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[ZA]], %c0_i64, %c0_i64, %c0_i64, %c0_i64, %{{.*}}, %{{.*}}, %c4_i64, %c32_i64, %c1_i32)
func.func @shared_zero_row(%x: memref<?x64xf32>, %s: memref<8x2xf32>, %z: memref<1x2xf32>, %c: memref<8x32xi8>, %y: memref<?x8xf32>) {
  qaf.kernel.qlinear bits(4) group_size(32) input(%x : memref<?x64xf32>) scales(%s : memref<8x2xf32>) zero_points(%z : memref<1x2xf32>) codes(%c : memref<8x32xi8>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// int8_activations: the same arguments to qaf_qlinear_int8.
// CHECK: func.func private @qaf_qlinear_int8(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32)
// CHECK-LABEL: func.func @int8_activations
// CHECK: call @qaf_qlinear_int8({{.*}}, %c4_i64, %c64_i64, %c1_i32)
// CHECK-NOT: call @qaf_qlinear(
func.func @int8_activations(%x: memref<?x128xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>, %c: memref<8x64xi8>, %y: memref<?x8xf32>) {
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<?x128xf32>) scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>) codes(%c : memref<8x64xi8>) outs(%y : memref<?x8xf32>) int8_activations
  return
}

