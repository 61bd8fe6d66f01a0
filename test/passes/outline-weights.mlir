// RUN: qaf-opt %s --split-input-file --verify-diagnostics --qaf-outline-weights | FileCheck %s
// RUN: qaf-opt %s --split-input-file --verify-diagnostics --qaf-outline-weights="entry=prefill max-inline-elements=1" | FileCheck %s --check-prefix=OPTIONS

// @main_graph becomes the entry point @infer. Weights (blobs, or constants
// over max-inline-elements, 1024 by default) become its leading arguments
// in program order, each named (location name, else resource key, else
// weight_<index>; repeats get a suffix) and carrying its value for the
// driver to write; small constants stay in the code. The graph's own
// arguments and results keep their attributes.
// CHECK-LABEL: func.func @infer(
// CHECK-SAME: %arg0: tensor<2x2xf32> {qaf.weight_name = "up.weight", qaf.weight_value = dense_resource<up> : tensor<2x2xf32>},
// CHECK-SAME: %arg1: tensor<2x2xf32> {qaf.weight_name = "down", qaf.weight_value = dense_resource<down> : tensor<2x2xf32>},
// CHECK-SAME: %arg2: tensor<2x2xf32> {qaf.weight_name = "up.weight_1", qaf.weight_value = dense_resource<up> : tensor<2x2xf32>},
// CHECK-SAME: %arg3: tensor<?x2xf32> {onnx.name = "x"})
// CHECK-SAME: -> (tensor<?x2xf32> {onnx.name = "y"})
// CHECK-NEXT: %[[SHAPE:.*]] = onnx.Constant {value = dense<[-1, 2]> : tensor<2xi64>}
// CHECK-NEXT: %[[A:.*]] = onnx.MatMul %arg3, %arg0
// CHECK-NEXT: %[[B:.*]] = onnx.MatMul %[[A]], %arg1
// CHECK-NEXT: %[[C:.*]] = onnx.MatMul %[[B]], %arg2
// CHECK-NEXT: %[[D:.*]] = onnx.Reshape %[[C]], %[[SHAPE]]
// CHECK-NEXT: return %[[D]]
// CHECK-NOT: @main_graph

// A lower threshold makes the 2-element shape constant a weight too, named
// by its index; the entry point takes the name given.
// OPTIONS-LABEL: func.func @prefill(
// OPTIONS-SAME: %arg0: tensor<2xi64> {qaf.weight_name = "weight_0", qaf.weight_value = dense<[-1, 2]> : tensor<2xi64>}
// OPTIONS-NOT: onnx.Constant
func.func @main_graph(%x: tensor<?x2xf32> {onnx.name = "x"}) -> (tensor<?x2xf32> {onnx.name = "y"}) {
  %shape = onnx.Constant {value = dense<[-1, 2]> : tensor<2xi64>} : tensor<2xi64>
  %up = onnx.Constant {value = dense_resource<up> : tensor<2x2xf32>} : tensor<2x2xf32> loc("up.weight")
  %a = onnx.MatMul %x, %up : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %down = onnx.Constant {value = dense_resource<down> : tensor<2x2xf32>} : tensor<2x2xf32>
  %b = onnx.MatMul %a, %down : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %again = onnx.Constant {value = dense_resource<up> : tensor<2x2xf32>} : tensor<2x2xf32> loc("up.weight")
  %c = onnx.MatMul %b, %again : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %d = onnx.Reshape %c, %shape : (tensor<?x2xf32>, tensor<2xi64>) -> tensor<?x2xf32>
  return %d : tensor<?x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      up: "0x040000000000803F000000400000404000008040",
      down: "0x040000000000803F000000000000000000008040"
    }
  }
#-}

// -----

// Nothing to compile.
// expected-error @below {{no @main_graph function to compile}}
module {
  func.func @graph(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

// The entry point's name (@infer, or @prefill in the second run) is taken.
// expected-error @below {{the module already has a symbol @}}
module {
  func.func @main_graph(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
  func.func private @infer()
  func.func private @prefill()
}
