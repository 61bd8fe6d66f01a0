#!/usr/bin/env bash
# The main job, end to end as far as qaf goes today: generate a small
# Llama-style decoder as an exporter would write it, import it into the onnx
# dialect, summarise it, export it back and check it in ONNX Runtime, then
# compile it to a native CPU artifact and check that against ONNX Runtime.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QAF_BUILD_DIR:-$root/build}
out=${QAF_DEMO_DIR:-$root/out/demo}
python=${PYTHON:-python3}

if [ ! -x "$build/bin/qaf-translate" ]; then
  "$root/scripts/setup.sh"
  "$root/scripts/build.sh"
fi
translate="$build/bin/qaf-translate"
mkdir -p "$out"

echo "== 1. generate a Llama-style decoder (torch.onnx.export op patterns)"
"$python" "$root/scripts/gen_llama_onnx.py" --preset tiny -o "$out/llama.onnx"

echo "== 2. import it into the onnx dialect"
"$translate" --import-onnx "$out/llama.onnx" --summary --emit-bytecode \
  -o "$out/llama.mlirbc"
"$translate" --import-onnx "$out/llama.onnx" -o "$out/llama.mlir"
echo "   text IR (weights elided): $out/llama.mlir"

echo "== 3. export it back to ONNX"
"$translate" --export-onnx "$out/llama.mlirbc" -o "$out/llama.roundtrip.onnx"

echo "== 4. check the exported model with onnx.checker and ONNX Runtime"
"$python" "$root/scripts/compare_onnx_models.py" "$out/llama.onnx" \
  "$out/llama.roundtrip.onnx"

echo "== 5. compile it for this CPU and run it with qaf-run"
"$build/bin/qaf-compile" "$out/llama.onnx" -o "$out/artifact"
"$build/bin/qaf-run" info "$out/artifact"
"$python" "$root/scripts/compare_compiled_with_ort.py" "$build/bin/qaf-run" \
  "$out/artifact" "$out/llama.onnx"
