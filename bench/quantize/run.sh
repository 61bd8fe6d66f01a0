#!/usr/bin/env bash
# Quantization benchmark: time to quantize / LoftQ-initialise a 135M decoder,
# and the quantization error table (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/bench.py" "$@"
