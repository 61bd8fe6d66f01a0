// Layers that feed each other directly (y = (x · W1) · W2, no op between):
// rewriting the first replaces the value the second reads, which every
// linear-layer pass must follow (it once read the erased MatMul's result).
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=32 include=w" | FileCheck %s --check-prefix=QUANT
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=32 include=w" --qaf-attach-adapters="method=lora rank=2 include=w" | FileCheck %s --check-prefix=LORA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=l4q rank=2 bits=4 group-size=32 include=w" | FileCheck %s --check-prefix=L4Q
// RUN: qaf-opt %t.mlir --qaf-loftq-init="rank=2 iters=1 group-size=32 include=w" | FileCheck %s --check-prefix=LOFTQ

// QUANT: %[[H:.*]] = qaf.qlinear %arg0, {{.*}} -> tensor<?x64xf32>
// QUANT: qaf.qlinear %[[H]], {{.*}} -> tensor<?x32xf32>
// QUANT-NOT: onnx.MatMul

// LORA-DAG: %[[Q1:.*]] = qaf.qlinear %arg0,
// LORA-DAG: %[[D1:.*]] = qaf.lora %arg0,
// LORA: %[[H:.*]] = onnx.Add %[[Q1]], %[[D1]]
// LORA-DAG: qaf.qlinear %[[H]],
// LORA-DAG: qaf.lora %[[H]],

// L4Q: %[[H:.*]] = qaf.l4q_linear %arg0, {{.*}} -> tensor<?x64xf32>
// L4Q: qaf.l4q_linear %[[H]], {{.*}} -> tensor<?x32xf32>

// LOFTQ-DAG: %[[Q1:.*]] = qaf.qlinear %arg0,
// LOFTQ-DAG: %[[D1:.*]] = qaf.lora %arg0,
// LOFTQ: %[[H:.*]] = onnx.Add %[[Q1]], %[[D1]]
// LOFTQ-DAG: qaf.qlinear %[[H]],
// LOFTQ-DAG: qaf.lora %[[H]],

func.func @main_graph(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %w1 = onnx.Constant {value = dense_resource<w1> : tensor<32x64xf32>} : tensor<32x64xf32> loc("w1")
  %w2 = onnx.Constant {value = dense_resource<w2> : tensor<64x32xf32>} : tensor<64x32xf32> loc("w2")
  %h = onnx.MatMul %x, %w1 : (tensor<?x32xf32>, tensor<32x64xf32>) -> tensor<?x64xf32>
  %y = onnx.MatMul %h, %w2 : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
