// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-sequential-inner-loops))' | FileCheck %s

// The innermost dimension of a loop-free parallel nest becomes a serial
// loop inside the (d-1)-dimensional parallel one.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%c0, %c0) to (%[[A:.*]], %[[B:.*]]) step (%c1, %c1) {
// CHECK-NEXT: scf.for %[[K:.*]] = %c0 to %[[C:.*]] step %c1 {
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK: memref.store {{.*}}[%[[I]], %[[J]], %[[K]]]
func.func @elementwise(%x: memref<?x?x?xf32>, %y: memref<?x?x?xf32>, %a: index, %b: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%a, %b, %c) step (%c1, %c1, %c1) {
    %v = memref.load %x[%i, %j, %k] : memref<?x?x?xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %y[%i, %j, %k] : memref<?x?x?xf32>
    scf.reduce
  }
  return
}

// A nest that already has an inner (reduction) loop keeps every parallel
// dimension for the threads; one-dimensional loops stay too.
// CHECK-LABEL: func.func @reduction
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%{{.*}}, %{{.*}}) step (%c1, %c1) {
// CHECK-NEXT: scf.for
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%{{.*}}) step (%c1) {
// CHECK-NOT: scf.for
// CHECK: return
func.func @reduction(%x: memref<?x?x?xf32>, %y: memref<?x?xf32>, %a: index, %b: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%a, %b) step (%c1, %c1) {
    scf.for %k = %c0 to %c step %c1 {
      %v = memref.load %x[%i, %j, %k] : memref<?x?x?xf32>
      %s = memref.load %y[%i, %j] : memref<?x?xf32>
      %t = arith.addf %v, %s : f32
      memref.store %t, %y[%i, %j] : memref<?x?xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%a) step (%c1) {
    %v = memref.load %y[%i, %c0] : memref<?x?xf32>
    memref.store %v, %y[%i, %c1] : memref<?x?xf32>
    scf.reduce
  }
  return
}

// A parallel loop inside another one (a contraction whose reduction is not
// its innermost loop: attention's probabilities · values) becomes serial
// loops: the threads split the outer loop, and OpenMP would fork a nested
// region at every step of the reduction.
// CHECK-LABEL: func.func @nested
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%{{.*}}) step (%c1) {
// CHECK-NEXT: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT: scf.for %[[D:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT: memref.load %{{.*}}[%[[I]], %[[T]]]
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @nested(%p: memref<?x?xf32>, %v: memref<?x?xf32>, %y: memref<?x?xf32>, %a: index, %t: index, %d: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%a) step (%c1) {
    scf.for %k = %c0 to %t step %c1 {
      scf.parallel (%j) = (%c0) to (%d) step (%c1) {
        %w = memref.load %p[%i, %k] : memref<?x?xf32>
        %x = memref.load %v[%k, %j] : memref<?x?xf32>
        %s = memref.load %y[%i, %j] : memref<?x?xf32>
        %m = arith.mulf %w, %x : f32
        %r = arith.addf %s, %m : f32
        memref.store %r, %y[%i, %j] : memref<?x?xf32>
        scf.reduce
      }
    }
    scf.reduce
  }
  return
}
