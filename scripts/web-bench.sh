#!/usr/bin/env bash
# Browser figures for the performance issue (not in CI): the release web build's wasm size
# (raw and gzip), then the page in headless Chromium (WebGPU on SwiftShader, and the wasm CPU
# path): time from navigation to the first training step, steps/s, and the default strength
# run's wall time. One JSON line per case. Needs trunk, chromium and chromedriver
# (scripts/install-deps.sh). Usage: scripts/web-bench.sh [--no-build] [SECONDS per case]
# (RLHF_LAB_WEB_BENCH_CASES=lesson,default: only the cases whose names begin so; webgpu for WebGPU)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
export RLHF_LAB_WEB_BENCH_SECONDS="${1:-120}"
if [ "$build" = 1 ] || [ ! -f dist/index.html ]; then trunk build --release; fi
for f in dist/*.wasm; do
  echo "{\"wasm\": \"$(basename "$f")\", \"bytes\": $(wc -c < "$f"), \"gzip_bytes\": $(gzip -9 -c "$f" | wc -c)}"
done
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
cargo nextest run --locked --profile calibration --run-ignored only --test web -E 'test(web_bench)' \
  --success-output immediate --no-capture 2>&1 | grep -E '^\{' || true
