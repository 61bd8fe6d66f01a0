// RUN: qaf-opt %s --qaf-lower-math --split-input-file | FileCheck %s

// Math ops with an LLVM intrinsic become it; erf (none) calls libm;
// fpowi becomes a function of its own (the calls are func ops, for
// convert-to-llvm after it).
// CHECK: func.func private @erff(f32) -> f32
// CHECK-LABEL: llvm.func @math(
// CHECK: llvm.intr.exp
// CHECK: llvm.intr.sqrt
// CHECK: func.call @erff(
// CHECK: func.call @__mlir_math_fpowi_f32_i32(
// CHECK-NOT: math.
llvm.func @math(%x: f32, %n: i32) -> f32 {
  %a = math.exp %x : f32
  %b = math.sqrt %a : f32
  %c = math.erf %b : f32
  %d = math.fpowi %c, %n : f32, i32
  llvm.return %d : f32
}

// -----

// Without math ops it still folds: a descriptor field inserted then
// extracted is the value itself.
// CHECK-LABEL: llvm.func @fold(
// CHECK-SAME: %[[P:.*]]: !llvm.ptr
// CHECK-NOT: llvm.insertvalue
// CHECK-NOT: llvm.extractvalue
// CHECK: llvm.return %[[P]]
llvm.func @fold(%p: !llvm.ptr) -> !llvm.ptr {
  %u = llvm.mlir.undef : !llvm.struct<(ptr, i64)>
  %s = llvm.insertvalue %p, %u[0] : !llvm.struct<(ptr, i64)>
  %q = llvm.extractvalue %s[0] : !llvm.struct<(ptr, i64)>
  llvm.return %q : !llvm.ptr
}
