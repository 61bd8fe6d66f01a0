// RUN: qaf-opt --qaf-convert-onnx-to-linalg -split-input-file %s | FileCheck %s

// Run-time shape checks of the data-movement ops whose sizes are dynamic:
// each names the node and the sizes involved. With static sizes (inference
// compared them) no check is emitted.

// A dynamic squeezed dim must be 1 at run time.
// CHECK-LABEL: func.func @squeeze_dynamic_axis
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[D]], %[[ONE:.*]] : index
// CHECK: qaf.check %[[OK]], "node 'sq': onnx.Squeeze: cannot squeeze dimension 0 of size {0} (it must be {1})"(%[[D]], %{{.*}} : index, index)
// CHECK: tensor.collapse_shape
func.func @squeeze_dynamic_axis(%x: tensor<?x3xf32>) -> tensor<3xf32> {
  %axes = onnx.Constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.Squeeze %x, %axes : (tensor<?x3xf32>, tensor<1xi64>) -> tensor<3xf32> loc("sq")
  return %0 : tensor<3xf32>
}

// -----

// Only the squeezed dims are checked; the kept dynamic one is not.
// CHECK-LABEL: func.func @squeeze_static_axis
// CHECK-NOT: qaf.check
// CHECK: tensor.collapse_shape
func.func @squeeze_static_axis(%x: tensor<1x?xf32>) -> tensor<?xf32> {
  %axes = onnx.Constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.Squeeze %x, %axes : (tensor<1x?xf32>, tensor<1xi64>) -> tensor<?xf32> loc("sq")
  return %0 : tensor<?xf32>
}

// -----

// Split sizes must add up to the run-time size of the axis.
// CHECK-LABEL: func.func @split_dynamic_axis
// CHECK: %[[D:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[OK:.*]] = arith.cmpi eq, %c6{{.*}}, %[[D]] : index
// CHECK: qaf.check %[[OK]], "node 'sp': onnx.Split: the split sizes add up to {0}, not to the size {1} of axis 1"(%{{.*}}, %[[D]] : index, index)
// CHECK: tensor.extract_slice %arg0[0, 0] [3, 2]
// CHECK: tensor.extract_slice %arg0[0, 2] [3, 4]
func.func @split_dynamic_axis(%x: tensor<3x?xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>) {
  %s = onnx.Constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  %0:2 = onnx.Split %x, %s {axis = 1 : i64} : (tensor<3x?xf32>, tensor<2xi64>) -> (tensor<3x2xf32>, tensor<3x4xf32>) loc("sp")
  return %0#0, %0#1 : tensor<3x2xf32>, tensor<3x4xf32>
}

// -----

