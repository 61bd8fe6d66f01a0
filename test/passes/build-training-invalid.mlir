// qaf-build-training refuses models it cannot train: no adapter, no logits,
// no forward function.
// RUN: not qaf-opt %s --split-input-file --qaf-build-training 2>&1 | FileCheck %s

// CHECK: error: qaf-build-training: the model has no trainable parameters (attach adapters first: qaf-attach-adapters)
func.func @main_graph(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %embed = onnx.Constant {value = dense<0.5> : tensor<4x4xf32>} : tensor<4x4xf32>
  %h = onnx.Gather %embed, %ids : (tensor<4x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %h : tensor<2x3x4xf32>
}

// -----

// CHECK: error: qaf-build-training: the first result must be the logits, f32 [batch, sequence, vocabulary] with a static vocabulary, not 'tensor<6x4xf32>'
func.func @main_graph(%x: tensor<6x4xf32>) -> tensor<6x4xf32> {
  %a = onnx.Constant {value = dense<0.5> : tensor<2x4xf32>} : tensor<2x4xf32>
  %b = onnx.Constant {value = dense<0.0> : tensor<4x2xf32>} : tensor<4x2xf32>
  %d = qaf.lora %x, %a, %b {scale = 1.0 : f64} : (tensor<6x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<6x4xf32>
  return %d : tensor<6x4xf32>
}

// -----

// CHECK: error: qaf-build-training: no @main_graph function (one block) to train
func.func @forward(%x: tensor<6x4xf32>) -> tensor<6x4xf32> {
  return %x : tensor<6x4xf32>
}
