#!/usr/bin/env bash
# Run the native app under Xvfb, let it train for a while, and save a screenshot.
# usage: scripts/screenshot-native.sh OUT.png [SECONDS] [extra rlhf-lab args...]
set -euo pipefail
out="${1:?usage: $0 OUT.png [SECONDS]}"; wait_s="${2:-40}"; shift 2 || shift $#
bin="${RLHF_LAB_BIN:-${CARGO_TARGET_DIR:-target}/debug/rlhf-lab}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"; chmod 700 "$XDG_RUNTIME_DIR"
Xvfb :97 -screen 0 1280x860x24 >/dev/null 2>&1 & xvfb=$!
sleep 2
DISPLAY=:97 WAYLAND_DISPLAY= "$bin" gui --autostart "$@" > /tmp/rlhf-lab-gui.log 2>&1 & app=$!
sleep "$wait_s"
DISPLAY=:97 import -window root "$out"
kill "$app" "$xvfb" 2>/dev/null || true
wait 2>/dev/null || true
echo "screenshot: $out"
