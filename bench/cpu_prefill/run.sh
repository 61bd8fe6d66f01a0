#!/usr/bin/env bash
# fp32 prefill benchmark of a 135M decoder, qaf vs ONNX Runtime (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
