// RUN: qaf-opt %s -canonicalize -split-input-file | FileCheck %s

// The shape computation exporters emit for a static input folds to the
// constant it computes: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
// CHECK-LABEL: func.func @shape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>)
// CHECK: %[[SHAPE:.*]] = onnx.Constant {value = dense<[2, 16, 4, 16]> : tensor<4xi64>} : tensor<4xi64>
// CHECK: %[[Y:.*]] = onnx.Reshape %[[X]], %[[SHAPE]]
// CHECK: return %[[Y]]
func.func @shape_chain(%x: tensor<2x16x64xf32>) -> tensor<2x16x4x16xf32> {
  %shape = onnx.Shape %x : (tensor<2x16x64xf32>) -> tensor<3xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %batch = onnx.Gather %shape, %zero : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %b1 = onnx.Unsqueeze %batch, %axes : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %rest = onnx.Constant {value = dense<[16, 4, 16]> : tensor<3xi64>} : tensor<3xi64>
  %target = onnx.Concat %b1, %rest {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
  %y = onnx.Reshape %x, %target : (tensor<2x16x64xf32>, tensor<4xi64>) -> tensor<2x16x4x16xf32>
  return %y : tensor<2x16x4x16xf32>
}

// -----

// With a dynamic batch, the static dims a Gather or Slice selects from the
// Shape still fold; the dynamic one stays.
// CHECK-LABEL: func.func @shape_of_dynamic
// CHECK-DAG: %[[SEQ:.*]] = onnx.Constant {value = dense<16> : tensor<i64>} : tensor<i64>
// CHECK-DAG: %[[TAIL:.*]] = onnx.Constant {value = dense<[16, 64]> : tensor<2xi64>} : tensor<2xi64>
// CHECK-DAG: %[[SHAPE:.*]] = onnx.Shape %{{.*}} : (tensor<?x16x64xf32>) -> tensor<3xi64>
// CHECK-DAG: %[[BATCH:.*]] = onnx.Gather %[[SHAPE]]
// CHECK: return %[[BATCH]], %[[SEQ]], %[[TAIL]]
func.func @shape_of_dynamic(%x: tensor<?x16x64xf32>) -> (tensor<i64>, tensor<i64>, tensor<2xi64>) {
  %shape = onnx.Shape %x : (tensor<?x16x64xf32>) -> tensor<3xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %c1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %batch = onnx.Gather %shape, %c0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %seq = onnx.Gather %shape, %c1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %start = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %none = onnx.NoValue
  %tail = onnx.Slice %shape, %start, %end, %none, %none : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<2xi64>
  return %batch, %seq, %tail : tensor<i64>, tensor<i64>, tensor<2xi64>
}

// -----

// Shape with start/end folds when the selected dims are static, Size when
// the whole input is.
// CHECK-LABEL: func.func @shape_size
// CHECK-DAG: %[[LAST:.*]] = onnx.Constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
// CHECK-DAG: %[[SIZE:.*]] = onnx.Constant {value = dense<24> : tensor<i64>} : tensor<i64>
// CHECK-DAG: %[[ALL:.*]] = onnx.Shape %arg0 : (tensor<?x8xf32>) -> tensor<2xi64>
// CHECK: return %[[LAST]], %[[ALL]], %[[SIZE]]
func.func @shape_size(%x: tensor<?x8xf32>, %y: tensor<3x8xf32>) -> (tensor<1xi64>, tensor<2xi64>, tensor<i64>) {
  %last = onnx.Shape %x {start = -1 : i64} : (tensor<?x8xf32>) -> tensor<1xi64>
  %all = onnx.Shape %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %size = onnx.Size %y : (tensor<3x8xf32>) -> tensor<i64>
  return %last, %all, %size : tensor<1xi64>, tensor<2xi64>, tensor<i64>
}

// -----

// Integer arithmetic wraps like the machine's; Div truncates toward zero
// (ONNX Div on integers is C++ division).
// CHECK-LABEL: func.func @integer_arithmetic
// CHECK-DAG: onnx.Constant {value = dense<[9, -5]> : tensor<2xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[5, -9]> : tensor<2xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[14, -14]> : tensor<2xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[3, -3]> : tensor<2xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[-7, 7]> : tensor<2xi64>}
// CHECK-DAG: onnx.Constant {value = dense<-128> : tensor<i8>}
// CHECK-NOT: onnx.Add
// CHECK-NOT: onnx.Sub
// CHECK-NOT: onnx.Mul
// CHECK-NOT: onnx.Div
// CHECK-NOT: onnx.Neg
func.func @integer_arithmetic() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<i8>) {
  %a = onnx.Constant {value = dense<[7, -7]> : tensor<2xi64>} : tensor<2xi64>
  %b = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %0 = onnx.Add %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %1 = onnx.Sub %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %2 = onnx.Mul %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %3 = onnx.Div %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %4 = onnx.Neg %a : (tensor<2xi64>) -> tensor<2xi64>
  %m = onnx.Constant {value = dense<127> : tensor<i8>} : tensor<i8>
  %one = onnx.Constant {value = dense<1> : tensor<i8>} : tensor<i8>
  %5 = onnx.Add %m, %one : (tensor<i8>, tensor<i8>) -> tensor<i8>
  return %0, %1, %2, %3, %4, %5 : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<i8>
}

