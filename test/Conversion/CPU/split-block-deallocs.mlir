// RUN: qaf-opt %s --split-input-file --qaf-split-block-deallocs=min-memrefs=2 | FileCheck %s
// RUN: qaf-opt %s --split-input-file --qaf-split-block-deallocs | FileCheck %s --check-prefix=SMALL

// Allocations freed for certain that no other operand may come from get a
// dealloc each; a buffer that may be the retained one (a view of it is
// retained), one freed under a run-time condition, and the scf.if result
// that may be either of two allocations stay, as does the retain list.
// CHECK-LABEL: func.func @split(
// CHECK-DAG: %[[TRUE:.*]] = arith.constant true
// CHECK-DAG: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK-DAG: %[[R:.*]] = memref.alloc() : memref<2xf32>
// CHECK-DAG: %[[C:.*]] = memref.alloc() : memref<3xf32>
// CHECK: bufferization.dealloc (%[[A]] : memref<4xf32>) if (%[[TRUE]]){{$}}
// CHECK-NEXT: bufferization.dealloc (%[[B]] : memref<8xf32>) if (%[[TRUE]]){{$}}
// CHECK-NEXT: bufferization.dealloc (%[[R]], %[[C]], %{{.*}} : memref<2xf32>, memref<3xf32>, memref<5xf32>) if (%[[TRUE]], %arg0, %{{.*}}) retain (%{{.*}} : memref<1xf32, strided<[1], offset: 1>>)
// SMALL-LABEL: func.func @split(
// SMALL: bufferization.dealloc
// SMALL-NOT: bufferization.dealloc
// SMALL: return
func.func @split(%cond: i1) -> memref<1xf32, strided<[1], offset: 1>> {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<8xf32>
  %r = memref.alloc() : memref<2xf32>
  %c = memref.alloc() : memref<3xf32>
  %x = memref.alloc() : memref<5xf32>
  %y = memref.alloc() : memref<5xf32>
  %v = scf.if %cond -> memref<5xf32> {
    scf.yield %x : memref<5xf32>
  } else {
    scf.yield %y : memref<5xf32>
  }
  %kept = memref.subview %r[1] [1] [1] : memref<2xf32> to memref<1xf32, strided<[1], offset: 1>>
  %o:1 = bufferization.dealloc (%a, %b, %r, %c, %v : memref<4xf32>, memref<8xf32>, memref<2xf32>, memref<3xf32>, memref<5xf32>) if (%true, %true, %true, %cond, %cond) retain (%kept : memref<1xf32, strided<[1], offset: 1>>)
  return %kept : memref<1xf32, strided<[1], offset: 1>>
}

// -----

func.func private @opaque() -> memref<4xf32>

// An operand from an unknown buffer (a call's result) may be any of the
// allocations: nothing moves.
// CHECK-LABEL: func.func @unknown(
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<4xf32>, memref<4xf32>) if
// CHECK-NOT: bufferization.dealloc
func.func @unknown() {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %u = func.call @opaque() : () -> memref<4xf32>
  bufferization.dealloc (%a, %u : memref<4xf32>, memref<4xf32>) if (%true, %true)
  return
}

// -----

// The same allocation twice (itself and a view of it) stays in one dealloc,
// which frees it once.
// CHECK-LABEL: func.func @twice(
// CHECK-DAG: %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[B:.*]] = memref.alloc() : memref<4xf32>
// CHECK: bufferization.dealloc (%[[B]] : memref<4xf32>) if
// CHECK-NEXT: bufferization.dealloc (%[[A]], %{{.*}} : memref<4xf32>, memref<2xf32, strided<[1]>>) if
func.func @twice() {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %s = memref.subview %a[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  bufferization.dealloc (%a, %b, %s : memref<4xf32>, memref<4xf32>, memref<2xf32, strided<[1]>>) if (%true, %true, %true)
  return
}
