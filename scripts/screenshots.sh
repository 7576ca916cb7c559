#!/usr/bin/env bash
# The README's pictures, made by the test harness: the native app rendered by egui_kittest (wgpu
# on lavapipe here) after three lessons' runs, and the browser build in headless Chromium.
# Writes docs/screenshots/*.png. Usage: scripts/screenshots.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
if [ "${1:-}" != "--no-build" ]; then trunk build --release; fi
mkdir -p docs/screenshots
export RLHF_LAB_SCREENSHOTS="$PWD/docs/screenshots"
cargo nextest run --locked -E '(binary(ui_lessons) & test(/screenshots/)) | binary(web)'
ls -l docs/screenshots
