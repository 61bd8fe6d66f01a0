#!/usr/bin/env bash
# The quality table of the real SmolLM2-135M-Instruct (see bench.py):
# regenerates bench/quality.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/bench.py" "$@"
