// RUN: qaf-opt %s --pass-pipeline='builtin.module(func.func(qaf-approximate-math))' | FileCheck %s

// exp, tanh and erf on f32 become plain arithmetic (upstream's polynomial
// approximations): no math op, hence no libm call, is left, and the result
// is a select/fma chain LLVM can vectorize.
// CHECK-LABEL: func.func @approximated(
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: math.fma
// CHECK: return
func.func @approximated(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.erf %x : f32
  return %e, %t, %r : f32, f32, f32
}

// Other math functions are not touched (log, sqrt), nor are f64 ones,
// whose approximations would not be accurate enough.
// CHECK-LABEL: func.func @kept(
// CHECK-NEXT: math.log %arg0 : f32
// CHECK-NEXT: math.sqrt %arg0 : f32
// CHECK-NEXT: math.exp %arg1 : f64
// CHECK-NEXT: return
func.func @kept(%x: f32, %y: f64) -> (f32, f32, f64) {
  %l = math.log %x : f32
  %s = math.sqrt %x : f32
  %e = math.exp %y : f64
  return %l, %s, %e : f32, f32, f64
}
