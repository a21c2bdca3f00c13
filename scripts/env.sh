# Sourced by the scripts: one persistent cargo target directory outside the checkout, so a fresh
# clone (CI's) reuses earlier builds instead of paying ~25 minutes of cold burn builds again.
export HEADSTART_CACHE=${HEADSTART_CACHE:-$HOME/.cache/headstart}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HEADSTART_CACHE/target}
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
