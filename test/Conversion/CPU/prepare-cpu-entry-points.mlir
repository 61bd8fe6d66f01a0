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

// A training step's result tied to an argument (its new parameter value)
// is stored into that argument and dropped from the results; the untied
// loss stays an output.
// CHECK-LABEL: func.func @train_step(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> tensor<f32> attributes {llvm.emit_c_interface}
// CHECK: %[[NEW:.*]] = arith.addf %arg0, %arg1
// CHECK: bufferization.materialize_in_destination %[[NEW]] in %arg0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: %[[LOSS:.*]] = bufferization.alloc_tensor() copy(
// CHECK-NEXT: return %[[LOSS]] : tensor<f32>
func.func @train_step(%param: tensor<4xf32>, %grad: tensor<4xf32>)
    -> (tensor<f32>, tensor<4xf32> {qaf.updates_argument = 0 : i64}) {
  %loss = arith.constant dense<2.0> : tensor<f32>
  %new = arith.addf %param, %grad : tensor<4xf32>
  return %loss, %new : tensor<f32>, tensor<4xf32>
}

// A value the function wrote into a tensor.empty of its own (through
// destination operands and reshapes) is already a fresh buffer: returned as
// it is. Returned twice, the second result gets a copy; a slice of it is
// not fresh.
// CHECK-LABEL: func.func @fresh(
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: %[[MM:.*]] = linalg.matmul {{.*}} outs(%[[FILL]]
// CHECK-NEXT: %[[EXP:.*]] = tensor.expand_shape %[[MM]]
// CHECK-NEXT: %[[SLICE:.*]] = tensor.extract_slice %[[MM]]
// CHECK-NEXT: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[MM]])
// CHECK-NEXT: %[[SCOPY:.*]] = bufferization.alloc_tensor() copy(%[[SLICE]])
// CHECK-NEXT: return %[[EXP]], %[[COPY]], %[[SCOPY]]
func.func @fresh(%a: tensor<2x4xf32>, %b: tensor<4x6xf32>) -> (tensor<1x2x6xf32>, tensor<2x6xf32>, tensor<1x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x6xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x6xf32>) -> tensor<2x6xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<2x4xf32>, tensor<4x6xf32>) outs(%fill : tensor<2x6xf32>) -> tensor<2x6xf32>
  %exp = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, 2, 6] : tensor<2x6xf32> into tensor<1x2x6xf32>
  %slice = tensor.extract_slice %mm[0, 0] [1, 6] [1, 1] : tensor<2x6xf32> to tensor<1x6xf32>
  return %exp, %mm, %slice : tensor<1x2x6xf32>, tensor<2x6xf32>, tensor<1x6xf32>
}
