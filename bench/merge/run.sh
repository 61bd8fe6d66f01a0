#!/usr/bin/env bash
# Merge + export time of the 135M decoder (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
