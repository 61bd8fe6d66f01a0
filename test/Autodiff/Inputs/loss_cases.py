"""Cases of check_gradients.py --cases: SoftmaxCrossEntropyLoss, which ONNX
Runtime runs in float64. Labels (and weights, constants here) get no
gradient; ignore_index -100 is Hugging Face's. Each loss is squared at the
end, so the seed's gradient reaches the rule scaled per element."""

CASES = {
    # The mean over the counted labels: two of five are ignored.
    "sce_mean_ignore_hf": {
        "args": [("x", "f64", (5, 4)),
                 ("labels", "i64", (5,), [1, -100, 3, 0, -100])],
        "body": """
  %none = onnx.NoValue
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %x, %labels, %none {ignore_index = -100 : i64} : (tensor<5x4xf64>, tensor<5xi64>, none) -> (tensor<f64>, tensor<5x4xf64>)
  %r = onnx.Mul %loss, %loss : (tensor<f64>, tensor<f64>) -> tensor<f64>
""",
    },
    # Per-element losses over (N, C, d) with ignored elements.
    "sce_none_extra_dim": {
        "args": [("x", "f64", (2, 4, 3)),
                 ("labels", "i64", (2, 3), [[0, 3, -100], [2, -100, 1]])],
        "body": """
  %none = onnx.NoValue
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %x, %labels, %none {ignore_index = -100 : i64, reduction = "none"} : (tensor<2x4x3xf64>, tensor<2x3xi64>, none) -> (tensor<2x3xf64>, tensor<2x4x3xf64>)
  %r = onnx.Mul %loss, %loss : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
""",
    },
    # Class weights: "mean" divides by the summed weights of the counted
    # labels; int32 labels, class 2 ignored.
    "sce_mean_weights_int32": {
        "args": [("x", "f64", (4, 3)),
                 ("labels", "i32", (4,), [0, 2, 1, 1])],
        "body": """
  %w = onnx.Constant {value = dense<[0.5, 2.0, 1.5]> : tensor<3xf64>} : tensor<3xf64>
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %x, %labels, %w {ignore_index = 2 : i64} : (tensor<4x3xf64>, tensor<4xi32>, tensor<3xf64>) -> (tensor<f64>, tensor<4x3xf64>)
  %r = onnx.Mul %loss, %loss : (tensor<f64>, tensor<f64>) -> tensor<f64>
""",
    },
    "sce_sum_weights": {
        "args": [("x", "f64", (3, 5, 2)),
                 ("labels", "i64", (3, 2), [[4, 0], [1, 1], [3, 2]])],
        "body": """
  %w = onnx.Constant {value = dense<[0.5, 2.0, 1.5, 1.0, 3.0]> : tensor<5xf64>} : tensor<5xf64>
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %x, %labels, %w {reduction = "sum"} : (tensor<3x5x2xf64>, tensor<3x2xi64>, tensor<5xf64>) -> (tensor<f64>, tensor<3x5x2xf64>)
  %r = onnx.Mul %loss, %loss : (tensor<f64>, tensor<f64>) -> tensor<f64>
""",
    },
    # Both results: the loss and log_prob (log_softmax's gradient).
    "sce_loss_and_log_prob": {
        "args": [("x", "f64", (3, 4)),
                 ("labels", "i64", (3,), [2, 0, 3])],
        "body": """
  %none = onnx.NoValue
  %loss, %lp = onnx.SoftmaxCrossEntropyLoss %x, %labels, %none : (tensor<3x4xf64>, tensor<3xi64>, none) -> (tensor<f64>, tensor<3x4xf64>)
  %sq = onnx.Mul %lp, %lp : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  %r = onnx.Add %sq, %loss : (tensor<3x4xf64>, tensor<f64>) -> tensor<3x4xf64>
""",
    },
}
