#!/usr/bin/env bash
# GEMM benchmark: qaf_sgemm (qaf-bench-matmul) against numpy's matmul
# (OpenBLAS) on M=128 transformer shapes, 1 and 2 threads, and the machine's
# FMA peak. Writes bench/results/matmul.md.
#
#   bench/matmul/run.sh                   # uses build/bin/qaf-bench-matmul
#   bench/matmul/run.sh --min-time 0.5    # longer timing rounds
#   bench/matmul/run.sh --no-results      # print, do not write the table
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
while [ $# -gt 0 ]; do
  case "$1" in
    --min-time) min_time="$2"; shift 2 ;;
    --no-results) write=0; shift ;;
    *) echo "usage: $0 [--min-time S] [--no-results]" >&2; exit 2 ;;
  esac
done

bench="${QAF_BENCH_MATMUL:-}"
if [ -z "$bench" ]; then
  build="${QAF_BUILD_DIR:-$root/build}"
  if [ -f "$build/build.ninja" ] &&
      cmake --build "$build" --target qaf-bench-matmul >/dev/null 2>&1; then
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
    "$python" "$here/numpy_bench.py" --threads "$threads" \
    --min-time "$min_time" | tee -a "$out/numpy.tsv"
done
if [ "$write" = 1 ]; then
  "$python" "$here/make_report.py" --qaf "$out/qaf.tsv" \
    --numpy "$out/numpy.tsv" --root "$root" -o "$results"
  echo "wrote $results" >&2
fi
