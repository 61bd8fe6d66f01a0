// RUN: qaf-opt %s --qaf-prepare-cpu-entry-points | FileCheck %s

// A public function gets the C interface the runtime calls, and every
// returned tensor is copied into an allocation of its own, so no output
// aliases an input or a constant (the runtime frees outputs).
// CHECK-LABEL: func.func @infer(%arg0: tensor<?x4xf32>, %arg1: i64) -> (tensor<?x4xf32>, tensor<2xf32>, i64) attributes {llvm.emit_c_interface}
// CHECK-NEXT: %[[CST:.*]] = arith.constant dense<1.000000e+00> : tensor<2xf32>
// CHECK-NEXT: %[[X:.*]] = bufferization.alloc_tensor() copy(%arg0) : tensor<?x4xf32>
// CHECK-NEXT: %[[C:.*]] = bufferization.alloc_tensor() copy(%[[CST]]) : tensor<2xf32>
// CHECK-NEXT: return %[[X]], %[[C]], %arg1 : tensor<?x4xf32>, tensor<2xf32>, i64
func.func @infer(%x: tensor<?x4xf32>, %n: i64) -> (tensor<?x4xf32>, tensor<2xf32>, i64) {
  %c = arith.constant dense<1.0> : tensor<2xf32>
  return %x, %c, %n : tensor<?x4xf32>, tensor<2xf32>, i64
}

// Private functions (outlined helpers) and declarations are not entry
// points: left as they are.
// CHECK-LABEL: func.func private @helper(%arg0: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT: return %arg0 : tensor<4xf32>
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// CHECK: func.func private @external(tensor<4xf32>) -> tensor<4xf32>{{$}}
func.func private @external(tensor<4xf32>) -> tensor<4xf32>
