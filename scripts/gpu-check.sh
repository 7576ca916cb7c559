#!/usr/bin/env bash
# On a machine with a real GPU: RM-bench on the wgpu backend against the PyTorch reference on
# CUDA (bench/rm_bench.py), one after the other, and the ratios. Fits in 5 minutes given a
# release binary (RLHF_LAB_BIN) and a Python with PyTorch (PYTHON); without them it builds
# the binary and makes bench/.venv first (minutes more, and the package index must be reachable).
#   RLHF_LAB_BIN=target/release/rlhf-lab PYTHON=python3 bash scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
  echo "gpu-check: no nvidia-smi; PyTorch's CUDA run will fail without an NVIDIA GPU" >&2
fi
if [ -n "${RLHF_LAB_BIN:-}" ]; then
  # Which adapter wgpu picks, before the timed runs.
  "$RLHF_LAB_BIN" bench rm --backend gpu --steps 1 | grep -E '"(backend|adapter)"'
fi
timeout 280 bash bench/compare.sh 2 --backend gpu
