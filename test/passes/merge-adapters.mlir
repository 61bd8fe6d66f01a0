// qaf-merge-adapters: every adapter becomes a plain qaf.qlinear; what a
// method leaves alone (codes, scales) stays the very same constant. The
// values merged here are the IR's or a checkpoint written by the test
// (merge-adapters-numeric.test checks the merged numbers).
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="report=%t.lota.json" | FileCheck %s --check-prefix=LOTA
// RUN: FileCheck %s --check-prefix=LOTAJSON < %t.lota.json
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qalora rank=4" --qaf-merge-adapters | FileCheck %s --check-prefix=QA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qahira repeat-out=2" --qaf-merge-adapters | FileCheck %s --check-prefix=QA
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=l4q rank=4 bits=3 group-size=16 include=float" --qaf-merge-adapters | FileCheck %s --check-prefix=L4Q
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora rank=4" --qaf-merge-adapters 2>&1 | FileCheck %s --check-prefix=LOSSY
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=qbara rank=4" --qaf-merge-adapters 2>&1 | FileCheck %s --check-prefix=LOSSY
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=lora rank=4" --qaf-merge-adapters="allow-lossy=true report=%t.lora.json" 2>&1 | FileCheck %s --check-prefix=REQUANT
// RUN: FileCheck %s --check-prefix=REQUANTJSON < %t.lora.json
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=qbara rank=4 pool=2" --qaf-merge-adapters="keep-adapters=true" | FileCheck %s --check-prefix=KEEP
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lora" --qaf-merge-adapters="allow-lossy=true keep-adapters=true" 2>&1 | FileCheck %s --check-prefix=BOTH
// RUN: not qaf-opt %t.mlir --qaf-merge-adapters 2>&1 | FileCheck %s --check-prefix=NONE
//
// Checkpoints: missing, of another method, rank or shape, non-finite or
// with a ternary entry out of range are errors naming the tensor.
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="checkpoint=%t.nowhere" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: %python %S/Inputs/write_safetensors.py %t.method.safetensors w.lora_A:F32:8x64:0 w.lora_B:F32:32x8:0
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="checkpoint=%t.method.safetensors" 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: %python %S/Inputs/write_safetensors.py %t.rank.safetensors w.lota_A:I8:4x64:0 w.lota_B:I8:32x4:0
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="checkpoint=%t.rank.safetensors" 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: %python %S/Inputs/write_safetensors.py %t.nan.safetensors w.qalora_A:F32:4x2:nan w.qalora_B:F32:32x4:1
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=qalora rank=4" --qaf-merge-adapters="checkpoint=%t.nan.safetensors" 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: %python %S/Inputs/write_safetensors.py %t.ternary.safetensors w.lota_A:I8:8x64:1 w.lota_B:I8:32x8:2
// RUN: not qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="checkpoint=%t.ternary.safetensors" 2>&1 | FileCheck %s --check-prefix=TERNARY
// The checkpoint's values are what is merged (a step folder works too).
// RUN: rm -rf %t.ckpt && mkdir %t.ckpt && echo step-00000005.safetensors > %t.ckpt/latest
// RUN: %python %S/Inputs/write_safetensors.py %t.ckpt/step-00000005.safetensors w.lota_A:I8:8x64:1 w.lota_B:I8:32x8:1 w.lota_B.state:I8:32x8:0
// RUN: qaf-opt %t.mlir --qaf-attach-adapters="method=lota rank=8" --qaf-merge-adapters="checkpoint=%t.ckpt report=%t.ckpt.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=CKPTJSON < %t.ckpt.json

// LOTA: %[[CODES:.*]] = onnx.Constant {value = dense_resource<w.qcodes> : tensor<32x32xui8>}
// LOTA: %[[SCALES:.*]] = onnx.Constant {value = dense_resource<w.scales> : tensor<32x2xf32>}
// LOTA: %[[ZEROS:.*]] = onnx.Constant {value = dense_resource<w.zero_points{{.*}}> : tensor<32x2xf32>}
// LOTA: qaf.qlinear %arg0, %[[CODES]], %[[SCALES]], %[[ZEROS]] {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>}
// LOTA-NOT: lota
// LOTAJSON: "methods": [
// LOTAJSON-NEXT: "lota"
// LOTAJSON: "layers_merged": 1
// LOTAJSON: "name": "w"
// LOTAJSON: "merge": "codes-and-zero-points"
// LOTAJSON: "codes_moved": 0

// QA: %[[CODES:.*]] = onnx.Constant {value = dense_resource<w.qcodes> : tensor<32x32xui8>}
// QA: %[[SCALES:.*]] = onnx.Constant {value = dense_resource<w.scales> : tensor<32x2xf32>}
// QA: %[[ZEROS:.*]] = onnx.Constant {value = dense_resource<w.zero_points{{.*}}> : tensor<32x2xf32>}
// QA: %[[Y:.*]] = qaf.qlinear %arg0, %[[CODES]], %[[SCALES]], %[[ZEROS]]
// QA-NEXT: onnx.Relu %[[Y]]
// QA-NOT: onnx.Add
// QA-NOT: qaf.qa

