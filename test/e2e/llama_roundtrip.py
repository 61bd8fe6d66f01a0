#!/usr/bin/env python3
"""End-to-end ONNX import/export round trip of qaf-translate on Llama-style decoders.

For each variant of the tiny model from scripts/gen_llama_onnx.py (opset 17, opset 18 with
ReduceMean axes as an input, opset 17 with external data) this test runs

    qaf-translate --import-onnx orig/model.onnx -o orig/model.mlir
    qaf-translate --import-onnx orig/model.onnx -o orig/model.mlirbc --emit-bytecode
    qaf-translate --export-onnx orig/model.mlirbc -o rt/model.onnx
    qaf-translate --import-onnx rt/model.onnx -o rt/model.mlir

and checks that
  * every command succeeds (120 s timeout each) and the bytecode file is MLIR bytecode;
  * rt/model.onnx passes onnx.checker.check_model(full_check=True), keeps the graph inputs and
    outputs (names, element types, dims), and for the external-data variant writes its weights
    to rt/model.onnx.data;
  * onnxruntime logits of orig/model.onnx and rt/model.onnx are identical for batch sizes 1, 3
    and sequence lengths 5, 17 (graph optimizations off: np.array_equal; default optimizations:
    max |diff| <= 1e-6);
  * import(export(model)) printed as text equals import(model) printed as text (the two model
    directories are given the same file names; their paths are normalised before comparing).

Usage: python3 test/e2e/llama_roundtrip.py --qaf-translate build/bin/qaf-translate [--keep DIR]
Exit status 0 when every check passed, 1 otherwise (each failure is printed), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Callable, List, Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import gen_llama_onnx as gen  # noqa: E402

TIMEOUT_S = 120
MLIR_BYTECODE_MAGIC = b"ML\xefR"
SHAPES = [(b, s) for b in (1, 3) for s in (5, 17)]
VARIANTS = [
    ("opset17", dict(opset=17), False),
    ("opset18", dict(opset=18), False),
    ("opset17-external-data", dict(opset=17), True),
]


class CheckFailed(Exception):
    pass


def run_tool(tool: str, args: Sequence[str], cwd: str) -> None:
    cmd = [tool, *args]
    shown = " ".join(cmd)
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"timed out after {TIMEOUT_S} s: {shown}") from None
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-3000:]
        raise CheckFailed(f"exit status {proc.returncode}: {shown}\n{tail}")
    print(f"    ran: {shown}")


def value_infos(model: onnx.ModelProto, which: str):
    out = []
    for v in getattr(model.graph, which):
        t = v.type.tensor_type
        dims = [d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else "?")
                for d in t.shape.dim]
        out.append((v.name, TensorProto.DataType.Name(t.elem_type), dims))
    return out


def check_interface(orig: str, back: str) -> None:
    a = onnx.load(orig, load_external_data=False)
    b = onnx.load(back, load_external_data=False)
    for which in ("input", "output"):
        va, vb = value_infos(a, which), value_infos(b, which)
        if va != vb:
            raise CheckFailed(f"graph {which}s differ: original {va} vs exported {vb}")
    print(f"    ok: exported graph inputs/outputs match {value_infos(a, 'input')} -> {value_infos(a, 'output')}")


def check_external(back: str) -> None:
    data = back + ".data"
    if not os.path.isfile(data):
        raise CheckFailed(f"the input had external data but {data} was not written")
    m = onnx.load(back, load_external_data=False)
    n_ext = sum(t.data_location == TensorProto.EXTERNAL for t in m.graph.initializer)
    if n_ext == 0:
        raise CheckFailed("the input had external data but the exported model has no external initializers")
    print(f"    ok: exported external data {os.path.basename(data)} ({os.path.getsize(data):,} bytes, "
          f"{n_ext} external initializers)")


def check_ort(orig: str, back: str, cfg: gen.LlamaConfig) -> None:
    for optimize in (False, True):
        sa, sb = gen.ort_session(orig, optimize=optimize), gen.ort_session(back, optimize=optimize)
        for batch, seq in SHAPES:
            feeds = gen.make_inputs(cfg, batch, seq)
            a = sa.run(["logits"], feeds)[0]
            b = sb.run(["logits"], feeds)[0]
            if a.shape != b.shape or a.shape != (batch, seq, cfg.vocab):
                raise CheckFailed(f"logits shapes: original {a.shape}, exported {b.shape}")
            diff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
            if optimize and diff > 1e-6:
                raise CheckFailed(f"ORT (default optimizations) batch={batch} seq={seq}: max |diff| = {diff:g} > 1e-6")
            if not optimize and not np.array_equal(a, b):
                raise CheckFailed(f"ORT (optimizations off) batch={batch} seq={seq}: logits not identical "
                                  f"(max |diff| = {diff:g})")
        print(f"    ok: ORT logits identical for (batch, seq) in {SHAPES}, graph optimizations "
              f"{'on (<= 1e-6)' if optimize else 'off (array_equal)'}")


def read_normalised(path: str, model_dir: str) -> List[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    text = text.replace(os.path.realpath(model_dir), "<DIR>").replace(model_dir, "<DIR>")
    return text.splitlines(keepends=True)


# Export writes opset max(21, original) and the IR version that opset needs
# (the IR holds newest-opset semantics), so these two module attributes are
# the only ones allowed to change on the first round trip.
UPGRADED_ATTRS = re.compile(r"onnx\.(opset_import = \{[^}]*\}|ir_version = \d+ : i64)")


def check_ir_roundtrip(a_path: str, a_dir: str, b_path: str, b_dir: str,
                       ignore_opset: bool = True) -> None:
    a, b = read_normalised(a_path, a_dir), read_normalised(b_path, b_dir)
    if ignore_opset:
        a = [UPGRADED_ATTRS.sub("onnx.<upgraded>", line) for line in a]
        b = [UPGRADED_ATTRS.sub("onnx.<upgraded>", line) for line in b]
    if not a:
        raise CheckFailed(f"{a_path} is empty")
    if a != b:
        diff = "".join(list(difflib.unified_diff(a, b, "import(model)", "import(export(model))", n=2))[:80])
        raise CheckFailed(f"import(export(model)) text differs from import(model) text:\n{diff}")
    print(f"    ok: import(export(model)) text == import(model) text ({len(a)} lines, "
          f"{os.path.getsize(a_path):,} bytes)")


def run_variant(tool: str, tmp: str, name: str, overrides: dict, external: bool,
                record: Callable[[str, Optional[str]], None]) -> None:
    cfg = gen.LlamaConfig(**{**gen.PRESETS["tiny"], **overrides})
    orig_dir = os.path.join(tmp, name, "orig")
    rt_dir = os.path.join(tmp, name, "rt")
    os.makedirs(rt_dir, exist_ok=True)
    orig = os.path.join(orig_dir, "model.onnx")
    back = os.path.join(rt_dir, "model.onnx")
    print(f"[{name}] tiny Llama ({cfg.layers} layers, hidden {cfg.hidden}, {cfg.heads} heads / {cfg.kv_heads} kv "
          f"heads, vocab {cfg.vocab}), opset {cfg.opset}, external data: {external}")

    def step(label: str, fn: Callable[[], None]) -> bool:
        try:
            fn()
        except CheckFailed as e:
            record(f"{name}: {label}", str(e))
            return False
        except Exception:  # noqa: BLE001 - an unexpected error is a failure with its traceback
            record(f"{name}: {label}", traceback.format_exc())
            return False
        record(f"{name}: {label}", None)
        return True

    def generate() -> None:
        gen.save(cfg, orig, external_data=external)
        onnx.checker.check_model(orig, full_check=True)
        print(f"    generated {orig} ({gen.parameter_count(cfg):,} parameters)")

    if not step("generate", generate):
        return
    mlir, mlirbc = os.path.join(orig_dir, "model.mlir"), os.path.join(orig_dir, "model.mlirbc")
    if not step("import to text", lambda: run_tool(tool, ["--import-onnx", orig, "-o", mlir], orig_dir)):
        return

    def import_bytecode() -> None:
        run_tool(tool, ["--import-onnx", orig, "-o", mlirbc, "--emit-bytecode"], orig_dir)
        with open(mlirbc, "rb") as f:
            if f.read(4) != MLIR_BYTECODE_MAGIC:
                raise CheckFailed(f"{mlirbc} does not start with the MLIR bytecode magic 'ML\\xefR'")

    if not step("import to bytecode", import_bytecode):
        return
    if not step("export from bytecode", lambda: run_tool(tool, ["--export-onnx", mlirbc, "-o", back], rt_dir)):
        return

    def full_check() -> None:
        onnx.checker.check_model(back, full_check=True)
        print("    ok: onnx.checker.check_model(full_check=True) on the exported model")

    ok = step("exported model passes onnx full_check", full_check)
    ok = step("exported graph interface", lambda: check_interface(orig, back)) and ok
    if external:
        ok = step("exported external data", lambda: check_external(back)) and ok
    if ok:
        step("ORT logits identical", lambda: check_ort(orig, back, cfg))
    back_mlir = os.path.join(rt_dir, "model.mlir")

    def ir_roundtrip() -> None:
        run_tool(tool, ["--import-onnx", back, "-o", back_mlir], rt_dir)
        check_ir_roundtrip(mlir, orig_dir, back_mlir, rt_dir)

    step("IR round trip", ir_roundtrip)

    # A second round trip starts from an opset >= 21 model: nothing at all
    # may change, the opset attributes included.
    back2_dir = os.path.join(tmp, name, "rt2")
    os.makedirs(back2_dir, exist_ok=True)
    back2 = os.path.join(back2_dir, "model.onnx")
    back2_mlir = os.path.join(back2_dir, "model.mlir")

    def ir_fixpoint() -> None:
        run_tool(tool, ["--import-onnx", back, "--export-onnx", "-o", back2], rt_dir)
        run_tool(tool, ["--import-onnx", back2, "-o", back2_mlir], back2_dir)
        check_ir_roundtrip(back_mlir, rt_dir, back2_mlir, back2_dir, ignore_opset=False)

    step("IR round trip is a fixpoint (exact text)", ir_fixpoint)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qaf-translate", required=True, metavar="PATH", help="path of the qaf-translate binary")
    ap.add_argument("--keep", metavar="DIR", help="write the models here and keep them (default: a temp dir)")
    args = ap.parse_args(argv)
    tool = os.path.abspath(args.qaf_translate)
    if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
        print(f"error: qaf-translate not found or not executable: {tool}", file=sys.stderr)
        return 2

    tmp = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="qaf-llama-rt-")
    results: List[tuple] = []

    def record(label: str, error: Optional[str]) -> None:
        results.append((label, error))
        if error is not None:
            print(f"    FAIL: {label}\n" + "".join(f"      {line}\n" for line in error.splitlines()))

    t0 = time.perf_counter()
    try:
        for name, overrides, external in VARIANTS:
            run_variant(tool, tmp, name, overrides, external, record)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = [label for label, err in results if err is not None]
    print(f"\nllama_roundtrip: {len(results)} checks in {time.perf_counter() - t0:.1f} s")
    for label in failed:
        print(f"  FAILED: {label}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
