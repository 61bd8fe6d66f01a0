#!/usr/bin/env bash
# ONNX Runtime's MatMulNBits speed on the files qaf exports with float, packed
# uint8 and no zero points (one 1536×576 int4 g64 layer, M = 1 and 128, 2
# threads). Writes bench/results/ort_zero_points.md.
#
#   bash bench/ort_zero_points/run.sh                 # uses build/bin/qaf-{translate,opt}
#   bash bench/ort_zero_points/run.sh --no-results    # print, do not write the report
# Other options go to bench.py (--threads N, --rounds R, --round-time S).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=${PYTHON:-python3}
build=${QAF_BUILD_DIR:-$root/build}
write=1
if [[ "${1:-}" == "--no-results" ]]; then
  write=0
  shift
fi
if [[ ! -x "$build/bin/qaf-translate" || ! -x "$build/bin/qaf-opt" ]]; then
  cmake --build "$build" --target qaf-translate qaf-opt >/dev/null
fi
report=$("$python" "$here/bench.py" --qaf-translate "$build/bin/qaf-translate" \
  --qaf-opt "$build/bin/qaf-opt" "$@")
echo "$report"
[[ $write == 1 ]] && echo "$report" > "$root/bench/results/ort_zero_points.md"
exit 0
