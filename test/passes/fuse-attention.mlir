// qaf-fuse-attention: the attention chain exporters write op by op becomes
// one qaf.kernel.attention (the scale folded into its attribute, the mask
// its bias, repeat_kv looked through); a chain whose intermediates have
// other users, or that is not attention, is left.
// RUN: qaf-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(qaf-fuse-attention),canonicalize)" | FileCheck %s

// Divided by 4 (scale 0.25), the mask added after: optimum's and the
// generator's form.
// CHECK-LABEL: func.func @divided_and_masked(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x?x8xf32>, %[[M:[a-z0-9]+]]: tensor<?x1x?x?xf32>
// CHECK-DAG: %[[B:.*]] = tensor.dim %[[Q]], %c0
// CHECK-DAG: %[[S:.*]] = tensor.dim %[[Q]], %c2
// CHECK: %[[INIT:.*]] = tensor.empty(%[[B]], %[[S]]) : tensor<?x4x?x8xf32>
// CHECK: %[[O:.*]] = qaf.kernel.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]], %[[M]] : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x8xf32>, tensor<?x1x?x?xf32>) outs(%[[INIT]] : tensor<?x4x?x8xf32>)
// CHECK-NOT: onnx.
// CHECK: return %[[O]]
func.func @divided_and_masked(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x8xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x4x?x8xf32> {
  %c = onnx.Constant {value = dense<4.0> : tensor<f32>} : tensor<f32>
  %kt = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %d = onnx.Div %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %a = onnx.Add %d, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = onnx.Softmax %a {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = onnx.MatMul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// -----

// Multiplied by a constant on its left, the mask on the Add's left, the
// softmax axis spelled 3; static shapes need no sizes.
// CHECK-LABEL: func.func @multiplied(
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x4x3x16xf32>
// CHECK: qaf.kernel.attention scale(1.250000e-01) ins(%arg0, %arg1, %arg2, %arg3 : tensor<2x4x3x16xf32>, tensor<2x4x5x16xf32>, tensor<2x4x5x16xf32>, tensor<2x4x3x5xf32>) outs(%[[INIT]] : tensor<2x4x3x16xf32>)
// CHECK-NOT: onnx.
func.func @multiplied(%q: tensor<2x4x3x16xf32>, %k: tensor<2x4x5x16xf32>, %v: tensor<2x4x5x16xf32>, %mask: tensor<2x4x3x5xf32>) -> tensor<2x4x3x16xf32> {
  %c = onnx.Constant {value = dense<0.125> : tensor<1xf32>} : tensor<1xf32>
  %kt = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x5x16xf32>) -> tensor<2x4x16x5xf32>
  %s = onnx.MatMul %q, %kt : (tensor<2x4x3x16xf32>, tensor<2x4x16x5xf32>) -> tensor<2x4x3x5xf32>
  %m = onnx.Mul %c, %s : (tensor<1xf32>, tensor<2x4x3x5xf32>) -> tensor<2x4x3x5xf32>
  %a = onnx.Add %mask, %m : (tensor<2x4x3x5xf32>, tensor<2x4x3x5xf32>) -> tensor<2x4x3x5xf32>
  %p = onnx.Softmax %a {axis = 3 : i64} : (tensor<2x4x3x5xf32>) -> tensor<2x4x3x5xf32>
  %o = onnx.MatMul %p, %v : (tensor<2x4x3x5xf32>, tensor<2x4x5x16xf32>) -> tensor<2x4x3x16xf32>
  return %o : tensor<2x4x3x16xf32>
}

// -----

// No scale and no mask (a query scaled beforehand stays outside); the
// grouped-query repeat_kv of K and V is looked through: the op reads the
// 2 shared heads.
// CHECK-LABEL: func.func @grouped(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x?x16xf32>
// CHECK-NOT: onnx.Expand
// CHECK: qaf.kernel.attention scale(1.000000e+00) ins(%[[Q]], %[[K]], %[[V]] : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
func.func @grouped(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %axes = onnx.Constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %repeat = onnx.Constant {value = dense<[1, 1, 2, 1, 1]> : tensor<5xi64>} : tensor<5xi64>
  %heads = onnx.Constant {value = dense<[0, 4, -1, 16]> : tensor<4xi64>} : tensor<4xi64>
  %k5 = onnx.Unsqueeze %k, %axes : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ke = onnx.Expand %k5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %kr = onnx.Reshape %ke, %heads : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = onnx.Transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = onnx.Softmax %s : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %v5 = onnx.Unsqueeze %v, %axes : (tensor<?x2x?x16xf32>, tensor<1xi64>) -> tensor<?x2x1x?x16xf32>
  %ve = onnx.Expand %v5, %repeat : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %vr = onnx.Reshape %ve, %heads : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %o = onnx.MatMul %p, %vr : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// transformers' export (optimum, torch.onnx): Q and Kᵀ each scaled by √c
// (their product is the scale), the mask a Where, and the probabilities of
// a fully masked row (NaN) zeroed by Where(IsNaN(p), 0, p): zero_nan_rows.
// CHECK-LABEL: func.func @transformers(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[M:[a-z0-9]+]]: tensor<?x1x?x?xf32>
// CHECK: qaf.kernel.attention scale(2.500000e-01) zero_nan_rows ins(%[[Q]], %[[K]], %[[V]], %[[M]] :
// CHECK-NOT: onnx.
func.func @transformers(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>, %mask: tensor<?x1x?x?xf32>) -> tensor<?x4x?x16xf32> {
  %root = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %zero = onnx.Constant {value = dense<0.0> : tensor<1xf32>} : tensor<1xf32>
  %kt = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %qs = onnx.Mul %q, %root : (tensor<?x4x?x16xf32>, tensor<f32>) -> tensor<?x4x?x16xf32>
  %ks = onnx.Mul %kt, %root : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %a = onnx.Add %s, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x?xf32>
  %p = onnx.Softmax %a : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %nan = onnx.IsNaN %p : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xi1>
  %pz = onnx.Where %nan, %zero, %p : (tensor<?x4x?x?xi1>, tensor<1xf32>, tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = onnx.MatMul %pz, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// torch.onnx's dynamo exporter: Kᵀ as Reshape(Transpose(Reshape(K,
// [-1, T, 16]), [0, 2, 1]), [B, H, 16, T]), its sizes read off Shape(K);
// fused with K itself. The same with the inner shape's T read off another
// dim is not a transpose of K, and stays.
// CHECK-LABEL: func.func @dynamo(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x?x16xf32>
// CHECK: qaf.kernel.attention scale(2.500000e-01) ins(%[[Q]], %[[K]], %[[V]] :
// CHECK-NOT: onnx.Transpose
// CHECK-LABEL: func.func @dynamo_other_dim(
// CHECK-NOT: qaf.kernel.attention
// CHECK: onnx.Transpose
func.func @dynamo(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %minus1 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %minus2 = onnx.Constant {value = dense<-2> : tensor<1xi64>} : tensor<1xi64>
  %lowest = onnx.Constant {value = dense<-9223372036854775808> : tensor<1xi64>} : tensor<1xi64>
  %d = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %root = onnx.Constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %none = onnx.NoValue
  %shape = onnx.Shape %k : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %t = onnx.Slice %shape, %minus2, %minus1, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<1xi64>
  %bh = onnx.Slice %shape, %lowest, %minus2, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<2xi64>
  %flat = onnx.Concat %minus1, %t, %d {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %k3 = onnx.Reshape %k, %flat : (tensor<?x4x?x16xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
  %k3t = onnx.Transpose %k3 {perm = array<i64: 0, 2, 1>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %heads = onnx.Concat %bh, %d, %t {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %kt = onnx.Reshape %k3t, %heads : (tensor<?x16x?xf32>, tensor<4xi64>) -> tensor<?x4x16x?xf32>
  %qs = onnx.Mul %q, %root : (tensor<?x4x?x16xf32>, tensor<f32>) -> tensor<?x4x?x16xf32>
  %ks = onnx.Mul %kt, %root : (tensor<?x4x16x?xf32>, tensor<f32>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %qs, %ks : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = onnx.Softmax %s : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = onnx.MatMul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
func.func @dynamo_other_dim(%q: tensor<?x4x?x16xf32>, %k: tensor<?x4x?x16xf32>, %v: tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %minus1 = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %minus2 = onnx.Constant {value = dense<-2> : tensor<1xi64>} : tensor<1xi64>
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %lowest = onnx.Constant {value = dense<-9223372036854775808> : tensor<1xi64>} : tensor<1xi64>
  %d = onnx.Constant {value = dense<16> : tensor<1xi64>} : tensor<1xi64>
  %none = onnx.NoValue
  %shape = onnx.Shape %k : (tensor<?x4x?x16xf32>) -> tensor<4xi64>
  %b = onnx.Slice %shape, %zero, %one, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<1xi64>
  %t = onnx.Slice %shape, %minus2, %minus1, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<1xi64>
  %bh = onnx.Slice %shape, %lowest, %minus2, %none, %none : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, none, none) -> tensor<2xi64>
  %flat = onnx.Concat %minus1, %b, %d {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %k3 = onnx.Reshape %k, %flat : (tensor<?x4x?x16xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
  %k3t = onnx.Transpose %k3 {perm = array<i64: 0, 2, 1>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %heads = onnx.Concat %bh, %d, %t {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %kt = onnx.Reshape %k3t, %heads : (tensor<?x16x?xf32>, tensor<4xi64>) -> tensor<?x4x16x?xf32>
  %s = onnx.MatMul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %p = onnx.Softmax %s : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = onnx.MatMul %p, %v : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Left alone: the probabilities are also returned (a training step's
// forward keeps them for its backward); a softmax over another axis; keys
// not transposed by [0, 1, 3, 2]; a scale that is not a constant.
// CHECK-LABEL: func.func @not_fused(
// CHECK-NOT: qaf.kernel.attention
// CHECK-COUNT-8: onnx.MatMul
// CHECK-NOT: qaf.kernel.attention
func.func @not_fused(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %x: tensor<f32>) -> (tensor<1x2x3x5xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %kt = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x5x8xf32>) -> tensor<1x2x8x5xf32>
  %s1 = onnx.MatMul %q, %kt : (tensor<1x2x3x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x3x5xf32>
  %p1 = onnx.Softmax %s1 : (tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %o1 = onnx.MatMul %p1, %v : (tensor<1x2x3x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32>
  %kt2 = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x5x8xf32>) -> tensor<1x2x8x5xf32>
  %s2 = onnx.MatMul %q, %kt2 : (tensor<1x2x3x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x3x5xf32>
  %p2 = onnx.Softmax %s2 {axis = 2 : i64} : (tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %o2 = onnx.MatMul %p2, %v : (tensor<1x2x3x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32>
  %kt3 = onnx.Transpose %k {perm = array<i64: 1, 0, 3, 2>} : (tensor<1x2x5x8xf32>) -> tensor<2x1x8x5xf32>
  %s3 = onnx.MatMul %q, %kt3 : (tensor<1x2x3x8xf32>, tensor<2x1x8x5xf32>) -> tensor<2x2x3x5xf32>
  %p3 = onnx.Softmax %s3 : (tensor<2x2x3x5xf32>) -> tensor<2x2x3x5xf32>
  %o3 = onnx.MatMul %p3, %v : (tensor<2x2x3x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32>
  %kt4 = onnx.Transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x5x8xf32>) -> tensor<1x2x8x5xf32>
  %s4 = onnx.MatMul %q, %kt4 : (tensor<1x2x3x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x3x5xf32>
  %d4 = onnx.Div %s4, %x : (tensor<1x2x3x5xf32>, tensor<f32>) -> tensor<1x2x3x5xf32>
  %p4 = onnx.Softmax %d4 : (tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %o4 = onnx.MatMul %p4, %v : (tensor<1x2x3x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32>
  return %p1, %o1, %o2, %o3, %o4 : tensor<1x2x3x5xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}
