// RUN: qaf-opt --qaf-test-gradients %s | FileCheck %s
//
// The reverse pass of the data-movement ops (ONNXGradientsShape.cpp): each
// operand element gets the sum of the result gradients of the elements it
// became; sizes come from Shape where a dim is dynamic.

// The gradient goes back through the inverse permutation.
// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[SEED:.*]]: tensor<4x2x3xf32>)
// CHECK: %[[DX:.*]] = onnx.Transpose %[[SEED]] {perm = array<i64: 1, 2, 0>} : (tensor<4x2x3xf32>) -> tensor<2x3x4xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %r = onnx.Transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %r : tensor<4x2x3xf32>
}

// Reshape (0 and -1 entries, a dynamic dim) and Unsqueeze: the seed read
// back in the input's shape, which Shape gives; allowzero, since a 0 there
// is a size.
// CHECK-LABEL: func.func @reshape_unsqueeze
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x4xf32>, %[[SEED:.*]]: tensor<1x?x12xf32>)
// CHECK: %[[R:.*]] = onnx.Reshape %[[X]]
// CHECK: %[[RSHAPE:.*]] = onnx.Shape %[[R]] : (tensor<?x12xf32>) -> tensor<2xi64>
// CHECK: %[[DR:.*]] = onnx.Reshape %[[SEED]], %[[RSHAPE]] {allowzero = 1 : i64} : (tensor<1x?x12xf32>, tensor<2xi64>) -> tensor<?x12xf32>
// CHECK: %[[XSHAPE:.*]] = onnx.Shape %[[X]] : (tensor<?x3x4xf32>) -> tensor<3xi64>
// CHECK: %[[DX:.*]] = onnx.Reshape %[[DR]], %[[XSHAPE]] {allowzero = 1 : i64} : (tensor<?x12xf32>, tensor<3xi64>) -> tensor<?x3x4xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @reshape_unsqueeze(%x: tensor<?x3x4xf32>) -> tensor<1x?x12xf32> {
  %s = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  %0 = onnx.Reshape %x, %s : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  %a = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.Unsqueeze %0, %a : (tensor<?x12xf32>, tensor<1xi64>) -> tensor<1x?x12xf32>
  return %r : tensor<1x?x12xf32>
}

// Each input's slab of the seed: [0, 3), [3, 3 + d), [3 + d, 7 + d) along
// axis 1, with d read by Shape; each slice has its input's type.
// CHECK-LABEL: func.func @concat_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<2x?xf32>, %[[Z:.*]]: tensor<2x4xf32>, %[[SEED:.*]]: tensor<2x?xf32>)
// CHECK-DAG: %[[AXES:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK-DAG: %[[ZERO:.*]] = onnx.Constant {value = dense<0> : tensor<1xi64>}
// CHECK-DAG: %[[THREE:.*]] = onnx.Constant {value = dense<3> : tensor<1xi64>}
// CHECK: %[[DX:.*]] = onnx.Slice %[[SEED]], %[[ZERO]], %[[THREE]], %[[AXES]], %{{.*}} : {{.*}} -> tensor<2x3xf32>
// CHECK: %[[D:.*]] = onnx.Shape %[[Y]] {end = 2 : i64, start = 1 : i64}
// CHECK: %[[C3:.*]] = onnx.Constant {value = dense<3> : tensor<1xi64>}
// CHECK: %[[YEND:.*]] = onnx.Add %[[D]], %[[C3]]
// CHECK: %[[DY:.*]] = onnx.Slice %[[SEED]], %[[THREE]], %[[YEND]], %[[AXES]], %{{.*}} : {{.*}} -> tensor<2x?xf32>
// CHECK: %[[C7:.*]] = onnx.Constant {value = dense<7> : tensor<1xi64>}
// CHECK: %[[ZEND:.*]] = onnx.Add %[[D]], %[[C7]]
// CHECK: %[[DZ:.*]] = onnx.Slice %[[SEED]], %[[YEND]], %[[ZEND]], %[[AXES]], %{{.*}} : {{.*}} -> tensor<2x4xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DY]], %[[DZ]]
func.func @concat_dynamic(%x: tensor<2x3xf32>, %y: tensor<2x?xf32>, %z: tensor<2x4xf32>) -> tensor<2x?xf32> {
  %r = onnx.Concat %x, %y, %z {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x?xf32>, tensor<2x4xf32>) -> tensor<2x?xf32>
  return %r : tensor<2x?xf32>
}

