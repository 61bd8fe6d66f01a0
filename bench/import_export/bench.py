#!/usr/bin/env python3
"""Import + export benchmark of qaf-translate on a SmolLM-135M-shaped Llama ONNX model.

1. generates the model with external data (scripts/gen_llama_onnx.py --preset 135m
   --external-data) into a work directory;
2. times ``qaf-translate --import-onnx model.onnx --export-onnx -o out/model.onnx`` (one
   process: import, then export) under ``/usr/bin/time -v`` (wall time, max RSS), --repeat times;
3. checks the bar: wall < 10 s and peak RSS < 2x the weight bytes;
4. verifies the exported model: ``out/model.onnx.data`` exists, onnx.checker full_check passes,
   onnxruntime logits of the original and the exported model are identical (max abs diff 0);
5. appends a row to bench/results/import_export.md.

Exit status: 0 when everything passed, 1 when a bar or a check failed, 2 on a usage or setup
error (tool missing, generation failed). Run through bench/import_export/run.sh.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import gen_llama_onnx as gen  # noqa: E402

TIME_BIN = "/usr/bin/time"
MAX_WALL_S = 10.0
MAX_RSS_RATIO = 2.0
TOOL_TIMEOUT_S = 600


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))  # what nproc prints
    except AttributeError:
        ncpu = os.cpu_count()
    return f"nproc {ncpu}, {cpu}{mem}"


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "--no-optional-locks", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return (rev + ("+dirty" if dirty else "")) if rev else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def weight_bytes(path: str) -> int:
    """Bytes of all initializers (inline and external), without loading external data."""
    model = onnx.load(path, load_external_data=False)
    total = 0
    for t in model.graph.initializer:
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        total += n * np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
    return total


def compare_weights(src: str, dst: str) -> List[str]:
    """Every input weight of 1 KiB or more is in the output under its name, byte for byte.

    Smaller initializers may legitimately change: import folds the constant shape
    computations, which removes some and adds others."""
    from onnx import numpy_helper
    original = onnx.load(src)
    exported = {t.name: t for t in onnx.load(dst).graph.initializer}
    problems, checked = [], 0
    for t in original.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.nbytes < 1024:
            continue
        checked += 1
        if t.name not in exported:
            problems.append(f"weight {t.name} is missing from the exported model")
        elif not np.array_equal(a, numpy_helper.to_array(exported[t.name])):
            problems.append(f"weight {t.name} differs in the exported model")
    print(f"exported weights: {checked} initializers of >= 1 KiB compared by name, "
          f"{len(problems)} missing or different")
    return problems


def has_external_data(path: str) -> bool:
    model = onnx.load(path, load_external_data=False)
    return any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer)


def parse_time_v(text: str) -> Dict[str, float]:
    """Parse GNU time -v output: wall seconds, max RSS bytes, user/sys seconds."""
    out: Dict[str, float] = {}
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if m:
        secs = 0.0
        for part in m.group(1).split(":"):
            secs = secs * 60 + float(part)
        out["wall_s"] = secs
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["rss_bytes"] = int(m.group(1)) * 1024
    for key, label in (("user_s", "User time (seconds)"), ("sys_s", "System time (seconds)")):
        m = re.search(re.escape(label) + r": ([\d.]+)", text)
        if m:
            out[key] = float(m.group(1))
    return out


def run_tool_timed(tool: str, src: str, dst: str) -> Dict[str, float]:
    if os.path.isdir(os.path.dirname(dst)):
        shutil.rmtree(os.path.dirname(dst))
    os.makedirs(os.path.dirname(dst))
    cmd = [TIME_BIN, "-v", tool, "--import-onnx", src, "--export-onnx", "-o", dst]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    stats = parse_time_v(proc.stderr)
    if proc.returncode != 0 or "wall_s" not in stats or "rss_bytes" not in stats:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise RuntimeError(f"{' '.join(cmd)} failed with exit status {proc.returncode}")
    stats["outer_wall_s"] = elapsed
    return stats


def compare_ort(original: str, exported: str, cfg: gen.LlamaConfig) -> float:
    """Max abs difference of logits (ORT graph optimizations off, so the same graph gives the same
    bits) on one input with left padding."""
    feeds = gen.make_inputs(cfg, batch=2, seq=24)
    a = gen.ort_session(original, optimize=False).run(["logits"], feeds)[0]
    b = gen.ort_session(exported, optimize=False).run(["logits"], feeds)[0]
    if a.shape != b.shape:
        raise AssertionError(f"logits shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


RESULTS_HEADER = """# qaf-translate import + export benchmark

Written by `bench/import_export/run.sh` (one row per run, newest last). The model is
`scripts/gen_llama_onnx.py --preset 135m --tie-embeddings --external-data` (SmolLM-135M: its
shapes and its tied embeddings, 134.5M fp32 parameters = 538 MB in one external data file). The timed command is one process:
`qaf-translate --import-onnx model.onnx --export-onnx -o out/model.onnx`, measured with
`/usr/bin/time -v`; wall is the median of the repeats, peak RSS the largest. Bar: wall < 10 s and
peak RSS < 2× the weight bytes. "exported" = onnx full_check of the output and identical
onnxruntime logits (max |diff| = 0) against the input model.

