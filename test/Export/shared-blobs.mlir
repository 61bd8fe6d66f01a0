// RUN: qaf-translate --export-onnx %s -o %t.onnx
// RUN: %python %S/Inputs/describe_onnx.py %t.onnx | FileCheck %s
// RUN: %python -c "import onnxruntime as ort, numpy as np, sys; s = ort.InferenceSession(sys.argv[1]); print(s.run(None, {'input_0': np.zeros((2, 4), np.float32), 'input_1': np.ones(8, np.float32)})[1].tolist())" %t.onnx | FileCheck %s --check-prefix=ORT
//
// Constants of one blob (a tied table's codes, read by GatherBlockQuantized
// as [V, H·b/8] and by MatMulNBits as [V, blocks, bytes]) are written once:
// the same shape is the same initializer, another shape a Reshape of it.
// CHECK: initializer a: FLOAT [2, 4] raw_data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
// CHECK-NEXT: initializer b_shape: INT64 [1] typed_data = [8]
// CHECK-NOT: initializer
// CHECK: node b_reshape: Reshape(a, b_shape) -> (b)
// CHECK: Add(input_0, a)
// CHECK: Add(input_1, b)
// CHECK: Mul(input_0, a)
// ORT: [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]

func.func @main_graph(%x: tensor<2x4xf32>, %v: tensor<8xf32>) -> (tensor<2x4xf32>, tensor<8xf32>, tensor<2x4xf32>) {
  %a = onnx.Constant {value = dense_resource<w> : tensor<2x4xf32>} : tensor<2x4xf32> loc("a")
  %b = onnx.Constant {value = dense_resource<w> : tensor<8xf32>} : tensor<8xf32> loc("b")
  %c = onnx.Constant {value = dense_resource<w> : tensor<2x4xf32>} : tensor<2x4xf32> loc("c")
  %0 = onnx.Add %x, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = onnx.Add %v, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %2 = onnx.Mul %x, %c : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<8xf32>, tensor<2x4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
    }
  }
#-}
