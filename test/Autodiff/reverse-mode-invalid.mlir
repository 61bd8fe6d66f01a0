// RUN: not qaf-opt --qaf-test-gradients %s 2>&1 | FileCheck %s

// An op without a rule between the result and an argument is an error that
// names the op and the ONNX node the importer located it at (a NameLoc in
// the model file).
// CHECK: model.onnx:0:0: error: no gradient rule for 'onnx.Cos' (ONNX node '/model/layers.0/Cos'), which lies between the loss and a value it is differentiated with respect to
func.func @no_rule_on_path(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = onnx.Cos %x : (tensor<3xf32>) -> tensor<3xf32> loc("/model/layers.0/Cos"("model.onnx":0:0))
  %1 = onnx.Neg %0 : (tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
