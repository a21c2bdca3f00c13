#!/usr/bin/env bash
# Sets up everything, then runs every test: native unit and integration tests (golden ImageNet
# predictions, weight round trip, head training on real photos, the page's rules), the release
# page build (page + the model worker's two builds), and the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

printf '\n== Formatting\n'
cargo fmt --all --check

printf '\n== Lints (clippy, warnings are errors)\n'
cargo clippy --release --locked --workspace --exclude headstart-web --exclude headstart-worker --exclude headstart-worker-webgpu --features headstart-core/image --all-targets -- -D warnings
# The worker as its WebGPU build (in one cargo run the feature reaches headstart-worker too):
# one check of burn for wasm instead of two; only the CPU build's three-line init_webgpu stub
# goes unlinted.
cargo clippy --release --locked -p headstart-web -p headstart-worker-webgpu --target wasm32-unknown-unknown -- -D warnings

printf '\n== The model worker is built with gemm'"'"'s wasm SIMD kernels\n'
# burn's `simd` feature makes gemm pick its wasm SIMD kernels (with +simd128 from .cargo/config.toml);
# without it gemm runs its scalar kernel: 141 ms a photo instead of 89 ms in the page.
gemm_features=$(cargo tree --locked -p headstart-worker --target wasm32-unknown-unknown -e features -i gemm-common)
grep -q 'gemm-common feature "wasm-simd128-enable"' <<<"$gemm_features" ||
  { echo "gemm's wasm SIMD kernels are off in the model worker: enable burn's simd feature" >&2; exit 1; }

printf '\n== Native tests (release: the backbone is too slow unoptimized)\n'
cargo test --release --locked --workspace --exclude headstart-web --exclude headstart-worker --exclude headstart-worker-webgpu --features headstart-core/image

printf '\n== Release page build\n'
scripts/build-web.sh

printf '\n== Browser tests (headless Chromium)\n'
(cd tests/browser && npm test)
