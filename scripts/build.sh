#!/usr/bin/env bash
# Configures and builds qaf into ${QAF_BUILD_DIR:-build}.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QAF_BUILD_DIR:-$root/build}
python=${PYTHON:-python3}

# ccache, where installed, only saves time on rebuilds (same output).
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -G Ninja -S "$root" -B "$build" "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DPython3_EXECUTABLE="$(command -v "$python")" \
  -DQAF_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
