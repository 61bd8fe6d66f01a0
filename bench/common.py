"""What every benchmark report says about where it ran, and the helpers
several benchmarks share."""
import datetime
import json
import os
import re
import subprocess
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine():
    """Core count and CPU model, e.g. "2 cores, AMD EPYC"."""
    model = "cpu"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def commit():
    """The short hash of the checked-out commit."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


PEAK_MARK = "qaf-bench-peak-rss-kb "


def run_with_peak(command, **kwargs):
    """Runs `command` (a list); returns (stdout, stderr, peak RSS in MB),
    raising RuntimeError with the end of its output when it fails.

    /usr/bin/time, a small process, forks the command and reports its peak.
    The rusage of a child forked from a benchmark's Python (os.wait4) would
    also count the Python process's resident pages, which the child holds
    between fork and exec: a bench holding ONNX Runtime sessions or a
    generated model's arrays would read its own size."""
    result = subprocess.run(["/usr/bin/time", "-f", PEAK_MARK + "%M", *map(str, command)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    lines = result.stderr.splitlines()
    stderr = "\n".join(line for line in lines if not line.startswith(PEAK_MARK))
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                           f"{(result.stdout + stderr)[-4000:]}")
    peak = [line for line in lines if line.startswith(PEAK_MARK)]
    return result.stdout, stderr, int(peak[-1].split()[-1]) / 1024


def append_results(path, header, rows):
    """Appends table rows to a results file, writing its header first when
    the file is new."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write(header)
        for row in rows:
            f.write(row + "\n")
    print(f"results appended to {path}")


def qaf_generate(qaf_run, artifact, prompt_path, new_tokens, threads):
    """`qaf-run generate`; returns (ids, prefill tok/s, decode tok/s)."""
    out = subprocess.run([qaf_run, "generate", artifact, "--prompt-ids", prompt_path,
                          "--max-new-tokens", str(new_tokens), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    ids = [int(t) for t in re.search(r"generated\[0\]: ([0-9 ]+)", out).group(1).split()]
    rates = {phase: float(rate) for phase, rate in
             re.findall(r"^(prefill|decode)[^:]*: .*\(([0-9.]+) tokens/s\)", out, re.M)}
    return np.array(ids), rates["prefill"], rates["decode"]


def add_decode_arguments(parser):
    """The tools and the run shape both decode benchmarks take."""
    build = os.path.join(ROOT, "build", "bin")
    for tool in ("qaf-compile", "qaf-run", "qaf-bench-qlinear"):
        parser.add_argument("--" + tool, default=os.path.join(build, tool))
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)


def compile_with_prompt(qaf_compile, model, folder, length):
    """`model` compiled into folder/artifact and a random prompt of `length`
    ids (seed 0) saved as folder/prompt.npy: (artifact, compile seconds,
    prompt, prompt path)."""
    artifact = os.path.join(folder, "artifact")
    start = time.perf_counter()
    subprocess.run([qaf_compile, model, "-o", artifact], check=True)
    seconds = time.perf_counter() - start
    prompt = np.random.default_rng(0).integers(0, 49152, (1, length)).astype(np.int64)
    prompt_path = os.path.join(folder, "prompt.npy")
    np.save(prompt_path, prompt)
    return artifact, seconds, prompt, prompt_path


def keep_best(best, name, prefill, decode):
    """best[name] = the highest prefill and decode rates seen."""
    old = best.get(name, [0.0, 0.0])
    best[name] = [max(old[0], prefill), max(old[1], decode)]


def decode_row_start(threads, bandwidth, weight_bytes):
    """The first cells of a decode benchmark's results row (date, commit,
    machine, threads, copy GB/s, weights MB, bound tok/s) and the bound:
    weight bytes per token over the copy bandwidth."""
    bound = bandwidth * 1e9 / weight_bytes
    cells = (f"| {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} | {commit()} | "
             f"{machine()} | {threads} | {bandwidth:.1f} | {weight_bytes / 1e6:.0f} | "
             f"{bound:.1f} |")
    return cells, bound


def copy_bandwidth(bench_qlinear, threads):
    out = subprocess.run([bench_qlinear], check=True, capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": str(threads)}).stdout
    return float(json.loads(out)["stream_copy_gbs"])
