// RUN: qaf-opt %s --qaf-onnx-infer-shapes | FileCheck %s

// Results are written `tensor<*x...>` (the importer's placeholder); the pass
// computes them from operand types, attributes and constant operands, and
// then the function's result types.

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: -> (tensor<2x3xf32>, tensor<?x3x4xf32>, tensor<*xf32>)
func.func @broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %c: tensor<?x1x4xf32>, %d: tensor<3x1xf32>, %u: tensor<*xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.Add {{.*}} -> tensor<2x3xf32>
  %0 = onnx.Add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  // A dynamic dim against 3 is 3; against 1 it stays dynamic.
  // CHECK: onnx.Mul {{.*}} -> tensor<?x3x4xf32>
  %1 = onnx.Mul %c, %d : (tensor<?x1x4xf32>, tensor<3x1xf32>) -> tensor<*xf32>
  // CHECK: onnx.Sub {{.*}} -> tensor<*xf32>
  %2 = onnx.Sub %a, %u : (tensor<2x3xf32>, tensor<*xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @predicates
func.func @predicates(%a: tensor<2x3xi64>, %b: tensor<1xi64>, %p: tensor<2x1xi1>, %q: tensor<3xi1>) -> (tensor<*xi1>, tensor<*xi1>, tensor<*xi1>, tensor<*xi1>) {
  // CHECK: onnx.Equal {{.*}} -> tensor<2x3xi1>
  %0 = onnx.Equal %a, %b : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<*xi1>
  // CHECK: onnx.GreaterOrEqual {{.*}} -> tensor<2x3xi1>
  %1 = onnx.GreaterOrEqual %a, %b : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<*xi1>
  // CHECK: onnx.Or {{.*}} -> tensor<2x3xi1>
  %2 = onnx.Or %p, %q : (tensor<2x1xi1>, tensor<3xi1>) -> tensor<*xi1>
  // CHECK: onnx.Not {{.*}} -> tensor<3xi1>
  %3 = onnx.Not %q : (tensor<3xi1>) -> tensor<*xi1>
  return %0, %1, %2, %3 : tensor<*xi1>, tensor<*xi1>, tensor<*xi1>, tensor<*xi1>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x?xf16>, %e: tensor<i64>, %c: tensor<2x1xi1>, %y: tensor<5xf16>, %lo: tensor<f16>) -> (tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>) {
  // CHECK: onnx.Gelu {{.*}} -> tensor<2x?xf16>
  %0 = onnx.Gelu %x : (tensor<2x?xf16>) -> tensor<*xf16>
  // CHECK: onnx.Softmax {{.*}} -> tensor<2x?xf16>
  %1 = onnx.Softmax %x : (tensor<2x?xf16>) -> tensor<*xf16>
  // The exponent's type does not matter.
  // CHECK: onnx.Pow {{.*}} -> tensor<2x?xf16>
  %2 = onnx.Pow %x, %e : (tensor<2x?xf16>, tensor<i64>) -> tensor<*xf16>
  // CHECK: onnx.Where {{.*}} -> tensor<2x5xf16>
  %3 = onnx.Where %c, %x, %y : (tensor<2x1xi1>, tensor<2x?xf16>, tensor<5xf16>) -> tensor<*xf16>
  // CHECK: onnx.Max {{.*}} -> tensor<2x5xf16>
  %4 = onnx.Max %x, %y, %lo : (tensor<2x?xf16>, tensor<5xf16>, tensor<f16>) -> tensor<*xf16>
  %none = onnx.NoValue
  // CHECK: onnx.Clip {{.*}} -> tensor<2x?xf16>
  %5 = onnx.Clip %x, %lo, %none : (tensor<2x?xf16>, tensor<f16>, none) -> tensor<*xf16>
  return %0, %1, %2, %3, %4, %5 : tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>, tensor<*xf16>
}

// The element type of a cast comes from `to` (an ONNX data type code) or
// from the target tensor; the declared element type must already agree.
// CHECK-LABEL: func.func @casts
func.func @casts(%x: tensor<4x?xf32>, %t: tensor<bf16>) -> (tensor<*xi64>, tensor<*xbf16>) {
  // CHECK: onnx.Cast {{.*}} -> tensor<4x?xi64>
  %0 = onnx.Cast %x {to = 7 : i64} : (tensor<4x?xf32>) -> tensor<*xi64>
  // CHECK: onnx.CastLike {{.*}} -> tensor<4x?xbf16>
  %1 = onnx.CastLike %x, %t : (tensor<4x?xf32>, tensor<bf16>) -> tensor<*xbf16>
  return %0, %1 : tensor<*xi64>, tensor<*xbf16>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>, %v: tensor<4xf32>, %c: tensor<2x1x3x4xf32>, %d: tensor<5x4x6xf32>, %e: tensor<?x?x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.MatMul {{.*}} -> tensor<2x3x5xf32>
  %0 = onnx.MatMul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  // A 1-D left operand loses its added dim again...
  // CHECK: onnx.MatMul {{.*}} -> tensor<5xf32>
  %1 = onnx.MatMul %v, %b : (tensor<4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  // ...and so does a 1-D right operand.
  // CHECK: onnx.MatMul {{.*}} -> tensor<2x3xf32>
  %2 = onnx.MatMul %a, %v : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<*xf32>
  // Batch dims broadcast.
  // CHECK: onnx.MatMul {{.*}} -> tensor<2x5x3x6xf32>
  %3 = onnx.MatMul %c, %d : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<*xf32>
  // CHECK: onnx.MatMul {{.*}} -> tensor<?x?x5xf32>
  %4 = onnx.MatMul %e, %b : (tensor<?x?x4xf32>, tensor<4x5xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<4x3xf32>, %b: tensor<5x4xf32>, %c: tensor<5xf32>, %d: tensor<?x4xf32>, %qa: tensor<2x8xui8>, %qb: tensor<8x3xi8>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xi32>) {
  // op(A) = A^T is 3x4, op(B) = B^T is 4x5.
  // CHECK: onnx.Gemm {{.*}} -> tensor<3x5xf32>
  %0 = onnx.Gemm %a, %b, %c {transA = 1 : i64, transB = 1 : i64} : (tensor<4x3xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<*xf32>
  // A static C dim other than 1 pins a dynamic result dim.
  // CHECK: onnx.Gemm {{.*}} -> tensor<?x5xf32>
  %1 = onnx.Gemm %d, %b, %c {transB = 1 : i64} : (tensor<?x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<*xf32>
  %none = onnx.NoValue
  // CHECK: onnx.MatMulInteger {{.*}} -> tensor<2x3xi32>
  %2 = onnx.MatMulInteger %qa, %qb, %none, %none : (tensor<2x8xui8>, tensor<8x3xi8>, none, none) -> tensor<*xi32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xi32>
}

// CHECK-LABEL: func.func @transpose_flatten
func.func @transpose_flatten(%x: tensor<2x?x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.Transpose {{.*}} -> tensor<4x2x?xf32>
  %0 = onnx.Transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x?x4xf32>) -> tensor<*xf32>
  // CHECK: onnx.Transpose {{.*}} -> tensor<4x?x2xf32>
  %1 = onnx.Transpose %x : (tensor<2x?x4xf32>) -> tensor<*xf32>
  // CHECK: onnx.Flatten {{.*}} -> tensor<2x?xf32>
  %2 = onnx.Flatten %x : (tensor<2x?x4xf32>) -> tensor<*xf32>
  // CHECK: onnx.Flatten {{.*}} -> tensor<1x?xf32>
  %3 = onnx.Flatten %x {axis = 0 : i64} : (tensor<2x?x4xf32>) -> tensor<*xf32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @reshape
func.func @reshape(%x: tensor<2x3x4xf32>, %s: tensor<3xi64>, %z: tensor<0x5xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // 0 copies the input dim, -1 takes what is left.
  %c0 = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Reshape {{.*}} -> tensor<2x12xf32>
  %0 = onnx.Reshape %x, %c0 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // Unknown values, known count: the rank is known.
  // CHECK: onnx.Reshape {{.*}} -> tensor<?x?x?xf32>
  %1 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<*xf32>
  // With allowzero a 0 is a 0.
  %c1 = onnx.Constant {value = dense<[5, 0]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Reshape {{.*}} -> tensor<5x0xf32>
  %2 = onnx.Reshape %z, %c1 {allowzero = 1 : i64} : (tensor<0x5xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: onnx.Reshape {{.*}} -> tensor<24xf32>
  %c2 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %3 = onnx.Reshape %x, %c2 : (tensor<2x3x4xf32>, tensor<1xi64>) -> tensor<*xf32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// What exporters emit for a dynamic batch: the shape vector is evaluated
// through Shape/Gather/Unsqueeze/Concat, with the batch dim unknown.
// CHECK-LABEL: func.func @reshape_dynamic_batch
// CHECK-SAME: -> tensor<?x16x4x16xf32>
func.func @reshape_dynamic_batch(%x: tensor<?x16x64xf32>) -> tensor<*xf32> {
  %shape = onnx.Shape %x : (tensor<?x16x64xf32>) -> tensor<*xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %batch = onnx.Gather %shape, %zero : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %b1 = onnx.Unsqueeze %batch, %axes : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %rest = onnx.Constant {value = dense<[-1, 4, 16]> : tensor<3xi64>} : tensor<3xi64>
  %target = onnx.Concat %b1, %rest {axis = 0 : i64} : (tensor<*xi64>, tensor<3xi64>) -> tensor<*xi64>
  // CHECK: onnx.Shape {{.*}} -> tensor<3xi64>
  // CHECK: onnx.Gather {{.*}} -> tensor<i64>
  // CHECK: onnx.Unsqueeze {{.*}} -> tensor<1xi64>
  // CHECK: onnx.Concat {{.*}} -> tensor<4xi64>
  // The -1 is resolved although the batch is unknown: the batch dim is
  // copied from the input, so it cancels out of the element count.
  // CHECK: onnx.Reshape {{.*}} -> tensor<?x16x4x16xf32>
  %y = onnx.Reshape %x, %target : (tensor<?x16x64xf32>, tensor<*xi64>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// More of what torch exporters emit around dynamic dims: Expand's shape
// through Where(Equal(shape, -1), 1, shape) (a dim is never -1), a Range up
// to a static dim read with Shape, and a Slice ending there.
// CHECK-LABEL: func.func @exporter_patterns
// CHECK-SAME: -> (tensor<?x2x8x16xf32>, tensor<8xi64>, tensor<?x2x8x16xf32>)
func.func @exporter_patterns(%x: tensor<?x1x8x16xf32>) -> (tensor<*xf32>, tensor<*xi64>, tensor<*xf32>) {
  %shape = onnx.Shape %x : (tensor<?x1x8x16xf32>) -> tensor<*xi64>
  %c0 = onnx.Constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %c1 = onnx.Constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %c2 = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %axes = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %batch = onnx.Gather %shape, %c0 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %b1 = onnx.Unsqueeze %batch, %axes : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %rest = onnx.Constant {value = dense<[2, 8, 16]> : tensor<3xi64>} : tensor<3xi64>
  %target = onnx.Concat %b1, %rest {axis = 0 : i64} : (tensor<*xi64>, tensor<3xi64>) -> tensor<*xi64>
  %minus1 = onnx.Constant {value = dense<-1> : tensor<4xi64>} : tensor<4xi64>
  %ones = onnx.Constant {value = dense<1> : tensor<4xi64>} : tensor<4xi64>
  %isneg = onnx.Equal %target, %minus1 : (tensor<*xi64>, tensor<4xi64>) -> tensor<*xi1>
  %fixed = onnx.Where %isneg, %ones, %target : (tensor<*xi1>, tensor<4xi64>, tensor<*xi64>) -> tensor<*xi64>
  // CHECK: onnx.Expand {{.*}} -> tensor<?x2x8x16xf32>
  %0 = onnx.Expand %x, %fixed : (tensor<?x1x8x16xf32>, tensor<*xi64>) -> tensor<*xf32>
  %seq = onnx.Gather %shape, %c2 : (tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  // CHECK: onnx.Range {{.*}} -> tensor<8xi64>
  %1 = onnx.Range %c0, %seq, %c1 : (tensor<i64>, tensor<*xi64>, tensor<i64>) -> tensor<*xi64>
  %end = onnx.Unsqueeze %seq, %axes : (tensor<*xi64>, tensor<1xi64>) -> tensor<*xi64>
  %start = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %axis = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %none = onnx.NoValue
  // CHECK: onnx.Slice {{.*}} -> tensor<?x2x8x16xf32>
  %2 = onnx.Slice %0, %start, %end, %axis, %none : (tensor<*xf32>, tensor<1xi64>, tensor<*xi64>, tensor<1xi64>, none) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xi64>, tensor<*xf32>
}

// CHECK-LABEL: func.func @squeeze_unsqueeze
func.func @squeeze_unsqueeze(%x: tensor<1x3x1xf32>, %d: tensor<?x1xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // CHECK: onnx.Squeeze {{.*}} -> tensor<3xf32>
  %0 = onnx.Squeeze %x, %none : (tensor<1x3x1xf32>, none) -> tensor<*xf32>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: onnx.Squeeze {{.*}} -> tensor<1x3xf32>
  %1 = onnx.Squeeze %x, %last : (tensor<1x3x1xf32>, tensor<1xi64>) -> tensor<*xf32>
  // Without axes a dynamic dim might be 1: the rank is unknown.
  // CHECK: onnx.Squeeze {{.*}} -> tensor<*xf32>
  %2 = onnx.Squeeze %d, %none : (tensor<?x1xf32>, none) -> tensor<*xf32>
  // Axes index the output: -1 is the new last dim.
  %axes = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Unsqueeze {{.*}} -> tensor<1x?x1x1xf32>
  %3 = onnx.Unsqueeze %d, %axes : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @concat_split
func.func @concat_split(%a: tensor<2x?xf32>, %b: tensor<?x3xf32>, %c: tensor<2x3xf32>, %x: tensor<5x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.Concat {{.*}} -> tensor<2x?xf32>
  %0 = onnx.Concat %a, %b {axis = 1 : i64} : (tensor<2x?xf32>, tensor<?x3xf32>) -> tensor<*xf32>
  // Sizes along the axis add up; the other dims merge.
  // CHECK: onnx.Concat {{.*}} -> tensor<4x3xf32>
  %1 = onnx.Concat %a, %c {axis = 0 : i64} : (tensor<2x?xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  %none = onnx.NoValue
  // num_outputs: chunks of ceil(5 / 3) = 2, the last one smaller.
  // CHECK: onnx.Split {{.*}} -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<1x4xf32>)
  %2:3 = onnx.Split %x, %none {num_outputs = 3 : i64} : (tensor<5x4xf32>, none) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>)
  %sizes = onnx.Constant {value = dense<[1, 3]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Split {{.*}} -> (tensor<5x1xf32>, tensor<5x3xf32>)
  %3:2 = onnx.Split %x, %sizes {axis = -1 : i64} : (tensor<5x4xf32>, tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>)
  return %0, %1, %2#0, %2#1, %2#2, %3#0, %3#1 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @slice
func.func @slice(%x: tensor<10x?x8xf32>, %dyn: tensor<1xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  // [1, -1) on dim 0 and [0, INT64_MAX) on the dynamic dim 1.
  %starts = onnx.Constant {value = dense<[1, 0]> : tensor<2xi64>} : tensor<2xi64>
  %ends = onnx.Constant {value = dense<[-1, 9223372036854775807]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Slice {{.*}} -> tensor<8x?x8xf32>
  %0 = onnx.Slice %x, %starts, %ends, %none, %none : (tensor<10x?x8xf32>, tensor<2xi64>, tensor<2xi64>, none, none) -> tensor<*xf32>
  // Backwards by 3 from the end of dim 2: indices 7, 4, 1.
  %s1 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %e1 = onnx.Constant {value = dense<-9223372036854775808> : tensor<1xi64>} : tensor<1xi64>
  %a1 = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %st1 = onnx.Constant {value = dense<-3> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: onnx.Slice {{.*}} -> tensor<10x?x3xf32>
  %1 = onnx.Slice %x, %s1, %e1, %a1, %st1 : (tensor<10x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<*xf32>
  // Unknown bounds on a known axis: only that dim is unknown.
  // CHECK: onnx.Slice {{.*}} -> tensor<?x?x8xf32>
  %2 = onnx.Slice %x, %dyn, %dyn, %none, %none : (tensor<10x?x8xf32>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<*xf32>
  // Unknown axes: every dim is unknown.
  // CHECK: onnx.Slice {{.*}} -> tensor<?x?x?xf32>
  %3 = onnx.Slice %x, %s1, %e1, %dyn, %none : (tensor<10x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<*xf32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @gather
func.func @gather(%emb: tensor<32000x64xf16>, %ids: tensor<?x7xi64>, %x: tensor<4x6xf32>, %ie: tensor<4x2xi64>) -> (tensor<*xf16>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.Gather {{.*}} -> tensor<?x7x64xf16>
  %0 = onnx.Gather %emb, %ids : (tensor<32000x64xf16>, tensor<?x7xi64>) -> tensor<*xf16>
  // A scalar index removes the axis.
  %i = onnx.Constant {value = dense<-1> : tensor<i64>} : tensor<i64>
  // CHECK: onnx.Gather {{.*}} -> tensor<4xf32>
  %1 = onnx.Gather %x, %i {axis = 1 : i64} : (tensor<4x6xf32>, tensor<i64>) -> tensor<*xf32>
  // CHECK: onnx.GatherElements {{.*}} -> tensor<4x2xf32>
  %2 = onnx.GatherElements %x, %ie {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x2xi64>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf16>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @expand_tile
func.func @expand_tile(%x: tensor<3x1xf32>, %s: tensor<3xi64>, %r: tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %shape = onnx.Constant {value = dense<[2, 1, 5]> : tensor<3xi64>} : tensor<3xi64>
  // CHECK: onnx.Expand {{.*}} -> tensor<2x3x5xf32>
  %0 = onnx.Expand %x, %shape : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<*xf32>
  // Unknown entries: a static input dim other than 1 still decides.
  // CHECK: onnx.Expand {{.*}} -> tensor<?x3x?xf32>
  %1 = onnx.Expand %x, %s : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<*xf32>
  %repeats = onnx.Constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.Tile {{.*}} -> tensor<6x4xf32>
  %2 = onnx.Tile %x, %repeats : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: onnx.Tile {{.*}} -> tensor<?x?xf32>
  %3 = onnx.Tile %x, %r : (tensor<3x1xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @shape_size
func.func @shape_size(%x: tensor<2x?x4x5xf32>, %u: tensor<*xf32>) -> (tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>) {
  // CHECK: onnx.Shape {{.*}} -> tensor<4xi64>
  %0 = onnx.Shape %x : (tensor<2x?x4x5xf32>) -> tensor<*xi64>
  // [1, -1) = dims 1 and 2.
  // CHECK: onnx.Shape {{.*}} -> tensor<2xi64>
  %1 = onnx.Shape %x {start = 1 : i64, end = -1 : i64} : (tensor<2x?x4x5xf32>) -> tensor<*xi64>
  // Out-of-range start/end clamp; end before start is empty.
  // CHECK: onnx.Shape {{.*}} -> tensor<0xi64>
  %2 = onnx.Shape %x {start = 10 : i64, end = -10 : i64} : (tensor<2x?x4x5xf32>) -> tensor<*xi64>
  // CHECK: onnx.Shape {{.*}} -> tensor<?xi64>
  %3 = onnx.Shape %u : (tensor<*xf32>) -> tensor<*xi64>
  // CHECK: onnx.Size {{.*}} -> tensor<i64>
  %4 = onnx.Size %x : (tensor<2x?x4x5xf32>) -> tensor<*xi64>
  return %0, %1, %2, %3, %4 : tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>, tensor<*xi64>
}

// CHECK-LABEL: func.func @generators
func.func @generators(%x: tensor<?x8xf32>, %n: tensor<i64>) -> (tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xf32>, tensor<*xi64>) {
  %shape = onnx.Constant {value = dense<[3, 4]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: onnx.ConstantOfShape {{.*}} -> tensor<3x4xf32>
  %0 = onnx.ConstantOfShape %shape : (tensor<2xi64>) -> tensor<*xf32>
  // The element type is the value's; the shape can come from a Shape op.
  %s = onnx.Shape %x : (tensor<?x8xf32>) -> tensor<*xi64>
  // CHECK: onnx.ConstantOfShape {{.*}} -> tensor<?x8xi64>
  %1 = onnx.ConstantOfShape %s {value = dense<1> : tensor<1xi64>} : (tensor<*xi64>) -> tensor<*xi64>
  %start = onnx.Constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %limit = onnx.Constant {value = dense<11> : tensor<i64>} : tensor<i64>
  %delta = onnx.Constant {value = dense<3> : tensor<i64>} : tensor<i64>
  // ceil((11 - 2) / 3) = 3 elements.
  // CHECK: onnx.Range {{.*}} -> tensor<3xi64>
  %2 = onnx.Range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
  // CHECK: onnx.Range {{.*}} -> tensor<?xi64>
  %3 = onnx.Range %start, %n, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
  %fstart = onnx.Constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %flimit = onnx.Constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %fdelta = onnx.Constant {value = dense<-0.25> : tensor<f32>} : tensor<f32>
  // CHECK: onnx.Range {{.*}} -> tensor<4xf32>
  %4 = onnx.Range %fstart, %flimit, %fdelta : (tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<*xf32>
  // An empty range: limit below start with a positive delta.
  // CHECK: onnx.Range {{.*}} -> tensor<0xi64>
  %5 = onnx.Range %limit, %start, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<*xi64>
  return %0, %1, %2, %4, %5 : tensor<*xf32>, tensor<*xi64>, tensor<*xi64>, tensor<*xf32>, tensor<*xi64>
}

// CHECK-LABEL: func.func @same_shape_ops
func.func @same_shape_ops(%x: tensor<2x4x4xf32>, %k: tensor<i64>, %ax: tensor<i64>, %idx: tensor<3x1xi64>, %upd: tensor<3x4x4xf32>, %d: tensor<5x4x4xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  // CHECK: onnx.Trilu {{.*}} -> tensor<2x4x4xf32>
  %0 = onnx.Trilu %x, %k : (tensor<2x4x4xf32>, tensor<i64>) -> tensor<*xf32>
  // CHECK: onnx.CumSum {{.*}} -> tensor<2x4x4xf32>
  %1 = onnx.CumSum %x, %ax : (tensor<2x4x4xf32>, tensor<i64>) -> tensor<*xf32>
  // CHECK: onnx.ScatterND {{.*}} -> tensor<5x4x4xf32>
  %2 = onnx.ScatterND %d, %idx, %upd : (tensor<5x4x4xf32>, tensor<3x1xi64>, tensor<3x4x4xf32>) -> tensor<*xf32>
  return %0, %1, %2 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<2x3x4xf32>, %dyn: tensor<2xi64>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %axes = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  %none = onnx.NoValue
  // CHECK: onnx.ReduceMean {{.*}} -> tensor<1x3x1xf32>
  %0 = onnx.ReduceMean %x, %axes : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: onnx.ReduceSum {{.*}} -> tensor<3xf32>
  %1 = onnx.ReduceSum %x, %axes {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // No axes: reduce everything...
  // CHECK: onnx.ReduceMax {{.*}} -> tensor<1x1x1xf32>
  %2 = onnx.ReduceMax %x, %none : (tensor<2x3x4xf32>, none) -> tensor<*xf32>
  // CHECK: onnx.ReduceMin {{.*}} -> tensor<f32>
  %3 = onnx.ReduceMin %x, %none {keepdims = 0 : i64} : (tensor<2x3x4xf32>, none) -> tensor<*xf32>
  // ...unless noop_with_empty_axes.
  // CHECK: onnx.ReduceSum {{.*}} -> tensor<2x3x4xf32>
  %4 = onnx.ReduceSum %x, %none {noop_with_empty_axes = 1 : i64} : (tensor<2x3x4xf32>, none) -> tensor<*xf32>
  // Unknown axes: the rank is still known.
  // CHECK: onnx.ReduceMean {{.*}} -> tensor<?x?x?xf32>
  %5 = onnx.ReduceMean %x, %dyn : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: onnx.ReduceMean {{.*}} -> tensor<?xf32>
  %6 = onnx.ReduceMean %x, %dyn {keepdims = 0 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}

// Statistics have the input's shape with the normalised dims set to 1 and
// the stash type (an ONNX data type code, FLOAT by default).
// CHECK-LABEL: func.func @normalization
func.func @normalization(%x: tensor<2x?x8xf16>, %w: tensor<8xf16>, %w2: tensor<?x8xf16>) -> (tensor<*xf16>, tensor<*xf32>, tensor<*xf32>, tensor<*xf16>, tensor<*xf64>, tensor<*xf16>, tensor<*xf32>, tensor<*xf32>, tensor<*xf16>) {
  %none = onnx.NoValue
  // CHECK: onnx.LayerNormalization {{.*}} -> (tensor<2x?x8xf16>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  %0:3 = onnx.LayerNormalization %x, %w2, %none {axis = 1 : i64} : (tensor<2x?x8xf16>, tensor<?x8xf16>, none) -> (tensor<*xf16>, tensor<*xf32>, tensor<*xf32>)
  // CHECK: onnx.SimplifiedLayerNormalization {{.*}} -> (tensor<2x?x8xf16>, tensor<2x?x1xf64>)
  %1:2 = onnx.SimplifiedLayerNormalization %x, %w {stash_type = 11 : i64} : (tensor<2x?x8xf16>, tensor<8xf16>) -> (tensor<*xf16>, tensor<*xf64>)
  // CHECK: onnx.com.microsoft.SkipSimplifiedLayerNormalization {{.*}} -> (tensor<2x?x8xf16>, tensor<2x?x1xf32>, tensor<2x?x1xf32>, tensor<2x?x8xf16>)
  %2:4 = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %x, %w, %none : (tensor<2x?x8xf16>, tensor<2x?x8xf16>, tensor<8xf16>, none) -> (tensor<*xf16>, tensor<*xf32>, tensor<*xf32>, tensor<*xf16>)
  return %0#0, %0#1, %0#2, %1#0, %1#1, %2#0, %2#1, %2#2, %2#3 : tensor<*xf16>, tensor<*xf32>, tensor<*xf32>, tensor<*xf16>, tensor<*xf64>, tensor<*xf16>, tensor<*xf32>, tensor<*xf32>, tensor<*xf16>
}

// CHECK-LABEL: func.func @rotary
func.func @rotary(%x: tensor<1x?x64xf32>, %pos: tensor<1x?xi64>, %cache: tensor<128x16xf32>) -> tensor<*xf32> {
  // CHECK: onnx.com.microsoft.RotaryEmbedding {{.*}} -> tensor<1x?x64xf32>
  %0 = onnx.com.microsoft.RotaryEmbedding %x, %pos, %cache, %cache {num_heads = 2 : i64} : (tensor<1x?x64xf32>, tensor<1x?xi64>, tensor<128x16xf32>, tensor<128x16xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// CHECK-LABEL: func.func @quantization
func.func @quantization(%x: tensor<4x64xf32>, %s: tensor<f32>, %zp: tensor<i8>, %q: tensor<4x64xui4>, %bs: tensor<4x2xf16>) -> (tensor<*xi8>, tensor<*xui8>, tensor<*xi4>, tensor<*xf16>, tensor<*xui8>, tensor<*xf32>, tensor<*xui8>) {
  %none = onnx.NoValue
  // The zero point decides the output type...
  // CHECK: onnx.QuantizeLinear {{.*}} -> tensor<4x64xi8>
  %0 = onnx.QuantizeLinear %x, %s, %zp : (tensor<4x64xf32>, tensor<f32>, tensor<i8>) -> tensor<*xi8>
  // ...else uint8...
  // CHECK: onnx.QuantizeLinear {{.*}} -> tensor<4x64xui8>
  %1 = onnx.QuantizeLinear %x, %s, %none : (tensor<4x64xf32>, tensor<f32>, none) -> tensor<*xui8>
  // ...unless output_dtype (22 = INT4) says otherwise.
  // CHECK: onnx.QuantizeLinear {{.*}} -> tensor<4x64xi4>
  %2 = onnx.QuantizeLinear %x, %s, %none {output_dtype = 22 : i64} : (tensor<4x64xf32>, tensor<f32>, none) -> tensor<*xi4>
  // Dequantized values have the scale's type (here blocked, 32 per block).
  // CHECK: onnx.DequantizeLinear {{.*}} -> tensor<4x64xf16>
  %3 = onnx.DequantizeLinear %q, %bs, %none {block_size = 32 : i64} : (tensor<4x64xui4>, tensor<4x2xf16>, none) -> tensor<*xf16>
  // CHECK: onnx.DynamicQuantizeLinear {{.*}} -> (tensor<4x64xui8>, tensor<f32>, tensor<ui8>)
  %4:3 = onnx.DynamicQuantizeLinear %x : (tensor<4x64xf32>) -> (tensor<*xui8>, tensor<*xf32>, tensor<*xui8>)
  return %0, %1, %2, %3, %4#0, %4#1, %4#2 : tensor<*xi8>, tensor<*xui8>, tensor<*xi4>, tensor<*xf16>, tensor<*xui8>, tensor<*xf32>, tensor<*xui8>
}

// CHECK-LABEL: func.func @matmul_nbits
// CHECK-SAME: -> tensor<?x?x4096xf16>
func.func @matmul_nbits(%a: tensor<?x?x2048xf16>, %b: tensor<4096x64x16xui8>, %scales: tensor<4096x64xf16>) -> tensor<*xf16> {
  %none = onnx.NoValue
  // CHECK: onnx.com.microsoft.MatMulNBits {{.*}} -> tensor<?x?x4096xf16>
  %0 = onnx.com.microsoft.MatMulNBits %a, %b, %scales, %none, %none, %none {K = 2048 : i64, N = 4096 : i64, block_size = 32 : i64} : (tensor<?x?x2048xf16>, tensor<4096x64x16xui8>, tensor<4096x64xf16>, none, none, none) -> tensor<*xf16>
  return %0 : tensor<*xf16>
}

// A declared type (from value_info) is refined, never widened: its static
// dims stay, and inferred static dims fill its dynamic ones.
// CHECK-LABEL: func.func @merge_with_declared
// CHECK-SAME: -> (tensor<4x?xf32>, tensor<2x3xf32>)
func.func @merge_with_declared(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>, %y: tensor<2x3xf32>) -> (tensor<4x?xf32>, tensor<?x3xf32>) {
  // CHECK: onnx.Reshape {{.*}} -> tensor<4x?xf32>
  %0 = onnx.Reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  // CHECK: onnx.Relu {{.*}} -> tensor<2x3xf32>
  %1 = onnx.Relu %y : (tensor<2x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<4x?xf32>, tensor<?x3xf32>
}

// num_outputs chunks of a dimension of 2^63 − 1: ceil(dim / 2) without
// overflowing dim + 1.
// CHECK-LABEL: func.func @split_largest_dim
// CHECK: onnx.Split {{.*}} -> (tensor<4611686018427387904xf32>, tensor<4611686018427387903xf32>)
func.func @split_largest_dim(%x: tensor<9223372036854775807xf32>) -> (tensor<*xf32>, tensor<*xf32>) {
  %none = onnx.NoValue
  %0:2 = onnx.Split %x, %none {axis = 0 : i64, num_outputs = 2 : i64} : (tensor<9223372036854775807xf32>, none) -> (tensor<*xf32>, tensor<*xf32>)
  return %0#0, %0#1 : tensor<*xf32>, tensor<*xf32>
}
