// RUN: qaf-opt %s --qaf-outline-parallel-loops | FileCheck %s

// Each outermost scf.parallel moves into a private function of its own,
// called where the loop was. What the loop reads from outside (bounds,
// buffers, values) becomes arguments; constants are cloned into the new
// function instead. Nested loops move with their outer loop.

// CHECK: func.func private @model_loop0(%[[N:.*]]: index, %[[X:.*]]: memref<?xf32>, %[[SCALE:.*]]: f32) {
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT: scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[N]]) step (%[[C1]]) {
// CHECK-NEXT: memref.load %[[X]][%[[I]]]
// CHECK-NEXT: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK-NEXT: memref.store
// CHECK-NEXT: scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: return
// CHECK-NEXT: }

// CHECK: func.func private @model_loop1(%[[N:.*]]: index, %[[Y:.*]]: memref<?x4xf32>) {
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: return

// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[X:.*]]: memref<?xf32>, %[[Y:.*]]: memref<?x4xf32>, %[[N:.*]]: index, %[[SCALE:.*]]: f32)
// CHECK-NOT: scf.parallel
// CHECK: call @model_loop0(%[[N]], %[[X]], %[[SCALE]]) : (index, memref<?xf32>, f32) -> ()
// CHECK-NEXT: call @model_loop1(%[[N]], %[[Y]]) : (index, memref<?x4xf32>) -> ()
// CHECK-NEXT: return
// CHECK-NOT: scf.parallel
func.func @model(%x: memref<?xf32>, %y: memref<?x4xf32>, %n: index, %scale: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %x[%i] : memref<?xf32>
    %w = arith.mulf %v, %scale : f32
    memref.store %w, %x[%i] : memref<?xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4) step (%c1) {
      %v = memref.load %y[%i, %j] : memref<?x4xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %y[%i, %j] : memref<?x4xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// A function without parallel loops, and a declaration, are left alone.
// CHECK-LABEL: func.func @serial(
// CHECK: scf.for
// CHECK-NOT: call
// CHECK: func.func private @declared(memref<?xf32>)
func.func @serial(%x: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i] : memref<?xf32>
    memref.store %v, %x[%c0] : memref<?xf32>
  }
  return
}
func.func private @declared(memref<?xf32>)
