#!/usr/bin/env python3
"""KV-cache decode of the real SmolLM2-135M (fp32): qaf vs ONNX Runtime (issue 11).

The model is `scripts/get_smollm2.py`'s `model-with-past.onnx`: the real
weights with optimum's cache interface (input_ids, attention_mask,
position_ids, past_key_values.*, present.*), fp32. Batch 1, a --prompt-token
prompt (random ids, seed 0), then --new tokens greedily, same threads:
  - qaf: `qaf-compile` of the file, `qaf-run generate` (its cache buffers are
    the runtime's, written in place);
  - ONNX Runtime: CPU execution provider, the same greedy loop with IO
    binding: each step's present.* OrtValues are bound as the next step's
    past, so no cache is copied through numpy.
Both generate the same ids (checked). tokens/s: prefill = prompt tokens /
prefill time; decode = tokens after the first / their time; each contestant
runs --rounds times in turn and its best round is kept. The bound is the
memory-bandwidth bound of one decode step: the bytes of the weights every
token reads (all of them; the tied embedding once, as the head) over the
copy bandwidth `qaf-bench-qlinear` measures on the same cores (bytes read +
written per second). Appends to bench/results/decode.md.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from common import (add_decode_arguments, append_results, compile_with_prompt,  # noqa: E402
                    copy_bandwidth, decode_row_start, paired_summary, qaf_and_ort_round)

HEADER = """# KV-cache decode, real SmolLM2-135M fp32: qaf vs ONNX Runtime

Written by `bench/decode/bench.py` (`bash bench/decode/run.sh`, newest
last). `scripts/get_smollm2.py`'s `model-with-past.onnx` (optimum's cache
interface, fp32), batch 1, a 128-token prompt then 128 new tokens, greedy,
same threads. qaf: `qaf-run generate`; ORT: its greedy loop with IO binding
(present.* bound as the next past). Best of --rounds rounds, run in turn;
"paired": the median over rounds of each round's qaf / ORT decode rate,
measured seconds apart, with the lowest and highest (rows from 2026-12-06).
"bound" = weight bytes per token / copy bandwidth (`qaf-bench-qlinear`'s
2-thread copy, bytes read + written); "% of bound" = bound time / decode
time per token. Bar (issue 11): decode >= 1.0x ORT; goal >= 80 % of the
bound.

| date (UTC) | commit | machine | threads | copy GB/s | weights MB | bound tok/s | qaf prefill tok/s | ORT prefill tok/s | qaf decode tok/s | ORT decode tok/s | qaf / ORT (decode) | qaf % of bound | ORT % of bound | same ids | qaf / ORT paired |
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=os.path.join(ROOT, "build", "smollm2"),
                        help="get_smollm2.py's output folder (made when missing)")
    add_decode_arguments(parser)
    args = parser.parse_args()

    import onnxruntime as ort
    model = os.path.join(args.model_dir, "model-with-past.onnx")
    if not os.path.exists(model):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "get_smollm2.py"),
                        "-o", args.model_dir], check=True)
    weight_bytes = os.path.getsize(os.path.join(args.model_dir, "model.onnx.data"))
    with tempfile.TemporaryDirectory(prefix="qaf-bench-decode-") as tmp:
        artifact, compile_seconds, prompt, prompt_path = compile_with_prompt(
            args.qaf_compile, model, tmp, args.prompt)
        best = {}
        same = True
        paired = []
        for _ in range(args.rounds):
            same = qaf_and_ort_round(ort, args.qaf_run, artifact, model, prompt, prompt_path,
                                     args.new, args.threads, best, paired) and same
        bandwidth = copy_bandwidth(args.qaf_bench_qlinear, args.threads)
    row, bound = decode_row_start(args.threads, bandwidth, weight_bytes)
    qaf_prefill, qaf_decode = best["qaf"]
    ort_prefill, ort_decode = best["ort"]
    print(f"compile {compile_seconds:.1f} s; copy {bandwidth:.1f} GB/s, weights "
          f"{weight_bytes / 1e6:.0f} MB: bound {bound:.1f} tok/s")
    print(f"prefill: qaf {qaf_prefill:.1f} tok/s, ORT {ort_prefill:.1f}")
    print(f"decode: qaf {qaf_decode:.1f} tok/s ({100 * qaf_decode / bound:.0f} % of the bound), "
          f"ORT {ort_decode:.1f} ({100 * ort_decode / bound:.0f} %); "
          f"qaf / ORT {qaf_decode / ort_decode:.2f} (paired {paired_summary(paired)}); "
          f"same ids: {same}")
    row += (f" {qaf_prefill:.1f} | {ort_prefill:.1f} | {qaf_decode:.1f} | "
            f"{ort_decode:.1f} | {qaf_decode / ort_decode:.2f} | {100 * qaf_decode / bound:.0f} % | "
            f"{100 * ort_decode / bound:.0f} % | {'yes' if same else 'no'} | "
            f"{paired_summary(paired)} |")
    append_results(os.path.join(ROOT, "bench", "results", "decode.md"), HEADER, [row])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
