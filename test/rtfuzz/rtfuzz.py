#!/usr/bin/env python3
"""Run-time fuzzer: compiled models on random shapes and index values against
ONNX Runtime.

The import fuzzer (test/fuzz) feeds bad models to the importer; this one feeds
bad *inputs* to compiled models. Each model of MODELS (ONNX backend node tests
of ops whose run-time behaviour depends on input shapes or index values,
recompiled with every dimension of their data inputs dynamic, and the tiny
decoder of scripts/gen_llama_onnx.py) is compiled once with `qaf-compile`.
Each case then draws input shapes and values from a seeded generator (shapes
rescaled, one dimension changed, zero-sized and size-1 dimensions; index
values in range, negative, just out of range and far out of range), runs
`qaf-run infer` on them and ONNX Runtime on the same model and inputs, and
asks for one of:
  - both compute: same output shapes and element types, values within
    tolerance (float: rtol 1e-4, atol 1e-4; integers and bool exactly);
  - both refuse: ORT raises, and qaf-run exits 1 with one `qaf-run:` message
    naming the ONNX node (`node '...'`) or the input (`input '...'`) at fault;
  - inputs that do not conform to the model's declared input types (a wrong
    rank, a shared dimension name bound to two sizes) are refused by qaf-run naming the
    input, whatever ORT (which does not check dimension names) does.
Anything else fails the run: a signal, an exit status other than 0 or 1, a
time-out, a sanitizer report or stack dump on stderr, a refusal that names
neither node nor input, one side refusing what the other computes, or
different results. Each failure is listed with the model, the inputs (kept as
.npy in the case's folder under --work-dir), both outcomes and the command
that replays the case alone.

Cases are numbered; case k runs model k mod M of the rotation (each model of
--models as many times as its weight: the decoder 4) on inputs drawn from a
generator seeded with (--seed, k), so `--seed S --case k` with the same
--models replays a case exactly.

Known gaps (--skip-known-gap, all on by default): classes of inputs that are
known to fail until a fix lands. A generated case in such a class is drawn
again (the count of redrawn cases is printed per class); nothing else is ever
skipped. `--skip-known-gap none` turns them all off.

Exit status 0 when every case agreed, else 1. The last line is
`P passed, F failed`.
"""

import argparse
import os
import re
import shutil
import sys
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "onnx_backend"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import gen_llama_onnx  # noqa: E402
from run_node_tests import (DATA_SETS, compare, describe_exit,  # noqa: E402
                            first_line, numbered, output_file_name, run_cmd)

NODE_TESTS = DATA_SETS["onnx"]
COMPILE_TIMEOUT_S = 300
RUN_TIMEOUT_S = 60
RTOL, ATOL = 1e-4, 1e-4
# Generated inputs stay small: the point is shapes and indices, not size.
MAX_ELEMENTS = 4096


class Model:
    """One model under test.

    test: ONNX backend node test folder name (None for the decoder).
    freeze: graph inputs turned into initializers (their value from
      test_data_set_0): shape, axes, starts, ... that the compiled path needs
      as constants.
    static: {input: [axes]} dimensions left static (the rest become dynamic).
    int_range: (low, high) for integer inputs that index nothing.
    weight: how many of every len(rotation) cases the model gets.
    reference: a numpy function of the graph inputs (in order) that the
      ONNX spec defines the op by; consulted only where ORT and qaf disagree
      (ORT refuses some valid zero-sized MatMul broadcasts, and computes a
      partly uninitialised Concat of an input empty off the axis).
    """

    def __init__(self, name, test=None, freeze=(), static=None, int_range=(-3, 5),
                 reference=None, weight=1):
        self.name, self.test, self.freeze = name, test, set(freeze)
        self.static = static or {}
        self.int_range = int_range
        self.reference = reference
        self.weight = weight


def onnx_concat(axis):
    """Concat as ONNX defines it (numpy's concatenate), with ONNX Runtime's
    leniency for inputs empty along the axis, which it skips whatever their
    other sizes (the first input gives the sizes when all are). An input empty
    only off the axis ORT skips too, yet counts its size along the axis and
    leaves those elements of its result uninitialised: numpy refuses it."""
    def concatenate(*inputs):
        kept = [x for x in inputs if x.shape[axis] != 0] or list(inputs[:1])
        return np.concatenate(kept, axis=axis)
    return concatenate


