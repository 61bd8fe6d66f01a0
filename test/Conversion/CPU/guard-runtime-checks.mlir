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

// -----

// A check inside an scf.for: the conjunction travels through the iterations
// as an i1 iteration argument, so after a failure the store through the bad
// index and the remaining iterations' work are skipped, and the loop's last
// value guards the work after the loop.
// CHECK-LABEL: func.func @check_in_loop
// CHECK-SAME: (%[[BUF:.*]]: memref<8xf32>, %[[IDX:.*]]: memref<?xindex>, %[[N:.*]]: index)
// CHECK: %[[TRUE:.*]] = arith.constant true
// CHECK: %[[DONE:.*]] = scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[SOFAR:.*]] = %[[TRUE]]) -> (i1) {
// CHECK:   %[[J:.*]] = scf.if %[[SOFAR]] -> (index) {
// CHECK:     memref.load %[[IDX]][%[[I]]]
// CHECK:   %[[INRANGE:.*]] = arith.cmpi ult, %[[J]], %{{.*}} : index
// CHECK:   scf.if %{{.*}} {
// CHECK:     func.call @qaf_report_error
// CHECK:   }
// CHECK:   %[[OK:.*]] = arith.andi %[[SOFAR]], %[[INRANGE]] : i1
// CHECK:   scf.if %[[OK]] {
// CHECK:     memref.store %{{.*}}, %[[BUF]][%[[J]]]
// CHECK:   }
// CHECK:   scf.yield %[[OK]] : i1
// CHECK: }
// CHECK: scf.if %[[DONE]] {
// CHECK:   memref.store %{{.*}}, %[[BUF]][%{{.*}}]
// CHECK: }
// CHECK: return
func.func @check_in_loop(%buf: memref<8xf32>, %idx: memref<?xindex>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %j = memref.load %idx[%i] : memref<?xindex>
    %ok = arith.cmpi ult, %j, %c8 : index
    qaf.check %ok, "index {0} out of range"(%j : index)
    memref.store %f, %buf[%j] : memref<8xf32>
  }
  memref.store %f, %buf[%c0] : memref<8xf32>
  return
}

// -----

// A loop after a failed check runs no iteration (its upper bound becomes its
// lower bound), so a loop that yields values still yields its initial ones;
// an allocation inside a loop is checked there.
// CHECK-LABEL: func.func @loop_after_check
// CHECK-SAME: (%[[OK:.*]]: i1, %[[N:.*]]: index, %[[INIT:.*]]: memref<4xf32>)
// CHECK: %[[LB:.*]] = arith.constant 0 : index
// CHECK: %[[UB:.*]] = arith.select %[[OK]], %[[N]], %[[LB]] : index
// CHECK: %[[R:.*]]:2 = scf.for %{{.*}} = %[[LB]] to %[[UB]] step %{{.*}} iter_args(%{{.*}} = %[[INIT]], %[[SOFAR:.*]] = %{{.*}}) -> (memref<4xf32>, i1) {
// CHECK:   %[[NEW:.*]] = memref.alloc() : memref<4xf32>
// CHECK:   %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[NEW]]
// CHECK:   %[[NONNULL:.*]] = arith.cmpi ne, %[[PTR]], %{{.*}} : index
// CHECK:   func.call @qaf_report_error(%c2_i32
// CHECK:   %[[ALLOCATED:.*]] = arith.andi %[[SOFAR]], %{{.*}} : i1
// CHECK:   scf.if %[[ALLOCATED]] {
// CHECK:     memref.store %{{.*}}, %[[NEW]]
// CHECK:   }
// CHECK:   scf.yield %[[NEW]], %[[ALLOCATED]] : memref<4xf32>, i1
// CHECK: }
// CHECK: arith.andi %[[OK]], %[[R]]#1 : i1
// CHECK: return %[[R]]#0
func.func @loop_after_check(%ok: i1, %n: index, %init: memref<4xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  qaf.check %ok, "bad input"
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> memref<4xf32> {
    %new = memref.alloc() : memref<4xf32>
    memref.store %f, %new[%c0] : memref<4xf32>
    scf.yield %new : memref<4xf32>
  }
  return %r : memref<4xf32>
}

// -----

