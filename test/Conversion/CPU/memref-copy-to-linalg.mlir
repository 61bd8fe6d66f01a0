// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-memref-copy-to-linalg))' | FileCheck %s

// Copies between buffers, strided ones included, become linalg.copy (loops
// like any linalg op) instead of a call into MLIR's runner utilities.
// CHECK-LABEL: func.func @copies
// CHECK-NEXT: linalg.copy ins(%arg0 : memref<?x4xf32>) outs(%arg1 : memref<?x4xf32>)
// CHECK-NEXT: linalg.copy ins(%arg2 : memref<2x4xf32, strided<[8, 1], offset: ?>>) outs(%arg3 : memref<2x4xf32>)
// CHECK-NEXT: return
// CHECK-NOT: memref.copy
func.func @copies(%a: memref<?x4xf32>, %b: memref<?x4xf32>, %view: memref<2x4xf32, strided<[8, 1], offset: ?>>, %c: memref<2x4xf32>) {
  memref.copy %a, %b : memref<?x4xf32> to memref<?x4xf32>
  memref.copy %view, %c : memref<2x4xf32, strided<[8, 1], offset: ?>> to memref<2x4xf32>
  return
}