MODELS = [
    Model("gather_0", "test_gather_0"),
    Model("gather_1", "test_gather_1"),
    Model("gather_2d_indices", "test_gather_2d_indices"),
    Model("gather_negative_indices", "test_gather_negative_indices"),
    Model("gather_elements_0", "test_gather_elements_0"),
    Model("gather_elements_negative_indices", "test_gather_elements_negative_indices"),
    Model("gather_elements_1", "test_gather_elements_1"),
    Model("scatternd", "test_scatternd", static={"indices": [-1]}),
    Model("scatternd_add", "test_scatternd_add", static={"indices": [-1]}),
    Model("add_bcast", "test_add_bcast"),
    Model("mul_bcast", "test_mul_bcast"),
    Model("where_example", "test_where_example"),
    Model("where_long_example", "test_where_long_example"),
    Model("reshape_reordered_all_dims", "test_reshape_reordered_all_dims", freeze=["shape"]),
    Model("reshape_negative_dim", "test_reshape_negative_dim", freeze=["shape"]),
    Model("reshape_zero_dim", "test_reshape_zero_dim", freeze=["shape"]),
    Model("reshape_allowzero_reordered", "test_reshape_allowzero_reordered", freeze=["shape"]),
    Model("expand_dim_changed", "test_expand_dim_changed", freeze=["new_shape"]),
    Model("expand_dim_unchanged", "test_expand_dim_unchanged", freeze=["new_shape"]),
    Model("slice", "test_slice", freeze=["starts", "ends", "axes", "steps"]),
    Model("slice_neg_steps", "test_slice_neg_steps", freeze=["starts", "ends", "axes", "steps"]),
    Model("slice_end_out_of_bounds", "test_slice_end_out_of_bounds",
          freeze=["starts", "ends", "axes", "steps"]),
    Model("concat_1d_axis_0", "test_concat_1d_axis_0", reference=onnx_concat(0)),
    Model("concat_2d_axis_0", "test_concat_2d_axis_0", reference=onnx_concat(0)),
    Model("concat_3d_axis_negative_1", "test_concat_3d_axis_negative_1",
          reference=onnx_concat(-1)),
    Model("matmul_2d", "test_matmul_2d", reference=np.matmul),
    Model("matmul_3d", "test_matmul_3d", reference=np.matmul),
    Model("matmul_4d", "test_matmul_4d", reference=np.matmul),
    Model("matmul_bcast", "test_matmul_bcast", reference=np.matmul),
    Model("matmul_1d_3d", "test_matmul_1d_3d", reference=np.matmul),
    Model("softmax_axis_0", "test_softmax_axis_0"),
    Model("softmax_axis_1", "test_softmax_axis_1"),
    Model("reduce_sum_keepdims_random", "test_reduce_sum_keepdims_random", freeze=["axes"]),
    Model("reduce_sum_do_not_keepdims_random", "test_reduce_sum_do_not_keepdims_random",
          freeze=["axes"]),
    Model("reduce_sum_empty_set", "test_reduce_sum_empty_set", freeze=["axes"]),
    Model("tile", "test_tile", freeze=["y"]),
    Model("transpose_all_permutations_3", "test_transpose_all_permutations_3"),
    Model("split_variable_parts_2d", "test_split_variable_parts_2d_opset18", freeze=["split"]),
    Model("unsqueeze_two_axes", "test_unsqueeze_two_axes", freeze=["axes"]),
    Model("squeeze", "test_squeeze", freeze=["axes"]),
    Model("cumsum_2d_axis_1", "test_cumsum_2d_axis_1", freeze=["axis"]),
    # The decoder keeps its own dimension names (batch, sequence): its mask
    # is 0/1 and its token ids index the embedding (found from the graph).
    Model("tiny_decoder", int_range=(0, 1), weight=4),
]
DECODER_BASE_SHAPES = {"input_ids": (1, 4), "attention_mask": (1, 4)}

# Known gaps: input classes that fail until a fix being made elsewhere lands,
# {name: description}, each with a predicate in GAP_PREDICATES that the
# generator avoids; every run prints how many drawn cases each one redrew.
# None today: dynamic broadcasting and ScatterND's index bounds are fixed.
KNOWN_GAPS = {}

