#!/usr/bin/env bash
# The command line on a GPU (crates/headstart-cli/tests/gpu.rs): builds `headstart` with its `gpu`
# feature and checks `--device gpu` against `--device cpu` on real photos: the embeddings, and
# models trained on the GPU (a new head, and fine-tuning) predicting as they do on the CPU. On a
# machine without a GPU, Mesa's llvmpipe (software Vulkan, installed here from Debian) stands
# in: it checks the results of the shaders, not their speed. Not part of scripts/test.sh: burn's
# wgpu backend adds ~12 minutes to a cold build (see the README).
# Usage: scripts/test-gpu.sh   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

printf '\n== Vulkan loader and drivers (Mesa: llvmpipe where there is no GPU)\n'
if ! command -v vulkaninfo >/dev/null || ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends libvulkan1 mesa-vulkan-drivers vulkan-tools
fi
vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|deviceType' || echo "vulkaninfo found no adapter"

printf '\n== Lints of the GPU build (clippy, warnings are errors)\n'
cargo clippy --release --locked -p headstart-cli --features gpu --all-targets -- -D warnings

printf '\n== headstart --device gpu against --device cpu\n'
cargo test --release --locked -p headstart-cli --features gpu --test gpu -- --nocapture --test-threads 1
