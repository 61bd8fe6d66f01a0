// RUN: qaf-opt %s | qaf-opt | FileCheck %s

// Print/parse round trip of every onnx op. Attributes equal to their
// default value are not printed.

// CHECK-LABEL: func.func @plumbing(
func.func @plumbing(%x: tensor<2x3xf32>) -> (none, tensor<2xi64>, tensor<2x3xf32>) {
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %c = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  %id = onnx.Identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Identity %arg0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %none, %c, %id : none, tensor<2xi64>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @binary(
func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %i: tensor<2x3xi64>, %p: tensor<2x3xi1>) {
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Add %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = onnx.Sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Sub %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = onnx.Mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Mul %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %3 = onnx.Div %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: onnx.Div %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = onnx.Pow %a, %i : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  // CHECK: onnx.Pow %arg0, %arg2 : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  %5 = onnx.Equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: onnx.Equal %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %6 = onnx.Less %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: onnx.Less %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %7 = onnx.LessOrEqual %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: onnx.LessOrEqual %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %8 = onnx.Greater %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: onnx.Greater %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %9 = onnx.GreaterOrEqual %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: onnx.GreaterOrEqual %arg0, %arg1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %10 = onnx.And %p, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: onnx.And %arg3, %arg3 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  %11 = onnx.Or %p, %p : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: onnx.Or %arg3, %arg3 : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  return
}

// CHECK-LABEL: func.func @unary(
func.func @unary(%x: tensor<4xf32>, %p: tensor<4xi1>) {
  %0 = onnx.Sqrt %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Sqrt %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %1 = onnx.Reciprocal %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Reciprocal %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %2 = onnx.Neg %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Neg %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %3 = onnx.Abs %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Abs %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %4 = onnx.Exp %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Exp %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %5 = onnx.Log %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Log %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %6 = onnx.Tanh %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Tanh %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %7 = onnx.Erf %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Erf %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %8 = onnx.Sigmoid %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Sigmoid %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %9 = onnx.Relu %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Relu %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %10 = onnx.Cos %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Cos %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %11 = onnx.Sin %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Sin %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %12 = onnx.Not %p : (tensor<4xi1>) -> tensor<4xi1>
  // CHECK: onnx.Not %arg1 : (tensor<4xi1>) -> tensor<4xi1>
  %13 = onnx.Gelu %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Gelu %arg0 : (tensor<4xf32>) -> tensor<4xf32>
  %14 = onnx.Gelu %x {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: onnx.Gelu %arg0 {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// CHECK-LABEL: func.func @activations(
func.func @activations(%x: tensor<2x8xf32>, %y: tensor<8xf32>, %lo: tensor<f32>, %c: tensor<2x8xi1>) {
  %0 = onnx.Softmax %x : (tensor<2x8xf32>) -> tensor<2x8xf32>
  // CHECK: onnx.Softmax %arg0 : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = onnx.LogSoftmax %x {axis = 0 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  // CHECK: onnx.LogSoftmax %arg0 {axis = 0 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %2 = onnx.Max %x, %y : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: onnx.Max %arg0, %arg1 : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %3 = onnx.Min %x : (tensor<2x8xf32>) -> tensor<2x8xf32>
  // CHECK: onnx.Min %arg0 : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %4 = onnx.Clip %x, %lo, %none : (tensor<2x8xf32>, tensor<f32>, none) -> tensor<2x8xf32>
  // CHECK: onnx.Clip %arg0, %arg2, [[NONE]] : (tensor<2x8xf32>, tensor<f32>, none) -> tensor<2x8xf32>
  %5 = onnx.Where %c, %x, %y : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK: onnx.Where %arg3, %arg0, %arg1 : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// CHECK-LABEL: func.func @casts(
func.func @casts(%x: tensor<3xf32>, %h: tensor<3xf16>) {
  %0 = onnx.Cast %x {to = 7 : i64} : (tensor<3xf32>) -> tensor<3xi64>
  // CHECK: onnx.Cast %arg0 {to = 7 : i64} : (tensor<3xf32>) -> tensor<3xi64>
  %1 = onnx.Cast %x {saturate = 0 : i64, to = 17 : i64} : (tensor<3xf32>) -> tensor<3xf8E4M3FN>
  // CHECK: onnx.Cast %arg0 {saturate = 0 : i64, to = 17 : i64} : (tensor<3xf32>) -> tensor<3xf8E4M3FN>
  %2 = onnx.CastLike %x, %h : (tensor<3xf32>, tensor<3xf16>) -> tensor<3xf16>
  // CHECK: onnx.CastLike %arg0, %arg1 : (tensor<3xf32>, tensor<3xf16>) -> tensor<3xf16>
  return
}

// CHECK-LABEL: func.func @linalg(
func.func @linalg(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>, %ga: tensor<4x3xf32>, %c: tensor<5xf32>, %qa: tensor<2x4xui8>, %qb: tensor<4x5xi8>, %za: tensor<ui8>) {
  %0 = onnx.MatMul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: onnx.MatMul %arg0, %arg1 : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %1 = onnx.Gemm %ga, %b, %c {alpha = 5.000000e-01 : f32, transA = 1 : i64} : (tensor<4x3xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  // CHECK: onnx.Gemm %arg2, %arg1, %arg3 {alpha = 5.000000e-01 : f32, transA = 1 : i64} : (tensor<4x3xf32>, tensor<4x5xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %2 = onnx.MatMulInteger %qa, %qb, %za, %none : (tensor<2x4xui8>, tensor<4x5xi8>, tensor<ui8>, none) -> tensor<2x5xi32>
  // CHECK: onnx.MatMulInteger %arg4, %arg5, %arg6, [[NONE]] : (tensor<2x4xui8>, tensor<4x5xi8>, tensor<ui8>, none) -> tensor<2x5xi32>
  return
}

// CHECK-LABEL: func.func @shapes(
func.func @shapes(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>, %axes: tensor<1xi64>, %sq: tensor<1x3xf32>) {
  %0 = onnx.Transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK: onnx.Transpose %arg0 {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %1 = onnx.Transpose %x : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  // CHECK: onnx.Transpose %arg0 : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  %2 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.Reshape %arg0, %arg1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %3 = onnx.Reshape %x, %s {allowzero = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.Reshape %arg0, %arg1 {allowzero = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %4 = onnx.Flatten %x {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK: onnx.Flatten %arg0 {axis = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %5 = onnx.Squeeze %sq, %none : (tensor<1x3xf32>, none) -> tensor<3xf32>
  // CHECK: onnx.Squeeze %arg3, [[NONE]] : (tensor<1x3xf32>, none) -> tensor<3xf32>
  %6 = onnx.Squeeze %sq, %axes : (tensor<1x3xf32>, tensor<1xi64>) -> tensor<3xf32>
  // CHECK: onnx.Squeeze %arg3, %arg2 : (tensor<1x3xf32>, tensor<1xi64>) -> tensor<3xf32>
  %7 = onnx.Unsqueeze %x, %axes : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?x?x?xf32>
  // CHECK: onnx.Unsqueeze %arg0, %arg2 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?x?x?xf32>
  %8 = onnx.Concat %x, %x {axis = -1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x8xf32>
  // CHECK: onnx.Concat %arg0, %arg0 {axis = -1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x8xf32>
  %9:2 = onnx.Split %x, %none {axis = 2 : i64, num_outputs = 2 : i64} : (tensor<2x3x4xf32>, none) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>)
  // CHECK: onnx.Split %arg0, [[NONE]] {axis = 2 : i64, num_outputs = 2 : i64} : (tensor<2x3x4xf32>, none) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>)
  %10:2 = onnx.Split %x, %s {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> (tensor<2x3x?xf32>, tensor<2x3x?xf32>)
  // CHECK: onnx.Split %arg0, %arg1 {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> (tensor<2x3x?xf32>, tensor<2x3x?xf32>)
  return
}

// CHECK-LABEL: func.func @indexing(
func.func @indexing(%x: tensor<4x6xf32>, %i: tensor<2xi64>, %ie: tensor<4x2xi64>, %st: tensor<1xi64>, %s2: tensor<2xi64>) {
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %0 = onnx.Slice %x, %st, %st, %none, %none : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?x6xf32>
  // CHECK: onnx.Slice %arg0, %arg3, %arg3, [[NONE]], [[NONE]] : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<?x6xf32>
  %1 = onnx.Slice %x, %st, %st, %st, %st : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.Slice %arg0, %arg3, %arg3, %arg3, %arg3 : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  %2 = onnx.Gather %x, %i {axis = 1 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  // CHECK: onnx.Gather %arg0, %arg1 {axis = 1 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  %3 = onnx.GatherElements %x, %ie {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  // CHECK: onnx.GatherElements %arg0, %arg2 {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  %4 = onnx.Expand %x, %s2 : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  // CHECK: onnx.Expand %arg0, %arg4 : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  %5 = onnx.Tile %x, %s2 : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.Tile %arg0, %arg4 : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %6 = onnx.Shape %x : (tensor<4x6xf32>) -> tensor<2xi64>
  // CHECK: onnx.Shape %arg0 : (tensor<4x6xf32>) -> tensor<2xi64>
  %7 = onnx.Shape %x {end = -1 : i64, start = 0 : i64} : (tensor<4x6xf32>) -> tensor<1xi64>
  // CHECK: onnx.Shape %arg0 {end = -1 : i64} : (tensor<4x6xf32>) -> tensor<1xi64>
  %8 = onnx.Size %x : (tensor<4x6xf32>) -> tensor<i64>
  // CHECK: onnx.Size %arg0 : (tensor<4x6xf32>) -> tensor<i64>
  return
}

// CHECK-LABEL: func.func @generators(
func.func @generators(%shape: tensor<2xi64>, %n: tensor<i64>, %x: tensor<4x4xf32>, %k: tensor<i64>, %axis: tensor<i32>) {
  %0 = onnx.ConstantOfShape %shape : (tensor<2xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.ConstantOfShape %arg0 : (tensor<2xi64>) -> tensor<?x?xf32>
  %1 = onnx.ConstantOfShape %shape {value = dense<1> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<?x?xi64>
  // CHECK: onnx.ConstantOfShape %arg0 {value = dense<1> : tensor<1xi64>} : (tensor<2xi64>) -> tensor<?x?xi64>
  %2 = onnx.Range %n, %n, %n : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  // CHECK: onnx.Range %arg1, %arg1, %arg1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %3 = onnx.Trilu %x, %none : (tensor<4x4xf32>, none) -> tensor<4x4xf32>
  // CHECK: onnx.Trilu %arg2, [[NONE]] : (tensor<4x4xf32>, none) -> tensor<4x4xf32>
  %4 = onnx.Trilu %x, %k {upper = 0 : i64} : (tensor<4x4xf32>, tensor<i64>) -> tensor<4x4xf32>
  // CHECK: onnx.Trilu %arg2, %arg3 {upper = 0 : i64} : (tensor<4x4xf32>, tensor<i64>) -> tensor<4x4xf32>
  %5 = onnx.CumSum %x, %axis {exclusive = 1 : i64, reverse = 1 : i64} : (tensor<4x4xf32>, tensor<i32>) -> tensor<4x4xf32>
  // CHECK: onnx.CumSum %arg2, %arg4 {exclusive = 1 : i64, reverse = 1 : i64} : (tensor<4x4xf32>, tensor<i32>) -> tensor<4x4xf32>
  return
}

// CHECK-LABEL: func.func @scatter(
func.func @scatter(%data: tensor<4x5xf32>, %idx: tensor<2x1xi64>, %upd: tensor<2x5xf32>) -> tensor<4x5xf32> {
  %0 = onnx.ScatterND %data, %idx, %upd {reduction = "add"} : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
  // CHECK: onnx.ScatterND %arg0, %arg1, %arg2 {reduction = "add"} : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// CHECK-LABEL: func.func @reductions(
func.func @reductions(%x: tensor<2x3x4xf32>, %axes: tensor<1xi64>) {
  %0 = onnx.ReduceMean %x, %axes : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?x?xf32>
  // CHECK: onnx.ReduceMean %arg0, %arg1 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?x?xf32>
  %1 = onnx.ReduceSum %x, %axes {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  // CHECK: onnx.ReduceSum %arg0, %arg1 {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<?x?xf32>
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %2 = onnx.ReduceMax %x, %none : (tensor<2x3x4xf32>, none) -> tensor<1x1x1xf32>
  // CHECK: onnx.ReduceMax %arg0, [[NONE]] : (tensor<2x3x4xf32>, none) -> tensor<1x1x1xf32>
  %3 = onnx.ReduceMin %x, %none {noop_with_empty_axes = 1 : i64} : (tensor<2x3x4xf32>, none) -> tensor<2x3x4xf32>
  // CHECK: onnx.ReduceMin %arg0, [[NONE]] {noop_with_empty_axes = 1 : i64} : (tensor<2x3x4xf32>, none) -> tensor<2x3x4xf32>
  return
}

// CHECK-LABEL: func.func @normalization(
func.func @normalization(%x: tensor<2x5x8xf16>, %w: tensor<8xf16>) {
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %0:3 = onnx.LayerNormalization %x, %w, %w {epsilon = 9.99999997E-7 : f32} : (tensor<2x5x8xf16>, tensor<8xf16>, tensor<8xf16>) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>, tensor<2x5x1xf32>)
  // CHECK: onnx.LayerNormalization %arg0, %arg1, %arg1 {epsilon = 9.99999997E-7 : f32} : (tensor<2x5x8xf16>, tensor<8xf16>, tensor<8xf16>) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>, tensor<2x5x1xf32>)
  %1:2 = onnx.SimplifiedLayerNormalization %x, %w {axis = -1 : i64} : (tensor<2x5x8xf16>, tensor<8xf16>) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>)
  // CHECK: onnx.SimplifiedLayerNormalization %arg0, %arg1 : (tensor<2x5x8xf16>, tensor<8xf16>) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>)
  %2:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %none : (tensor<2x5x8xf16>, tensor<2x5x8xf16>, tensor<8xf16>, none) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>, tensor<2x5x1xf32>, tensor<2x5x8xf16>)
  // CHECK: onnx.com.microsoft.SkipSimplifiedLayerNormalization %arg0, %arg0, %arg1, [[NONE]] : (tensor<2x5x8xf16>, tensor<2x5x8xf16>, tensor<8xf16>, none) -> (tensor<2x5x8xf16>, tensor<2x5x1xf32>, tensor<2x5x1xf32>, tensor<2x5x8xf16>)
  return
}

// CHECK-LABEL: func.func @rotary(
func.func @rotary(%x: tensor<1x4x2x8xf32>, %pos: tensor<1x4xi64>, %cache: tensor<16x4xf32>) -> tensor<1x4x2x8xf32> {
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %pos, %cache, %cache {interleaved = 1 : i64} : (tensor<1x4x2x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<1x4x2x8xf32>
  // CHECK: onnx.com.microsoft.RotaryEmbedding %arg0, %arg1, %arg2, %arg2 {interleaved = 1 : i64} : (tensor<1x4x2x8xf32>, tensor<1x4xi64>, tensor<16x4xf32>, tensor<16x4xf32>) -> tensor<1x4x2x8xf32>
  return %0 : tensor<1x4x2x8xf32>
}

// CHECK-LABEL: func.func @quantization(
func.func @quantization(%x: tensor<4x64xf32>, %s: tensor<4xf32>, %zp: tensor<4xi8>, %q: tensor<4x64xi4>, %bs: tensor<4x2xf32>, %bz: tensor<4x2xi4>) {
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %0 = onnx.QuantizeLinear %x, %s, %zp {axis = 0 : i64} : (tensor<4x64xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x64xi8>
  // CHECK: onnx.QuantizeLinear %arg0, %arg1, %arg2 {axis = 0 : i64} : (tensor<4x64xf32>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x64xi8>
  %1 = onnx.QuantizeLinear %x, %s, %none {axis = 0 : i64, output_dtype = 22 : i64} : (tensor<4x64xf32>, tensor<4xf32>, none) -> tensor<4x64xi4>
  // CHECK: onnx.QuantizeLinear %arg0, %arg1, [[NONE]] {axis = 0 : i64, output_dtype = 22 : i64} : (tensor<4x64xf32>, tensor<4xf32>, none) -> tensor<4x64xi4>
  %2 = onnx.DequantizeLinear %q, %bs, %bz {axis = 1 : i64, block_size = 32 : i64} : (tensor<4x64xi4>, tensor<4x2xf32>, tensor<4x2xi4>) -> tensor<4x64xf32>
  // CHECK: onnx.DequantizeLinear %arg3, %arg4, %arg5 {block_size = 32 : i64} : (tensor<4x64xi4>, tensor<4x2xf32>, tensor<4x2xi4>) -> tensor<4x64xf32>
  %3:3 = onnx.DynamicQuantizeLinear %x : (tensor<4x64xf32>) -> (tensor<4x64xui8>, tensor<f32>, tensor<ui8>)
  // CHECK: onnx.DynamicQuantizeLinear %arg0 : (tensor<4x64xf32>) -> (tensor<4x64xui8>, tensor<f32>, tensor<ui8>)
  return
}

// A scalar scale with a one-element zero point is per tensor (ONNX's node
// tests dequantizelinear_int4, quantizelinear_e4m3fn, ...).
// CHECK-LABEL: func.func @quantization_scalar_scale_one_element_zero_point(
func.func @quantization_scalar_scale_one_element_zero_point(%x: tensor<5xf32>, %s: tensor<f32>, %zp: tensor<1xi4>, %q: tensor<5xi4>) {
  %0 = onnx.QuantizeLinear %x, %s, %zp : (tensor<5xf32>, tensor<f32>, tensor<1xi4>) -> tensor<5xi4>
  // CHECK: onnx.QuantizeLinear %arg0, %arg1, %arg2 : (tensor<5xf32>, tensor<f32>, tensor<1xi4>) -> tensor<5xi4>
  %1 = onnx.DequantizeLinear %q, %s, %zp : (tensor<5xi4>, tensor<f32>, tensor<1xi4>) -> tensor<5xf32>
  // CHECK: onnx.DequantizeLinear %arg3, %arg1, %arg2 : (tensor<5xi4>, tensor<f32>, tensor<1xi4>) -> tensor<5xf32>
  return
}

// CHECK-LABEL: func.func @matmul_nbits(
func.func @matmul_nbits(%a: tensor<2x64xf32>, %b: tensor<8x2x16xui8>, %scales: tensor<16xf32>, %zp: tensor<8x2xf32>) -> tensor<2x8xf32> {
  %none = onnx.NoValue
  // CHECK: [[NONE:%.+]] = onnx.NoValue
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %scales, %zp, %none, %none {K = 64 : i64, N = 8 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8x2xf32>, none, none) -> tensor<2x8xf32>
  // CHECK: onnx.com.microsoft.MatMulNBits %arg0, %arg1, %arg2, %arg3, [[NONE]], [[NONE]] {K = 64 : i64, N = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<8x2x16xui8>, tensor<16xf32>, tensor<8x2xf32>, none, none) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}