# ----------------------------------------------------------------------------
# Preparing the models: dynamic dimensions, compiled once.
# ----------------------------------------------------------------------------

class Prepared:
    """A compiled model and what the generator and the oracle need of it."""

    def __init__(self, spec, onnx_path, artifact, model, base_inputs):
        self.spec, self.onnx_path, self.artifact = spec, onnx_path, artifact
        self.model = model
        # {input: [dim_param or int]}: the declared input types.
        self.declared = {vi.name: [d.dim_param or d.dim_value
                                   for d in vi.type.tensor_type.shape.dim]
                         for vi in model.graph.input}
        self.base_inputs = base_inputs  # {input: array} seed shapes and dtypes
        self.initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.constants = set(self.initializers)
        for node in model.graph.node:
            if node.op_type == "Constant":
                self.constants.update(node.output)
        self.index_roles = find_index_roles(model)
        self.probe_path = onnx_path[:-len(".onnx")] + ".probe.onnx"
        write_probe_model(shape_inference.infer_shapes(model), self.probe_path)
        self.session = None
        taken = set()
        # (output name, the file qaf-run writes it to)
        self.outputs = [(o.name, output_file_name(o.name, taken)) for o in model.graph.output]


def find_index_roles(model):
    """{graph input: (op, data value, axis)} for inputs used as indices."""
    graph_inputs = {vi.name for vi in model.graph.input}
    roles = {}
    for node in model.graph.node:
        attrs = node_attrs(node)
        if node.op_type in ("Gather", "GatherElements") and node.input[1] in graph_inputs:
            roles[node.input[1]] = (node.op_type, node.input[0], attrs.get("axis", 0))
        elif node.op_type == "ScatterND" and node.input[1] in graph_inputs:
            roles[node.input[1]] = ("ScatterND", node.input[0], None)
    return roles


def write_probe_model(inferred, path):
    """The model with every typed intermediate value as an extra output, so
    that one ORT run gives the run-time shapes the known-gap predicates need."""
    probe = onnx.ModelProto()
    probe.CopyFrom(inferred)
    have = {o.name for o in probe.graph.output}
    typed = {vi.name: vi.type.tensor_type.elem_type for vi in probe.graph.value_info
             if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in have and name in typed:
                probe.graph.output.append(helper.make_tensor_value_info(name, typed[name], None))
                have.add(name)
    onnx.save(probe, path)


def make_dynamic(spec, folder):
    """Writes the node test's model with frozen inputs as initializers and
    every other input dimension dynamic; returns (path, base inputs)."""
    test_dir = os.path.join(NODE_TESTS, spec.test)
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    data_set = numbered(test_dir, "test_data_set_")[0]
    inits = {t.name for t in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in inits]
    base = {}
    for vi, path in zip(graph_inputs, numbered(data_set, "input_")):
        value = numpy_helper.to_array(onnx.load_tensor(path))
        if vi.name in spec.freeze:
            model.graph.initializer.append(numpy_helper.from_array(value, vi.name))
            model.graph.input.remove(vi)
            continue
        base[vi.name] = value
        static = {a % value.ndim for a in spec.static.get(vi.name, [])}
        for axis, dim in enumerate(vi.type.tensor_type.shape.dim):
            if axis not in static:
                dim.Clear()
                dim.dim_param = f"{vi.name}_{axis}"
    missing = spec.freeze - {t.name for t in model.graph.initializer}
    if missing:
        raise RuntimeError(f"{spec.test}: no graph input {sorted(missing)} to freeze")
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]
    path = os.path.join(folder, "model.onnx")
    onnx.save(model, path)
    return path, base


def make_decoder(folder):
    path = os.path.join(folder, "model.onnx")
    gen_llama_onnx.save(gen_llama_onnx.LlamaConfig(**gen_llama_onnx.PRESETS["tiny"]), path)
    base = {name: np.ones(shape, np.int64) for name, shape in DECODER_BASE_SHAPES.items()}
    return path, base


def prepare(args, spec):
    folder = os.path.join(args.work_dir, "models", spec.name)
    os.makedirs(folder, exist_ok=True)
    path, base = make_dynamic(spec, folder) if spec.test else make_decoder(folder)
    artifact = os.path.join(folder, "artifact")
    rc, _, err = run_cmd([args.qaf_compile, path, "-o", artifact], timeout=COMPILE_TIMEOUT_S)
    if rc != 0:
        raise RuntimeError(f"{spec.name}: " + describe_exit("qaf-compile", rc, err,
                                                            COMPILE_TIMEOUT_S))
    return Prepared(spec, path, artifact, onnx.load(path), base)