// A check inside an scf.parallel (OpenMP threads later): each iteration
// asks the error channel whether a check failed, on any thread, before its
// work, and so does the work after the loop.
// CHECK-DAG: func.func private @qaf_check_failed() -> i32
// CHECK-LABEL: func.func @check_in_parallel_loop
// CHECK: scf.parallel (%[[I:.*]]) = {{.*}} {
// CHECK:   %[[STATUS:.*]] = func.call @qaf_check_failed() : () -> i32
// CHECK:   %[[NONE:.*]] = arith.cmpi eq, %[[STATUS]], %{{.*}} : i32
// CHECK:   %[[J:.*]] = scf.if %[[NONE]] -> (index) {
// CHECK:   %[[INRANGE:.*]] = arith.cmpi ult, %[[J]], %{{.*}} : index
// CHECK:   func.call @qaf_report_error
// CHECK:   %[[OK:.*]] = arith.andi %[[NONE]], %[[INRANGE]] : i1
// CHECK:   scf.if %[[OK]] {
// CHECK:     memref.store %{{.*}}, %{{.*}}[%[[J]]]
// CHECK:   }
// CHECK:   scf.reduce
// CHECK: }
// CHECK: %[[AFTER:.*]] = call @qaf_check_failed() : () -> i32
// CHECK: %[[NOFAILURE:.*]] = arith.cmpi eq, %[[AFTER]], %{{.*}} : i32
// CHECK: scf.if %[[NOFAILURE]] {
// CHECK:   memref.store
// CHECK: }
func.func @check_in_parallel_loop(%buf: memref<8xf32>, %idx: memref<?xindex>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %j = memref.load %idx[%i] : memref<?xindex>
    %ok = arith.cmpi ult, %j, %c8 : index
    qaf.check %ok, "index {0} out of range"(%j : index)
    memref.store %f, %buf[%j] : memref<8xf32>
  }
  memref.store %f, %buf[%c0] : memref<8xf32>
  return
}

// -----

// An allocation inside a branch: the branch taken yields its conjunction as
// one more result (an empty else branch yields true).
// CHECK-LABEL: func.func @allocation_in_branch
// CHECK-SAME: (%[[BUF:.*]]: memref<8xf32>, %[[C:.*]]: i1, %[[N:.*]]: index)
// CHECK: %[[R:.*]] = scf.if %[[C]] -> (i1) {
// CHECK:   %[[A:.*]] = memref.alloc(%[[N]]) : memref<?xf32>
// CHECK:   %[[ALLOCATED:.*]] = arith.ori
// CHECK:   func.call @qaf_report_error(%c2_i32
// CHECK:   scf.if %[[ALLOCATED]] {
// CHECK:     memref.store %{{.*}}, %[[A]]
// CHECK:   }
// CHECK:   memref.dealloc %[[A]]
// CHECK:   scf.yield %[[ALLOCATED]] : i1
// CHECK: } else {
// CHECK:   %[[TRUE:.*]] = arith.constant true
// CHECK:   scf.yield %[[TRUE]] : i1
// CHECK: }
// CHECK: scf.if %[[R]] {
// CHECK:   memref.store %{{.*}}, %[[BUF]]
// CHECK: }
func.func @allocation_in_branch(%buf: memref<8xf32>, %c: i1, %n: index) {
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  scf.if %c {
    %a = memref.alloc(%n) : memref<?xf32>
    memref.store %f, %a[%c0] : memref<?xf32>
    memref.dealloc %a : memref<?xf32>
  }
  memref.store %f, %buf[%c0] : memref<8xf32>
  return
}

// -----

// An allocation of index elements (deallocation helpers make them) counts
// 8 bytes an element; inside a region other than a loop or branch, each
// block asks the error channel first, and so does the work after it.
// CHECK-LABEL: func.func @index_allocation_in_switch
// CHECK: scf.index_switch
// CHECK: default {
// CHECK:   call @qaf_check_failed()
// CHECK:   memref.alloc() : memref<2xindex>
// CHECK:   %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK:   arith.muli %{{.*}}, %[[EIGHT]] : index
// CHECK:   func.call @qaf_report_error(%c2_i32, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: }
// CHECK: call @qaf_check_failed()
func.func @index_allocation_in_switch(%case: index, %i: index) {
  scf.index_switch %case
  default {
    %a = memref.alloc() : memref<2xindex>
    memref.store %i, %a[%i] : memref<2xindex>
    memref.dealloc %a : memref<2xindex>
    scf.yield
  }
  return
}
