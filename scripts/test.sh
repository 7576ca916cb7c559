#!/usr/bin/env bash
# Everything CI checks, in order: tools, formatting, lints (native and wasm32), the web build,
# and every test (CPU backend, wgpu on lavapipe, egui_kittest UI, the web build in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR=never
# wgpu wants a private runtime dir; lavapipe (Mesa's software Vulkan) is the GPU here.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy (native)"
cargo clippy --all-targets --locked -- -D warnings
echo "== clippy (wasm32)"
cargo clippy --lib --bins --target wasm32-unknown-unknown --locked -- -D warnings
echo "== web build (trunk)"
trunk build --release
echo "wasm bundle: $(du -h dist/*.wasm | cut -f1)"
echo "== tests"
cargo nextest run --locked --no-fail-fast
