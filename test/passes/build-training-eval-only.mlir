// qaf-build-training="eval-only=true" builds @eval_step alone, also for a
// model without adapters (a float, quantized or merged one): its eval_step
// takes no parameters. With adapters, their values still become parameters.
// RUN: qaf-opt %s --split-input-file --qaf-build-training="eval-only=true" | FileCheck %s

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<2x3xi64>) -> tensor<2x3x4xf32>
// CHECK-NOT: @train_step
// CHECK: func.func @eval_step(%{{[a-z0-9]+}}: tensor<2x3xi64>, %{{[a-z0-9]+}}: tensor<2x3xi64> {onnx.name = "labels"}) -> (tensor<f32> {onnx.name = "loss_sum"}, tensor<i64> {onnx.name = "token_count"})
// CHECK-NOT: @train_step
func.func @main_graph(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %embed = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %h = onnx.Gather %embed, %ids : (tensor<4x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %h : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: qaf.weight_name = "parameter_0"
// CHECK-NOT: @train_step
// CHECK: func.func @eval_step(%{{[a-z0-9]+}}: tensor<2x4xf32> {qaf.weight_name = "parameter_0"
// CHECK-SAME: tensor<4x2xf32> {qaf.weight_name = "parameter_1"
// CHECK-SAME: {onnx.name = "labels"}
// CHECK-NOT: @train_step
func.func @main_graph(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %embed = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %x = onnx.Gather %embed, %ids : (tensor<4x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %a = onnx.Constant {value = dense<0.5> : tensor<2x4xf32>} : tensor<2x4xf32>
  %b = onnx.Constant {value = dense<0.0> : tensor<4x2xf32>} : tensor<4x2xf32>
  %d = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x3x4xf32>
  return %d : tensor<2x3x4xf32>
}
