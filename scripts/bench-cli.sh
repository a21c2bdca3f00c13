#!/usr/bin/env bash
# The command line's speed on this machine's CPU: embeddings per second at batch 1 and 32
# (decoding and weight loading subtracted), and the time to train a new head on about 1,000
# photos (the 30 real photos, each copied 34 times: a timing, not an accuracy); then its anchor,
# ONNX Runtime's native CPU runtime on the same weights (scripts/bench_onnxruntime.py).
# Usage: scripts/bench-cli.sh   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release --locked --workspace --exclude headstart-web --exclude headstart-worker --exclude headstart-worker-webgpu --all-features >&2
cli="$CARGO_TARGET_DIR/release/headstart"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for class in bird flower fruit; do
  mkdir -p "$work/photos/$class"
  for copy in $(seq 1 34); do
    for photo in www/samples/$class/* tests/photos/held-out/$class/*; do
      cp "$photo" "$work/photos/$class/$copy-$(basename "$photo")"
    done
  done
done
mapfile -t sample < <(ls "$work"/photos/*/* | head -64)
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
one=$(seconds "$cli" embed "${sample[0]}")
for batch in 1 32; do
  all=$(seconds "$cli" embed --batch "$batch" "${sample[@]}")
  printf 'embedding at batch %s: %.1f photos/s (%.1f ms a photo; 64 photos in %.2f s, one in %.2f s)\n' \
    "$batch" "$(echo "63 / ($all - $one)" | bc -l)" "$(echo "1000 * ($all - $one) / 63" | bc -l)" "$all" "$one"
done
count=$(find "$work/photos" -type f | wc -l)
train=$(seconds "$cli" train "$work/photos" -o "$work/model.hsm" --json)
printf 'training a new head on %s photos (decode, embed, 40 epochs, final test): %.1f s\n' "$count" "$train"
scripts/onnx_anchor.sh
"$HEADSTART_CACHE/onnx-venv/bin/python" scripts/bench_onnxruntime.py data/onnx/efficientnet-lite0.onnx "$cli" "${sample[@]}"
