// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-expand-shape-to-reinterpret-cast))' | FileCheck %s

// [batch*seq, 64] -> [batch, seq, 64]: the first group holds two dynamic
// sizes (what MLIR 22.1's expand-strided-metadata crashes on). It becomes a
// view of the same base buffer with the sizes from output_shape; strides
// come from the source dimension's stride outward: 1, 64 and 64 * seq.
// CHECK-LABEL: func.func @two_dynamic_sizes(
// CHECK-SAME: %[[SRC:.*]]: memref<?x64xf32>, %[[B:.*]]: index, %[[S:.*]]: index)
// CHECK-NEXT: %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[BASE:.*]], %{{.*}}, %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %[[SRC]]
// CHECK-NEXT: %[[OUTER:.*]] = arith.muli %[[S]], %[[C64]] : index
// CHECK-NEXT: %[[VIEW:.*]] = memref.reinterpret_cast %[[BASE]] to offset: [0], sizes: [%[[B]], %[[S]], 64], strides: [%[[OUTER]], 64, 1] : memref<f32> to memref<?x?x64xf32>
// CHECK-NEXT: return %[[VIEW]]
// CHECK-NOT: memref.expand_shape
func.func @two_dynamic_sizes(%src: memref<?x64xf32>, %b: index, %s: index) -> memref<?x?x64xf32> {
  %0 = memref.expand_shape %src [[0, 1], [2]] output_shape [%b, %s, 64] : memref<?x64xf32> into memref<?x?x64xf32>
  return %0 : memref<?x?x64xf32>
}

// One dynamic size per group is upstream's own business: left alone.
// CHECK-LABEL: func.func @one_dynamic_size(
// CHECK-NEXT: memref.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [%{{.*}}, 8, 8]
// CHECK-NEXT: return
func.func @one_dynamic_size(%src: memref<?x64xf32>, %b: index) -> memref<?x8x8xf32> {
  %0 = memref.expand_shape %src [[0], [1, 2]] output_shape [%b, 8, 8] : memref<?x64xf32> into memref<?x8x8xf32>
  return %0 : memref<?x8x8xf32>
}