// The unused outputs contribute zeros to the concatenated gradient.
// CHECK-LABEL: func.func @split_one_output_used
// CHECK-SAME: (%[[X:.*]]: tensor<2x7xf32>, %[[SEED:.*]]: tensor<2x4xf32>)
// CHECK: %[[PARTS:.*]]:3 = onnx.Split
// CHECK: %[[S0:.*]] = onnx.Shape %[[PARTS]]#0
// CHECK: %[[Z0:.*]] = onnx.ConstantOfShape %[[S0]] {value = dense<0.000000e+00> : tensor<1xf32>} : {{.*}} -> tensor<2x2xf32>
// CHECK: %[[S2:.*]] = onnx.Shape %[[PARTS]]#2
// CHECK: %[[Z2:.*]] = onnx.ConstantOfShape %[[S2]] {{.*}} -> tensor<2x1xf32>
// CHECK: %[[DX:.*]] = onnx.Concat %[[Z0]], %[[SEED]], %[[Z2]] {axis = 1 : i64} : {{.*}} -> tensor<2x7xf32>
// CHECK: return %{{.*}}, %[[DX]]
func.func @split_one_output_used(%x: tensor<2x7xf32>) -> tensor<2x4xf32> {
  %s = onnx.Constant {value = dense<[2, 4, 1]> : tensor<3xi64>} : tensor<3xi64>
  %0:3 = onnx.Split %x, %s {axis = 1 : i64} : (tensor<2x7xf32>, tensor<3xi64>) -> (tensor<2x2xf32>, tensor<2x4xf32>, tensor<2x1xf32>)
  return %0#1 : tensor<2x4xf32>
}

// Embedding rows: negative ids (id + rows where id < 0) index the rows
// that the seed's rows are scatter-added to, over zeros of the table's
// (dynamic) shape; the ids get no gradient.
// CHECK-LABEL: func.func @gather_rows
// CHECK-SAME: (%[[W:.*]]: tensor<?x8xf32>, %[[IDS:.*]]: tensor<2x5xi64>, %[[SEED:.*]]: tensor<2x5x8xf32>)
// CHECK-SAME: -> (tensor<2x5x8xf32>, tensor<?x8xf32>)
// CHECK: %[[ROWS:.*]] = onnx.Shape %[[W]] {end = 1 : i64}
// CHECK: %[[NEG:.*]] = onnx.Less %[[IDS]], %{{.*}} : (tensor<2x5xi64>, tensor<i64>) -> tensor<2x5xi1>
// CHECK: %[[ROWS0D:.*]] = onnx.Squeeze %[[ROWS]]
// CHECK: %[[WRAPPED:.*]] = onnx.Add %[[IDS]], %[[ROWS0D]]
// CHECK: %[[IDX:.*]] = onnx.Where %[[NEG]], %[[WRAPPED]], %[[IDS]] : {{.*}} -> tensor<2x5xi64>
// CHECK: %[[REST:.*]] = onnx.Shape %[[SEED]] {start = 2 : i64}
// CHECK: %[[ZSHAPE:.*]] = onnx.Concat %[[ROWS]], %[[REST]] {axis = 0 : i64}
// CHECK: %[[ZEROS:.*]] = onnx.ConstantOfShape %[[ZSHAPE]] {{.*}} -> tensor<?x8xf32>
// CHECK: %[[TUPLES:.*]] = onnx.Unsqueeze %[[IDX]], %{{.*}} -> tensor<2x5x1xi64>
// CHECK: %[[DW:.*]] = onnx.ScatterND %[[ZEROS]], %[[TUPLES]], %[[SEED]] {reduction = "add"} : (tensor<?x8xf32>, tensor<2x5x1xi64>, tensor<2x5x8xf32>) -> tensor<?x8xf32>
// CHECK: return %{{.*}}, %[[DW]]
func.func @gather_rows(%w: tensor<?x8xf32>, %ids: tensor<2x5xi64>) -> tensor<2x5x8xf32> {
  %r = onnx.Gather %w, %ids : (tensor<?x8xf32>, tensor<2x5xi64>) -> tensor<2x5x8xf32>
  return %r : tensor<2x5x8xf32>
}

