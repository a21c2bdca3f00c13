#!/usr/bin/env bash
# Sets up everything (first run: ~35 min of tool and model builds on 2 cores), builds the page and serves
# it on http://127.0.0.1:8080 (set PORT to change). Open that address in Chrome or Edge.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
trunk --config trunk.toml serve --release --locked --no-autoreload --port "${PORT:-8080}"
