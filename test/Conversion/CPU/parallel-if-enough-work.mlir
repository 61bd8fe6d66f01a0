// RUN: qaf-opt %s --qaf-parallel-if-enough-work="min-iterations=4096" --canonicalize | FileCheck %s

// The region forks its threads only when its nest runs at least 4096
// innermost iterations: the parallel dimensions' trip counts times those of
// the serial loops inside (sibling loops add up), from bounds known before
// the region.
// CHECK-LABEL: func.func @counted
// CHECK-SAME: (%{{.*}}: memref<?x?xf32>, %[[A:.*]]: index, %[[B:.*]]: index, %[[C:.*]]: index)
// CHECK-DAG: %[[MIN:.*]] = arith.constant 4096 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[TB:.*]] = arith.maxsi %[[B]], %[[ZERO]] : index
// CHECK: %[[TC:.*]] = arith.maxsi %[[C]], %[[ZERO]] : index
// CHECK: %[[INNER:.*]] = arith.addi %[[TB]], %[[TC]] : index
// CHECK: %[[ROWS:.*]] = arith.maxsi %[[A]], %[[ZERO]] : index
// CHECK: %[[WORK:.*]] = arith.muli %[[INNER]], %[[ROWS]] : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %[[WORK]], %[[MIN]] : index
// CHECK: omp.parallel if(%[[ENOUGH]])
func.func @counted(%y: memref<?x?xf32>, %a: index, %b: index, %c: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%a) step (%c1) {
        scf.for %j = %c0 to %b step %c1 {
          memref.store %cst, %y[%i, %j] : memref<?x?xf32>
        }
        scf.for %j = %c0 to %c step %c1 {
          memref.store %cst, %y[%i, %j] : memref<?x?xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// convert-scf-to-openmp wraps a body in memref.alloca_scope: the loops
// inside it count too (here 576 per row).
// CHECK-LABEL: func.func @scoped
// CHECK-SAME: (%{{.*}}: memref<?x576xf32>, %[[A:.*]]: index)
// CHECK-DAG: %[[ROW:.*]] = arith.constant 576 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: %[[ROWS:.*]] = arith.maxsi %[[A]], %[[ZERO]] : index
// CHECK: %[[WORK:.*]] = arith.muli %[[ROWS]], %[[ROW]] : index
// CHECK: %[[ENOUGH:.*]] = arith.cmpi sge, %[[WORK]], %{{.*}} : index
// CHECK: omp.parallel if(%[[ENOUGH]])
func.func @scoped(%y: memref<?x576xf32>, %a: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c576 = arith.constant 576 : index
  %cst = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%a) step (%c1) {
        memref.alloca_scope {
          scf.for %j = %c0 to %c576 step %c1 {
            memref.store %cst, %y[%i, %j] : memref<?x576xf32>
          }
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// A serial loop whose bound is computed inside the region: its work is not
// known before it, so the region keeps its threads.
// CHECK-LABEL: func.func @unknown
// CHECK: omp.parallel {
func.func @unknown(%y: memref<?x?xf32>, %n: memref<?xindex>, %a: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%a) step (%c1) {
        %b = memref.load %n[%i] : memref<?xindex>
        scf.for %j = %c0 to %b step %c1 {
          memref.store %cst, %y[%i, %j] : memref<?x?xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
