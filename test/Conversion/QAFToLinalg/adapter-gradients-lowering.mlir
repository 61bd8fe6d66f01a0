// RUN: qaf-opt --qaf-convert-onnx-to-linalg %s | FileCheck %s

// qaf.adapter_gradients (what LoTA-QAF's and L4Q's f32 gradient rules emit)
// becomes the kernel op accumulating into zero-filled tensors: fresh
// destinations, never a constant that weight outlining would turn into a
// read-only entry argument.

// CHECK-LABEL: func.func @lota
// CHECK-SAME: (%[[G:[^:]*]]: tensor<?x8xf32>, %[[X:[^:]*]]: tensor<?x64xf32>, %[[S:[^:]*]]: tensor<8x2xf32>, %[[A:[^:]*]]: tensor<4x64xi8>, %[[B:[^:]*]]: tensor<8x4xi8>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[EA:.*]] = tensor.empty() : tensor<4x64xf32>
// CHECK-DAG: %[[FA:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EA]] : tensor<4x64xf32>)
// CHECK-DAG: %[[EB:.*]] = tensor.empty() : tensor<8x4xf32>
// CHECK-DAG: %[[FB:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EB]] : tensor<8x4xf32>)
// CHECK: %[[R:.*]]:2 = qaf.kernel.adapter_gradients "lota" group_size(32) coefficient(3.000000e+00) ins(%[[G]], %[[X]], %[[S]], %[[A]], %[[B]] : {{.*}}) outs(%[[FA]], %[[FB]] : tensor<4x64xf32>, tensor<8x4xf32>)
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @lota(%g: tensor<?x8xf32>, %x: tensor<?x64xf32>, %s: tensor<8x2xf32>, %a: tensor<4x64xi8>, %b: tensor<8x4xi8>) -> (tensor<4x64xf32>, tensor<8x4xf32>) {
  %da, %db = qaf.adapter_gradients "lota" group_size(32) coefficient(3.0) ins(%g, %x, %s, %a, %b : tensor<?x8xf32>, tensor<?x64xf32>, tensor<8x2xf32>, tensor<4x64xi8>, tensor<8x4xi8>) -> tensor<4x64xf32>, tensor<8x4xf32>
  return %da, %db : tensor<4x64xf32>, tensor<8x4xf32>
}
