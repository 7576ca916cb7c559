#!/usr/bin/env bash
# Install what building and testing rlhf-lab needs on Debian, skipping what is already there.
# Safe to run again. Tools go to ~/.cargo/bin (kept between runs on the same machine).
set -euo pipefail

APT_PACKAGES=(mesa-vulkan-drivers xvfb chromium chromium-driver libxkbcommon-x11-0 libxkbcommon-dev libwayland-dev
  libx11-dev libxcursor1 libxrandr2 libxi6 libgl1 libegl1 pkg-config)
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate in Cargo.lock
TRUNK_VERSION=0.21.14          # the newest trunk that builds with rustc 1.95

export PATH="$HOME/.cargo/bin:$PATH"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "install-deps: rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "install-deps: cargo-nextest"
  cargo install cargo-nextest --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  echo "install-deps: wasm-bindgen-cli $WASM_BINDGEN_VERSION (several minutes on 2 cores)"
  # not --locked: one of its locked dependencies is not on the reachable index
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  echo "install-deps: trunk $TRUNK_VERSION (several minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi
