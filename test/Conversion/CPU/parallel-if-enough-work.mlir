// RUN: qaf-opt %s --split-input-file --qaf-parallel-if-enough-work="min-iterations=4096" --canonicalize | FileCheck %s

// The loop runs in parallel only when it has at least 4096 innermost
// iterations: the parallel dimensions' trip counts times those of the
// serial loops inside (sibling loops add up), from bounds known before the
// loop. Otherwise the same body runs as plain scf.for loops.
// CHECK-LABEL: func.func @counted
// CHECK-SAME: (%[[Y:.*]]: memref<?x?xf32>, %[[A:.*]]: index, %[[B:.*]]: index, %[[C:.*]]: index)
// CHECK-DAG: %[[MIN:.*]] = arith.constant 4096 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[TB:.*]] = arith.maxsi %[[B]], %[[ZERO]] : index
// CHECK: %[[TC:.*]] = arith.maxsi %[[C]], %[[ZERO]] : index
// CHECK: %[[INNER:.*]] = arith.addi %[[TB]], %[[TC]] : index
// CHECK: %[[ROWS:.*]] = arith.maxsi %[[A]], %[[ZERO]] : index
// CHECK: %[[WORK:.*]] = arith.muli %[[INNER]], %[[ROWS]] : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %[[WORK]], %[[MIN]] : index
// CHECK: scf.if %[[ENOUGH]] {
// CHECK-NEXT: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%[[A]])
// CHECK: memref.store %{{.*}}, %[[Y]][%[[I]], %{{.*}}]
// CHECK: } else {
// CHECK-NEXT: scf.for %[[SI:.*]] = %{{.*}} to %[[A]]
// CHECK-NEXT: scf.for %[[SJ:.*]] = %{{.*}} to %[[B]]
// CHECK-NEXT: memref.store %{{.*}}, %[[Y]][%[[SI]], %[[SJ]]]
// CHECK: scf.for %[[SK:.*]] = %{{.*}} to %[[C]]
// CHECK-NEXT: memref.store %{{.*}}, %[[Y]][%[[SI]], %[[SK]]]
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @counted(%y: memref<?x?xf32>, %a: index, %b: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%a) step (%c1) {
    scf.for %j = %c0 to %b step %c1 {
      memref.store %cst, %y[%i, %j] : memref<?x?xf32>
    }
    scf.for %j = %c0 to %c step %c1 {
      memref.store %cst, %y[%i, %j] : memref<?x?xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Work known at compile time keeps one version: 2 x 3 x 576 = 3456
// iterations stay serial (three nested loops), 8 x 1024 stay parallel.
// CHECK-LABEL: func.func @known
// CHECK-NOT: scf.if
// CHECK: scf.for %{{.*}} = %c0 to %c2
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c3
// CHECK: scf.for %{{.*}} = %c0 to %c576
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c8)
// CHECK-NOT: scf.if
func.func @known(%y: memref<8x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c576 = arith.constant 576 : index
  %c1024 = arith.constant 1024 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%i, %k) = (%c0, %c0) to (%c2, %c3) step (%c1, %c1) {
    %row = arith.muli %i, %c4 : index
    %r = arith.addi %row, %k : index
    scf.for %j = %c0 to %c576 step %c1 {
      memref.store %cst, %y[%r, %j] : memref<8x1024xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %j = %c0 to %c1024 step %c1 {
      memref.store %cst, %y[%i, %j] : memref<8x1024xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A reduction: the serial loops carry it as an iter_arg, combined by the
// reduction's own body in iteration order; scf.if yields either version's.
// CHECK-LABEL: func.func @reduction
// CHECK-SAME: (%[[X:.*]]: memref<?xf32>, %[[N:.*]]: index)
// CHECK: %[[R:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK-NEXT: %[[P:.*]] = scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[N]]) step (%{{.*}}) init (%[[INIT:.*]]) -> f32 {
// CHECK: scf.yield %[[P]] : f32
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[S:.*]] = scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT: %[[V:.*]] = memref.load %[[X]][%[[I]]]
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC]], %[[V]] : f32
// CHECK-NEXT: scf.yield %[[SUM]] : f32
// CHECK: scf.yield %[[S]] : f32
// CHECK: return %[[R]] : f32
func.func @reduction(%x: memref<?xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %v = memref.load %x[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%lhs: f32, %rhs: f32):
      %s = arith.addf %lhs, %rhs : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// A serial loop whose bound is computed inside the loop: its work is not
// known before it, so it stays parallel, unversioned.
// CHECK-LABEL: func.func @unknown
// CHECK-NOT: scf.if
// CHECK: scf.parallel
func.func @unknown(%y: memref<?x?xf32>, %n: memref<?xindex>, %a: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%a) step (%c1) {
    %b = memref.load %n[%i] : memref<?xindex>
    scf.for %j = %c0 to %b step %c1 {
      memref.store %cst, %y[%i, %j] : memref<?x?xf32>
    }
    scf.reduce
  }
  return
}
