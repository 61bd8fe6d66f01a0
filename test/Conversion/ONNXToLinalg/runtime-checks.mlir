// RUN: qaf-opt --qaf-convert-onnx-to-linalg -split-input-file %s | FileCheck %s

// Run-time indices are checked once per op, before the gather reads: one
// reduction finds their minimum and maximum, and the check (ONNX's rule,
// -size <= i < size) names the node, the offending index and the size.
// CHECK-LABEL: func.func @gather_runtime_indices
// CHECK-SAME: (%[[DATA:.*]]: tensor<4x3xf32>, %[[IDX:.*]]: tensor<?xi64>)
// CHECK: %[[EXT:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[IDX]] : tensor<?xi64>)
// CHECK: arith.minsi
// CHECK: arith.maxsi
// CHECK: %[[MIN:.*]] = tensor.extract %[[EXT]]#0[]
// CHECK: %[[MAX:.*]] = tensor.extract %[[EXT]]#1[]
// CHECK: %[[SIZE:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[NEG:.*]] = arith.subi %{{.*}}, %[[SIZE]] : i64
// CHECK: %[[LOW:.*]] = arith.cmpi slt, %[[MIN]], %[[NEG]] : i64
// CHECK: %[[HIGH:.*]] = arith.cmpi sge, %[[MAX]], %[[SIZE]] : i64
// CHECK: %[[BAD:.*]] = arith.ori %[[LOW]], %[[HIGH]] : i1
// CHECK: %[[OK:.*]] = arith.xori %[[BAD]], %true : i1
// CHECK: %[[SHOWN:.*]] = arith.select %[[LOW]], %[[MIN]], %[[MAX]] : i64
// CHECK: qaf.check %[[OK]], "node 'my_gather': onnx.Gather: indices element out of data bounds: index {0} on axis 0 of size {1} (valid indices are -{1} to {1}-1)"(%[[SHOWN]], %[[SIZE]] : i64, i64)
// The gather itself follows the check, with no per-element test.
// CHECK: linalg.generic
// CHECK-NOT: qaf.check
// CHECK: tensor.extract %[[DATA]]
func.func @gather_runtime_indices(%data: tensor<4x3xf32>, %indices: tensor<?xi64>) -> tensor<?x3xf32> {
  %0 = onnx.Gather %data, %indices {axis = 0 : i64} : (tensor<4x3xf32>, tensor<?xi64>) -> tensor<?x3xf32> loc("my_gather")
  return %0 : tensor<?x3xf32>
}

// -----

// GatherElements checks its indices against the size of its axis.
// CHECK-LABEL: func.func @gather_elements
// CHECK: qaf.check %{{.*}}, "node 'ge': onnx.GatherElements: indices element out of data bounds: index {0} on axis 1 of size {1}
func.func @gather_elements(%data: tensor<2x?xf32>, %indices: tensor<2x2xi32>) -> tensor<2x2xf32> {
  %0 = onnx.GatherElements %data, %indices {axis = 1 : i64} : (tensor<2x?xf32>, tensor<2x2xi32>) -> tensor<2x2xf32> loc("ge")
  return %0 : tensor<2x2xf32>
}

// -----

// A dynamic contraction size is checked against the other operand's, and
// the message carries both.
// CHECK-LABEL: func.func @matmul_dynamic_k
// CHECK-DAG: %[[K1:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG: %[[K2:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[K1]], %[[K2]] : index
// CHECK: qaf.check %[[EQ]], "node 'mm': onnx.MatMul: the inner dimensions differ ({0} and {1})"(%[[K1]], %[[K2]] : index, index)
func.func @matmul_dynamic_k(%a: tensor<2x?xf32>, %b: tensor<?x5xf32>) -> tensor<2x5xf32> {
  %0 = onnx.MatMul %a, %b : (tensor<2x?xf32>, tensor<?x5xf32>) -> tensor<2x5xf32> loc("mm")
  return %0 : tensor<2x5xf32>
}
