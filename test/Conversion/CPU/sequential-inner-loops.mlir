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
// dimension for the threads (its outer ones have no known trip count);
// one-dimensional loops stay too.
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

// Unless its outer dimensions alone have at least 8 iterations known at
// compile time: attention's scores over (heads = 9, keys), a dot product
// each, keep the heads for the threads and walk the keys serially; with 4
// heads the keys stay parallel.
// CHECK-LABEL: func.func @scores
// CHECK: scf.parallel (%[[H:.*]]) = (%c0) to (%c9) step (%c1) {
// CHECK-NEXT: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c64 step %c1
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c4, %{{.*}}) step (%c1, %c1) {
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c64 step %c1
// CHECK: return
func.func @scores(%q: memref<9x64xf32>, %k: memref<?x64xf32>, %s: memref<9x?xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c9 = arith.constant 9 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%h, %j) = (%c0, %c0) to (%c9, %t) step (%c1, %c1) {
    scf.for %d = %c0 to %c64 step %c1 {
      %a = memref.load %q[%h, %d] : memref<9x64xf32>
      %b = memref.load %k[%j, %d] : memref<?x64xf32>
      %acc = memref.load %s[%h, %j] : memref<9x?xf32>
      %p = arith.mulf %a, %b : f32
      %sum = arith.addf %acc, %p : f32
      memref.store %sum, %s[%h, %j] : memref<9x?xf32>
    }
    scf.reduce
  }
  scf.parallel (%h, %j) = (%c0, %c0) to (%c4, %t) step (%c1, %c1) {
    scf.for %d = %c0 to %c64 step %c1 {
      %a = memref.load %q[%h, %d] : memref<9x64xf32>
      %b = memref.load %k[%j, %d] : memref<?x64xf32>
      %acc = memref.load %s[%h, %j] : memref<9x?xf32>
      %p = arith.mulf %a, %b : f32
      %sum = arith.addf %acc, %p : f32
      memref.store %sum, %s[%h, %j] : memref<9x?xf32>
    }
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
