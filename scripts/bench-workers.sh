#!/usr/bin/env bash
# Benchmark of the model workers (not part of the tests): builds the release page, then in
# headless Chromium measures photos embedded per second with 1 worker and with 2, the page
# thread's longest task per phase, each worker's wasm memory and time to ready. Medians of
# ROUNDS interleaved rounds (default 3) over SIZES pool sizes (default "1 2"); the raw figures
# go to tests/browser/artifacts/bench-workers.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-web.sh
node tests/browser/bench/workers.mjs
