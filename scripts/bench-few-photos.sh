#!/usr/bin/env bash
# The few-photo table in the README: every candidate recipe for the new head, nearest centroid
# and scikit-learn's logistic-regression probe on seeded k-shot splits (1, 3, 5 and 10 photos a
# class; the rest of each class tests) of three photo sets: the repository's (samples and
# held-out photos) and two made from the Debian package tuxpaint-stamps-default (GPL-2+ photos).
# Usage: scripts/bench-few-photos.sh [SPLITS a size, default 20]   (~5 minutes here)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
splits=${1:-20}
stamps="$HEADSTART_CACHE/tuxpaint-stamps"
if [ ! -d "$stamps/usr/share/tuxpaint/stamps" ]; then
  mkdir -p "$stamps"
  (cd "$stamps" && apt-get download tuxpaint-stamps-default=2022.06.04-1 && dpkg-deb -x tuxpaint-stamps-default_*.deb .)
fi
sets="$HEADSTART_CACHE/few-photo-sets"
rm -rf "$sets"
make_set() {  # make_set SET class=package/folder...
  local set=$1; shift
  for pair in "$@"; do
    mkdir -p "$sets/$set/${pair%%=*}"
    cp "$stamps/usr/share/tuxpaint/stamps/${pair#*=}"/*.png "$sets/$set/${pair%%=*}/"
  done
}
make_set tux3 bird=animals/birds flower=plants/flowers fruit=food/fruit
make_set tux4 vegetable=food/vegetables mammal=animals/mammals tool=household/tools fish=animals/fish
# A mirrored copy of another stamp would test a photo on itself.
find "$sets" -name '*_mirror.png' -delete
cargo run --release --locked -p headstart-core --example few_photos --features image -- --splits "$splits" \
  repository=www/samples,tests/photos/held-out "tuxpaint-3=$sets/tux3" "tuxpaint-4=$sets/tux4"
