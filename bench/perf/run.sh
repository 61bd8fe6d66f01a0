#!/usr/bin/env bash
# The performance table of the real SmolLM2-135M (bench/perf.md): training vs
# PyTorch + peft, merged int4 prefill/decode vs ONNX Runtime and llama.cpp,
# one run (see bench.py). Needs --peer-python, the Python of a venv with
# scripts/requirements-exporters.txt installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
