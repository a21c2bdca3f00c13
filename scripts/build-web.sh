#!/usr/bin/env bash
# Builds the static release page into dist/: the page's wasm and JS glue, the model worker's two
# builds (headstart-worker.js + _bg.wasm for the CPU, headstart-worker-webgpu.js + _bg.wasm with
# WebGPU as well; started by model-worker.js), styles, samples and weights,
# with the page's Content-Security-Policy (trunk's post-build hook runs scripts/csp.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
trunk --config trunk.toml build --release --locked "$@"
du -b dist/*.wasm dist/weights/*.bpk | awk '{printf "%-60s %6.1f MB\n", $2, $1/1e6}'