// Split sizes given at run time are also checked to be at least 0.
// CHECK-LABEL: func.func @split_runtime_sizes
// CHECK: %[[S0:.*]] = arith.index_cast
// CHECK: %[[S1:.*]] = arith.index_cast
// CHECK: %[[NN0:.*]] = arith.cmpi sge, %[[S0]], %c0
// CHECK: qaf.check %[[NN0]], "node 'sp': onnx.Split: split size 0 is {0}, below 0"(%[[S0]] : index)
// CHECK: %[[NN1:.*]] = arith.cmpi sge, %[[S1]], %c0
// CHECK: qaf.check %[[NN1]], "node 'sp': onnx.Split: split size 1 is {0}, below 0"(%[[S1]] : index)
// CHECK: %[[SUM:.*]] = arith.addi %[[S0]], %[[S1]] : index
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[SUM]], %c8{{.*}} : index
// CHECK: qaf.check %[[EQ]], "node 'sp': onnx.Split: the split sizes add up to {0}, not to the size {1} of axis 0"(%[[SUM]], %{{.*}} : index, index)
func.func @split_runtime_sizes(%x: tensor<8xf32>, %s: tensor<2xi64>) -> (tensor<?xf32>, tensor<?xf32>) {
  %0:2 = onnx.Split %x, %s {axis = 0 : i64} : (tensor<8xf32>, tensor<2xi64>) -> (tensor<?xf32>, tensor<?xf32>) loc("sp")
  return %0#0, %0#1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// Static sizes and computed chunks (which cover the axis by construction)
// need no check.
// CHECK-LABEL: func.func @split_no_checks
// CHECK-NOT: qaf.check
// CHECK: return
func.func @split_no_checks(%x: tensor<3x6xf32>, %y: tensor<?x10xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>, tensor<?x5xf32>, tensor<?x5xf32>) {
  %s = onnx.Constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  %0:2 = onnx.Split %x, %s {axis = 1 : i64} : (tensor<3x6xf32>, tensor<2xi64>) -> (tensor<3x2xf32>, tensor<3x4xf32>) loc("sp")
  %n = "onnx.NoValue"() {value} : () -> none
  %1:2 = onnx.Split %y, %n {axis = 1 : i64, num_outputs = 2 : i64} : (tensor<?x10xf32>, none) -> (tensor<?x5xf32>, tensor<?x5xf32>) loc("sp2")
  return %0#0, %0#1, %1#0, %1#1 : tensor<3x2xf32>, tensor<3x4xf32>, tensor<?x5xf32>, tensor<?x5xf32>
}

// -----

// GatherElements: off the axis the indices must not be larger than the
// data (the axis itself is the indices' bounds check).
// CHECK-LABEL: func.func @gather_elements_shape
// CHECK-DAG: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG: %[[I1:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[OK:.*]] = arith.cmpi sle, %[[I1]], %[[D1]] : index
// CHECK: qaf.check %[[OK]], "node 'ge': onnx.GatherElements: dimension 1 of the indices (size {0}) exceeds the data's size {1}"(%[[I1]], %[[D1]] : index, index)
// CHECK-NOT: dimension 0 of the indices
// CHECK: indices element out of data bounds
func.func @gather_elements_shape(%d: tensor<?x?xf32>, %i: tensor<?x?xi64>) -> tensor<?x?xf32> {
  %0 = onnx.GatherElements %d, %i {axis = 0 : i64} : (tensor<?x?xf32>, tensor<?x?xi64>) -> tensor<?x?xf32> loc("ge")
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @gather_elements_static
// CHECK-NOT: of the indices (size
// CHECK: return
func.func @gather_elements_static(%d: tensor<3x4xf32>, %i: tensor<2x4xi64>) -> tensor<2x4xf32> {
  %0 = onnx.GatherElements %d, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2x4xi64>) -> tensor<2x4xf32> loc("ge")
  return %0 : tensor<2x4xf32>
}

// -----

// Concat with dynamic sizes off the axis: each input must match the first
// input not empty along the axis, unless it is empty along the axis itself
// (ONNX Runtime skips it). Inputs that may be empty along the axis are
// inserted one by one into a result of those sizes.
// CHECK-LABEL: func.func @concat_dynamic
// CHECK-DAG: %[[A0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[A1:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG: %[[AEMPTY:.*]] = arith.cmpi eq, %[[A0]], %c0
// CHECK-DAG: %[[B0:.*]] = tensor.dim %arg1, %c0
// CHECK-DAG: %[[B1:.*]] = tensor.dim %arg1, %c1
// CHECK-DAG: %[[BEMPTY:.*]] = arith.cmpi eq, %[[B0]], %c0
// CHECK: %[[LATER:.*]] = arith.select %[[BEMPTY]], %[[A1]], %[[B1]] : index
// CHECK: %[[REF:.*]] = arith.select %[[AEMPTY]], %[[LATER]], %[[A1]] : index
// CHECK: %[[AEQ:.*]] = arith.cmpi eq, %[[A1]], %[[REF]] : index
// CHECK: %[[AOK:.*]] = arith.ori %[[AEMPTY]], %[[AEQ]] : i1
// CHECK: qaf.check %[[AOK]], "node 'cat': onnx.Concat: sizes off the axis must match: dimension 1 of input 0 has size {0}, not {1}"(%[[A1]], %[[REF]] : index, index)
// CHECK: %[[BEQ:.*]] = arith.cmpi eq, %[[B1]], %[[REF]] : index
// CHECK: %[[BOK:.*]] = arith.ori %[[BEMPTY]], %[[BEQ]] : i1
// CHECK: qaf.check %[[BOK]], "node 'cat': onnx.Concat: sizes off the axis must match: dimension 1 of input 1 has size {0}, not {1}"(%[[B1]], %[[REF]] : index, index)
// CHECK: %[[TOTAL:.*]] = arith.addi %[[A0]], %[[B0]] : index
// CHECK: %[[EMPTY:.*]] = tensor.empty(%[[TOTAL]], %[[REF]]) : tensor<?x?xf32>
// CHECK: %[[PART:.*]] = tensor.insert_slice %arg0 into %[[EMPTY]][0, 0] [%[[A0]], %[[A1]]] [1, 1]
// CHECK: tensor.insert_slice %arg1 into %[[PART]][%[[A0]], 0] [%[[B0]], %[[B1]]] [1, 1]
func.func @concat_dynamic(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %0 = onnx.Concat %a, %b {axis = 0 : i64} : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32> loc("cat")
  return %0 : tensor<?x?xf32>
}

// -----

// No input can be empty along the axis: the first input gives the sizes,
// the others are checked against it, and tensor.concat stays.
// CHECK-LABEL: func.func @concat_static_axis
// CHECK-DAG: %[[A0:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[B0:.*]] = tensor.dim %arg1, %c0
// CHECK: %[[EQ:.*]] = arith.cmpi eq, %[[B0]], %[[A0]] : index
// CHECK: qaf.check %[[EQ]], "node 'cat': onnx.Concat: sizes off the axis must match: dimension 0 of input 1 has size {0}, not {1}"(%[[B0]], %[[A0]] : index, index)
// CHECK-NOT: qaf.check
// CHECK: tensor.concat dim(1) %arg0, %arg1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
func.func @concat_static_axis(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %0 = onnx.Concat %a, %b {axis = 1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32> loc("cat")
  return %0 : tensor<?x16xf32>
}

// -----

// Static sizes off the axis, a dynamic axis: nothing to check.
// CHECK-LABEL: func.func @concat_static_off_axis
// CHECK-NOT: qaf.check
// CHECK: tensor.concat dim(0)
func.func @concat_static_off_axis(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = onnx.Concat %a, %b {axis = 0 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32> loc("cat")
  return %0 : tensor<?x8xf32>
}

// -----

// ScatterND updates must have the shape indices.shape[:-1] + data.shape[k:].
// CHECK-LABEL: func.func @scatternd_updates_shape
// CHECK-DAG: %[[N:.*]] = tensor.dim %arg1, %c0
// CHECK-DAG: %[[U0:.*]] = tensor.dim %arg2, %c0
// CHECK-DAG: %[[U1:.*]] = tensor.dim %arg2, %c1
// CHECK-DAG: %[[D1:.*]] = tensor.dim %arg0, %c1
// CHECK: %[[OK0:.*]] = arith.cmpi eq, %[[U0]], %[[N]] : index
// CHECK: qaf.check %[[OK0]], "node 'sc': onnx.ScatterND: dimension 0 of the updates has size {0}, not {1} (updates must have the shape indices.shape[:-1] + data.shape[1:])"(%[[U0]], %[[N]] : index, index)
// CHECK: %[[OK1:.*]] = arith.cmpi eq, %[[U1]], %[[D1]] : index
// CHECK: qaf.check %[[OK1]], "node 'sc': onnx.ScatterND: dimension 1 of the updates
// CHECK-NOT: dimension 2 of the updates
// CHECK: scf.for
func.func @scatternd_updates_shape(%d: tensor<?x?x4xf32>, %i: tensor<?x1xi64>, %u: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %0 = onnx.ScatterND %d, %i, %u : (tensor<?x?x4xf32>, tensor<?x1xi64>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32> loc("sc")
  return %0 : tensor<?x?x4xf32>
}

// -----

// CHECK-LABEL: func.func @scatternd_static
// CHECK-NOT: of the updates has size
// CHECK: scf.for
func.func @scatternd_static(%d: tensor<4x6x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x6x4xf32>) -> tensor<4x6x4xf32> {
  %0 = onnx.ScatterND %d, %i, %u : (tensor<4x6x4xf32>, tensor<2x1xi64>, tensor<2x6x4xf32>) -> tensor<4x6x4xf32> loc("sc")
  return %0 : tensor<4x6x4xf32>
}

// -----

// Axes known only at run time: each input dim named by an axis must be 1.
// CHECK-LABEL: func.func @squeeze_runtime_axes
// CHECK: %[[AXIS:.*]] = arith.index_cast
// CHECK: %[[D0:.*]] = tensor.dim %arg0, %c0
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[AXIS]], %c0
// CHECK: %[[NORM:.*]] = arith.select %[[NEG]], %{{.*}}, %[[AXIS]] : index
// CHECK: %[[IS0:.*]] = arith.cmpi eq, %[[NORM]], %c0
// CHECK: %[[ONE0:.*]] = arith.cmpi eq, %[[D0]], %c1
// CHECK: %[[OK0:.*]] = arith.select %[[IS0]], %[[ONE0]], %true
// CHECK: qaf.check %[[OK0]], "node 'sq': onnx.Squeeze: cannot squeeze dimension 0 of size {0} (it must be {1})"(%[[D0]], %{{.*}} : index, index)
// CHECK: qaf.check %{{.*}}, "node 'sq': onnx.Squeeze: cannot squeeze dimension 1 of size {0} (it must be {1})"
func.func @squeeze_runtime_axes(%x: tensor<?x?xf32>, %axes: tensor<1xi64>) -> tensor<?xf32> {
  %0 = onnx.Squeeze %x, %axes : (tensor<?x?xf32>, tensor<1xi64>) -> tensor<?xf32> loc("sq")
  return %0 : tensor<?xf32>
}
