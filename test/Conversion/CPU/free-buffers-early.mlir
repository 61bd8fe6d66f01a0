// RUN: qaf-opt %s --split-input-file --qaf-free-buffers-early | FileCheck %s

func.func private @kernel(i64)
func.func private @use(memref<?xf32>)

// The dealloc moves up to the last use of the buffer: here a kernel call
// that receives its address as an integer (the chain through
// extract_aligned_pointer_as_index and index_cast counts as a use).
// CHECK-LABEL: func.func @through_address(
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: call @kernel
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: call @use(%arg1)
// CHECK-NEXT: return
func.func @through_address(%n: index, %other: memref<?xf32>) {
  %a = memref.alloc(%n) : memref<?xf32>
  %p = memref.extract_aligned_pointer_as_index %a : memref<?xf32> -> index
  %i = arith.index_cast %p : index to i64
  func.call @kernel(%i) : (i64) -> ()
  func.call @use(%other) : (memref<?xf32>) -> ()
  memref.dealloc %a : memref<?xf32>
  return
}

// -----

func.func private @use(memref<?xf32, strided<[1], offset: 1>>)

// Uses of a view, and a use inside a region, keep the buffer alive; the
// size read by memref.dim does not.
// CHECK-LABEL: func.func @views_and_regions(
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: memref.subview %[[A]]
// CHECK: scf.if
// CHECK: call @use
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: arith.addi
// CHECK-NEXT: return
func.func @views_and_regions(%n: index, %c: i1) -> index {
  %a = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  %d = memref.dim %a, %c0 : memref<?xf32>
  %v = memref.subview %a[1] [%n] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: 1>>
  scf.if %c {
    func.call @use(%v) : (memref<?xf32, strided<[1], offset: 1>>) -> ()
  }
  %s = arith.addi %d, %d : index
  memref.dealloc %a : memref<?xf32>
  return %s : index
}

// -----

// A buffer yielded out of a region is used through the region's result;
// a function argument's dealloc and one whose buffer is returned stay.
// CHECK-LABEL: func.func @yielded(
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: %[[R:.*]] = scf.if
// CHECK: memref.load %[[R]]
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: memref.dealloc %arg2
// CHECK-NEXT: return
func.func @yielded(%n: index, %c: i1, %arg: memref<?xf32>) -> f32 {
  %a = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  %r = scf.if %c -> memref<?xf32> {
    scf.yield %a : memref<?xf32>
  } else {
    scf.yield %a : memref<?xf32>
  }
  %x = memref.load %r[%c0] : memref<?xf32>
  %y = arith.addf %x, %x : f32
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %arg : memref<?xf32>
  return %y : f32
}