# ----------------------------------------------------------------------------
# The generator.
# ----------------------------------------------------------------------------

def draw_size(rng, original):
    """A new size for a dimension: often small, sometimes 0 or 1."""
    choice = rng.random()
    if choice < 0.1:
        return 0
    if choice < 0.3:
        return 1
    if choice < 0.5:
        return original + 1
    return int(rng.integers(2, 7))


def draw_shapes(rng, prepared):
    """{input: shape}: the seed shapes rescaled class by class (dimensions of
    equal seed size change together, which keeps most related dimensions
    related), then sometimes one dynamic dimension of one input changed alone
    (often to 1, a broadcast), rarely one input's rank changed."""
    base = {name: list(value.shape) for name, value in prepared.base_inputs.items()}
    shapes = {name: list(shape) for name, shape in base.items()}
    if rng.random() < 0.7:
        sizes = sorted({s for shape in base.values() for s in shape})
        new = {s: (draw_size(rng, s) if rng.random() < 0.5 else s) for s in sizes}
        shapes = {name: [new[s] for s in shape] for name, shape in base.items()}
    if rng.random() < 0.4:
        dynamic = [(name, axis) for name, dims in prepared.declared.items()
                   for axis, dim in enumerate(dims) if isinstance(dim, str)]
        if dynamic:
            name, axis = dynamic[int(rng.integers(len(dynamic)))]
            size = 1 if rng.random() < 0.4 else draw_size(rng, shapes[name][axis])
            # A dimension name shared by several inputs (the decoder's batch
            # and sequence) mostly changes everywhere: the inputs still fit
            # the declared types.
            dim_name = prepared.declared[name][axis]
            together = rng.random() < 0.8
            for other, dims in prepared.declared.items():
                for other_axis, dim in enumerate(dims):
                    if (other, other_axis) == (name, axis) or (together and dim == dim_name):
                        shapes[other][other_axis] = size
    # Static dimensions keep their declared size.
    for name, dims in prepared.declared.items():
        for axis, dim in enumerate(dims):
            if isinstance(dim, int) and dim > 0:
                shapes[name][axis] = dim
    if rng.random() < 0.04:
        names = sorted(shapes)
        name = names[int(rng.integers(len(names)))]
        shapes[name] = shapes[name][1:] if shapes[name] and rng.random() < 0.5 \
            else [int(rng.integers(1, 3))] + shapes[name]
    return shapes


def out_of_range_value(rng, size):
    return int(rng.choice([size, size + 1, -size - 1, -size - 7, 2**31, -(2**31) - 1,
                           10**12, -(10**12), 2**62]))


def draw_indices(rng, shape, sizes, in_range_share, unique):
    """Index values for `shape` whose last axis (ScatterND) or every element
    indexes dimensions of `sizes` (one entry per component)."""
    count = int(np.prod(shape, dtype=np.int64))
    per = len(sizes)
    rows = count // per if per else 0
    values = np.zeros((rows, per), np.int64)
    space = int(np.prod(sizes, dtype=np.int64))
    if unique and 0 < rows <= space:
        flat = rng.permutation(space)[:rows]
        values = np.stack(np.unravel_index(flat, sizes), axis=1).astype(np.int64)
    elif space > 0:
        values = np.stack([rng.integers(0, s, rows) for s in sizes], axis=1).astype(np.int64)
    # ONNX's negative-index rule: -k is size - k.
    negative = rng.random(values.shape) < 0.3
    values = np.where(negative, values - np.array(sizes, np.int64), values)
    if space == 0 or rng.random() > in_range_share:
        for _ in range(int(rng.integers(1, 3))) if rows else []:
            r, c = int(rng.integers(rows)), int(rng.integers(per))
            values[r, c] = out_of_range_value(rng, sizes[c])
    return values.reshape(shape)


