#!/usr/bin/env bash
# RM-bench, rlhf-lab against PyTorch on this machine, one after the other, and the ratios.
#   bash bench/compare.sh [ROUNDS] [--backend cpu|gpu]     (ROUNDS alternations; default 2)
#   PYTHON=/path/to/python-with-torch RLHF_LAB_BIN=/path/to/release/rlhf-lab bash bench/compare.sh …
# Makes its own virtual environment (bench/.venv, PyTorch from the package index) the first
# time; builds rlhf-lab in release. Not part of CI. Prints each run's JSON, then one summary
# line per round and the median ratios (>1 means rlhf-lab is faster): against the PyTorch
# reference as usually written, and against it running its last block at the read-out token only
# (`--last-layer-at-readout`), which is what rlhf-lab's reward model does.
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
  "$PY" bench/rm_bench.py --device "$TORCH_DEVICE" --steps 20 --last-layer-at-readout > "$OUT/trim-$r.json"
  cat "$OUT/ours-$r.json" "$OUT/torch-$r.json" "$OUT/trim-$r.json"
done
"$PY" - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ratios = {"torch": ([], []), "trim": ([], [])}
for r in range(1, rounds + 1):
    ours = json.load(open(f"{out}/ours-{r}.json"))
    line = f"round {r}: rlhf-lab train {ours['train_pairs_per_s']:.1f}, score {ours['score_pairs_per_s']:.1f} pairs/s"
    for name, label in (("torch", "PyTorch"), ("trim", "PyTorch, last block at read-out")):
        ref = json.load(open(f"{out}/{name}-{r}.json"))
        t = ours["train_pairs_per_s"] / ref["train_pairs_per_s"]
        s = ours["score_pairs_per_s"] / ref["score_pairs_per_s"]
        ratios[name][0].append(t)
        ratios[name][1].append(s)
        line += (f"; {label} {ref['train_pairs_per_s']:.1f} ({t:.2f}x), "
                 f"{ref['score_pairs_per_s']:.1f} ({s:.2f}x)")
        assert ours["params"] == ref["params"], (ours["params"], ref["params"])
    print(line)
for name, label in (("torch", "PyTorch"), ("trim", "PyTorch, last block at read-out")):
    train, score = ratios[name]
    print(f"median ratio rlhf-lab / {label}: train {statistics.median(train):.2f}x, "
          f"score {statistics.median(score):.2f}x")
PY
