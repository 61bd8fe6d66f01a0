// RUN: qaf-opt %s --qaf-select-int8-activations | FileCheck %s --check-prefix=FILE
// RUN: qaf-opt %s --qaf-select-int8-activations="layers=all" | FileCheck %s --check-prefix=ALL
// RUN: qaf-opt %s --qaf-select-int8-activations --qaf-convert-onnx-to-linalg | FileCheck %s --check-prefix=KERNEL
// RUN: qaf-opt %s --qaf-select-int8-activations --qaf-convert-onnx-to-linalg --qaf-decompose-kernel-ops | FileCheck %s --check-prefix=REF
// RUN: not qaf-opt %s --qaf-select-int8-activations="layers=some" 2>&1 | FileCheck %s --check-prefix=BAD

// A layer raised from a MatMulNBits with accuracy_level 4 (ONNX Runtime
// rounds its activations to int8) is marked with layers=file; one at level
// 0 and one of qaf's own are not. layers=all marks all three.
// FILE-LABEL: func.func @layers
// FILE: qaf.qlinear {{.*}} {format = {{.*}}, qaf.int8_activations, qaf.ort_accuracy_level = 4 : i64}
// FILE: qaf.qlinear {{.*}} {format = {{.*}}, qaf.ort_accuracy_level = 0 : i64}
// FILE: qaf.qlinear {{.*}} {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>}
// ALL-COUNT-3: qaf.int8_activations
// The marked layer's kernel op rounds x to int8 (the CPU's
// qaf_qlinear_int8); the others compute the exact product; decomposed for
// a target without the kernel, every layer is the exact contraction.
// KERNEL-LABEL: func.func @layers
// KERNEL: qaf.kernel.qlinear {{.*}} int8_activations
// KERNEL: qaf.kernel.qlinear
// KERNEL-NOT: int8_activations
// KERNEL: return
// REF-NOT: qaf.kernel
// REF-NOT: int8
// BAD: error: qaf-select-int8-activations: unknown layers 'some' (file or all)
func.func @layers(%x: tensor<?x128xf32>, %codes: tensor<8x64xui8>, %s: tensor<8x2xf32>, %z: tensor<8x2xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %a = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, qaf.ort_accuracy_level = 4 : i64} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  %b = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>, qaf.ort_accuracy_level = 0 : i64} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  %c = qaf.qlinear %x, %codes, %s, %z {format = #qaf.qformat<bits = 4, group_size = 64, scheme = asym>} : (tensor<?x128xf32>, tensor<8x64xui8>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<?x8xf32>
  return %a, %b, %c : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