// A slice of the last axis: the positions it keeps, Slice of
// Range(0, 6), receive the seed's slabs (the axis moved to the front for
// the scatter and back after it).
// CHECK-LABEL: func.func @slice_last_axis
// CHECK-SAME: (%[[X:.*]]: tensor<4x6xf32>, %[[SEED:.*]]: tensor<4x3xf32>)
// CHECK-DAG: %[[STARTS:.*]] = onnx.Constant {value = dense<1> : tensor<1xi64>}
// CHECK-DAG: %[[ENDS:.*]] = onnx.Constant {value = dense<6> : tensor<1xi64>}
// CHECK-DAG: %[[STEPS:.*]] = onnx.Constant {value = dense<2> : tensor<1xi64>}
// CHECK: %[[R:.*]] = onnx.Slice %[[X]]
// CHECK: %[[POS:.*]] = onnx.Range %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> tensor<6xi64>
// CHECK: %[[KEPT:.*]] = onnx.Slice %[[POS]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> tensor<3xi64>
// CHECK: %[[SLABS:.*]] = onnx.Transpose %[[SEED]] {perm = array<i64: 1, 0>} : (tensor<4x3xf32>) -> tensor<3x4xf32>
// CHECK: %[[ZEROS:.*]] = onnx.ConstantOfShape {{.*}} -> tensor<6x4xf32>
// CHECK: %[[TUPLES:.*]] = onnx.Unsqueeze %[[KEPT]]
// CHECK: %[[SUM:.*]] = onnx.ScatterND %[[ZEROS]], %[[TUPLES]], %[[SLABS]] {reduction = "add"}
// CHECK: %[[DX:.*]] = onnx.Transpose %[[SUM]] {perm = array<i64: 1, 0>} : (tensor<6x4xf32>) -> tensor<4x6xf32>
// CHECK: return %[[R]], %[[DX]]
func.func @slice_last_axis(%x: tensor<4x6xf32>) -> tensor<4x3xf32> {
  %s = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %e = onnx.Constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %a = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %t = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.Slice %x, %s, %e, %a, %t : (tensor<4x6xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// X gets the seed where the condition holds, Y elsewhere, summed over the
// dims Y was broadcast along; the condition gets nothing.
// CHECK-LABEL: func.func @where_broadcast
// CHECK-SAME: (%[[C:.*]]: tensor<2x1xi1>, %[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3xf32>, %[[SEED:.*]]: tensor<2x3xf32>)
// CHECK-SAME: -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>)
// CHECK: %[[ZERO:.*]] = onnx.Constant {value = dense<0.000000e+00> : tensor<f32>}
// CHECK: %[[DX:.*]] = onnx.Where %[[C]], %[[SEED]], %[[ZERO]]
// CHECK: %[[GY:.*]] = onnx.Where %[[C]], %[[ZERO]], %[[SEED]]
// CHECK: %[[SUM:.*]] = onnx.ReduceSum %[[GY]], %{{.*}} -> tensor<1x3xf32>
// CHECK: %[[DY:.*]] = onnx.Reshape %[[SUM]], %{{.*}} -> tensor<3xf32>
// CHECK: return %{{.*}}, %[[DX]], %[[DY]]
func.func @where_broadcast(%c: tensor<2x1xi1>, %x: tensor<2x3xf32>, %y: tensor<3xf32>) -> tensor<2x3xf32> {
  %r = onnx.Where %c, %x, %y : (tensor<2x1xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// Expand sums over the stretched dims (the missing leading one and the
// size-1 one); Tile sums over the repeats of [2, 2, 3, 3].
// CHECK-LABEL: func.func @expand_tile
// CHECK-SAME: (%[[X:.*]]: tensor<3x1xf32>, %[[SEED:.*]]: tensor<2x6x4xf32>)
// CHECK: %[[E:.*]] = onnx.Expand
// CHECK: %[[T:.*]] = onnx.Tile %[[E]]
// CHECK: %[[BLOCKS:.*]] = onnx.Reshape %[[SEED]], %{{.*}} {allowzero = 1 : i64} : {{.*}} -> tensor<1x2x2x3x1x4xf32>
// CHECK: %[[REPEATS:.*]] = onnx.Constant {value = dense<[0, 2, 4]> : tensor<3xi64>}
// CHECK: %[[DE:.*]] = onnx.ReduceSum %[[BLOCKS]], %[[REPEATS]] {keepdims = 0 : i64} : {{.*}} -> tensor<2x3x4xf32>
// CHECK: %[[STRETCHED:.*]] = onnx.Constant {value = dense<[0, 2]> : tensor<2xi64>}
// CHECK: %[[SUM:.*]] = onnx.ReduceSum %[[DE]], %[[STRETCHED]] : {{.*}} -> tensor<1x3x1xf32>
// CHECK: %[[DX:.*]] = onnx.Reshape %[[SUM]], %{{.*}} -> tensor<3x1xf32>
// CHECK: return %[[T]], %[[DX]]
func.func @expand_tile(%x: tensor<3x1xf32>) -> tensor<2x6x4xf32> {
  %s = onnx.Constant {value = dense<[2, 3, 4]> : tensor<3xi64>} : tensor<3xi64>
  %0 = onnx.Expand %x, %s : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %t = onnx.Constant {value = dense<[1, 2, 1]> : tensor<3xi64>} : tensor<3xi64>
  %r = onnx.Tile %0, %t : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<2x6x4xf32>
  return %r : tensor<2x6x4xf32>
}

// A float constant and a ConstantOfShape on the path get gradients from
// Mul, but carry none further: the walk passes them.
// CHECK-LABEL: func.func @constants_on_the_path
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[SEED:.*]]: tensor<3xf32>)
// CHECK: %[[C:.*]] = onnx.Constant {value = dense<2.000000e+00> : tensor<3xf32>}
// CHECK: %[[K:.*]] = onnx.ConstantOfShape
// CHECK: %[[M:.*]] = onnx.Mul %[[X]], %[[C]]
// CHECK: %[[R:.*]] = onnx.Mul %[[M]], %[[K]]
// CHECK: %[[DM:.*]] = onnx.Mul %[[SEED]], %[[K]]
// CHECK: %[[DX:.*]] = onnx.Mul %[[DM]], %[[C]]
// CHECK: return %[[R]], %[[DX]]
func.func @constants_on_the_path(%x: tensor<3xf32>) -> tensor<3xf32> {
  %c = onnx.Constant {value = dense<2.0> : tensor<3xf32>} : tensor<3xf32>
  %s = onnx.Shape %x : (tensor<3xf32>) -> tensor<1xi64>
  %k = onnx.ConstantOfShape %s {value = dense<3.0> : tensor<1xf32>} : (tensor<1xi64>) -> tensor<3xf32>
  %m = onnx.Mul %x, %c : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %r = onnx.Mul %m, %k : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}
