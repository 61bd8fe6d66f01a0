// RUN: qaf-opt %s -split-input-file -qaf-cuda-kernels -canonicalize | FileCheck %s

// qaf.kernel.attention becomes one launch of the fused kernel: a block per
// (query, head, batch), 128 threads. Every operand is a 4-D strided view;
// the key and value batches, and each bias dimension, read with stride 0
// where their size is 1 at run time (numpy's broadcasting). Then the scale
// (f32), whether there is a bias and whether NaN rows become 0.

// CHECK-LABEL: func.func @masked
// CHECK-SAME: (%[[Q:.*]]: memref<?x9x?x64xf32>, %[[K:.*]]: memref<?x3x?x64xf32>, %[[V:.*]]: memref<?x3x?x64xf32>, %[[M:.*]]: memref<?x1x?x?xf32>, %[[O:.*]]: memref<?x9x?x64xf32>)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[B:.*]] = memref.dim %[[O]], %c0
// CHECK-DAG: %[[S:.*]] = memref.dim %[[O]], %c2
// CHECK: %[[QV:.*]] = memref.cast %[[Q]] : memref<?x9x?x64xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
// The key's batch: stride 0 where it is 1, sized as the query's.
// CHECK: %{{.*}}, %{{.*}}, %[[KSIZES:.*]]:4, %[[KSTRIDES:.*]]:4 = memref.extract_strided_metadata %[[K]]
// CHECK: %[[KONE:.*]] = arith.cmpi eq, %[[KSIZES]]#0, %c1
// CHECK: %[[KSTRIDE:.*]] = arith.select %[[KONE]], %c0, %[[KSTRIDES]]#0
// CHECK: %[[KR:.*]] = memref.reinterpret_cast %[[K]] to offset: [0], sizes: [%[[B]], 3, %[[KSIZES]]#2, 64], strides: [%[[KSTRIDE]], %[[KSTRIDES]]#1, 64, 1]
// CHECK: %[[KV:.*]] = memref.cast %[[KR]]
// CHECK: %[[VR:.*]] = memref.reinterpret_cast %[[V]] to offset: [0], sizes: [%[[B]], 3,
// CHECK: %[[VV:.*]] = memref.cast %[[VR]]
// The bias [B or 1, 1, S or 1, T or 1] read as [B, 9, S, T]: its heads
// with stride 0, the other dimensions with 0 where they are 1.
// CHECK: %[[T:.*]] = memref.dim %[[K]], %c2
// CHECK: %{{.*}}, %{{.*}}, %[[MSIZES:.*]]:4, %[[MSTRIDES:.*]]:4 = memref.extract_strided_metadata %[[M]]
// CHECK: arith.cmpi eq, %[[MSIZES]]#0, %c1
// CHECK: arith.cmpi eq, %[[MSIZES]]#2, %c1
// CHECK: arith.cmpi eq, %[[MSIZES]]#3, %c1
// CHECK: %[[MR:.*]] = memref.reinterpret_cast %[[M]] to offset: [0], sizes: [%[[B]], 9, %[[S]], %[[T]]], strides: [%{{.*}}, 0, %{{.*}}, %{{.*}}]
// CHECK: %[[MV:.*]] = memref.cast %[[MR]]
// CHECK: %[[OV:.*]] = memref.cast %[[O]]
// No launch for an empty batch or no queries.
// CHECK: scf.if
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_attention blocks in (%[[S]], %c9, %[[B]]) threads in (%c128, %c1, %c1)
// CHECK-SAME: args(%[[QV]] : {{.*}}, %[[KV]] : {{.*}}, %[[VV]] : {{.*}}, %[[MV]] : {{.*}}, %[[OV]] : {{.*}}, %[[SCALE]] : f32, %c1 : index, %c0 : index)
// CHECK-NOT: qaf.kernel.attention
// The kernel: a private row of 4 values per lane twice, 4 warps' states
// in shared memory.
// CHECK: gpu.module @qaf_cuda_kernels
// CHECK: gpu.func @qaf_attention({{.*}}) workgroup(%{{.*}} : memref<4x130xf32, #gpu.address_space<workgroup>>) private(%{{.*}} : memref<4xf32, #gpu.address_space<private>>, %{{.*}} : memref<4xf32, #gpu.address_space<private>>) kernel
func.func @masked(%q: memref<?x9x?x64xf32>, %k: memref<?x3x?x64xf32>, %v: memref<?x3x?x64xf32>,
                  %mask: memref<?x1x?x?xf32>, %o: memref<?x9x?x64xf32>) {
  qaf.kernel.attention scale(0.125)
    ins(%q, %k, %v, %mask : memref<?x9x?x64xf32>, memref<?x3x?x64xf32>,
        memref<?x3x?x64xf32>, memref<?x1x?x?xf32>)
    outs(%o : memref<?x9x?x64xf32>)
  return
}

// -----

// Without a bias the query's view stands in for it (never read); static
// sizes launch unconditionally; zero_nan_rows is the last argument.
// CHECK-LABEL: func.func @decode
// CHECK: %[[QV:.*]] = memref.cast
// A key and value batch of 1 against a query batch of 1: stride 0 all
// the same.
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [1, 2, %{{.*}}, 32], strides: [0,
// CHECK-NOT: scf.if
// CHECK: gpu.launch_func @qaf_cuda_kernels::@qaf_attention blocks in (%c1, %c4, %c1) threads in (%c128, %c1, %c1)
// CHECK-SAME: args(%[[QV]] : {{.*}}, %{{.*}} : {{.*}}, %{{.*}} : {{.*}}, %[[QV]] : {{.*}}, %{{.*}} : {{.*}}, %{{.*}} : f32, %c0 : index, %c1 : index)
func.func @decode(%q: memref<1x4x1x32xf32>, %k: memref<1x2x?x32xf32>, %v: memref<1x2x?x32xf32>,
                  %o: memref<1x4x1x32xf32>) {
  qaf.kernel.attention scale(1.0) zero_nan_rows
    ins(%q, %k, %v : memref<1x4x1x32xf32>, memref<1x2x?x32xf32>, memref<1x2x?x32xf32>)
    outs(%o : memref<1x4x1x32xf32>)
  return
}
