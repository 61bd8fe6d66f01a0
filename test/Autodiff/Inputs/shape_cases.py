# Cases of check_gradients.py (--cases) for the data-movement rules
# (lib/Autodiff/ONNXGradientsShape.cpp): one or more per op, with negative
# axes and indices, repeated indices, negative steps, broadcasting and
# dynamic dims (a "?" in an argument's shape, fed by `inputs`).


def uniform(rng, shape):
    return rng.uniform(1.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


CASES = {
    # An explicit permutation, then the default one (reverse the dims).
    "transpose": {
        "args": [("x", "f64", (2, 3, 4))],
        "body": """
  %0 = onnx.Transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf64>) -> tensor<4x2x3xf64>
  %r = onnx.Transpose %0 : (tensor<4x2x3xf64>) -> tensor<3x2x4xf64>
""",
    },
    # 0 copies a (dynamic) dim, -1 takes what is left.
    "reshape_zero_and_minus_one": {
        "args": [("x", "f64", ("?", 3, 4))],
        "inputs": lambda rng: {"x": uniform(rng, (2, 3, 4))},
        "body": """
  %s = onnx.Constant {value = dense<[0, -1, 2]> : tensor<3xi64>} : tensor<3xi64>
  %r = onnx.Reshape %x, %s : (tensor<?x3x4xf64>, tensor<3xi64>) -> tensor<?x6x2xf64>
""",
    },
    "squeeze_unsqueeze_flatten": {
        "args": [("x", "f64", ("?", 1, 4))],
        "inputs": lambda rng: {"x": uniform(rng, (3, 1, 4))},
        "body": """
  %a = onnx.Constant {value = dense<[-2]> : tensor<1xi64>} : tensor<1xi64>
  %0 = onnx.Squeeze %x, %a : (tensor<?x1x4xf64>, tensor<1xi64>) -> tensor<?x4xf64>
  %b = onnx.Constant {value = dense<[0, 3]> : tensor<2xi64>} : tensor<2xi64>
  %1 = onnx.Unsqueeze %0, %b : (tensor<?x4xf64>, tensor<2xi64>) -> tensor<1x?x4x1xf64>
  %r = onnx.Flatten %1 {axis = 2 : i64} : (tensor<1x?x4x1xf64>) -> tensor<?x4xf64>
""",
    },
    # Three inputs on the last axis, the middle one of a dynamic size.
    "concat_three_dynamic": {
        "args": [("x", "f64", (2, 3)), ("y", "f64", (2, "?")),
                 ("z", "f64", (2, 4))],
        "inputs": lambda rng: {"y": uniform(rng, (2, 2))},
        "body": """
  %r = onnx.Concat %x, %y, %z {axis = -1 : i64} : (tensor<2x3xf64>, tensor<2x?xf64>, tensor<2x4xf64>) -> tensor<2x?xf64>
""",
    },
    # x is used twice: its slabs' gradients add up.
    "concat_axis0_reuse": {
        "args": [("x", "f64", (1, 3)), ("y", "f64", (2, 3))],
        "body": """
  %r = onnx.Concat %x, %y, %x {axis = 0 : i64} : (tensor<1x3xf64>, tensor<2x3xf64>, tensor<1x3xf64>) -> tensor<4x3xf64>
""",
    },
    # Negative start and step on axis 0 (end clamps), step 2 on axis 1.
    "slice_negative_steps": {
        "args": [("x", "f64", (4, 6))],
        "body": """
  %s = onnx.Constant {value = dense<[-1, 1]> : tensor<2xi64>} : tensor<2xi64>
  %e = onnx.Constant {value = dense<[-10, 6]> : tensor<2xi64>} : tensor<2xi64>
  %a = onnx.Constant {value = dense<[0, -1]> : tensor<2xi64>} : tensor<2xi64>
  %t = onnx.Constant {value = dense<[-2, 2]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.Slice %x, %s, %e, %a, %t : (tensor<4x6xf64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x3xf64>
""",
    },
    # Default axes and steps, to the end of a dynamic dim.
    "slice_dynamic_to_end": {
        "args": [("x", "f64", ("?", 3))],
        "inputs": lambda rng: {"x": uniform(rng, (5, 3))},
        "body": """
  %s = onnx.Constant {value = dense<[1, 1]> : tensor<2xi64>} : tensor<2xi64>
  %e = onnx.Constant {value = dense<[9223372036854775807, 3]> : tensor<2xi64>} : tensor<2xi64>
  %n = onnx.NoValue
  %r = onnx.Slice %x, %s, %e, %n, %n : (tensor<?x3xf64>, tensor<2xi64>, tensor<2xi64>, none, none) -> tensor<?x2xf64>
""",
    },
    # A middle axis walked backwards and an inner one by 3, of a 4-D tensor.
    "slice_two_axes_middle": {
        "args": [("x", "f64", (2, 5, 4, 3))],
        "body": """
  %s = onnx.Constant {value = dense<[4, 0]> : tensor<2xi64>} : tensor<2xi64>
  %e = onnx.Constant {value = dense<[0, 4]> : tensor<2xi64>} : tensor<2xi64>
  %a = onnx.Constant {value = dense<[1, -2]> : tensor<2xi64>} : tensor<2xi64>
  %t = onnx.Constant {value = dense<[-1, 3]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.Slice %x, %s, %e, %a, %t : (tensor<2x5x4x3xf64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x4x2x3xf64>
""",
    },
    # The decoder's rotate_half: both halves of the last axis, swapped.
    "slice_concat_rotate_half": {
        "args": [("x", "f64", ("?", 2, 4))],
        "inputs": lambda rng: {"x": uniform(rng, (3, 2, 4))},
        "body": """
  %a = onnx.Constant {value = dense<[2]> : tensor<1xi64>} : tensor<1xi64>
  %one = onnx.Constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  %zero = onnx.Constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %half = onnx.Constant {value = dense<[2]> : tensor<1xi64>} : tensor<1xi64>
  %end = onnx.Constant {value = dense<[9223372036854775807]> : tensor<1xi64>} : tensor<1xi64>
  %x1 = onnx.Slice %x, %zero, %half, %a, %one : (tensor<?x2x4xf64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x2xf64>
  %x2 = onnx.Slice %x, %half, %end, %a, %one : (tensor<?x2x4xf64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x2x2xf64>
  %n = onnx.Neg %x2 : (tensor<?x2x2xf64>) -> tensor<?x2x2xf64>
  %r = onnx.Concat %n, %x1 {axis = -1 : i64} : (tensor<?x2x2xf64>, tensor<?x2x2xf64>) -> tensor<?x2x4xf64>
""",
    },
    # The middle output is unused: its part of the gradient is zero.
    "split_unused_output": {
        "args": [("x", "f64", (2, 7))],
        "body": """
  %s = onnx.Constant {value = dense<[2, 4, 1]> : tensor<3xi64>} : tensor<3xi64>
  %0:3 = onnx.Split %x, %s {axis = 1 : i64} : (tensor<2x7xf64>, tensor<3xi64>) -> (tensor<2x2xf64>, tensor<2x4xf64>, tensor<2x1xf64>)
  %r = onnx.Concat %0#2, %0#0 {axis = 1 : i64} : (tensor<2x1xf64>, tensor<2x2xf64>) -> tensor<2x3xf64>
""",
    },
    # A size-1 dim and a missing leading dim stretch.
    "expand": {
        "args": [("x", "f64", (3, 1))],
        "body": """
  %s = onnx.Constant {value = dense<[2, 3, 4]> : tensor<3xi64>} : tensor<3xi64>
  %r = onnx.Expand %x, %s : (tensor<3x1xf64>, tensor<3xi64>) -> tensor<2x3x4xf64>
""",
    },
    "tile": {
        "args": [("x", "f64", (2, 3))],
        "body": """
  %s = onnx.Constant {value = dense<[2, 3]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.Tile %x, %s : (tensor<2x3xf64>, tensor<2xi64>) -> tensor<4x9xf64>
""",
    },
    # Repeats of a dynamic dim: its size is read with Shape.
    "tile_dynamic": {
        "args": [("x", "f64", ("?", 3))],
        "inputs": lambda rng: {"x": uniform(rng, (2, 3))},
        "body": """
  %s = onnx.Constant {value = dense<[3, 2]> : tensor<2xi64>} : tensor<2xi64>
  %r = onnx.Tile %x, %s : (tensor<?x3xf64>, tensor<2xi64>) -> tensor<?x6xf64>
""",
    },
    # Embedding rows: row 0 is read three times (0, 0, -5), row 4 twice
    # (4, -1), rows 1 and 3 never; the table has a dynamic row count.
    "gather_embedding_repeated_negative": {
        "args": [("x", "f64", ("?", 3)),
                 ("i", "i64", (2, 3), [[0, 4, -1], [2, 0, -5]])],
        "inputs": lambda rng: {"x": uniform(rng, (5, 3))},
        "body": """
  %r = onnx.Gather %x, %i : (tensor<?x3xf64>, tensor<2x3xi64>) -> tensor<2x3x3xf64>
""",
    },
    # A middle axis, int32 indices (3 and -2 are the same slice).
    "gather_axis1_int32": {
        "args": [("x", "f64", (2, 5, 3)),
                 ("i", "i32", (3,), [3, -2, 0])],
        "body": """
  %r = onnx.Gather %x, %i {axis = 1 : i64} : (tensor<2x5x3xf64>, tensor<3xi32>) -> tensor<2x3x3xf64>
""",
    },
    # A 0-D index picks one row of the last axis.
    "gather_scalar_index": {
        "args": [("x", "f64", (4, 3)), ("i", "i64", (), -1)],
        "body": """
  %r = onnx.Gather %x, %i {axis = -1 : i64} : (tensor<4x3xf64>, tensor<i64>) -> tensor<4xf64>
""",
    },
    "gather_elements_axis0": {
        "args": [("x", "f64", (3, 4)),
                 ("i", "i64", (2, 4), [[0, -1, 2, 0], [0, 2, -3, 1]])],
        "body": """
  %r = onnx.GatherElements %x, %i {axis = 0 : i64} : (tensor<3x4xf64>, tensor<2x4xi64>) -> tensor<2x4xf64>
""",
    },
    "gather_elements_last_axis": {
        "args": [("x", "f64", (2, 3)),
                 ("i", "i64", (2, 5), [[2, 2, -1, 0, 1], [1, -3, 0, 0, 0]])],
        "body": """
  %r = onnx.GatherElements %x, %i {axis = -1 : i64} : (tensor<2x3xf64>, tensor<2x5xi64>) -> tensor<2x5xf64>
""",
    },
    # The condition, X and Y broadcast three different ways.
    "where_broadcast": {
        "args": [("c", "i1", (2, 1, 3),
                  [[[True, False, True]], [[False, False, True]]]),
                 ("x", "f64", (4, 1)), ("y", "f64", (3,))],
        "body": """
  %r = onnx.Where %c, %x, %y : (tensor<2x1x3xi1>, tensor<4x1xf64>, tensor<3xf64>) -> tensor<2x4x3xf64>
""",
    },
    # Constants, shapes and ranges on the way carry no gradient and do not
    # stop the walk, even when they are float.
    "constants_shapes_ranges": {
        "args": [("x", "f64", (2, 3))],
        "body": """
  %c = onnx.Constant {value = dense<[1.5, -2.0, 3.0]> : tensor<3xf64>} : tensor<3xf64>
  %0 = onnx.Add %x, %c : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
  %s = onnx.Shape %x : (tensor<2x3xf64>) -> tensor<2xi64>
  %k = onnx.ConstantOfShape %s {value = dense<2.5> : tensor<1xf64>} : (tensor<2xi64>) -> tensor<2x3xf64>
  %1 = onnx.Mul %0, %k : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
  %lo = onnx.Constant {value = dense<1.0> : tensor<f64>} : tensor<f64>
  %hi = onnx.Constant {value = dense<4.0> : tensor<f64>} : tensor<f64>
  %st = onnx.Constant {value = dense<1.0> : tensor<f64>} : tensor<f64>
  %q = onnx.Range %lo, %hi, %st : (tensor<f64>, tensor<f64>, tensor<f64>) -> tensor<3xf64>
  %r = onnx.Mul %1, %q : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
""",
    },
}
