"""Cases of check_gradients.py --cases: the causal-LM loss as
buildCausalLMLoss writes it (causal-lm-loss.mlir pins those ops): Slice of
the logits and labels, Transpose to (B, V, T - 1), SoftmaxCrossEntropyLoss
with ignore_index -100, in float64."""

CASES = {
    "causal_lm_loss_mean": {
        "args": [("logits", "f64", (2, 4, 5)),
                 ("labels", "i64", (2, 4), [[3, 1, -100, 4], [0, 2, 2, -100]])],
        "body": """
  %axis = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %none = onnx.NoValue
  %zero = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %last = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %pred = onnx.Slice %logits, %zero, %last, %axis, %none : (tensor<2x4x5xf64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<2x3x5xf64>
  %one = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %next = onnx.Slice %labels, %one, %end, %axis, %none : (tensor<2x4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, none) -> tensor<2x3xi64>
  %scores = onnx.Transpose %pred {perm = array<i64: 0, 2, 1>} : (tensor<2x3x5xf64>) -> tensor<2x5x3xf64>
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %scores, %next, %none {ignore_index = -100 : i64} : (tensor<2x5x3xf64>, tensor<2x3xi64>, none) -> (tensor<f64>, tensor<2x5x3xf64>)
  %r = onnx.Mul %loss, %loss : (tensor<f64>, tensor<f64>) -> tensor<f64>
""",
    },
}
