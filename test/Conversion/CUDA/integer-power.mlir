// qaf-cuda-map-linalg-to-gpu expands math.ipowi (which the CPU lowers to a
// helper function that a kernel cannot call) into square-and-multiply over
// the exponent's bits. Run on the host here, the values checked are the
// integer powers worked out by hand; a negative exponent truncates 1/b^n.

// RUN: qaf-opt %s --qaf-cuda-map-linalg-to-gpu | FileCheck %s --check-prefix=IR
// IR-LABEL: func.func @power
// IR-NOT: math.ipowi
// IR: arith.muli

// RUN: qaf-opt %s --qaf-cuda-map-linalg-to-gpu --one-shot-bufferize --convert-scf-to-cf --convert-vector-to-llvm --convert-to-llvm --reconcile-unrealized-casts | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils | FileCheck %s
// 3^4, (-2)^3, 2^0, 5^-1, (-1)^-3, 1^-5, (-1)^-2, 7^1, 2^30, 0^0, (-3)^5
// CHECK: 81
// CHECK-NEXT: -8
// CHECK-NEXT: 1
// CHECK-NEXT: 0
// CHECK-NEXT: -1
// CHECK-NEXT: 1
// CHECK-NEXT: 1
// CHECK-NEXT: 7
// CHECK-NEXT: 1073741824
// CHECK-NEXT: 1
// CHECK-NEXT: -243

func.func @power(%b: i32, %e: i32) {
  %p = math.ipowi %b, %e : i32
  vector.print %p : i32
  return
}
func.func @main() {
  %c = arith.constant 0 : i32
  %pairs = arith.constant dense<[[3, 4], [-2, 3], [2, 0], [5, -1], [-1, -3], [1, -5], [-1, -2], [7, 1], [2, 30], [0, 0], [-3, 5]]> : tensor<11x2xi32>
  %n = arith.constant 11 : index
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %b = tensor.extract %pairs[%i, %c0] : tensor<11x2xi32>
    %e = tensor.extract %pairs[%i, %c1] : tensor<11x2xi32>
    func.call @power(%b, %e) : (i32, i32) -> ()
  }
  return
}
