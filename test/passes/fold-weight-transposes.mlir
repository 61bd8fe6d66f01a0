// RUN: qaf-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qaf-fold-weight-transposes))' | FileCheck %s

// A transposed weight becomes a constant holding the transposed values, a
// blob named after the weight. The source is [[1, 2, 3], [4, 5, 6]]; the
// result's rows are its columns: [[1, 4], [2, 5], [3, 6]] (f32 1.0 is
// 0x3F800000, stored little-endian as 0000803F).
// CHECK-LABEL: func.func @tied_head
// CHECK-NEXT: %[[W:.*]] = onnx.Constant {value = dense_resource<embed.weight.transposed> : tensor<3x2xf32>} : tensor<3x2xf32>
// CHECK-NEXT: %[[Y:.*]] = onnx.MatMul %arg0, %[[W]]
// CHECK-NEXT: return %[[Y]]
// CHECK: embed.weight.transposed: "0x040000000000803F00008040000000400000A040000040400000C040"
func.func @tied_head(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32> loc("embed.weight")
  %t = onnx.Transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = onnx.MatMul %x, %t : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The original stays while something else uses it (the embedding lookup of
// tied embeddings); without `perm` the dimensions are reversed. Blobs read
// as weights too, named by their resource key when the location has no name.
// CHECK-LABEL: func.func @still_used
// CHECK-DAG: %[[EMBED:.*]] = onnx.Constant {value = dense_resource<embed> : tensor<2x3xi32>}
// CHECK-DAG: %[[T:.*]] = onnx.Constant {value = dense_resource<embed.transposed> : tensor<3x2xi32>}
// CHECK-DAG: onnx.Gather %[[EMBED]]
// CHECK-DAG: return %[[T]], %{{.*}}
// CHECK-NOT: onnx.Transpose
// CHECK: embed.transposed: "0x04000000010000000400000002000000050000000300000006000000"
func.func @still_used(%ids: tensor<?xi64>) -> (tensor<3x2xi32>, tensor<?x3xi32>) {
  %w = onnx.Constant {value = dense_resource<embed> : tensor<2x3xi32>} : tensor<2x3xi32>
  %t = onnx.Transpose %w : (tensor<2x3xi32>) -> tensor<3x2xi32>
  %g = onnx.Gather %w, %ids {axis = 0 : i64} : (tensor<2x3xi32>, tensor<?xi64>) -> tensor<?x3xi32>
  return %t, %g : tensor<3x2xi32>, tensor<?x3xi32>
}
{-#
  dialect_resources: {
    builtin: {
      embed: "0x04000000010000000200000003000000040000000500000006000000"
    }
  }
#-}

// -----

// Left alone: a transpose of an activation, of sub-byte codes, and one
// whose result type is not static.
// CHECK-LABEL: func.func @not_weights
// CHECK: onnx.Transpose %arg0
// CHECK: onnx.Transpose %{{.*}} : (tensor<2x4xi4>) -> tensor<4x2xi4>
// CHECK: onnx.Transpose %{{.*}} : (tensor<2x3xf32>) -> tensor<*xf32>
func.func @not_weights(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<4x2xi4>, tensor<*xf32>) {
  %a = onnx.Transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %codes = onnx.Constant {value = dense<1> : tensor<2x4xi4>} : tensor<2x4xi4>
  %b = onnx.Transpose %codes {perm = array<i64: 1, 0>} : (tensor<2x4xi4>) -> tensor<4x2xi4>
  %w = onnx.Constant {value = dense<1.0> : tensor<2x3xf32>} : tensor<2x3xf32>
  %c = onnx.Transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return %a, %b, %c : tensor<3x2xf32>, tensor<4x2xi4>, tensor<*xf32>
}

// -----

// A tied embedding: gathered, and multiplied by transposed as the lm_head's
// B. Folding would store the weight twice; the MatMul reads it transposed
// in place instead, so the transpose stays. Used any other way (here as a
// MatMul's A), the transpose is folded as before.
// CHECK-LABEL: func.func @tied
// CHECK: %[[E:.*]] = onnx.Constant
// CHECK: onnx.Gather
// CHECK: %[[T:.*]] = onnx.Transpose %[[E]]
// CHECK: onnx.MatMul %{{.*}}, %[[T]]
// CHECK-LABEL: func.func @tied_other_use
// CHECK-NOT: onnx.Transpose
// CHECK: return
func.func @tied(%ids: tensor<?xi64>, %x: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x2xf32>) {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  %g = onnx.Gather %w, %ids {axis = 0 : i64} : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<?x3xf32>
  %t = onnx.Transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = onnx.MatMul %x, %t : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  return %g, %y : tensor<?x3xf32>, tensor<?x2xf32>
}
func.func @tied_other_use(%ids: tensor<?xi64>, %x: tensor<2x3xf32>) -> (tensor<?x3xf32>, tensor<3x3xf32>) {
  %w = onnx.Constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  %g = onnx.Gather %w, %ids {axis = 0 : i64} : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<?x3xf32>
  %t = onnx.Transpose %w {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %y = onnx.MatMul %t, %x : (tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %g, %y : tensor<?x3xf32>, tensor<3x3xf32>
}
