#!/usr/bin/env bash
# Import + export benchmark of qaf-translate on a SmolLM-135M-shaped model with external data.
#
#   bench/import_export/run.sh                    # uses build/bin/qaf-translate
#   QAF_TRANSLATE=/path/to/qaf-translate bench/import_export/run.sh --repeat 5
#   bench/import_export/run.sh --generate-only    # only generate + full_check the input model
#
# Options are passed to bench.py (--repeat N, --workdir DIR to keep files, --no-results,
# --results FILE). Results are appended to bench/results/import_export.md.
# Exit status: 0 pass, 1 a bar or check failed, 2 setup error (tool missing, ...).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
QAF_TRANSLATE="${QAF_TRANSLATE:-$root/build/bin/qaf-translate}"
export QAF_TRANSLATE
exec python3 "$here/bench.py" --qaf-translate "$QAF_TRANSLATE" "$@"