| date (UTC) | commit | machine | weights (MB) | runs | wall (s) median [min–max] | peak RSS (MB) | peak / weights | bar | exported |
| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- |
"""


def append_results(path: str, row: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        with open(path, "w") as f:
            f.write(RESULTS_HEADER)
    with open(path, "a") as f:
        f.write(row + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qaf-translate", default=os.environ.get("QAF_TRANSLATE",
                                                              os.path.join(ROOT, "build", "bin", "qaf-translate")))
    ap.add_argument("--preset", default="135m", choices=sorted(gen.PRESETS))
    ap.add_argument("--untied", action="store_true",
                    help="separate lm_head weight (162.8M parameters for 135m) instead of "
                         "SmolLM-135M's tied embeddings")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    ap.add_argument("--workdir", help="keep the model and outputs here (default: a temp dir, removed)")
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results", "import_export.md"))
    ap.add_argument("--no-results", action="store_true", help="do not append to the results file")
    ap.add_argument("--generate-only", action="store_true", help="only generate and describe the model")
    args = ap.parse_args(argv)

    tool = os.path.abspath(args.qaf_translate)
    if not args.generate_only:
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            print(f"error: qaf-translate not found or not executable: {tool} "
                  f"(build it, or set QAF_TRANSLATE)", file=sys.stderr)
            return 2
        if not os.access(TIME_BIN, os.X_OK):
            print(f"error: {TIME_BIN} is missing (apt-get install time)", file=sys.stderr)
            return 2

    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="qaf-bench-ie-")
    try:
        src = os.path.join(workdir, "in", "model.onnx")
        dst = os.path.join(workdir, "out", "model.onnx")
        cfg = gen.LlamaConfig(**{**gen.PRESETS[args.preset], "tie_embeddings": not args.untied})
        t0 = time.perf_counter()
        gen.save(cfg, src, external_data=True)
        gen_s = time.perf_counter() - t0
        wbytes = weight_bytes(src)
        print(f"model: {src} ({args.preset}, {gen.parameter_count(cfg):,} parameters, "
              f"{wbytes / 1e6:.1f} MB of weights, external data {os.path.getsize(src + '.data') / 1e6:.1f} MB; "
              f"generated in {gen_s:.2f} s)")
        if args.generate_only:
            onnx.checker.check_model(src, full_check=True)
            print("generated model passes onnx.checker full_check")
            return 0

        runs = []
        for i in range(args.repeat):
            stats = run_tool_timed(tool, src, dst)
            runs.append(stats)
            print(f"run {i + 1}/{args.repeat}: wall {stats['wall_s']:.2f} s, user {stats.get('user_s', 0):.2f} s, "
                  f"sys {stats.get('sys_s', 0):.2f} s, peak RSS {stats['rss_bytes'] / 1e6:.1f} MB")
        walls = [r["wall_s"] for r in runs]
        wall = statistics.median(walls)
        rss = max(r["rss_bytes"] for r in runs)
        ratio = rss / wbytes
        bar_ok = wall < MAX_WALL_S and ratio < MAX_RSS_RATIO
        print(f"wall median {wall:.2f} s (bar < {MAX_WALL_S:g} s), peak RSS {rss / 1e6:.1f} MB = "
              f"{ratio:.2f}x weights (bar < {MAX_RSS_RATIO:g}x): {'PASS' if bar_ok else 'FAIL'}")

        problems: List[str] = []
        if not os.path.isfile(dst):
            problems.append(f"{dst} was not written")
        else:
            if not os.path.isfile(dst + ".data"):
                problems.append(f"{dst}.data (external data beside the output) was not written")
            elif not has_external_data(dst):
                problems.append("exported model has no external initializers although the input had")
            try:
                onnx.checker.check_model(dst, full_check=True)
                print("exported model: onnx.checker full_check ok")
            except Exception as e:  # noqa: BLE001 - report any checker failure
                problems.append(f"onnx.checker full_check failed: {e}")
            if not problems:
                problems.extend(compare_weights(src, dst))
                diff = compare_ort(src, dst, cfg)
                print(f"onnxruntime logits original vs exported: max |diff| = {diff:g}")
                if diff != 0.0:
                    problems.append(f"logits differ (max |diff| = {diff:g})")
        for p in problems:
            print(f"FAIL: {p}", file=sys.stderr)
        exported = "ok" if not problems else "FAIL"

        row = (f"| {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} | {git_revision()} | "
               f"{machine_description()} | {wbytes / 1e6:.1f} | {len(runs)} | "
               f"{wall:.2f} [{min(walls):.2f}–{max(walls):.2f}] | {rss / 1e6:.1f} | {ratio:.2f} | "
               f"{'pass' if bar_ok else 'FAIL'} | {exported} |")
        if not args.no_results:
            append_results(args.results, row)
            print(f"results appended to {args.results}")
        print(row)
        return 0 if bar_ok and not problems else 1
    except (RuntimeError, subprocess.TimeoutExpired) as e:  # the tool failed or hung
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
