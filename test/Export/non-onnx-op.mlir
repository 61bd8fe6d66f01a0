// RUN: not qaf-translate --export-onnx %s -o %t.onnx 2>&1 | FileCheck %s
// RUN: not test -e %t.onnx
//
// Only onnx dialect ops have an ONNX form: a graph that still holds another
// op (here a call) is rejected with the op named, and no file is written.
// CHECK: qaf-translate: {{.*}}non-onnx-op.mlir:[[@LINE+6]]:8: error: cannot export 'func.call' to ONNX: only onnx dialect ops can be exported

func.func private @helper(tensor<2xf32>) -> tensor<2xf32>

func.func @main_graph(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = onnx.Relu %x : (tensor<2xf32>) -> tensor<2xf32>
  %1 = func.call @helper(%0) : (tensor<2xf32>) -> tensor<2xf32>
  return %1 : tensor<2xf32>
}
