#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test
# with ctest (lit suites, unit tests, oracle tests against ONNX Runtime).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QAF_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j2 "$@"
