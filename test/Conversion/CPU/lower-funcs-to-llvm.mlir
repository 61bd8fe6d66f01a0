// RUN: qaf-opt %s --qaf-lower-funcs-to-llvm --split-input-file | FileCheck %s

// Functions, calls and returns become LLVM; the ops in the bodies stay for
// the passes after it (here arith and memref).
// CHECK-LABEL: llvm.func @callee(
// CHECK: arith.addf
// CHECK: llvm.return
// CHECK-LABEL: llvm.func @caller(
// CHECK: llvm.call @callee(
// CHECK-NOT: func.call
func.func @callee(%x: f32) -> f32 {
  %y = arith.addf %x, %x : f32
  return %y : f32
}
func.func @caller(%x: f32, %m: memref<4xf32>) -> f32 {
  %y = func.call @callee(%x) : (f32) -> f32
  %c0 = arith.constant 0 : index
  memref.store %y, %m[%c0] : memref<4xf32>
  return %y : f32
}

// -----

// A call to a function declared after it, and an external declaration.
// CHECK-LABEL: llvm.func @first(
// CHECK: llvm.call @second(
// CHECK: llvm.call @external(
// CHECK: llvm.func @external(
func.func @first(%x: i64) -> i64 {
  %y = func.call @second(%x) : (i64) -> i64
  %z = func.call @external(%y) : (i64) -> i64
  return %z : i64
}
func.func @second(%x: i64) -> i64 {
  return %x : i64
}
func.func private @external(i64) -> i64
