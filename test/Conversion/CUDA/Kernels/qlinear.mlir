// RUN: qaf-opt %s -qaf-cuda-kernels | FileCheck %s

// qaf.kernel.qlinear becomes a launch: the decode kernel below 16 rows
// (chosen at run time when M is dynamic), the tensor-core kernel from 16
// rows on, the transposed kernel for transpose_weight. The operands: x and
// y as [1, M, ·] views, scales, zero points, codes and moves (the codes
// stand in when there are none: never read) as strided casts, then bits,
// group size and whether there are moves.

// CHECK-LABEL: func.func @dynamic_rows
// CHECK-SAME: (%[[X:.*]]: memref<?x128xf32>, %[[S:.*]]: memref<8x2xf32>, %[[Z:.*]]: memref<8x2xf32>, %[[C:.*]]: memref<8x64xi8>, %[[Y:.*]]: memref<?x8xf32>)
// CHECK: %[[XV:.*]] = memref.reinterpret_cast {{.*}} to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: %[[SV:.*]] = memref.cast %[[S]] : memref<8x2xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[ZV:.*]] = memref.cast %[[Z]]
// CHECK: %[[CV:.*]] = memref.cast %[[C]] : memref<8x64xi8> to memref<?x?xi8, strided<[?, 1], offset: ?>>
// CHECK: %[[MV:.*]] = memref.cast %[[C]]
// CHECK: %[[YV:.*]] = memref.reinterpret_cast
// CHECK-DAG: %[[BITS:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[NO_MOVES:.*]] = arith.constant 0 : index
// CHECK: %[[M:.*]] = memref.dim %[[Y]], %c0
// CHECK: %[[FEW:.*]] = arith.cmpi ult, %[[M]], %c16
// CHECK: scf.if %[[FEW]] {
// N = 8 output rows, 4 per block of the decode kernel: 2 blocks.
// CHECK:   gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_decode blocks in (%c2, %{{.*}}, %{{.*}}) threads in (%c128,
// CHECK-SAME: args(%[[XV]] : {{.*}}, %[[SV]] : {{.*}}, %[[ZV]] : {{.*}}, %[[CV]] : {{.*}}, %[[MV]] : {{.*}}, %[[YV]] : {{.*}}, %[[BITS]] : index, %[[GROUP]] : index, %[[NO_MOVES]] : index)
// CHECK: } else {
// CHECK:   gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_tf32
// CHECK-SAME: args(%[[XV]] : {{.*}}, %[[SV]] : {{.*}}, %[[ZV]] : {{.*}}, %[[CV]] : {{.*}}, %[[MV]] : {{.*}}, %[[YV]] : {{.*}}, %[[BITS]] : index, %[[GROUP]] : index, %[[NO_MOVES]] : index)
// CHECK-NOT: qaf.kernel.qlinear
func.func @dynamic_rows(%x: memref<?x128xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>,
                        %c: memref<8x64xi8>, %y: memref<?x8xf32>) {
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<?x128xf32>)
    scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>)
    codes(%c : memref<8x64xi8>) outs(%y : memref<?x8xf32>)
  return
}

// A known M picks its kernel at compile time.
// CHECK-LABEL: func.func @one_row
// CHECK-NOT: scf.if
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_decode
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @one_row(%x: memref<1x64xf32>, %s: memref<16x2xf32>, %z: memref<16x2xf32>,
                   %c: memref<16x16xi8>, %y: memref<1x16xf32>) {
  qaf.kernel.qlinear bits(2) group_size(32) input(%x : memref<1x64xf32>)
    scales(%s : memref<16x2xf32>) zero_points(%z : memref<16x2xf32>)
    codes(%c : memref<16x16xi8>) outs(%y : memref<1x16xf32>)
  return
}

// CHECK-LABEL: func.func @many_rows
// CHECK-NOT: scf.if
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_tf32
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @many_rows(%x: memref<32x64xf32>, %s: memref<16x1xf32>, %z: memref<16x1xf32>,
                     %c: memref<16x64xi8>, %y: memref<32x16xf32>) {
  qaf.kernel.qlinear bits(8) group_size(64) input(%x : memref<32x64xf32>)
    scales(%s : memref<16x1xf32>) zero_points(%z : memref<16x1xf32>)
    codes(%c : memref<16x64xi8>) outs(%y : memref<32x16xf32>)
  return
}

