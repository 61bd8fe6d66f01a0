// RUN: qaf-opt --qaf-guard-runtime-checks -split-input-file %s | FileCheck %s

// A check reports its message when it fails, then guards every later
// operation that computes into memory; allocations are checked for null;
// loads read 0 after a failure; deallocations and the return always run.
// CHECK-DAG: llvm.mlir.global internal constant @[[$MSG:qaf_check_message[_0-9]*]]("node 'g': index {0} out of range\00")
// CHECK-DAG: func.func private @qaf_report_error(i32, !llvm.ptr, i64, i64, i64)
// CHECK-LABEL: func.func @guarded
// CHECK-SAME: (%[[IN:.*]]: memref<?xf32>, %[[OK:.*]]: i1, %[[I:.*]]: index)
// CHECK: %[[FAILED:.*]] = arith.xori %[[OK]], %{{.*}} : i1
// CHECK: scf.if %[[FAILED]] {
// CHECK:   %[[TEXT:.*]] = llvm.mlir.addressof @[[$MSG]] : !llvm.ptr
// CHECK:   %[[V:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK:   func.call @qaf_report_error(%{{.*}}, %[[TEXT]], %[[V]], %{{.*}}, %{{.*}})
// CHECK: }
// CHECK: %[[BUF:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[BUF]]
// CHECK: %[[NONNULL:.*]] = arith.cmpi ne, %[[PTR]], %{{.*}} : index
// CHECK: %[[EMPTY:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : index
// CHECK: %[[ALLOCATED:.*]] = arith.ori %[[NONNULL]], %[[EMPTY]] : i1
// CHECK: scf.if %{{.*}} {
// CHECK:   func.call @qaf_report_error(%c2_i32
// CHECK: }
// CHECK: %[[BOTH:.*]] = arith.andi %[[OK]], %[[ALLOCATED]] : i1
// CHECK: scf.if %[[BOTH]] {
// CHECK:   linalg.copy ins(%[[IN]] : memref<?xf32>) outs(%[[BUF]] : memref<?xf32>)
// CHECK: }
// CHECK: %[[LOADED:.*]] = scf.if %[[BOTH]] -> (f32) {
// CHECK:   memref.load %[[BUF]]
// CHECK: } else {
// CHECK:   scf.yield %{{.*}} : f32
// CHECK: }
// CHECK: memref.dealloc %[[BUF]]
// CHECK: return %[[LOADED]]
func.func @guarded(%in: memref<?xf32>, %ok: i1, %i: index) -> f32 {
  %c0 = arith.constant 0 : index
  qaf.check %ok, "node 'g': index {0} out of range"(%i : index)
  %n = memref.dim %in, %c0 : memref<?xf32>
  %buf = memref.alloc(%n) : memref<?xf32>
  linalg.copy ins(%in : memref<?xf32>) outs(%buf : memref<?xf32>)
  %x = memref.load %buf[%c0] : memref<?xf32>
  memref.dealloc %buf : memref<?xf32>
  return %x : f32
}

// -----

// Without checks nothing changes.
// CHECK-LABEL: func.func @unchecked
// CHECK-NOT: scf.if
// CHECK: linalg.copy
func.func @unchecked(%in: memref<4xf32>, %out: memref<4xf32>) {
  linalg.copy ins(%in : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
