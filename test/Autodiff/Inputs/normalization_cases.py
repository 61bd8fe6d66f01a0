"""Cases of check_gradients.py --cases: the normalisations, RotaryEmbedding
and the decomposed RMSNorm that exporters write.

LayerNormalization and SimplifiedLayerNormalization run in float64 in ONNX
Runtime. Their Mean / InvStdDev results are float32 (the stash type, as
ONNX Runtime has no float64 statistics), so the case that differentiates
them takes a larger step and tolerance. The com.microsoft ops run in
float32 only: RotaryEmbedding is linear in its input, so a large step is
exact up to rounding; SkipSimplifiedLayerNormalization takes a float32 step
and tolerance.
"""


def mlir_constant(name, array, element):
    """An onnx.Constant line holding `array` (caches: no gradient)."""
    values = ", ".join(repr(float(v)) for v in array.ravel())
    shape = "x".join(str(d) for d in array.shape)
    type_ = f"tensor<{shape}x{element}>"
    return (f"  %{name} = onnx.Constant {{value = dense<[{values}]> : "
            f"tensor<{array.size}x{element}>}} : tensor<{array.size}x{element}>\n"
            f"  %{name}_shape = onnx.Constant {{value = dense<[{', '.join(str(d) for d in array.shape)}]> : tensor<{array.ndim}xi64>}} : tensor<{array.ndim}xi64>\n"
            f"  %{name}_2d = onnx.Reshape %{name}, %{name}_shape : (tensor<{array.size}x{element}>, tensor<{array.ndim}xi64>) -> {type_}\n")


def rotary_caches(max_seq, half, element):
    """cos/sin of position * 10000^(-i / half), as Llama's."""
    inverse = 10000.0 ** (-np.arange(half) / half)
    angles = np.arange(max_seq)[:, None] * inverse[None, :]
    return (mlir_constant("cos", np.cos(angles), element) +
            mlir_constant("sin", np.sin(angles), element))


CASES = {
    # Over the last two dims; y = x_hat * scale + bias.
    "layer_norm_axis_1": {
        "args": [("x", "f64", (2, 3, 4)), ("s", "f64", (3, 4)),
                 ("b", "f64", (3, 4))],
        "body": """
  %y, %mean, %inv = onnx.LayerNormalization %x, %s, %b {axis = 1 : i64, epsilon = 1.0e-3 : f32} : (tensor<2x3x4xf64>, tensor<3x4xf64>, tensor<3x4xf64>) -> (tensor<2x3x4xf64>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
  %r = onnx.Mul %y, %y : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
""",
    },
    # A scale of size 1 along the normalised dim (broadcast), no bias.
    "layer_norm_broadcast_scale": {
        "args": [("x", "f64", (3, 5)), ("s", "f64", (1,))],
        "body": """
  %none = onnx.NoValue
  %y, %mean, %inv = onnx.LayerNormalization %x, %s, %none : (tensor<3x5xf64>, tensor<1xf64>, none) -> (tensor<3x5xf64>, tensor<3x1xf32>, tensor<3x1xf32>)
  %r = onnx.Mul %y, %x : (tensor<3x5xf64>, tensor<3x5xf64>) -> tensor<3x5xf64>
""",
    },
    # The statistic results alone, float32 in ONNX Runtime (the stash
    # type: it has no float64 statistics): a larger step and tolerance.
    "layer_norm_statistics": {
        "args": [("x", "f64", (2, 4))],
        "body": """
  %s = onnx.Constant {value = dense<[0.5, -1.0, 1.5, 2.0]> : tensor<4xf64>} : tensor<4xf64>
  %none = onnx.NoValue
  %y, %mean, %inv = onnx.LayerNormalization %x, %s, %none : (tensor<2x4xf64>, tensor<4xf64>, none) -> (tensor<2x4xf64>, tensor<2x1xf32>, tensor<2x1xf32>)
  %r = onnx.Mul %mean, %inv : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
""",
        "h": 1e-3, "tol": 2e-3,
    },
    "rms_norm": {
        "args": [("x", "f64", (2, 3, 6)), ("s", "f64", (6,))],
        "body": """
  %y, %inv = onnx.SimplifiedLayerNormalization %x, %s {epsilon = 1.0e-6 : f32} : (tensor<2x3x6xf64>, tensor<6xf64>) -> (tensor<2x3x6xf64>, tensor<2x3x1xf32>)
  %r = onnx.Mul %y, %x : (tensor<2x3x6xf64>, tensor<2x3x6xf64>) -> tensor<2x3x6xf64>
""",
    },
    "rms_norm_statistics": {
        "args": [("x", "f64", (3, 4))],
        "body": """
  %s = onnx.Constant {value = dense<[0.5, -1.0, 1.5, 2.0]> : tensor<4xf64>} : tensor<4xf64>
  %y, %inv = onnx.SimplifiedLayerNormalization %x, %s : (tensor<3x4xf64>, tensor<4xf64>) -> (tensor<3x4xf64>, tensor<3x1xf32>)
  %r = onnx.Mul %inv, %inv : (tensor<3x1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
""",
        "h": 1e-3, "tol": 2e-3,
    },
    # Input (batch, seq, hidden) with a (seq, hidden) skip and a bias; the
    # residual sum is used too. float32.
    "skip_rms_norm": {
        "args": [("x", "f32", (2, 3, 4)), ("k", "f32", (3, 4)),
                 ("s", "f32", (4,)), ("b", "f32", (4,))],
        "body": """
  %y, %mean, %inv, %sum = onnx.com.microsoft.SkipSimplifiedLayerNormalization %x, %k, %s, %b : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>, tensor<2x3x4xf32>)
  %r = onnx.Add %y, %sum : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
""",
        "h": 1e-2, "tol": 1e-2,
    },
    # (batch, seq, hidden) with 2 heads of 4, positions per token; float32
    # and linear in x, so the step is large.
    "rotary_half_split": {
        "args": [("x", "f32", (2, 3, 8)),
                 ("p", "i64", (2, 3), [[0, 1, 2], [3, 4, 5]])],
        "body": rotary_caches(6, 2, "f32") + """
  %r = onnx.com.microsoft.RotaryEmbedding %x, %p, %cos_2d, %sin_2d {num_heads = 2 : i64} : (tensor<2x3x8xf32>, tensor<2x3xi64>, tensor<6x2xf32>, tensor<6x2xf32>) -> tensor<2x3x8xf32>
""",
        "h": 0.5, "tol": 1e-4,
    },
    # (batch, heads, seq, head) interleaved, a partial rotary dim (4 of 6)
    # and one position offset.
    "rotary_interleaved_partial": {
        "args": [("x", "f32", (1, 2, 3, 6)), ("p", "i64", (1,), [2])],
        "body": rotary_caches(8, 2, "f32") + """
  %r = onnx.com.microsoft.RotaryEmbedding %x, %p, %cos_2d, %sin_2d {interleaved = 1 : i64, num_heads = 2 : i64, rotary_embedding_dim = 4 : i64} : (tensor<1x2x3x6xf32>, tensor<1xi64>, tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<1x2x3x6xf32>
""",
        "h": 0.5, "tol": 1e-4,
    },
}
