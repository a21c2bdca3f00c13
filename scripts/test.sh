#!/usr/bin/env bash
# Sets up everything, then runs every test: native unit and integration tests (golden ImageNet
# predictions, weight round trip, head training on real photos, the page's rules), the release
# page build (page + model worker), and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

printf '\n== Formatting\n'
cargo fmt --all --check

printf '\n== Lints (clippy, warnings are errors)\n'
cargo clippy --release --locked --workspace --exclude headstart-web --exclude headstart-worker --all-features --all-targets -- -D warnings
cargo clippy --release --locked -p headstart-web -p headstart-worker --target wasm32-unknown-unknown -- -D warnings

printf '\n== Native tests (release: the backbone is too slow unoptimized)\n'
cargo test --release --locked --workspace --exclude headstart-web --exclude headstart-worker --all-features

printf '\n== Release page build\n'
scripts/build-web.sh

printf '\n== Browser tests (headless Chromium)\n'
(cd tests/browser && npm test)
