#!/usr/bin/env bash
# GEMM benchmark: qaf_sgemm (qaf-bench-matmul) against numpy's matmul
# (OpenBLAS) on M=128 transformer shapes, 1 and 2 threads, and the machine's
# FMA peak. Writes bench/results/matmul.md.
#
#   bench/matmul/run.sh                   # uses build/bin/qaf-bench-matmul
#   bench/matmul/run.sh --min-time 0.5    # longer timing rounds
#   bench/matmul/run.sh --no-results      # print, do not write the table
#   bench/matmul/run.sh --high-priority   # on a machine shared with other jobs
#
# --high-priority (root) runs the benchmarks in a scheduler group of their own
# at nice -20 (setsid + /proc/self/autogroup; plain nice does not reach across
# autogroups), so that builds running beside them on a 2-core machine do not
# halve the numbers. qaf and numpy run under the same conditions; the report
# says which were used and the load average at the start.
#
# The binary comes from $QAF_BENCH_MATMUL, else the main build
# (${QAF_BUILD_DIR:-build}, target qaf-bench-matmul), else a standalone
# build of bench/matmul (no MLIR needed) in build-bench-matmul/.
# The machine's environment sets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
# which pin OpenBLAS to slower kernels; they are unset for numpy here only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python=${PYTHON:-python3}
min_time=0.3
results="$root/bench/results/matmul.md"
write=1
priority=0
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --min-time) min_time="$2"; shift 2 ;;
    --no-results) write=0; shift ;;
    --high-priority) priority=1; shift ;;
    *) echo "usage: $0 [--min-time S] [--no-results] [--high-priority]" >&2
       exit 2 ;;
  esac
done
if [ "$priority" = 1 ] && [ -z "${QAF_BENCH_PRIORITY_SET:-}" ]; then
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  exec env QAF_BENCH_PRIORITY_SET="$load" setsid bash -c \
    '{ echo -20 > /proc/self/autogroup; } 2>/dev/null ||
       echo "run.sh: cannot raise the priority (not root?)" >&2
     exec nice -n -20 "$0" "$@"' \
    "$0" "${args[@]}"
fi
conditions="load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
if [ -n "${QAF_BENCH_PRIORITY_SET:-}" ]; then
  conditions="load average $QAF_BENCH_PRIORITY_SET at the start; run in its \
own scheduler group at nice -20 (--high-priority)"
fi

bench="${QAF_BENCH_MATMUL:-}"
if [ -z "$bench" ]; then
  build="${QAF_BUILD_DIR:-$root/build}"
  if [ -f "$build/build.ninja" ] &&
      grep -q "qaf-bench-matmul" "$build/build.ninja" &&
      cmake --build "$build" --target qaf-bench-matmul >/dev/null; then
    bench="$build/bin/qaf-bench-matmul"
  else
    standalone="$root/build-bench-matmul"
    cmake -G Ninja -S "$here" -B "$standalone" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 >/dev/null
    cmake --build "$standalone" --target qaf-bench-matmul >/dev/null
    bench="$standalone/bin/qaf-bench-matmul"
  fi
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "qaf: $bench" >&2
"$bench" --min-time="$min_time" | tee "$out/qaf.tsv"
# The AVX2 path too, on a CPU whose default is AVX-512 (for comparison).
if grep -q "^peak	avx512" "$out/qaf.tsv"; then
  "$bench" --isa=avx2 --min-time="$min_time" | tee -a "$out/qaf.tsv"
fi
for threads in 1 2; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" \
    "$python" "$here/numpy_bench.py" --threads "$threads" --tag auto \
    --min-time "$min_time" | tee -a "$out/numpy.tsv"
done
# Beside qaf's AVX2 path, OpenBLAS held to its AVX2 (Haswell) kernels.
if grep -q "^peak	avx2" "$out/qaf.tsv"; then
  for threads in 1 2; do
    env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell \
      OPENBLAS_NUM_THREADS="$threads" "$python" "$here/numpy_bench.py" \
      --threads "$threads" --tag Haswell --min-time "$min_time" |
      tee -a "$out/numpy.tsv"
  done
fi
if [ "$write" = 1 ]; then
  "$python" "$here/make_report.py" --qaf "$out/qaf.tsv" \
    --numpy "$out/numpy.tsv" --root "$root" --conditions "$conditions" \
    -o "$results"
  echo "wrote $results" >&2
fi
