#!/usr/bin/env bash
# The benchmark (not part of the tests; about 10 minutes here): builds the release page, exports
# the same checkpoint to ONNX (scripts/onnx_export.py, no torch), installs ONNX Runtime Web
# (npm) beside the browser tests, and runs tests/browser/bench/speed.mjs, which measures both in
# one headless Chromium and writes BENCHMARKS.json and the results section of BENCHMARKS.md.
# ROUNDS (default 3) interleaved rounds; medians are reported.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-web.sh
source scripts/env.sh
scripts/onnx_anchor.sh
if [ ! -d tests/browser/bench/node_modules/onnxruntime-web ]; then
  (cd tests/browser/bench && npm ci --no-audit --no-fund)
fi
node tests/browser/bench/speed.mjs
