// The weights' values are random blobs appended at test time.
// RUN: %python %S/Inputs/append_blobs.py %s > %t.mlir
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=32" | FileCheck %s
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=3 group-size=32 scheme=sym include=head" | FileCheck %s --check-prefix=INCLUDE
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=32 scheme=nf exclude=up" | FileCheck %s --check-prefix=NF
// RUN: qaf-opt %t.mlir --mlir-print-op-on-diagnostic=false --qaf-quantize-weights="bits=4 group-size=32 report-errors=1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="bits=4 group-size=48" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="scheme=fancy" 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="bits=5" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="group-size=0" 2>&1 | FileCheck %s --check-prefix=GROUPZERO
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="group-size=-8" 2>&1 | FileCheck %s --check-prefix=GROUPNEG
// RUN: not qaf-opt %t.mlir --qaf-quantize-weights="bits=3 scheme=nf include=nothing" 2>&1 | FileCheck %s --check-prefix=NFBITS
// Options are checked even when no layer is chosen; choosing none warns.
// RUN: qaf-opt %t.mlir --qaf-quantize-weights="include=nothing exclude=up" -o %t.none.mlir 2>&1 | FileCheck %s --check-prefix=NOLAYER
// RUN: FileCheck %s --check-prefix=UNCHANGED < %t.none.mlir

// A decoder-like graph: two hidden layers (one a Gemm with a bias), an
// embedding table and an output head. By default the hidden layers are
// quantized; the head (its result is returned) and the embedding stay float.

// CHECK-LABEL: func.func @main_graph
// CHECK-DAG: onnx.Constant {value = dense_resource<embed.weight> : tensor<10x64xf32>}
// CHECK-DAG: onnx.Constant {value = dense_resource<head.weight> : tensor<64x10xf32>}
// CHECK: %[[X:.*]] = onnx.Gather
// CHECK-DAG: %[[UPC:.*]] = onnx.Constant {value = dense_resource<up.weight.qcodes> : tensor<32x32xui8>}
// CHECK-DAG: %[[UPS:.*]] = onnx.Constant {value = dense_resource<up.weight.scales> : tensor<32x2xf32>}
// CHECK-DAG: %[[UPZ:.*]] = onnx.Constant {value = dense_resource<up.weight.zero_points> : tensor<32x2xf32>}
// CHECK: %[[UP:.*]] = qaf.qlinear %[[X]], %[[UPC]], %[[UPS]], %[[UPZ]] {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x64xf32>, tensor<32x32xui8>, tensor<32x2xf32>, tensor<32x2xf32>) -> tensor<?x32xf32>
// CHECK: %[[DNC:.*]] = onnx.Constant {value = dense_resource<down.weight.qcodes> : tensor<64x16xui8>}
// CHECK: %[[DOWN:.*]] = qaf.qlinear %{{.*}}, %[[DNC]], {{.*}} -> tensor<?x64xf32>
// CHECK: onnx.Add %[[DOWN]], %{{.*}} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK: onnx.MatMul %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<64x10xf32>) -> tensor<?x10xf32>
// CHECK-NOT: up.weight"
// CHECK-NOT: dense_resource<down.weight>

// `include` picks layers by name, the head too; 3-bit sym codes pack 64
// features into 24 bytes.
// INCLUDE: qaf.qlinear {{.*}} {format = #qaf.qformat<bits = 3, group_size = 32, scheme = sym>} : (tensor<?x64xf32>, tensor<10x24xui8>, tensor<10x2xf32>, tensor<10x2xf32>) -> tensor<?x10xf32>
// INCLUDE-NOT: qaf.qlinear

// nf has no zero points; `exclude` keeps `up` float.
// NF: onnx.MatMul %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<64x32xf32>)
// NF: qaf.qlinear %{{.*}}, %{{.*}}, %{{.*}} {format = #qaf.qformat<bits = 4, group_size = 32, scheme = nf>} : (tensor<?x32xf32>, tensor<64x16xui8>, tensor<64x1xf32>) -> tensor<?x64xf32>

// report-errors: one remark per layer and one for the model. Uniform
// weights in [-1, 1] at 4 bits: about (2/15)/sqrt(12) / (1/sqrt(3)) = 0.067.
// REPORT: remark: weight 'up.weight': relative RMS error {{[4-9]\.[0-9]+e-02}}
// REPORT: remark: weight 'down.weight': relative RMS error {{[4-9]\.[0-9]+e-02}}
// REPORT: remark: quantized 2 layers: relative RMS error {{[4-9]\.[0-9]+e-02}}

// GROUP: error: cannot quantize weight 'up.weight' (64 x 32): group size 48 does not divide the input dimension 64
// SCHEME: error: qaf-quantize-weights: unknown scheme 'fancy' (asym, sym or nf)
// BITS: error: qaf-quantize-weights: bits=5 group-size=64: bits must be 2, 3, 4 or 8, not 5
// GROUPZERO: error: qaf-quantize-weights: bits=4 group-size=0: group size 0 is not positive
// GROUPNEG: error: qaf-quantize-weights: bits=4 group-size=-8: group size -8 is not positive
// NFBITS: error: qaf-quantize-weights: bits=3 group-size=64: NormalFloat needs 2 or 4 bits, not 3
// NOLAYER: warning: qaf-quantize-weights: no linear layer matches (include='nothing', exclude='up'): the model is unchanged
// UNCHANGED-NOT: qaf.qlinear

func.func @main_graph(%ids: tensor<?xi64>) -> tensor<?x10xf32> {
  %embed = onnx.Constant {value = dense_resource<embed.weight> : tensor<10x64xf32>} : tensor<10x64xf32> loc("embed.weight")
  %up = onnx.Constant {value = dense_resource<up.weight> : tensor<64x32xf32>} : tensor<64x32xf32> loc("up.weight")
  %down = onnx.Constant {value = dense_resource<down.weight> : tensor<64x32xf32>} : tensor<64x32xf32> loc("down.weight")
  %bias = onnx.Constant {value = dense<0.5> : tensor<64xf32>} : tensor<64xf32>
  %head = onnx.Constant {value = dense_resource<head.weight> : tensor<64x10xf32>} : tensor<64x10xf32> loc("head.weight")
  %x = onnx.Gather %embed, %ids {axis = 0 : i64} : (tensor<10x64xf32>, tensor<?xi64>) -> tensor<?x64xf32>
  %h = onnx.MatMul %x, %up : (tensor<?x64xf32>, tensor<64x32xf32>) -> tensor<?x32xf32>
  %a = onnx.Relu %h : (tensor<?x32xf32>) -> tensor<?x32xf32>
  %d = onnx.Gemm %a, %down, %bias {transB = 1 : i64} : (tensor<?x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %logits = onnx.MatMul %d, %head : (tensor<?x64xf32>, tensor<64x10xf32>) -> tensor<?x10xf32>
  return %logits : tensor<?x10xf32>
}

