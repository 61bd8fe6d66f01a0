#!/usr/bin/env bash
# Cost of the run-time checks on the 135M prefill and decode step (see bench.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/bench.py" "$@"
