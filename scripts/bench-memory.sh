#!/usr/bin/env bash
# Benchmark of a class-sized dataset in one tab (not part of the tests): builds the release
# page, then in headless Chromium adds PHOTOS photos (default 2000) in batches of 200, reports
# the renderer's memory at 500 and at the end, trains, classifies 100 more, reloads and checks
# every photo came back. Figures go to tests/browser/artifacts/bench-memory.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-web.sh
node tests/browser/bench/memory.mjs
