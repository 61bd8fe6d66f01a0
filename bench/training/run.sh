#!/usr/bin/env bash
# Training throughput of a 135M decoder, qaf (every method) vs PyTorch + peft (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