// -----

// Unsigned division, and what does not fold: division by zero and a result
// type that is not static.
// CHECK-LABEL: func.func @division_edge_cases
// CHECK-DAG: onnx.Constant {value = dense<127> : tensor<ui8>}
// CHECK-DAG: %[[BY_ZERO:.*]] = onnx.Div %{{.*}}, %{{.*}} : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
// CHECK-DAG: %[[DYNAMIC:.*]] = onnx.Add %{{.*}}, %{{.*}} : (tensor<2xi64>, tensor<i64>) -> tensor<?xi64>
func.func @division_edge_cases() -> (tensor<ui8>, tensor<2xi64>, tensor<?xi64>) {
  %a = onnx.Constant {value = dense<254> : tensor<ui8>} : tensor<ui8>
  %b = onnx.Constant {value = dense<2> : tensor<ui8>} : tensor<ui8>
  %0 = onnx.Div %a, %b : (tensor<ui8>, tensor<ui8>) -> tensor<ui8>
  %c = onnx.Constant {value = dense<[7, -7]> : tensor<2xi64>} : tensor<2xi64>
  %z = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %1 = onnx.Div %c, %z : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %2 = onnx.Add %c, %z : (tensor<2xi64>, tensor<i64>) -> tensor<?xi64>
  return %0, %1, %2 : tensor<ui8>, tensor<2xi64>, tensor<?xi64>
}

// -----

// Float arithmetic rounds to nearest even in the element type.
// CHECK-LABEL: func.func @float_arithmetic
// CHECK-DAG: onnx.Constant {value = dense<[1.500000e+00, -2.500000e+00]> : tensor<2xf32>}
// CHECK-DAG: onnx.Constant {value = dense<[7.500000e-01, -1.250000e+00]> : tensor<2xf32>}
// CHECK-DAG: onnx.Constant {value = dense<[-1.000000e+00, 3.000000e+00]> : tensor<2xf32>}
func.func @float_arithmetic() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = onnx.Constant {value = dense<[1.0, -3.0]> : tensor<2xf32>} : tensor<2xf32>
  %b = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %0 = onnx.Add %a, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %1 = onnx.Mul %b, %0 : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  %2 = onnx.Neg %a : (tensor<2xf32>) -> tensor<2xf32>
  %3 = onnx.Div %2, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %4 = onnx.Sub %3, %2 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0, %1, %4 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Comparisons produce bools; Where then picks element-wise.