def draw_values(rng, prepared, shapes):
    """{input: array} for the drawn shapes."""
    feeds = {}
    for name, shape in shapes.items():
        dtype = prepared.base_inputs[name].dtype
        if name in prepared.index_roles:
            continue
        if dtype == np.bool_:
            feeds[name] = rng.random(shape) < 0.5
        elif np.issubdtype(dtype, np.integer):
            low, high = prepared.spec.int_range
            feeds[name] = rng.integers(low, high + 1, shape).astype(dtype)
        else:
            feeds[name] = rng.standard_normal(shape).astype(dtype)
    for name, (op, data, axis) in prepared.index_roles.items():
        data_shape = shapes[data] if data in shapes else list(prepared.initializers[data].shape)
        shape = shapes[name]
        dtype = prepared.base_inputs[name].dtype
        if op == "ScatterND":
            k = shape[-1] if shape else 0
            sizes = list(data_shape[:k]) + [0] * max(0, k - len(data_shape))
            unique = node_attr(prepared, op, "reduction", "none") == "none"
        else:
            sizes = [data_shape[axis % len(data_shape)]] if data_shape else [0]
            shape = list(shape) + [1]
            unique = False
        values = draw_indices(rng, shape, sizes, in_range_share=0.6, unique=unique)
        feeds[name] = values.reshape(shapes[name]).astype(dtype)
    return feeds


def node_attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def node_attr(prepared, op, attr, default):
    """The attribute of the first `op` node (bytes decoded), else `default`."""
    for node in prepared.model.graph.node:
        if node.op_type == op and attr in node_attrs(node):
            value = node_attrs(node)[attr]
            return value.decode() if isinstance(value, bytes) else value
    return default


def conforms(prepared, feeds):
    """None when the inputs fit the declared input types, else why not."""
    bound = {}
    for name, dims in prepared.declared.items():
        shape = feeds[name].shape
        if len(shape) != len(dims):
            return f"input '{name}' has rank {len(shape)}, declared {len(dims)}"
        for axis, (dim, size) in enumerate(zip(dims, shape)):
            if isinstance(dim, str) and dim:
                if bound.setdefault(dim, (size, name))[0] != size:
                    return (f"input '{name}' dimension {axis} ('{dim}') is {size}, "
                            f"input '{bound[dim][1]}' bound it to {bound[dim][0]}")
    return None


def draw_case(seed, number, attempt, prepared):
    rng = np.random.default_rng([seed, number, attempt])
    for _ in range(100):
        shapes = draw_shapes(rng, prepared)
        if all(np.prod(s, dtype=np.int64) <= MAX_ELEMENTS for s in shapes.values()):
            break
    return draw_values(rng, prepared, shapes)


# ----------------------------------------------------------------------------
# Known-gap predicates (the generator redraws cases they match): one
# function(prepared, known values, ORT computed) per entry of KNOWN_GAPS.
# ----------------------------------------------------------------------------

GAP_PREDICATES = {}


# ----------------------------------------------------------------------------
# Running one case.
# ----------------------------------------------------------------------------

def run_ort(prepared, feeds):
    """(outputs, intermediate values by name) or (error text, None)."""
    import onnxruntime as ort
    if prepared.session is None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        prepared.session = ort.InferenceSession(prepared.probe_path, options,
                                                providers=["CPUExecutionProvider"])
    try:
        results = prepared.session.run(None, feeds)
    except Exception as e:  # noqa: BLE001 - only ORT's own errors are refusals
        if not type(e).__module__.startswith("onnxruntime"):
            raise
        return first_line(str(e)), None
    names = [o.name for o in prepared.session.get_outputs()]
    count = len(prepared.outputs)
    return results[:count], dict(zip(names[count:], results[count:]))


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:", "PLEASE submit a bug report", "Stack dump")


