#!/usr/bin/env bash
# RM-bench, rlhf-lab against PyTorch on this machine, one after the other, and the ratios.
#   bash bench/compare.sh [ROUNDS] [--backend cpu|gpu]     (ROUNDS alternations; default 2)
#   PYTHON=/path/to/python-with-torch RLHF_LAB_BIN=/path/to/release/rlhf-lab bash bench/compare.sh …
# Makes its own virtual environment (bench/.venv, PyTorch from the package index) the first
# time; builds rlhf-lab in release. Not part of CI. Prints each run's JSON, then one summary
# line per round and the median ratios (>1 means rlhf-lab is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-2}"
BACKEND=cpu
if [ "${2:-}" = "--backend" ]; then BACKEND="${3:?--backend needs cpu or gpu}"; fi
TORCH_DEVICE=cpu
if [ "$BACKEND" = gpu ]; then TORCH_DEVICE=cuda; fi

export PATH="$HOME/.cargo/bin:$PATH"
# PYTHON: an interpreter that already has PyTorch (e.g. on a machine without the package index);
# otherwise bench/.venv is made and used.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  VENV=bench/.venv
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    echo "compare: making $VENV with PyTorch (a large download the first time)" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q torch numpy
  fi
  PY="$VENV/bin/python"
fi
# RLHF_LAB_BIN: a release binary built beforehand; otherwise one is built here.
BIN="${RLHF_LAB_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --bin rlhf-lab >&2
  BIN="${CARGO_TARGET_DIR:-target}/release/rlhf-lab"
fi

OUT=$(mktemp -d)
for r in $(seq 1 "$ROUNDS"); do
  "$BIN" bench rm --backend "$BACKEND" --steps 20 > "$OUT/ours-$r.json"
  "$PY" bench/rm_bench.py --device "$TORCH_DEVICE" --steps 20 > "$OUT/torch-$r.json"
  cat "$OUT/ours-$r.json" "$OUT/torch-$r.json"
done
"$PY" - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
train, score = [], []
for r in range(1, rounds + 1):
    ours = json.load(open(f"{out}/ours-{r}.json"))
    ref = json.load(open(f"{out}/torch-{r}.json"))
    t = ours["train_pairs_per_s"] / ref["train_pairs_per_s"]
    s = ours["score_pairs_per_s"] / ref["score_pairs_per_s"]
    train.append(t); score.append(s)
    print(f"round {r}: train {ours['train_pairs_per_s']:.1f} vs {ref['train_pairs_per_s']:.1f} pairs/s "
          f"({t:.2f}x), score {ours['score_pairs_per_s']:.1f} vs {ref['score_pairs_per_s']:.1f} pairs/s ({s:.2f}x); "
          f"params {ours['params']} vs {ref['params']}")
print(f"median ratio rlhf-lab/PyTorch: train {statistics.median(train):.2f}x, score {statistics.median(score):.2f}x")
PY
