#!/usr/bin/env bash
# The benchmarks' anchor (not needed to run or test Headstart): a Python environment with onnx,
# onnxruntime, numpy and Pillow in $HEADSTART_CACHE/onnx-venv, and the checkpoint exported to
# data/onnx/efficientnet-lite0.onnx by scripts/onnx_export.py. Each step skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
venv="$HEADSTART_CACHE/onnx-venv"
if ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy, PIL" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 pillow==13.0.0
fi
if [ ! -f data/onnx/efficientnet-lite0.onnx ]; then
  mkdir -p data/onnx
  "$venv/bin/python" scripts/onnx_export.py data/efficientnet-lite0.pth data/onnx/efficientnet-lite0.onnx
fi