def run_qaf(args, prepared, feeds, folder):
    """(outputs or None, problem or None, stderr)."""
    command = [args.qaf_run, "infer", prepared.artifact, "--threads=1"]
    for name, value in feeds.items():
        command.append(f"--input={name}={os.path.join(folder, name + '.npy')}")
    out_dir = os.path.join(folder, "qaf_outputs")
    command.append(f"--output-dir={out_dir}")
    rc, _, err = run_cmd(command, timeout=RUN_TIMEOUT_S)
    err = err.strip()
    if rc is None or rc not in (0, 1):
        return None, describe_exit("qaf-run", rc, err, RUN_TIMEOUT_S), err
    marks = [m for m in SANITIZER_MARKS if m in err]
    if marks:
        return None, f"qaf-run stderr has '{marks[0]}': {first_line(err)}", err
    if rc == 1:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("qaf-run: "):
            return None, f"qaf-run refused with {len(lines)} lines on stderr: {first_line(err)}", err
        if "node '" not in err and "input '" not in err:
            return None, f"qaf-run refused naming neither node nor input: {err}", err
        return None, None, err
    outputs = []
    for _, file_name in prepared.outputs:
        try:
            outputs.append(np.load(os.path.join(out_dir, file_name)))
        except Exception as e:  # noqa: BLE001
            return None, f"qaf-run exited 0 but {file_name} is unreadable: {e}", err
    return outputs, None, err


def disagreement(outputs, qaf_outputs, qaf_err, what):
    """None when qaf-run's outcome is `outputs` (None: a refusal), else how not."""
    if outputs is None:
        return f"qaf-run computed, {what} refused" if qaf_outputs is not None else None
    if qaf_outputs is None:
        return f"qaf-run refused, {what} computed: {qaf_err}"
    for index, (got, expected) in enumerate(zip(qaf_outputs, outputs)):
        diff = compare(got, np.asarray(expected).astype(got.dtype, copy=False), RTOL, ATOL)
        if diff:
            return f"output {index} vs {what}: {diff}"
    return None


def judge(prepared, feeds, ort_result, ort_values, qaf_outputs, qaf_problem, qaf_err):
    """(None when the case passed, else the disagreement; whether ORT was
    overruled by the op's numpy definition)."""
    if qaf_problem:
        return qaf_problem, False
    nonconforming = conforms(prepared, feeds)
    if nonconforming:
        if qaf_outputs is not None:
            return f"qaf-run computed on inputs outside the declared types ({nonconforming})", False
        if "input '" not in qaf_err:
            return (f"inputs outside the declared types ({nonconforming}) refused without "
                    f"naming the input: {qaf_err}"), False
        return None, False
    ort_outputs = ort_result if ort_values is not None else None
    problem = disagreement(ort_outputs, qaf_outputs, qaf_err, "ORT")
    reference = prepared.spec.reference
    if problem is None or reference is None:
        return (problem + (f": {ort_result}" if ort_outputs is None else "")
                if problem else None), False
    # ONNX defines the op by numpy's: where ORT and qaf-run disagree, numpy
    # decides (ORT refuses some valid zero-sized broadcasts, and leaves the
    # output of a K = 0 product with broadcast batch uninitialised).
    try:
        expected = [reference(*feeds.values())]
    except ValueError:
        expected = None
    if disagreement(expected, qaf_outputs, qaf_err, "numpy") is None:
        return None, True
    numpy_text = "refuses" if expected is None else f"computes {expected[0].shape}"
    return f"{problem}; numpy's {reference.__name__} {numpy_text}", False


def describe(feeds):
    return ", ".join(f"{name} {value.dtype}{list(value.shape)}" for name, value in feeds.items())


