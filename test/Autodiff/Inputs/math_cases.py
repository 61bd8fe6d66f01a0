"""Cases of the math rules (ONNXGradientsMath.cpp) for check_gradients.py
--cases: MatMul, Gemm, Pow, Erf, Gelu, Log, Abs, Relu, Max/Min, Clip, Cast,
Identity, the reductions, Softmax/LogSoftmax and SiLU as exporters write it.
Bodies are f64 (f32 where ONNX Runtime has no f64 kernel); `?` dims are dynamic and get their size from `inputs`.
Arguments are uniform in +-[1, 2] unless `inputs` says otherwise (check_
gradients.py's `normalize` describes the form).
"""


def f64(name, shape):
    return (name, "f64", shape)


def uniform(low, high, **shapes):
    """Inputs uniform in [low, high) of the given shapes."""
    return lambda rng: {name: rng.uniform(low, high, shape)
                        for name, shape in shapes.items()}


# For float32 cases: a step whose rounding error (~1e-7 / step) and
# truncation error (~step^2) both stay far below the tolerance.
F32_STEP = 3e-3
F32_TOLERANCE = 5e-3


def float32_unary(op, shape, low, high):
    """`op` of a float32 x uniform in [low, high): ONNX Runtime has no
    float64 Erf (which exact Gelu and its derivative use)."""
    tensor = "tensor<" + "x".join(map(str, shape)) + "xf32>"
    return {"args": [("x", "f32", shape)],
            "inputs": uniform(low, high, x=shape),
            "h": F32_STEP, "tol": F32_TOLERANCE,
            "body": f"""
  %r = onnx.{op} %x : ({tensor}) -> {tensor}
"""}


