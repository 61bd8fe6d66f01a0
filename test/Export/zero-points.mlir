// qaf-translate --zero-points: how MatMulNBits gets a layer's zero points.
// RUN: qaf-translate --export-onnx %s -o %t.auto.onnx
// RUN: %python %S/Inputs/describe_onnx.py %t.auto.onnx | FileCheck %s --check-prefix=AUTO
// RUN: qaf-translate --export-onnx %s --zero-points=uint8 -o %t.uint8.onnx
// RUN: %python %S/Inputs/describe_onnx.py %t.uint8.onnx | FileCheck %s --check-prefix=AUTO
// RUN: qaf-translate --export-onnx %s --zero-points=float -o %t.float.onnx
// RUN: %python %S/Inputs/describe_onnx.py %t.float.onnx | FileCheck %s --check-prefix=FLOAT
// RUN: not qaf-translate --export-onnx %s --zero-points=int4 -o %t.bad.onnx 2>&1 | FileCheck %s --check-prefix=BAD

// Integer zero points 3 and 5 (one group per row): packed uint8 codes, one
// byte per row (auto and uint8 alike), or the floats.
// AUTO: initializer w.zero_points_u8: UINT8 [2, 1] raw_data = [3, 5]
// AUTO: com.microsoft.MatMulNBits(input_0, w.qcodes, w.scales, w.zero_points_u8) -> (output_0) {K = 32, N = 2, bits = 4, block_size = 32}
// FLOAT: initializer w.zero_points: FLOAT [2] raw_data = [3.0, 5.0]
// FLOAT: com.microsoft.MatMulNBits(input_0, w.qcodes, w.scales, w.zero_points) -> (output_0)
// BAD: error: qaf-lower-qlinear-to-onnx: unknown zero-points form 'int4' (auto, uint8 or float)

func.func @main_graph(%x: tensor<?x32xf32>) -> tensor<?x2xf32> {
  %c = onnx.Constant {value = dense<17> : tensor<2x16xui8>} : tensor<2x16xui8> loc("w.qcodes")
  %s = onnx.Constant {value = dense<0.5> : tensor<2x1xf32>} : tensor<2x1xf32> loc("w.scales")
  %z = onnx.Constant {value = dense<[[3.0], [5.0]]> : tensor<2x1xf32>} : tensor<2x1xf32> loc("w.zero_points")
  %y = qaf.qlinear %x, %c, %s, %z {format = #qaf.qformat<bits = 4, group_size = 32, scheme = asym>} : (tensor<?x32xf32>, tensor<2x16xui8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
