// Fractional zero points (what merged adapters leave): auto keeps them as
// floats; --zero-points=uint8 refuses them, naming the weight, and writes
// nothing.
// RUN: qaf-translate --export-onnx %s -o %t.auto.onnx
// RUN: %python %S/Inputs/describe_onnx.py %t.auto.onnx | FileCheck %s --check-prefix=AUTO
// RUN: not qaf-translate --export-onnx %s --zero-points=uint8 -o %t.uint8.onnx 2>&1 | FileCheck %s --check-prefix=UINT8
// RUN: not test -e %t.uint8.onnx

// AUTO: initializer w.zero_points: FLOAT [2] raw_data = [3.0, 5.25]
// AUTO: com.microsoft.MatMulNBits(input_0, w.qcodes, w.scales, w.zero_points) -> (output_0)
// UINT8: zero-points-fractional.mlir:[[@LINE+6]]:8: error: 'qaf.qlinear' op cannot be exported as 4-bit MatMulNBits: zero point 5.250000e+00 of row 1, group 0 of 'w' is not an integer in [0, 15] (uint8 zero points were asked for; fractional ones, which merges leave, need zero-points=auto or float)

func.func @main_graph(%x: tensor<?x32xf32>) -> tensor<?x2xf32> {
  %c = onnx.Constant {value = dense<17> : tensor<2x16xui8>} : tensor<2x16xui8> loc("w.qcodes")
  %s = onnx.Constant {value = dense<0.5> : tensor<2x1xf32>} : tensor<2x1xf32> loc("w.scales")
  %z = onnx.Constant {value = dense<[[3.0], [5.25]]> : tensor<2x1xf32>} : tensor<2x1xf32> loc("w.zero_points")
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x32xf32>, tensor<2x16xui8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
