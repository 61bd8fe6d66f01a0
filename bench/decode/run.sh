#!/usr/bin/env bash
# KV-cache decode of the real SmolLM2-135M fp32: qaf vs ONNX Runtime (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