// CHECK-LABEL: func.func @compare_and_select
// CHECK-DAG: onnx.Constant {value = dense<[false, true, false]> : tensor<3xi1>}
// CHECK-DAG: onnx.Constant {value = dense<[true, false, false]> : tensor<3xi1>}
// CHECK-DAG: onnx.Constant {value = dense<[false, false, true]> : tensor<3xi1>}
// CHECK-DAG: onnx.Constant {value = dense<[1, 0, 3]> : tensor<3xi64>}
// CHECK-NOT: onnx.Where
func.func @compare_and_select() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi64>) {
  %a = onnx.Constant {value = dense<[1, 2, 3]> : tensor<3xi64>} : tensor<3xi64>
  %b = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %eq = onnx.Equal %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %lt = onnx.Less %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %gt = onnx.Greater %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %zero = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %sel = onnx.Where %eq, %zero, %a : (tensor<3xi1>, tensor<i64>, tensor<3xi64>) -> tensor<3xi64>
  return %eq, %lt, %gt, %sel : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi64>
}

// -----

// A uniform condition selects an operand of the result type, constant or
// not.
// CHECK-LABEL: func.func @where_uniform
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[Y:.*]]: tensor<4xf32>)
// CHECK-NEXT: return %[[Y]]
func.func @where_uniform(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %c = onnx.Constant {value = dense<false> : tensor<4xi1>} : tensor<4xi1>
  %0 = onnx.Where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Cast: integers wrap or extend by the source's signedness, floats truncate
// toward zero, anything nonzero is true. A cast to the same type is a no-op.
// CHECK-LABEL: func.func @casts
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK-DAG: onnx.Constant {value = dense<[-2, 1, 0]> : tensor<3xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[true, true, false]> : tensor<3xi1>}
// CHECK-DAG: onnx.Constant {value = dense<[-1, 44, 0]> : tensor<3xi8>}
// CHECK-DAG: onnx.Constant {value = dense<[2.550000e+02, 3.000000e+02, 0.000000e+00]> : tensor<3xf16>}
// CHECK-NOT: onnx.Cast
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[X]]
func.func @casts(%x: tensor<3xf32>) -> (tensor<3xi64>, tensor<3xi1>, tensor<3xi8>, tensor<3xf16>, tensor<3xf32>) {
  %f = onnx.Constant {value = dense<[-2.7, 1.9, 0.0]> : tensor<3xf32>} : tensor<3xf32>
  %0 = onnx.Cast %f {to = 7 : i64} : (tensor<3xf32>) -> tensor<3xi64>
  %1 = onnx.Cast %f {to = 9 : i64} : (tensor<3xf32>) -> tensor<3xi1>
  %u = onnx.Constant {value = dense<[255, 300, 0]> : tensor<3xui16>} : tensor<3xui16>
  %2 = onnx.Cast %u {to = 3 : i64} : (tensor<3xui16>) -> tensor<3xi8>
  %3 = onnx.Cast %u {to = 10 : i64} : (tensor<3xui16>) -> tensor<3xf16>
  %4 = onnx.Cast %x {to = 1 : i64} : (tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %2, %3, %4 : tensor<3xi64>, tensor<3xi1>, tensor<3xi8>, tensor<3xf16>, tensor<3xf32>
}

// -----

// Float to int out of range is undefined: no fold.
// CHECK-LABEL: func.func @cast_out_of_range
// CHECK: onnx.Cast
func.func @cast_out_of_range() -> tensor<i8> {
  %f = onnx.Constant {value = dense<300.0> : tensor<f32>} : tensor<f32>
  %0 = onnx.Cast %f {to = 3 : i64} : (tensor<f32>) -> tensor<i8>
  return %0 : tensor<i8>
}

// -----

// Identities disappear.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @identities(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = onnx.Identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = onnx.Transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  %2 = onnx.Reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %none = onnx.NoValue
  %3 = onnx.Squeeze %x, %none : (tensor<2x3xf32>, none) -> tensor<2x3xf32>
  %4 = onnx.Concat %x {axis = 0 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %start = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<3> : tensor<1xi64>} : tensor<1xi64>
  %axis = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %5 = onnx.Slice %x, %start, %end, %axis, %none : (tensor<2x3xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// A transpose of the same type that is not the identity must stay; so must
// a reversing slice.
// CHECK-LABEL: func.func @not_identities
// CHECK: onnx.Transpose
// CHECK: onnx.Slice
func.func @not_identities(%x: tensor<3x3xf32>) -> (tensor<3x3xf32>, tensor<3x3xf32>) {
  %0 = onnx.Transpose %x : (tensor<3x3xf32>) -> tensor<3x3xf32>
  %start = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<-9223372036854775808> : tensor<1xi64>} : tensor<1xi64>
  %axis = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %step = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %1 = onnx.Slice %x, %start, %end, %axis, %step : (tensor<3x3xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x3xf32>
  return %0, %1 : tensor<3x3xf32>, tensor<3x3xf32>
}

// -----

// Data movement on small constants.
// CHECK-LABEL: func.func @constant_data_movement
// CHECK-DAG: onnx.Constant {value = dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi32>}
// CHECK-DAG: onnx.Constant {value = dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi32>}
// CHECK-DAG: onnx.Constant {value = dense<{{\[}}[1, 2, 3, 4, 5, 6]]> : tensor<1x6xi32>}
// CHECK-DAG: onnx.Constant {value = dense<{{\[}}[1, 2, 3, 7], [4, 5, 6, 8]]> : tensor<2x4xi32>}
// CHECK-DAG: onnx.Constant {value = dense<{{\[}}[6, 4], [3, 1]]> : tensor<2x2xi32>}
// CHECK-DAG: onnx.Constant {value = dense<{{\[}}[3, 1], [6, 4]]> : tensor<2x2xi32>}
// CHECK-NOT: onnx.Transpose
// CHECK-NOT: onnx.Reshape
// CHECK-NOT: onnx.Unsqueeze
// CHECK-NOT: onnx.Concat
// CHECK-NOT: onnx.Slice
// CHECK-NOT: onnx.Gather
func.func @constant_data_movement() -> (tensor<3x2xi32>, tensor<6xi32>, tensor<1x6xi32>, tensor<2x4xi32>, tensor<2x2xi32>, tensor<2x2xi32>) {
  %m = onnx.Constant {value = dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>} : tensor<2x3xi32>
  %0 = onnx.Transpose %m : (tensor<2x3xi32>) -> tensor<3x2xi32>
  %s = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %1 = onnx.Reshape %m, %s : (tensor<2x3xi32>, tensor<1xi64>) -> tensor<6xi32>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %2 = onnx.Unsqueeze %1, %axes : (tensor<6xi32>, tensor<1xi64>) -> tensor<1x6xi32>
  %col = onnx.Constant {value = dense<[[7], [8]]> : tensor<2x1xi32>} : tensor<2x1xi32>
  %3 = onnx.Concat %m, %col {axis = 1 : i64} : (tensor<2x3xi32>, tensor<2x1xi32>) -> tensor<2x4xi32>
  // Rows backwards, columns 2 and 0: [[6, 4], [3, 1]].
  %starts = onnx.Constant {value = dense<[-1, 2]> : tensor<2xi64>} : tensor<2xi64>
  %ends = onnx.Constant {value = dense<[-3, -4]> : tensor<2xi64>} : tensor<2xi64>
  %steps = onnx.Constant {value = dense<[-1, -2]> : tensor<2xi64>} : tensor<2xi64>
  %none = onnx.NoValue
  %4 = onnx.Slice %m, %starts, %ends, %none, %steps : (tensor<2x3xi32>, tensor<2xi64>, tensor<2xi64>, none, tensor<2xi64>) -> tensor<2x2xi32>
  %idx = onnx.Constant {value = dense<[2, -3]> : tensor<2xi64>} : tensor<2xi64>
  %5 = onnx.Gather %m, %idx {axis = 1 : i64} : (tensor<2x3xi32>, tensor<2xi64>) -> tensor<2x2xi32>
  return %0, %1, %2, %3, %4, %5 : tensor<3x2xi32>, tensor<6xi32>, tensor<1x6xi32>, tensor<2x4xi32>, tensor<2x2xi32>, tensor<2x2xi32>
}

// -----

// ConstantOfShape folds to a splat of any size: one element is stored.
// CHECK-LABEL: func.func @constant_of_shape
// CHECK-DAG: onnx.Constant {value = dense<0.000000e+00> : tensor<2x3xf32>}
// CHECK-DAG: onnx.Constant {value = dense<1> : tensor<1024x1024xi64>}
// CHECK-NOT: onnx.ConstantOfShape
func.func @constant_of_shape() -> (tensor<2x3xf32>, tensor<1024x1024xi64>) {
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  %0 = onnx.ConstantOfShape %s : (tensor<2xi64>) -> tensor<2x3xf32>
  %big = onnx.Constant {value = dense<1024> : tensor<2xi64>} : tensor<2xi64>
  %1 = onnx.ConstantOfShape %big {value = dense<1> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<1024x1024xi64>
  return %0, %1 : tensor<2x3xf32>, tensor<1024x1024xi64>
}

// -----

// Range accumulates start + delta, + delta, ... as ONNX Runtime does.
// CHECK-LABEL: func.func @range
// CHECK-DAG: onnx.Constant {value = dense<[2, 5, 8]> : tensor<3xi64>}
// CHECK-DAG: onnx.Constant {value = dense<[1.000000e+00, 7.500000e-01, 5.000000e-01, 2.500000e-01]> : tensor<4xf32>}
// CHECK-NOT: onnx.Range
func.func @range() -> (tensor<3xi64>, tensor<4xf32>) {
  %start = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %limit = onnx.Constant {value = dense<11> : tensor<i64>} : tensor<i64>
  %delta = onnx.Constant {value = dense<3> : tensor<i64>} : tensor<i64>
  %0 = onnx.Range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<3xi64>
  %fstart = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %flimit = onnx.Constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %fdelta = onnx.Constant {value = dense<-0.25> : tensor<f32>} : tensor<f32>
  %1 = onnx.Range %fstart, %flimit, %fdelta : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
  return %0, %1 : tensor<3xi64>, tensor<4xf32>
}

// -----

// A non-splat result beyond the size limit is not materialised (a
// weight-sized constant would be duplicated); splats of any size are.
// CHECK-LABEL: func.func @size_limit
// CHECK-DAG: onnx.Constant {value = dense<3.000000e+00> : tensor<2048xf32>}
// CHECK-DAG: onnx.Range {{.*}} -> tensor<2048xi64>
// CHECK-NOT: onnx.Add
func.func @size_limit() -> (tensor<2048xf32>, tensor<2048xi64>) {
  %one = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %two = onnx.Constant {value = dense<2.0> : tensor<2048xf32>} : tensor<2048xf32>
  %0 = onnx.Add %one, %two : (tensor<f32>, tensor<2048xf32>) -> tensor<2048xf32>
  %start = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %limit = onnx.Constant {value = dense<2048> : tensor<i64>} : tensor<i64>
  %delta = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %1 = onnx.Range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2048xi64>
  return %0, %1 : tensor<2048xf32>, tensor<2048xi64>
}

// -----

// A reshape between equal dynamic types may still move elements between
// dimensions: it must stay.
// CHECK-LABEL: func.func @reshape_dynamic_same_type
// CHECK: onnx.Reshape
func.func @reshape_dynamic_same_type(%x: tensor<?x?x?xf32>, %shape: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %0 = onnx.Reshape %x, %shape : (tensor<?x?x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %0 : tensor<?x?x?xf32>
}