def run_case(args, prepared, number, gaps, redraws):
    """None when the case passed, else a failure report."""
    attempt = 0
    while True:
        feeds = draw_case(args.seed, number, attempt, prepared)
        ort_result, ort_values = run_ort(prepared, feeds)
        known = dict(ort_values or {})
        known.update(feeds)
        known.update(prepared.initializers)
        # Inputs outside the declared types stop at qaf-run's input checks,
        # before any node: no gap applies to them.
        gap = None if conforms(prepared, feeds) else next(
            (g for g in gaps if GAP_PREDICATES[g](prepared, known, ort_values is not None)),
            None)
        if gap is None:
            break
        redraws[gap] = redraws.get(gap, 0) + 1
        if args.verbose:
            print(f"case {number} draw {attempt}: in known gap {gap} ({describe(feeds)}), "
                  f"drawn again")
        attempt += 1
        if attempt == 50:
            return None, "skipped: 50 draws all in known gaps"
    folder = os.path.join(args.work_dir, "cases", f"{number:06d}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, value in feeds.items():
        np.save(os.path.join(folder, name + ".npy"), value)
    qaf_outputs, qaf_problem, qaf_err = run_qaf(args, prepared, feeds, folder)
    problem, overruled = judge(prepared, feeds, ort_result, ort_values, qaf_outputs,
                               qaf_problem, qaf_err)
    if problem is None:
        if not args.keep_cases:
            shutil.rmtree(folder)
        if overruled:
            return None, "ORT overruled by the numpy definition"
        if ort_values is None:
            return None, ("refused by both" if conforms(prepared, feeds) is None else
                          "refused by qaf-run on inputs outside the declared types")
        return None, "computed alike" if qaf_outputs is not None else \
            "refused by qaf-run on inputs outside the declared types"
    ort_text = "refused: " + ort_result if ort_values is None else \
        "computed " + ", ".join(f"{o.dtype}{list(o.shape)}" for o in ort_result)
    qaf_text = (qaf_err or "exit 0") if qaf_problem is None and qaf_outputs is None else \
        (qaf_problem or "computed " + ", ".join(f"{o.dtype}{list(o.shape)}" for o in qaf_outputs))
    return (f"case {number} model {prepared.spec.name}: {problem}\n"
            f"  inputs: {describe(feeds)} (saved in {folder})\n"
            f"  ORT: {ort_text}\n"
            f"  qaf-run: {first_line(qaf_text)}"), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qaf-compile", default="qaf-compile")
    ap.add_argument("--qaf-run", default="qaf-run")
    ap.add_argument("--work-dir", required=True,
                    help="compiled models, and the inputs of failing cases (emptied first)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=600, help="number of cases (default 600)")
    ap.add_argument("--case", type=int, action="append",
                    help="run only this case number (repeatable): replays a reported failure")
    ap.add_argument("--models", metavar="REGEX", help="only models whose name matches (re.search)")
    ap.add_argument("--skip-known-gap", action="append", metavar="GAP",
                    choices=sorted(KNOWN_GAPS) + ["all", "none"],
                    help="input classes the generator avoids: " +
                         "; ".join(f"{k}: {v}" for k, v in KNOWN_GAPS.items()) +
                         " (default all; `none` turns them off)")
    ap.add_argument("--keep-cases", action="store_true",
                    help="keep every case's inputs and outputs, not only failing ones")
    ap.add_argument("--list-models", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true",
                    help="also print each draw that a known gap redrew")
    args = ap.parse_args()

    models = MODELS
    if args.models:
        models = [m for m in models if re.search(args.models, m.name)]
    if args.list_models:
        for m in models:
            print(m.name, m.test or "scripts/gen_llama_onnx.py --preset tiny")
        return 0
    if not models:
        ap.error("--models matches no model")
    chosen = args.skip_known_gap or ["all"]
    gaps = [] if "none" in chosen else sorted(KNOWN_GAPS) if "all" in chosen else sorted(set(chosen))

    start = time.monotonic()
    args.work_dir = os.path.abspath(args.work_dir)
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    numbers = args.case if args.case else list(range(args.cases))
    # Case k runs rotation[k mod len(rotation)]: each model `weight` times.
    rotation = [m for m in models for _ in range(m.weight)]
    prepared, failures = {}, []
    for spec in models:
        if any(rotation[n % len(rotation)] is spec for n in numbers):
            try:
                prepared[spec.name] = prepare(args, spec)
            except RuntimeError as e:
                failures.append(f"model {spec.name}: {e}")
    print(f"{len(prepared)} models compiled in {time.monotonic() - start:.1f} s")

    redraws, outcomes = {}, {}
    for number in numbers:
        model = prepared.get(rotation[number % len(rotation)].name)
        if model is None:
            continue
        failure, outcome = run_case(args, model, number, gaps, redraws)
        if failure:
            failures.append(failure)
            print("FAIL " + failure, flush=True)
        elif outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    print(f"\nseed {args.seed}, {len(numbers)} cases on {len(prepared)} models: "
          + ", ".join(f"{count} {what}" for what, count in sorted(outcomes.items())))
    for gap in gaps:
        print(f"known gap {gap}: {redraws.get(gap, 0)} drawn cases redrawn ({KNOWN_GAPS[gap]})")
    if failures:
        flags = [f"--seed {args.seed}"] + ([f"--models '{args.models}'"] if args.models else [])
        print(f"replay one case: {sys.argv[0]} ... {' '.join(flags)} --case N")
    print(f"time: {time.monotonic() - start:.1f} s")
    print(f"{len(numbers) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
