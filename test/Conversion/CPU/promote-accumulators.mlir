// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-promote-accumulators))' | FileCheck %s

// A row sum as convert-linalg-to-parallel-loops leaves it: the output element
// is loaded and stored on every iteration. It becomes an iter_arg, loaded
// before the loop and stored after it, and the sum may be reassociated.
// CHECK-LABEL: func.func @row_sum(
// CHECK-SAME: %[[IN:[a-z0-9]+]]: memref<?x64xf32>
// CHECK: %[[OUT:.*]] = memref.alloc
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK-NEXT: %[[INIT:.*]] = memref.load %[[OUT]][%[[I]]]
// CHECK-NEXT: %[[SUM:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT: %[[X:.*]] = memref.load %[[IN]][%[[I]], %[[K]]]
// CHECK-NEXT: %[[E:.*]] = math.exp %[[X]]
// CHECK-NEXT: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[E]] fastmath<reassoc> : f32
// CHECK-NEXT: scf.yield %[[NEXT]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: memref.store %[[SUM]], %[[OUT]][%[[I]]]
func.func @row_sum(%in: memref<?x64xf32>, %n: index) -> memref<?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %out = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      %x = memref.load %in[%i, %k] : memref<?x64xf32>
      %acc = memref.load %out[%i] : memref<?xf32>
      %e = math.exp %x : f32
      %s = arith.addf %acc, %e : f32
      memref.store %s, %out[%i] : memref<?xf32>
    }
    scf.reduce
  }
  return %out : memref<?xf32>
}

// A full sum over two loops: the inner loop's accumulator first, then the
// outer one's, which the inner loop's load and store now are. A maximum is
// promoted but not reassociated (nothing to vectorize it by reordering).
// CHECK-LABEL: func.func @total_and_max(
// CHECK: %[[T0:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK-NEXT: %[[TOTAL:.*]] = scf.for {{.*}} iter_args(%[[OUTER:.*]] = %[[T0]]) -> (f32) {
// CHECK-NEXT: %[[INNER:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[OUTER]]) -> (f32) {
// CHECK: arith.addf %[[ACC]], %{{.*}} fastmath<reassoc>
// CHECK: scf.yield %[[INNER]]
// CHECK: memref.store %[[TOTAL]], %{{.*}}[] : memref<f32>
// CHECK: scf.for {{.*}} iter_args(%[[M:.*]] = %{{.*}}) -> (f32) {
// CHECK: arith.maximumf %[[M]], %{{.*}} : f32
func.func @total_and_max(%in: memref<?x64xf32>, %n: index, %total: memref<f32>, %max: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %i = %c0 to %n step %c1 {
    scf.for %k = %c0 to %c64 step %c1 {
      %x = memref.load %in[%i, %k] : memref<?x64xf32>
      %acc = memref.load %total[] : memref<f32>
      %s = arith.addf %acc, %x : f32
      memref.store %s, %total[] : memref<f32>
    }
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %x = memref.load %in[%c0, %k] : memref<?x64xf32>
    %m = memref.load %max[] : memref<f32>
    %s = arith.maximumf %m, %x : f32
    memref.store %s, %max[] : memref<f32>
  }
  return
}

// Left alone: an output that may alias what the loop reads (a view of the
// input), an element whose indices change in the loop, a second store to
// the accumulator's buffer, and a loop that calls out.
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT: iter_args
// CHECK: return
func.func private @opaque()
func.func @left_alone(%in: memref<?x64xf32>, %n: index, %out: memref<?xf32>, %other: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %row = memref.subview %in[0, 0] [1, 64] [1, 1] : memref<?x64xf32> to memref<64xf32, strided<[1]>>
  scf.for %k = %c0 to %c64 step %c1 {
    %x = memref.load %in[%c1, %k] : memref<?x64xf32>
    %acc = memref.load %row[%c0] : memref<64xf32, strided<[1]>>
    %s = arith.addf %acc, %x : f32
    memref.store %s, %row[%c0] : memref<64xf32, strided<[1]>>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %x = memref.load %in[%c0, %k] : memref<?x64xf32>
    %acc = memref.load %other[%k] : memref<64xf32>
    %s = arith.addf %acc, %x : f32
    memref.store %s, %other[%k] : memref<64xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %x = memref.load %in[%c0, %k] : memref<?x64xf32>
    %acc = memref.load %out[%c0] : memref<?xf32>
    %s = arith.addf %acc, %x : f32
    memref.store %s, %out[%c0] : memref<?xf32>
    memref.store %x, %out[%c1] : memref<?xf32>
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %x = memref.load %in[%c0, %k] : memref<?x64xf32>
    %acc = memref.load %out[%c0] : memref<?xf32>
    %s = arith.addf %acc, %x : f32
    memref.store %s, %out[%c0] : memref<?xf32>
    func.call @opaque() : () -> ()
  }
  return
}
