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


def ort_generate(ort, model, prompt, new_tokens, threads):
    """Greedy decoding with IO binding; returns (ids, prefill s, decode s)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    pasts = [name for name in inputs if name.startswith("past_key_values.")]
    batch, length = prompt.shape
    # An empty past: [batch, kv_heads, 0, head_dim] from the declared shape.
    empty = {}
    for name in pasts:
        shape = inputs[name].shape
        empty[name] = ort.OrtValue.ortvalue_from_numpy(
            np.zeros((batch, shape[1], 0, shape[3]), np.float32))
    binding = session.io_binding()

    def step(ids, total, past):
        first = total - ids.shape[1]
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("attention_mask", np.ones((batch, total), np.int64))
        binding.bind_cpu_input("position_ids",
                               np.broadcast_to(np.arange(first, total), ids.shape).copy())
        for name in pasts:
            binding.bind_ortvalue_input(name, past[name])
        for name in outputs:
            binding.bind_output(name, "cpu")
        session.run_with_iobinding(binding)
        values = dict(zip(outputs, binding.get_outputs()))
        token = np.argmax(values["logits"].numpy()[:, -1], axis=-1)
        present = {name: values[name.replace("past_key_values.", "present.")]
                   for name in pasts}
        return token, present

    start = time.perf_counter()
    token, past = step(prompt, length, empty)
    prefill = time.perf_counter() - start
    generated = [token]
    start = time.perf_counter()
    for _ in range(new_tokens - 1):
        token, past = step(token[:, None].astype(np.int64), length + len(generated), past)
        generated.append(token)
    decode = time.perf_counter() - start
    return np.stack(generated, axis=1), prefill, decode


def run_peer(python, script, *arguments):
    """`python script arguments...` (a peer in the exporters' venv); its last
    output line, parsed as JSON."""
    out = subprocess.run([python, script, *map(str, arguments)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def qaf_and_ort_round(ort, qaf_run, artifact, model, prompt, prompt_path, new, threads, best,
                      paired=None):
    """One round of `qaf-run generate` on `artifact` and ONNX Runtime's greedy
    loop on `model`, the same prompt: each one's best rates kept in `best`
    ("qaf", "ort"), this round's qaf / ORT decode rate appended to `paired`
    (when given); returns whether their ids agree."""
    ids, prefill, decode = qaf_generate(qaf_run, artifact, prompt_path, new, threads)
    keep_best(best, "qaf", prefill, decode)
    ort_ids, ort_prefill, ort_decode = ort_generate(ort, model, prompt, new, threads)
    keep_best(best, "ort", prompt.shape[1] / ort_prefill, (new - 1) / ort_decode)
    if paired is not None:
        paired.append(decode / ((new - 1) / ort_decode))
    return bool(np.array_equal(ids, ort_ids[0]))


def set_accuracy_level(src, dst, level):
    """`src` with every MatMulNBits' accuracy_level set to `level`, saved as
    `dst` (beside it: external data stays where it is)."""
    import onnx
    model = onnx.load(src, load_external_data=False)
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            kept = [a for a in node.attribute if a.name != "accuracy_level"]
            del node.attribute[:]
            node.attribute.extend(kept)
            node.attribute.append(onnx.helper.make_attribute("accuracy_level", level))
    onnx.save(model, dst)


def paired_summary(ratios):
    """'median (lowest-highest)' of per-round ratios, two decimals."""
    return f"{float(np.median(ratios)):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
