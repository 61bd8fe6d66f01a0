// A graph whose second op cannot be exported; its first is a weight that
// goes to external data.
module {
  func.func private @other(tensor<512xf32>) -> tensor<512xf32>
  func.func @main_graph() -> tensor<512xf32> {
    %0 = onnx.Constant {value = dense<1.0> : tensor<512xf32>} : tensor<512xf32>
    %1 = func.call @other(%0) : (tensor<512xf32>) -> tensor<512xf32>
    return %1 : tensor<512xf32>
  }
}
