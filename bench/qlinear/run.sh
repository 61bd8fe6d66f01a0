#!/usr/bin/env bash
# Quantized decode benchmark: qaf_qlinear (int4, group 64, M = 1) against a
# STREAM-style copy measured in the same run (the bar: at least 50 % of its
# bandwidth) and ONNX Runtime's MatMulNBits on the same shapes, at 1 and 2
# threads. Writes bench/results/qlinear_decode.md.
#
#   bench/qlinear/run.sh                 # uses build/bin/qaf-bench-qlinear
#   bench/qlinear/run.sh --no-results    # print, do not write the table
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=${PYTHON:-python3}
build=${QAF_BUILD_DIR:-$root/build}
bench="$build/bin/qaf-bench-qlinear"
write=1
[[ "${1:-}" == "--no-results" ]] && write=0
if [[ ! -x "$bench" ]]; then
  cmake --build "$build" --target qaf-bench-qlinear >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for threads in 1 2; do
  "$bench" --threads "$threads" --min-time 0.5 > "$tmp/qaf-$threads.json"
  "$python" "$here/ort_bench.py" --threads "$threads" --min-time 0.5 \
    > "$tmp/ort-$threads.json"
  "$python" "$here/ort_bench.py" --threads "$threads" --min-time 0.5 \
    --accuracy-level 4 > "$tmp/ort4-$threads.json"
done
out=/dev/stdout
[[ $write == 1 ]] && out="$root/bench/results/qlinear_decode.md"
"$python" "$here/make_report.py" "$tmp" > "$tmp/report.md"
cat "$tmp/report.md" > "$out"
[[ $write == 1 ]] && cat "$tmp/report.md"
exit 0
