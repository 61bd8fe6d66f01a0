"""Cases of check_gradients.py --cases: RMSNorm as PyTorch exporters write
it for Llama-style models, x * (1 / sqrt(mean(x^2) + eps)) * w, with
Pow, ReduceMean, Add, Sqrt, Reciprocal or Div, and Mul. No rule of its own:
the element-wise rules and ReduceMean's compose into the gradient."""

CASES = {
    # HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * w, rsqrt written as
    # Reciprocal(Sqrt(.)).
    "decomposed_rms_norm_reciprocal": {
        "args": [("x", "f64", (2, 3, 4)), ("w", "f64", (4,))],
        "body": """
  %two = onnx.Constant {value = dense<2.0> : tensor<f64>} : tensor<f64>
  %axes = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %eps = onnx.Constant {value = dense<1.0e-6> : tensor<f64>} : tensor<f64>
  %sq = onnx.Pow %x, %two : (tensor<2x3x4xf64>, tensor<f64>) -> tensor<2x3x4xf64>
  %ms = onnx.ReduceMean %sq, %axes : (tensor<2x3x4xf64>, tensor<1xi64>) -> tensor<2x3x1xf64>
  %shifted = onnx.Add %ms, %eps : (tensor<2x3x1xf64>, tensor<f64>) -> tensor<2x3x1xf64>
  %root = onnx.Sqrt %shifted : (tensor<2x3x1xf64>) -> tensor<2x3x1xf64>
  %inv = onnx.Reciprocal %root : (tensor<2x3x1xf64>) -> tensor<2x3x1xf64>
  %xhat = onnx.Mul %x, %inv : (tensor<2x3x4xf64>, tensor<2x3x1xf64>) -> tensor<2x3x4xf64>
  %r = onnx.Mul %w, %xhat : (tensor<4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
""",
    },
    # The Div form: x / sqrt(mean(x^2) + eps) * w.
    "decomposed_rms_norm_div": {
        "args": [("x", "f64", (3, 5)), ("w", "f64", (5,))],
        "body": """
  %two = onnx.Constant {value = dense<2.0> : tensor<f64>} : tensor<f64>
  %axes = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %eps = onnx.Constant {value = dense<1.0e-5> : tensor<f64>} : tensor<f64>
  %sq = onnx.Pow %x, %two : (tensor<3x5xf64>, tensor<f64>) -> tensor<3x5xf64>
  %ms = onnx.ReduceMean %sq, %axes : (tensor<3x5xf64>, tensor<1xi64>) -> tensor<3x1xf64>
  %shifted = onnx.Add %ms, %eps : (tensor<3x1xf64>, tensor<f64>) -> tensor<3x1xf64>
  %root = onnx.Sqrt %shifted : (tensor<3x1xf64>) -> tensor<3x1xf64>
  %xhat = onnx.Div %x, %root : (tensor<3x5xf64>, tensor<3x1xf64>) -> tensor<3x5xf64>
  %r = onnx.Mul %xhat, %w : (tensor<3x5xf64>, tensor<5xf64>) -> tensor<3x5xf64>
""",
    },
}