CASES = {
    # --- MatMul: NumPy rules ---------------------------------------------
    "matmul_2d": ([(3, 4), (4, 5)], """
  %r = onnx.MatMul %x, %y : (tensor<3x4xf64>, tensor<4x5xf64>) -> tensor<3x5xf64>
"""),
    # x is broadcast along dim 1, y along the leading dim it lacks.
    "matmul_batch_broadcast": ([(2, 1, 3, 4), (5, 4, 6)], """
  %r = onnx.MatMul %x, %y : (tensor<2x1x3x4xf64>, tensor<5x4x6xf64>) -> tensor<2x5x3x6xf64>
"""),
    # A 1-D left operand is a row vector whose dim the result drops.
    "matmul_vector_matrix": ([(4,), (2, 4, 3)], """
  %r = onnx.MatMul %x, %y : (tensor<4xf64>, tensor<2x4x3xf64>) -> tensor<2x3xf64>
"""),
    "matmul_matrix_vector": ([(2, 3, 4), (4,)], """
  %r = onnx.MatMul %x, %y : (tensor<2x3x4xf64>, tensor<4xf64>) -> tensor<2x3xf64>
"""),
    "matmul_dot": ([(4,), (4,)], """
  %r = onnx.MatMul %x, %y : (tensor<4xf64>, tensor<4xf64>) -> tensor<f64>
"""),
    # Dynamic batch and row dims; y's missing batch dim is summed over.
    "matmul_dynamic": {
        "args": [f64("x", ("?", "?", 4)), f64("y", (4, 3))],
        "inputs": uniform(-2.0, 2.0, x=(2, 3, 4), y=(4, 3)),
        "body": """
  %r = onnx.MatMul %x, %y : (tensor<?x?x4xf64>, tensor<4x3xf64>) -> tensor<?x?x3xf64>
"""},

    # --- Gemm: transposes, alpha, beta, C broadcast -----------------------
    "gemm_row_bias": {
        "args": [f64("a", (3, 4)), f64("b", (4, 5)), f64("c", (5,))],
        "body": """
  %r = onnx.Gemm %a, %b, %c {alpha = 0.5 : f32, beta = 2.0 : f32} : (tensor<3x4xf64>, tensor<4x5xf64>, tensor<5xf64>) -> tensor<3x5xf64>
"""},
    "gemm_trans_a_column_bias": {
        "args": [f64("a", (4, 3)), f64("b", (4, 5)), f64("c", (3, 1))],
        "body": """
  %r = onnx.Gemm %a, %b, %c {transA = 1 : i64, beta = -1.5 : f32} : (tensor<4x3xf64>, tensor<4x5xf64>, tensor<3x1xf64>) -> tensor<3x5xf64>
"""},
    "gemm_trans_b_full_bias": {
        "args": [f64("a", (3, 4)), f64("b", (5, 4)), f64("c", (3, 5))],
        "body": """
  %r = onnx.Gemm %a, %b, %c {transB = 1 : i64, alpha = 1.25 : f32} : (tensor<3x4xf64>, tensor<5x4xf64>, tensor<3x5xf64>) -> tensor<3x5xf64>
"""},
    "gemm_trans_both_scalar_bias": {
        "args": [f64("a", (4, 3)), f64("b", (5, 4)), f64("c", ())],
        "body": """
  %r = onnx.Gemm %a, %b, %c {transA = 1 : i64, transB = 1 : i64, alpha = -0.75 : f32, beta = 0.5 : f32} : (tensor<4x3xf64>, tensor<5x4xf64>, tensor<f64>) -> tensor<3x5xf64>
"""},
    "gemm_no_bias": {
        "args": [f64("a", (3, 4)), f64("b", (4, 2))],
        "body": """
  %n = onnx.NoValue
  %r = onnx.Gemm %a, %b, %n : (tensor<3x4xf64>, tensor<4x2xf64>, none) -> tensor<3x2xf64>
"""},
    "gemm_dynamic_rows": {
        "args": [f64("a", ("?", 4)), f64("b", (4, 5)), f64("c", (1, 5))],
        "inputs": uniform(-2.0, 2.0, a=(3, 4), b=(4, 5), c=(1, 5)),
        "body": """
  %r = onnx.Gemm %a, %b, %c {transB = 0 : i64} : (tensor<?x4xf64>, tensor<4x5xf64>, tensor<1x5xf64>) -> tensor<?x5xf64>
"""},

    # --- Element-wise functions --------------------------------------------
    # Both operands, the exponent broadcast; a positive base so that every
    # power is real and the exponent's gradient is Z log X.
    "pow_both_operands": {
        "args": [f64("x", (2, 3)), f64("y", (3,))],
        "inputs": lambda rng: {"x": rng.uniform(0.5, 2.0, (2, 3)),
                               "y": rng.uniform(-1.5, 2.5, (3,))},
        "body": """
  %r = onnx.Pow %x, %y : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
"""},
    # Negative bases: integer powers from a constant and from an i64 input
    # (the exponent of another element type).
    "pow_negative_base": {
        "args": [f64("x", (2, 3)), ("k", "i64", (3,), [3, 2, -1])],
        "body": """
  %e = onnx.Constant {value = dense<[2.0, -2.0, 3.0]> : tensor<3xf64>} : tensor<3xf64>
  %0 = onnx.Pow %x, %e : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
  %1 = onnx.Pow %x, %k : (tensor<2x3xf64>, tensor<3xi64>) -> tensor<2x3xf64>
  %r = onnx.Add %0, %1 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
"""},
    # A float32 exponent of a float64 base: its gradient is cast back
    # (float32's step and tolerance, as the exponent is perturbed in it).
    "pow_float32_exponent": {
        "args": [f64("x", (2, 3)), ("y", "f32", (2, 1))],
        "inputs": lambda rng: {"x": rng.uniform(0.5, 2.0, (2, 3)),
                               "y": rng.uniform(-1.5, 2.5, (2, 1))},
        "h": F32_STEP, "tol": F32_TOLERANCE,
        "body": """
  %r = onnx.Pow %x, %y : (tensor<2x3xf64>, tensor<2x1xf32>) -> tensor<2x3xf64>
"""},
    "erf": float32_unary("Erf", (2, 3), -2.0, 2.0),
    "gelu_exact": float32_unary("Gelu", (2, 4), -3.0, 3.0),
    "gelu_tanh": {
        "args": [f64("x", (2, 4))],
        "inputs": uniform(-3.0, 3.0, x=(2, 4)),
        "body": """
  %r = onnx.Gelu %x {approximate = "tanh"} : (tensor<2x4xf64>) -> tensor<2x4xf64>
"""},
    "log": {
        "args": [f64("x", (2, 3))],
        "inputs": uniform(0.25, 3.0, x=(2, 3)),
        "body": """
  %r = onnx.Log %x : (tensor<2x3xf64>) -> tensor<2x3xf64>
"""},
    # Abs and Relu of values on both sides of 0 (kept away from it).
    "abs_relu": ([(2, 3), (2, 3)], """
  %0 = onnx.Abs %x : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %1 = onnx.Relu %y : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Mul %0, %1 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
"""),
    # Two operands broadcast against each other.
    "max_min_broadcast": ([(2, 3), (3,)], """
  %0 = onnx.Max %x, %y : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
  %1 = onnx.Min %x, %y : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
  %2 = onnx.Mul %1, %1 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Add %0, %2 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
"""),
    "max_three_operands": {
        "args": [f64("x", (2, 3)), f64("y", (2, 1)), f64("z", (3,))],
        "body": """
  %r = onnx.Max %x, %y, %z : (tensor<2x3xf64>, tensor<2x1xf64>, tensor<3xf64>) -> tensor<2x3xf64>
"""},
    # Both bounds are inputs and get the gradient of the elements they clip.
    "clip_both_bounds": {
        "args": [f64("x", (3, 4)), f64("lo", ()), f64("hi", ())],
        "inputs": lambda rng: {"x": rng.uniform(-2.0, 2.0, (3, 4)),
                               "lo": -0.7, "hi": 0.9},
        "body": """
  %r = onnx.Clip %x, %lo, %hi : (tensor<3x4xf64>, tensor<f64>, tensor<f64>) -> tensor<3x4xf64>
"""},
    "clip_min_only": {
        "args": [f64("x", (3, 4)), f64("lo", ())],
        "inputs": lambda rng: {"x": rng.uniform(-2.0, 2.0, (3, 4)),
                               "lo": 0.3},
        "body": """
  %n = onnx.NoValue
  %r = onnx.Clip %x, %lo, %n : (tensor<3x4xf64>, tensor<f64>, none) -> tensor<3x4xf64>
"""},
    "clip_max_only": {
        "args": [f64("x", (3, 4)), f64("hi", ())],
        "inputs": lambda rng: {"x": rng.uniform(-2.0, 2.0, (3, 4)),
                               "hi": -0.2},
        "body": """
  %n = onnx.NoValue
  %r = onnx.Clip %x, %n, %hi : (tensor<3x4xf64>, none, tensor<f64>) -> tensor<3x4xf64>
"""},
    # lo > hi: every element is hi, whose gradient is the whole sum.
    "clip_crossed_bounds": {
        "args": [f64("x", (2, 3)), f64("lo", ()), f64("hi", ())],
        "inputs": lambda rng: {"x": rng.uniform(-2.0, 2.0, (2, 3)),
                               "lo": 0.8, "hi": 0.1},
        "body": """
  %r = onnx.Clip %x, %lo, %hi : (tensor<2x3xf64>, tensor<f64>, tensor<f64>) -> tensor<2x3xf64>
"""},
    # Through float32 and back (the step is large against float32's
    # rounding; the function is linear in x); Identity passes g on.
    "cast_float_roundtrip_identity": {
        "args": [f64("x", (2, 3)), f64("y", (2, 3))],
        "h": 1e-2, "tol": 1e-4,
        "body": """
  %0 = onnx.Cast %x {to = 1 : i64} : (tensor<2x3xf64>) -> tensor<2x3xf32>
  %1 = onnx.Cast %0 {to = 11 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf64>
  %2 = onnx.Identity %y : (tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Mul %1, %2 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
"""},
    # The path through an integer carries no gradient (its derivative is 0
    # almost everywhere); only the product's reaches x.
    "cast_to_integer": ([(2, 3), (2, 3)], """
  %0 = onnx.Cast %x {to = 7 : i64} : (tensor<2x3xf64>) -> tensor<2x3xi64>
  %1 = onnx.Cast %0 {to = 11 : i64} : (tensor<2x3xi64>) -> tensor<2x3xf64>
  %2 = onnx.Mul %x, %y : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %r = onnx.Add %1, %2 : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
"""),

    # --- Reductions ----------------------------------------------------------
    "reduce_sum_keepdims": ([(2, 3, 4)], """
  %a = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.ReduceSum %x, %a : (tensor<2x3x4xf64>, tensor<1xi64>) -> tensor<2x1x4xf64>
"""),
    "reduce_sum_negative_axes_dropped": ([(2, 3, 4)], """
  %a = onnx.Constant {value = dense<[-1, 0]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.ReduceSum %x, %a {keepdims = 0 : i64} : (tensor<2x3x4xf64>, tensor<2xi64>) -> tensor<3xf64>
"""),
    # No axes: every dim is reduced, to a 0-D result.
    "reduce_sum_all": ([(2, 3)], """
  %n = onnx.NoValue
  %r = onnx.ReduceSum %x, %n {keepdims = 0 : i64} : (tensor<2x3xf64>, none) -> tensor<f64>
"""),
    # Empty axes with noop_with_empty_axes: the identity.
    "reduce_sum_noop_empty_axes": ([(2, 3)], """
  %a = onnx.Constant {value = dense<> : tensor<0xi64>} : tensor<0xi64>
  %r = onnx.ReduceSum %x, %a {keepdims = 0 : i64, noop_with_empty_axes = 1 : i64} : (tensor<2x3xf64>, tensor<0xi64>) -> tensor<2x3xf64>
"""),
    # Axes known only at run time.
    "reduce_sum_runtime_axes": {
        "args": [f64("x", (2, 3, 4)), ("axes", "i64", (1,), [-2])],
        "body": """
  %r = onnx.ReduceSum %x, %axes {keepdims = 0 : i64} : (tensor<2x3x4xf64>, tensor<1xi64>) -> tensor<2x4xf64>
"""},
    "reduce_mean_negative_axes": ([(2, 3, 4)], """
  %a = onnx.Constant {value = dense<[-1, 1]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.ReduceMean %x, %a {keepdims = 0 : i64} : (tensor<2x3x4xf64>, tensor<2xi64>) -> tensor<2xf64>
"""),
    "reduce_mean_keepdims_all": ([(2, 3)], """
  %n = onnx.NoValue
  %r = onnx.ReduceMean %x, %n : (tensor<2x3xf64>, none) -> tensor<1x1xf64>
"""),
    # The reduced dim is dynamic: the count comes from Size at run time.
    "reduce_mean_dynamic": {
        "args": [f64("x", (2, "?", 4))],
        "inputs": uniform(-2.0, 2.0, x=(2, 5, 4)),
        "body": """
  %a = onnx.Constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.ReduceMean %x, %a {keepdims = 0 : i64} : (tensor<2x?x4xf64>, tensor<1xi64>) -> tensor<2x4xf64>
"""},
    "reduce_max_min": ([(3, 4), (3, 4)], """
  %a = onnx.Constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.ReduceMax %x, %a {keepdims = 0 : i64} : (tensor<3x4xf64>, tensor<1xi64>) -> tensor<3xf64>
  %n = onnx.NoValue
  %1 = onnx.ReduceMin %y, %n : (tensor<3x4xf64>, none) -> tensor<1x1xf64>
  %r = onnx.Mul %0, %1 : (tensor<3xf64>, tensor<1x1xf64>) -> tensor<1x3xf64>
"""),

    # --- Softmax and LogSoftmax ------------------------------------------------
    "softmax_axes": ([(2, 3, 4)], """
  %0 = onnx.Softmax %x {axis = 1 : i64} : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %1 = onnx.Softmax %x {axis = -1 : i64} : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %2 = onnx.Mul %0, %1 : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %3 = onnx.Softmax %2 {axis = -3 : i64} : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %r = onnx.Add %2, %3 : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
"""),
    "log_softmax_axes": ([(2, 3, 4)], """
  %0 = onnx.LogSoftmax %x {axis = 0 : i64} : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %1 = onnx.LogSoftmax %x : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %2 = onnx.Mul %0, %1 : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %3 = onnx.LogSoftmax %x {axis = -2 : i64} : (tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
  %r = onnx.Add %2, %3 : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> tensor<2x3x4xf64>
"""),
    "softmax_dynamic": {
        "args": [f64("x", ("?", "?"))],
        "inputs": uniform(-2.0, 2.0, x=(3, 5)),
        "body": """
  %0 = onnx.Softmax %x : (tensor<?x?xf64>) -> tensor<?x?xf64>
  %1 = onnx.LogSoftmax %x {axis = 0 : i64} : (tensor<?x?xf64>) -> tensor<?x?xf64>
  %r = onnx.Mul %0, %1 : (tensor<?x?xf64>, tensor<?x?xf64>) -> tensor<?x?xf64>
"""},

    # --- SiLU as exporters write it: x * Sigmoid(x) (Mul and Sigmoid) ----------
    "silu": {
        "args": [f64("x", (2, 4))],
        "inputs": uniform(-3.0, 3.0, x=(2, 4)),
        "body": """
  %0 = onnx.Sigmoid %x : (tensor<2x4xf64>) -> tensor<2x4xf64>
  %r = onnx.Mul %x, %0 : (tensor<2x4xf64>, tensor<2x4xf64>) -> tensor<2x4xf64>
"""},

    # --- A dynamic MLP block: MatMul, Gemm-free bias, Gelu, mean over rows ----
    "mlp_dynamic_rows": {
        "args": [f64("x", ("?", 3)), f64("w", (3, 4)), f64("b", (4,))],
        "inputs": uniform(-1.5, 1.5, x=(5, 3), w=(3, 4), b=(4,)),
        "body": """
  %0 = onnx.MatMul %x, %w : (tensor<?x3xf64>, tensor<3x4xf64>) -> tensor<?x4xf64>
  %1 = onnx.Add %0, %b : (tensor<?x4xf64>, tensor<4xf64>) -> tensor<?x4xf64>
  %2 = onnx.Gelu %1 {approximate = "tanh"} : (tensor<?x4xf64>) -> tensor<?x4xf64>
  %a = onnx.Constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %r = onnx.ReduceMean %2, %a {keepdims = 0 : i64} : (tensor<?x4xf64>, tensor<1xi64>) -> tensor<4xf64>
"""},
}
