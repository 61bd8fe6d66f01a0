// RUN: qaf-opt --qaf-inline-alloca-scopes -split-input-file %s | FileCheck %s

// A scope without an alloca (a check's report call, a branch) is inlined.
// CHECK-LABEL: func.func @no_alloca
// CHECK-NOT: memref.alloca_scope
// CHECK: scf.if %{{.*}} {
// CHECK:   func.call @report()
// CHECK: }
// CHECK: return
func.func private @report()
func.func @no_alloca(%failed: i1) {
  memref.alloca_scope {
    scf.if %failed {
      func.call @report() : () -> ()
    }
  }
  return
}

// -----

// A scope that frees an alloca stays.
// CHECK-LABEL: func.func @with_alloca
// CHECK: memref.alloca_scope {
// CHECK:   memref.alloca() : memref<4xf32>
func.func @with_alloca() {
  memref.alloca_scope {
    %a = memref.alloca() : memref<4xf32>
  }
  return
}
