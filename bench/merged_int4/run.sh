#!/usr/bin/env bash
# Merged int4 135M decoder: qaf's binary vs ONNX Runtime (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
