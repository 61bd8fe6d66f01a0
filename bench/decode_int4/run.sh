#!/usr/bin/env bash
# KV-cache decode of the real SmolLM2-135M as ORT GenAI's int4 export: qaf vs
# ORT GenAI vs llama.cpp (see bench.py). Needs --peer-python, the Python of a
# venv with scripts/requirements-exporters.txt installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
