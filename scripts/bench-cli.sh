#!/usr/bin/env bash
# The command line's speed on this machine's CPU (its GPU with DEVICE=gpu): embeddings per
# second at batch 1 and 32 (16 on a GPU; decoding and weight loading subtracted), and the time
# to train a new head on about 1,000 photos (the 30 real photos, each copied 34 times: a timing,
# not an accuracy); then its anchor, ONNX Runtime's native CPU runtime on the same weights
# (scripts/bench_onnxruntime.py).
# Usage: scripts/bench-cli.sh   (after scripts/setup.sh); DEVICE=gpu scripts/bench-cli.sh builds
# the command with its `gpu` feature and measures it with --device gpu.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
DEVICE=${DEVICE:-cpu}
batches="1 32"
if [ "$DEVICE" = gpu ]; then
  batches="1 16"   # the command's default on a GPU (32 outgrows a 128 MiB buffer)
  cargo build --release --locked -p headstart-cli --features gpu >&2   # as scripts/test-gpu.sh builds it
else
  cargo build --release --locked --workspace --exclude headstart-web --exclude headstart-worker --exclude headstart-worker-webgpu --features headstart-core/image >&2   # as scripts/test.sh
fi
headstart() { "$CARGO_TARGET_DIR/release/headstart" --device "$DEVICE" "$@"; }
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
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null || return 1; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
one=$(seconds headstart embed "${sample[0]}")
for batch in $batches; do
  all=$(seconds headstart embed --batch "$batch" "${sample[@]}")
  printf 'embedding at batch %s: %.1f photos/s (%.1f ms a photo; 64 photos in %.2f s, one in %.2f s)\n' \
    "$batch" "$(echo "63 / ($all - $one)" | bc -l)" "$(echo "1000 * ($all - $one) / 63" | bc -l)" "$all" "$one"
done
count=$(find "$work/photos" -type f | wc -l)
train=$(seconds headstart train "$work/photos" -o "$work/model.hsm" --json)
printf 'training a new head on %s photos (decode, embed, 40 epochs, final test): %.1f s\n' "$count" "$train"
scripts/onnx_anchor.sh
"$HEADSTART_CACHE/onnx-venv/bin/python" scripts/bench_onnxruntime.py data/onnx/efficientnet-lite0.onnx "$CARGO_TARGET_DIR/release/headstart" "${sample[@]}"
