// qaf-build-training refuses bad options, and an optimizer that cannot
// train a parameter, with an error naming the pass, the option or the
// parameter, before it builds anything.
// RUN: not qaf-opt %s --qaf-build-training="loss=mse" 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: not qaf-opt %s --qaf-build-training="optimizer=sgd" 2>&1 | FileCheck %s --check-prefix=OPTIMIZER
// RUN: not qaf-opt %s --qaf-build-training="schedule=linear" 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: not qaf-opt %s --qaf-build-training="lr=-1" 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not qaf-opt %s --qaf-build-training="lr=nan" 2>&1 | FileCheck %s --check-prefix=LRNAN
// RUN: not qaf-opt %s --qaf-build-training="total-steps=0" 2>&1 | FileCheck %s --check-prefix=TOTAL
// RUN: not qaf-opt %s --qaf-build-training="warmup=20 total-steps=10" 2>&1 | FileCheck %s --check-prefix=WARMUP
// RUN: not qaf-opt %s --qaf-build-training="warmup=-1" 2>&1 | FileCheck %s --check-prefix=WARMUPNEG
// RUN: not qaf-opt %s --qaf-build-training="weight-decay=-0.1" 2>&1 | FileCheck %s --check-prefix=DECAY
// RUN: not qaf-opt %s --qaf-build-training="max-grad-norm=inf" 2>&1 | FileCheck %s --check-prefix=NORM
// RUN: not qaf-opt %s --qaf-build-training="accumulate=0" 2>&1 | FileCheck %s --check-prefix=ACCUMULATE
// RUN: not qaf-opt %s --qaf-build-training="beta1=1" 2>&1 | FileCheck %s --check-prefix=BETA1
// RUN: not qaf-opt %s --qaf-build-training="beta2=-0.5" 2>&1 | FileCheck %s --check-prefix=BETA2
// RUN: not qaf-opt %s --qaf-build-training="eps=0" 2>&1 | FileCheck %s --check-prefix=EPS
// The LoRA factors are float: t-SignSGD trains ternary factors only.
// RUN: not qaf-opt %s --qaf-build-training="optimizer=t-signsgd" 2>&1 | FileCheck %s --check-prefix=TERNARY

// LOSS: error: qaf-build-training: unknown loss 'mse' (causal-lm)
// OPTIMIZER: error: qaf-build-training: unknown optimizer 'sgd' (auto, adamw or t-signsgd)
// SCHEDULE: error: qaf-build-training: unknown schedule 'linear' (constant or cosine)
// LR: error: qaf-build-training: lr=-1: must be a finite number, 0 or above
// LRNAN: error: qaf-build-training: lr=nan: must be a finite number, 0 or above
// TOTAL: error: qaf-build-training: total-steps=0: must be at least 1
// WARMUP: error: qaf-build-training: warmup (20) exceeds total-steps (10)
// WARMUPNEG: error: qaf-build-training: warmup=-1: must be at least 0
// DECAY: error: qaf-build-training: weight-decay=-0.1: must be a finite number, 0 or above
// NORM: error: qaf-build-training: max-grad-norm=inf: must be a finite number, 0 or above
// ACCUMULATE: error: qaf-build-training: accumulate=0: must be at least 1
// BETA1: error: qaf-build-training: beta1=1: must lie in [0, 1)
// BETA2: error: qaf-build-training: beta2=-0.5: must lie in [0, 1)
// EPS: error: qaf-build-training: eps=0: must be a finite number above 0
// TERNARY: error: {{.*}}qaf-build-training: optimizer t-signsgd cannot train parameter 'lora_A' of float type (t-signsgd trains ternary factors, adamw float ones; optimizer=auto picks)

// A LoRA adapter on the embeddings, whose output is the logits [2, 3, 4].
func.func @main_graph(%ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %embed = onnx.Constant {value = dense<[[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2], [1.3, 1.4, 1.5, 1.6]]> : tensor<4x4xf32>} : tensor<4x4xf32> loc("embed")
  %h = onnx.Gather %embed, %ids : (tensor<4x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %a = onnx.Constant {value = dense<[[0.5, -0.5, 0.25, 0.0], [0.1, 0.2, -0.3, 0.4]]> : tensor<2x4xf32>} : tensor<2x4xf32> loc("lora_A")
  %b = onnx.Constant {value = dense<0.0> : tensor<4x2xf32>} : tensor<4x2xf32> loc("lora_B")
  %d = qaf.lora %h, %a, %b {scale = 1.0 : f64} : (tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x3x4xf32>
  %y = onnx.Add %h, %d : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}
