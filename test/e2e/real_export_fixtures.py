#!/usr/bin/env python3
"""The files real exporters write, through qaf, against ONNX Runtime.

test/fixtures/ holds a small random-weight SmolLM2-shaped decoder as written
by torch.onnx.export(dynamo=True), optimum-cli (with past/present) and the
ORT GenAI builder (int4 and fp32, GroupQueryAttention with its KV cache);
test/fixtures/make_exporter_fixtures.py made them (see the README there).
For each fixture:

  roundtrip  qaf-translate --import-onnx --export-onnx: ONNX Runtime gives
             bit-identical outputs on the original and on the re-exported
             file (same feeds);
  quantized-roundtrip  (files with MatMulNBits) the same with
             qaf-quantize-weights between import and export: the shipped
             int4 layers become qaf.qlinear and go back unchanged;
  compiled   qaf-compile, then qaf-run infer at two sequence lengths (batch 2)
             matches ONNX Runtime on the original file (MatMulNBits computed
             in float: see exact_reference);
  decode     (files with past inputs) a prompt, then 16 steps of one token
             each, every step fed the present.* outputs of the step before
             as past_key_values.* through qaf-run infer, against the same loop
             in ONNX Runtime: every step's logits and the final cache match;
  lora       qaf-compile --method=lora --bits=4 (quantize + adapters) builds an
             artifact whose infer entry runs and gives finite logits; for
             int4 files (MatMulNBits everywhere) the shipped codes are kept,
             so its logits still match ONNX Runtime's;
  tied-head  (files with a tied embedding) qaf-quantize-weights tied-head=1
             quantizes the table once for the Gather and the head; the
             artifact matches ONNX Runtime on qaf's export of that model.

Fixtures listed in AWAITING_GROUP_QUERY_ATTENTION contain
com.microsoft.GroupQueryAttention, which qaf does not import yet: their whole-
model checks run only once their import succeeds (until then they are
reported as skipped, with the importer's message) and are strict from then
on; the parts around the attention (the embedding through GatherBlockQuantized,
layer norms, MatMulNBits projections, the MLP and the head) are cut out of
the file with onnx.utils.extract_model and go through roundtrip and compiled
now.

Exit status 0 when every check that ran passed; prints `N passed, F failed,
S skipped`.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e_support as support  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "fixtures")
KINDS = ["torch_dynamo", "optimum", "ort_genai_int4", "ort_genai_fp32"]
# Whole-model checks of these wait for GroupQueryAttention support.
AWAITING_GROUP_QUERY_ATTENTION = {"ort_genai_int4", "ort_genai_fp32"}
# The ORT GenAI graph around its attention, cut in two pieces (see
# genai_pieces): the embedding through the first layer's projection to q, k
# and v; the last layer's attention output through the head.
GENAI_PIECES = ["embed-to-qkv", "attn-out-to-logits"]
SEQUENCE_LENGTHS = [5, 12]
BATCH = 2
DECODE_PROMPT = 6
DECODE_STEPS = 16
# float32 against float32 through two decoder layers: qaf and ONNX Runtime
# order the sums differently (see llama_compiled.py's measurements). 128
# float32 roundings of the largest value compared.
TOLERANCE_EPSILONS = 128


# --fixtures DIR --abs-tolerance T checks other exports (e.g. the real
# SmolLM2-135M's, made with make_exporter_fixtures.py --source-model) against
# a fixed bound instead.
ABSOLUTE_TOLERANCE = None


def tolerance(expected):
    if ABSOLUTE_TOLERANCE is not None:
        return ABSOLUTE_TOLERANCE
    return TOLERANCE_EPSILONS * float(np.finfo(np.float32).eps) * \
        max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1.0)


def fixture_model(kind):
    return os.path.join(FIXTURES, kind, "model.onnx")


ELEMENT_TYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64,
                 "tensor(int32)": np.int32, "tensor(float16)": np.float16}


class Signature:
    """What the feeds of a model look like, read from ONNX Runtime's session
    (symbolic dims resolved per call)."""

    def __init__(self, session):
        self.inputs = {i.name: i for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]
        self.past = [n for n in self.inputs if n.startswith("past_key_values.")]
        logits = [o.shape[-1] for o in session.get_outputs() if o.name == "logits"]
        self.vocab = logits[0] if logits and isinstance(logits[0], int) else 2


    def feeds(self, rng, batch, seq, past=None, past_len=0, ids=None):
        """Feeds for `seq` new tokens after `past_len` cached ones; `past`
        maps past input names to arrays (zero-length caches when None)."""
        feeds = {}
        for name, info in self.inputs.items():
            dtype = ELEMENT_TYPES[info.type]
            if name == "input_ids":
                feeds[name] = ids if ids is not None else \
                    rng.integers(0, self.vocab, (batch, seq)).astype(dtype)
            elif name == "attention_mask":
                mask = np.ones((batch, past_len + seq), dtype)
                if past_len == 0 and batch > 1 and seq > 2:
                    mask[1, :2] = 0  # a left-padded row
                feeds[name] = mask
            elif name == "position_ids":
                feeds[name] = np.broadcast_to(
                    np.arange(past_len, past_len + seq, dtype=dtype), (batch, seq)).copy()
            elif name in self.past:
                if past is not None:
                    feeds[name] = past[name]
                else:
                    shape = [batch if i == 0 else (0 if i == 2 else d)
                             for i, d in enumerate(info.shape)]
                    feeds[name] = np.zeros(shape, dtype)
            else:
                shape = [d if isinstance(d, int) else (batch if i == 0 else seq)
                         for i, d in enumerate(info.shape)]
                feeds[name] = rng.standard_normal(shape).astype(dtype) \
                    if np.issubdtype(dtype, np.floating) else \
                    rng.integers(0, 2, shape).astype(dtype)
        return feeds


def present_name(past_name):
    return "present." + past_name[len("past_key_values."):]


def compare(label, actual, expected, failures):
    for name, want in expected.items():
        got = actual.get(name)
        if got is None:
            failures.append(f"{label}: qaf gave no output {name!r}")
            continue
        if got.shape != want.shape:
            failures.append(f"{label}: {name} shape {got.shape}, ONNX Runtime {want.shape}")
            continue
        diff = support.max_abs_diff(got, want)
        if not diff <= tolerance(want):
            failures.append(f"{label}: {name} max |qaf - ORT| {diff:.3g} > {tolerance(want):.3g}")


def feeds_per_length(signature, seed):
    """(sequence length, feeds) for each of SEQUENCE_LENGTHS, batch BATCH."""
    rng = np.random.default_rng(seed)
    return [(seq, signature.feeds(rng, BATCH, seq)) for seq in SEQUENCE_LENGTHS]


def quantize_and_export(args, tmp, model, stem, quantize_option):
    """`model` imported, run through qaf-opt `quantize_option`, exported:
    returns the quantized bytecode and the exported ONNX file."""
    imported = os.path.join(tmp, f"{stem}-imported.mlirbc")
    quantized = os.path.join(tmp, f"{stem}.mlirbc")
    exported = os.path.join(tmp, f"{stem}.onnx")
    support.run([args.qaf_translate, "--import-onnx", model, "-o", imported], timeout=300)
    support.run([args.qaf_opt, imported, quantize_option, "--emit-bytecode",
                 "-o", quantized], timeout=300)
    support.run([args.qaf_translate, "--export-onnx", quantized, "-o", exported], timeout=300)
    return quantized, exported


def check_roundtrip(args, tmp, model, label, keep_quantized=False):
    """ONNX Runtime on `model` and on its import exported again; with
    `keep_quantized`, the imported MatMulNBits layers go through
    qaf-quantize-weights (becoming qaf.qlinear as they are) and back."""
    if keep_quantized:
        _, exported = quantize_and_export(args, tmp, model, "kept", "--qaf-quantize-weights")
    else:
        exported = os.path.join(tmp, "roundtrip.onnx")
        support.run([args.qaf_translate, "--import-onnx", model, "--export-onnx",
                     "-o", exported], timeout=300)
    original, again = support.ort_session(model), support.ort_session(exported)
    signature = Signature(original)
    failures = []
    for seq, feeds in feeds_per_length(signature, seed=1):
        want = original.run(None, feeds)
        got = again.run([o.name for o in original.get_outputs()], feeds)
        for name, w, g in zip(signature.outputs, want, got):
            if w.shape != g.shape or not np.array_equal(w, g, equal_nan=True):
                failures.append(f"{label} seq {seq}: {name} differs after the round trip "
                                f"(max {support.max_abs_diff(g, w) if w.shape == g.shape else g.shape})")
    return failures


def exact_reference(model, tmp):
    """`model` itself, or a copy whose MatMulNBits nodes lose their
    accuracy_level: ORT GenAI's builder writes accuracy_level=4 for the CPU,
    with which ONNX Runtime rounds the activations to int8 before the
    product (errors of 1e-2 on these logits); without it ONNX Runtime computes
    the same dequantized float product qaf does."""
    proto = onnx.load(model)
    approximate = [node for node in proto.graph.node if node.op_type == "MatMulNBits"
                   and any(a.name == "accuracy_level" and a.i > 1 for a in node.attribute)]
    if not approximate:
        return model
    for node in approximate:
        kept = [a for a in node.attribute if a.name != "accuracy_level"]
        del node.attribute[:]
        node.attribute.extend(kept)
    path = os.path.join(tmp, "reference.onnx")
    onnx.save(proto, path)
    return path


def check_compiled(args, tmp, model, label, artifact):
    session = support.ort_session(exact_reference(model, tmp))
    signature = Signature(session)
    failures = []
    for seq, feeds in feeds_per_length(signature, seed=2):
        expected = dict(zip(signature.outputs, session.run(None, feeds)))
        actual, _, _ = support.run_artifact(args.qaf_run, artifact, feeds,
                                            os.path.join(tmp, f"run-{seq}"))
        compare(f"{label} seq {seq}", actual, expected, failures)
    return failures


def check_decode(args, tmp, model, label, artifact):
    """Prompt then DECODE_STEPS single tokens, each side feeding its own
    present.* back as past; the token fed is ONNX Runtime's argmax, so both
    sides see the same ids."""
    session = support.ort_session(exact_reference(model, tmp))
    signature = Signature(session)
    rng = np.random.default_rng(3)
    failures = []
    ort_past = qaf_past = None
    past_len, ids = 0, None
    for step in range(DECODE_STEPS + 1):
        seq = DECODE_PROMPT if step == 0 else 1
        feeds = signature.feeds(rng, 1, seq, past=ort_past, past_len=past_len, ids=ids)
        expected = dict(zip(signature.outputs, session.run(None, feeds)))
        qaf_feeds = dict(feeds)
        if qaf_past is not None:
            qaf_feeds.update(qaf_past)
        actual, _, _ = support.run_artifact(args.qaf_run, artifact, qaf_feeds,
                                            os.path.join(tmp, f"decode-{step}"))
        compare(f"{label} decode step {step}", actual,
                {"logits": expected["logits"]} if step < DECODE_STEPS else expected,
                failures)
        if failures:
            break
        ort_past = {p: expected[present_name(p)] for p in signature.past}
        qaf_past = {p: actual[present_name(p)] for p in signature.past}
        past_len += seq
        ids = np.argmax(expected["logits"][:, -1:, :], axis=-1).astype(np.int64)
    return failures


def check_lora(args, tmp, model, label):
    artifact = os.path.join(tmp, "lora")
    support.compile_model(args.qaf_compile, model, artifact,
                          extra=["--method=lora", "--bits=4", "--group-size=32",
                                 "--rank=4"])
    session = support.ort_session(model)
    signature = Signature(session)
    feeds = signature.feeds(np.random.default_rng(4), BATCH, SEQUENCE_LENGTHS[0])
    actual, _, _ = support.run_artifact(args.qaf_run, artifact, feeds,
                                        os.path.join(tmp, "lora-run"))
    logits = actual.get("logits")
    expected_shape = session.run(["logits"], feeds)[0].shape
    if logits is None or logits.shape != expected_shape:
        return [f"{label}: lora artifact logits {None if logits is None else logits.shape}, "
                f"expected {expected_shape}"]
    if not np.all(np.isfinite(logits)):
        return [f"{label}: lora artifact logits are not finite"]
    if already_quantized(model):
        # Nothing was requantized: the MatMulNBits codes became qaf.qlinear
        # as they are and LoRA's B starts at zero, so the model is unchanged.
        failures = []
        expected = support.ort_session(exact_reference(model, tmp)).run(["logits"], feeds)[0]
        compare(f"{label} lora (base kept)", actual, {"logits": expected}, failures)
        return failures
    return []


def check_tied_head(args, tmp, model, label):
    """qaf-quantize-weights tied-head=1: the tied table becomes one set of
    4-bit codes read by GatherBlockQuantized (the embedding) and qaf.qlinear
    (the head). The compiled artifact must match ONNX Runtime on qaf's own
    export of the quantized model (MatMulNBits + GatherBlockQuantized), and
    that must differ from the float model (the table really is quantized)."""
    quantized, exported = quantize_and_export(
        args, tmp, model, "tied", "--qaf-quantize-weights=bits=4 group-size=32 tied-head=1")
    graph = onnx.load(exported).graph
    initializers = {i.name for i in graph.initializer}
    float_tables = [n.input[0] for n in graph.node
                    if n.op_type == "Gather" and n.input[0] in initializers]
    if "GatherBlockQuantized" not in op_types(exported) or float_tables:
        return [f"{label}: the tied embedding was not quantized (tables {float_tables})"]
    artifact = os.path.join(tmp, "tied-artifact")
    support.compile_model(args.qaf_compile, quantized, artifact)
    session, float_session = support.ort_session(exported), support.ort_session(model)
    signature = Signature(session)
    failures = []
    for seq, feeds in feeds_per_length(signature, seed=5):
        expected = dict(zip(signature.outputs, session.run(None, feeds)))
        float_logits = float_session.run(["logits"], feeds)[0]
        if support.max_abs_diff(float_logits, expected["logits"]) <= tolerance(float_logits):
            failures.append(f"{label} seq {seq}: 4-bit tied head gives the float logits")
        actual, _, _ = support.run_artifact(args.qaf_run, artifact, feeds,
                                            os.path.join(tmp, f"tied-run-{seq}"))
        compare(f"{label} tied-head seq {seq}", actual, expected, failures)
    return failures


def has_tied_table(model):
    """Whether one initializer is both gathered and transposed (tied)."""
    graph = onnx.load(model, load_external_data=False).graph
    initializers = {i.name for i in graph.initializer}
    gathered = {n.input[0] for n in graph.node if n.op_type == "Gather"}
    transposed = {n.input[0] for n in graph.node if n.op_type == "Transpose"}
    return bool(initializers & gathered & transposed)


def op_types(model):
    return {node.op_type for node in onnx.load(model, load_external_data=False).graph.node}


def has_matmul_nbits(model):
    return "MatMulNBits" in op_types(model)


def already_quantized(model):
    """Whether every linear layer of `model` is MatMulNBits (ORT GenAI int4)."""
    ops = op_types(model)
    return "MatMulNBits" in ops and "MatMul" not in ops and "Gemm" not in ops


def genai_pieces(graph):
    """{piece: (inputs, outputs)} of an ORT GenAI graph: before the first
    GroupQueryAttention (its packed q/k/v, seqlens_k and total length) and
    after the last one (its output and the residual stream that its
    post-attention SkipSimplifiedLayerNormalization adds)."""
    attention = [n for n in graph.node if n.op_type == "GroupQueryAttention"]
    first, last = attention[0], attention[-1]
    readers = {}
    for node in graph.node:
        for value in node.input:
            readers.setdefault(value, []).append(node)
    o_proj = readers[last.output[0]][0]
    skip_norm = readers[o_proj.output[0]][0]
    residual = next(v for v in skip_norm.input if v != o_proj.output[0])
    return {"embed-to-qkv": (["input_ids", "attention_mask"],
                             [first.input[0], first.input[5], first.input[6]]),
            "attn-out-to-logits": ([last.output[0], residual], ["logits"])}


def extract_piece(kind, name, tmp):
    """The ORT GenAI file cut to the piece `name` (see genai_pieces)."""
    whole = onnx.load(fixture_model(kind))
    inputs, chosen = genai_pieces(whole.graph)[name]
    extracted = onnx.utils.Extractor(whole).extract_model(inputs, chosen)
    path = os.path.join(tmp, f"{name}.onnx")
    # The cut passes through values named like '/model/layers.0/...'; as
    # graph inputs and outputs they get plain names (they become .npy files).
    renamed = {value: f"{role}_{i}" if "/" in value else value
               for role, values in (("in", inputs), ("out", chosen))
               for i, value in enumerate(values)}
    for node in extracted.graph.node:
        node.input[:] = [renamed.get(v, v) for v in node.input]
        node.output[:] = [renamed.get(v, v) for v in node.output]
    for value in list(extracted.graph.input) + list(extracted.graph.output):
        value.name = renamed.get(value.name, value.name)
    onnx.save(extracted, path)
    return path


def whole_model_checks(kind, model, tmp):
    has_past = bool(Signature(support.ort_session(model)).past)
    checks = [("roundtrip", lambda a, t: check_roundtrip(a, t, model, kind))]
    if has_matmul_nbits(model):
        checks.append(("quantized-roundtrip",
                       lambda a, t: check_roundtrip(a, t, model, kind, True)))
    checks.append(("compiled",
                   lambda a, t: compiled_then(a, t, model, kind, check_compiled)))
    if has_past:
        checks.append(("decode", lambda a, t: compiled_then(a, t, model, kind, check_decode)))
    checks.append(("lora", lambda a, t: check_lora(a, t, model, kind)))
    if has_tied_table(model):
        checks.append(("tied-head", lambda a, t: check_tied_head(a, t, model, kind)))
    return checks


def compiled_then(args, tmp, model, label, check):
    artifact = os.path.join(tmp, "artifact")
    if not os.path.isdir(artifact):
        support.compile_model(args.qaf_compile, model, artifact)
    return check(args, tmp, model, label, artifact)


def group_query_attention_missing(args, model):
    """The importer's message when `model` does not import because
    GroupQueryAttention is unsupported, None when it imports."""
    try:
        support.run([args.qaf_translate, "--import-onnx", model, "--summary",
                     "-o", os.devnull], timeout=300)
        return None
    except support.ToolError as error:
        if "unsupported" in str(error) and "GroupQueryAttention" in str(error):
            return str(error).splitlines()[-1].strip()
        raise


def main():
    global FIXTURES, ABSOLUTE_TOLERANCE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qaf-translate", required=True)
    parser.add_argument("--qaf-opt", required=True)
    parser.add_argument("--qaf-compile", required=True)
    parser.add_argument("--qaf-run", required=True)
    parser.add_argument("-k", dest="select", default="",
                        help="run only checks whose name contains this")
    parser.add_argument("--fixtures", default=FIXTURES,
                        help="folder of <kind>/model.onnx exports (default: test/fixtures)")
    parser.add_argument("--abs-tolerance", type=float,
                        help="max |qaf - ORT| allowed (default: 128 float32 "
                             "roundings of the largest value)")
    args = parser.parse_args()
    FIXTURES, ABSOLUTE_TOLERANCE = args.fixtures, args.abs_tolerance
    passed = failed = skipped = 0

    def report(name, run_check, folder):
        nonlocal passed, failed
        try:
            failures = run_check(args, folder)
        except (support.ToolError, OSError) as error:
            failures = [str(error)]
        except Exception as error:  # ONNX Runtime refusing a model
            failures = [f"{type(error).__name__}: {error}"]
        if failures:
            failed += 1
            print(f"FAIL {name}: " + "\n  ".join(failures[:8]))
        else:
            passed += 1
            print(f"ok   {name}")
        sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="qaf-real-exports-") as tmp:
        for kind in KINDS:
            model = fixture_model(kind)
            folder = os.path.join(tmp, kind)
            os.makedirs(folder)
            if kind in AWAITING_GROUP_QUERY_ATTENTION:
                for piece in GENAI_PIECES:
                    name = f"{kind}/{piece}"
                    if args.select not in name:
                        continue
                    piece_folder = os.path.join(folder, piece)
                    os.makedirs(piece_folder)
                    path = extract_piece(kind, piece, piece_folder)
                    report(f"{name} roundtrip",
                           lambda a, t: check_roundtrip(a, t, path, name), piece_folder)
                    report(f"{name} compiled",
                           lambda a, t: compiled_then(a, t, path, name, check_compiled),
                           piece_folder)
                    if has_matmul_nbits(path):
                        report(f"{name} quantized-roundtrip",
                               lambda a, t: check_roundtrip(a, t, path, name, True),
                               piece_folder)
                    if piece == "attn-out-to-logits":
                        report(f"{name} lora", lambda a, t: check_lora(a, t, path, name),
                               piece_folder)
                missing = group_query_attention_missing(args, model)
                if missing:
                    selected = [c for c, _ in whole_model_checks(kind, model, folder)
                                if args.select in f"{kind} {c}"]
                    skipped += len(selected)
                    if selected:
                        print(f"skip {kind} {', '.join(selected)}: {missing}")
                    continue
            for check, run_check in whole_model_checks(kind, model, folder):
                if args.select in f"{kind} {check}":
                    report(f"{kind} {check}", run_check, folder)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