// L4Q: qaf.qlinear %arg0
// L4Q-NOT: float.weight :
// L4Q-DAG: %[[CODES:.*]] = onnx.Constant {value = dense_resource<float.weight.qcodes> : tensor<16x12xui8>}
// L4Q-DAG: %[[SCALES:.*]] = onnx.Constant {value = dense_resource<float.weight.scales> : tensor<16x2xf32>}
// L4Q-DAG: %[[ZEROS:.*]] = onnx.Constant {value = dense_resource<float.weight.zero_points> : tensor<16x2xf32>}
// L4Q: qaf.qlinear %{{.*}}, %[[CODES]], %[[SCALES]], %[[ZEROS]] {format = #qaf.qformat<bits = 3, group_size = 16, scheme = sym>}
// L4Q-NOT: l4q

// LOSSY: error: 'qaf.{{lora|qbara}}' op cannot merge into integer codes without loss: its update ΔW is not constant over a quantization group, so no change of codes or zero points expresses it. Pass allow-lossy=true to merge into the float weights and re-quantize (the error is reported), or keep-adapters=true to keep the adapter as two float MatMuls

// REQUANT: remark: qaf-merge-adapters: layer 'w' merged with loss: max relative weight error {{.*}}, mean relative weight error
// REQUANT: remark: qaf-merge-adapters: lossy merge, overall max relative weight error
// REQUANT-NOT: qaf.lora
// REQUANT: qaf.qlinear %arg0
// REQUANT-NOT: onnx.Add
// REQUANTJSON: "merge": "lossy-requantize"
// REQUANTJSON: "max_relative_error":
// REQUANTJSON: "mean_relative_error":
// REQUANTJSON: "lossy_overall": {

// Q-BaRA kept: x · down [64, 8] · up [8, 32] added to the quantized layer.
// KEEP-DAG: %[[DOWN:.*]] = onnx.Constant {value = dense_resource<w.qbara_down> : tensor<64x8xf32>}
// KEEP-DAG: %[[UP:.*]] = onnx.Constant {value = dense_resource<w.qbara_up> : tensor<8x32xf32>}
// KEEP-DAG: %[[Y:.*]] = qaf.qlinear %arg0
// KEEP-DAG: %[[H:.*]] = onnx.MatMul %arg0, %[[DOWN]] : (tensor<?x64xf32>, tensor<64x8xf32>) -> tensor<?x8xf32>
// KEEP-DAG: %[[D:.*]] = onnx.MatMul %[[H]], %[[UP]] : (tensor<?x8xf32>, tensor<8x32xf32>) -> tensor<?x32xf32>
// KEEP: onnx.Add %[[Y]], %[[D]]
// KEEP-NOT: qaf.qbara

// BOTH: error: qaf-merge-adapters: allow-lossy and keep-adapters both given
// NONE: error: qaf-merge-adapters: the model has no adapter to merge
// MISSING: error: qaf-merge-adapters: checkpoint {{.*}}nowhere
// METHOD: error: qaf-merge-adapters: {{.*}}method.safetensors: the checkpoint has tensor 'w.lora_A', which no adapter of this model has: a checkpoint of another model, method or rank
// RANK: error: 'qaf.lota_linear' op cannot be merged: tensor 'w.lota_A' is int8[4, 64] in the checkpoint {{.*}}, but int8[8, 64] in the model: a checkpoint of another method, rank or shape
// NAN: error: 'qaf.qalora' op cannot be merged: tensor 'w.qalora_A' holds nan at element 0
// TERNARY: error: 'qaf.lota_linear' op cannot be merged: B_T entry 0 is 2, not in {-1, 0, 1}
// All entries 1: ΔW = 8 > ω = 6 everywhere, so every code below 15 moves up.
// CKPTJSON: "checkpoint": "{{.*}}ckpt"
// CKPTJSON: "codes_moved": [[MOVED:[1-9][0-9]*]]
// CKPTJSON: "zero_points_moved": 64

func.func @main_graph(%x: tensor<?x64xf32>) -> tensor<?x16xf32> {
  %c = onnx.Constant {value = dense_resource<w.qcodes> : tensor<32x32xui8>} : tensor<32x32xui8> loc("w.qcodes")
  %s = onnx.Constant {value = dense_resource<w.scales> : tensor<32x2xf32>} : tensor<32x2xf32> loc("w.scales")
  %z = onnx.Constant {value = dense<7.0> : tensor<32x2xf32>} : tensor<32x2xf32> loc("w.zero_points")
  %f = onnx.Constant {value = dense_resource<float.weight> : tensor<32x16xf32>} : tensor<32x16xf32> loc("float.weight")
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<32x32xui8>, tensor<32x2xf32>, tensor<32x2xf32>) -> tensor<?x32xf32>
  %r = onnx.Relu %y : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %o = onnx.MatMul %r, %f : (tensor<?x32xf32>, tensor<32x16xf32>) -> tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}