// The input gradient (x [M, N], y [M, K]) with LoTA's moves (the last
// argument, 1, says they are given): the grid runs over y's K columns;
// only an empty M skips the launch.
// CHECK-LABEL: func.func @transposed_with_moves
// CHECK-SAME: %[[MOVES:[^:]*]]: memref<8x128xi8>, %[[C:[^:]*]]: memref<8x48xi8>, %[[Y:[^:]*]]: memref<?x128xf32>)
// CHECK: %[[CV:.*]] = memref.cast %[[C]]
// CHECK: %[[MV:.*]] = memref.cast %[[MOVES]] : memref<8x128xi8> to memref<?x?xi8, strided<[?, 1], offset: ?>>
// CHECK-DAG: %[[BITS:.*]] = arith.constant 3 : index
// CHECK: %[[M:.*]] = memref.dim %[[Y]], %c0
// CHECK: %[[ANY:.*]] = arith.cmpi ugt, %[[M]], %c0
// CHECK: scf.if %[[ANY]] {
// CHECK:   %[[GY:.*]] = arith.ceildivui %[[M]], %c64
// K = 128 columns of y in tiles of 64: 2 blocks.
// CHECK:   gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_transposed_tf32 blocks in (%c2, %[[GY]],
// CHECK-SAME: %[[CV]] : {{.*}}, %[[MV]] : {{.*}}, %[[BITS]] : index, %{{.*}} : index, %c1{{(_[0-9]+)?}} : index)
func.func @transposed_with_moves(%x: memref<?x8xf32>, %s: memref<8x2xf32>, %z: memref<8x2xf32>,
                                 %m: memref<8x128xi8>, %c: memref<8x48xi8>,
                                 %y: memref<?x128xf32>) {
  qaf.kernel.qlinear bits(3) group_size(64) input(%x : memref<?x8xf32>)
    scales(%s : memref<8x2xf32>) zero_points(%z : memref<8x2xf32>)
    moves(%m : memref<8x128xi8>) codes(%c : memref<8x48xi8>)
    outs(%y : memref<?x128xf32>) transpose_weight
  return
}

// One row of zero points [1, K/g], every row's, is a view of the codes' N
// rows with row stride 0.
// CHECK-LABEL: func.func @shared_zero_row
// CHECK-SAME: %[[Z:[^:]*]]: memref<1x2xf32>
// CHECK: %[[BASE:[^,]*]], %{{[^,]*}}, %{{[^,]*}}:2, %[[ZSTRIDES:[^,]*]]:2 = memref.extract_strided_metadata %[[Z]]
// CHECK: %[[ZV:.*]] = memref.reinterpret_cast %[[BASE]] to offset: [%{{.*}}], sizes: [%c8, %{{.*}}], strides: [0, %[[ZSTRIDES]]#1] : memref<f32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_qlinear_decode
// CHECK-SAME: args(%{{.*}} : {{.*}}, %{{.*}} : {{.*}}, %[[ZV]] : {{.*}},
func.func @shared_zero_row(%x: memref<1x128xf32>, %s: memref<8x2xf32>, %z: memref<1x2xf32>,
                           %c: memref<8x64xi8>, %y: memref<1x8xf32>) {
  qaf.kernel.qlinear bits(4) group_size(64) input(%x : memref<1x128xf32>)
    scales(%s : memref<8x2xf32>) zero_points(%z : memref<1x2xf32>)
    codes(%c : memref<8x64xi8>) outs(%y : memref<1x8xf32>)
  return
}

// One instance of each kernel serves every layer.
// CHECK: gpu.module @qaf_cuda_kernels
// CHECK-DAG: gpu.func @qaf_qlinear_tf32(
// CHECK-DAG: gpu.func @qaf_qlinear_decode(
// CHECK-DAG: gpu.func @qaf_qlinear_transposed_tf32(
// The decode kernel sums its lanes with a butterfly of shuffles.
// CHECK-DAG: gpu.shuffle xor %{{.*}}, %c16_i32, %c32_i32 : f32
