#!/usr/bin/env bash
# Smoke test of a TRL recipe folder on the CPU with a tiny random model (no download, no GPU):
#   tests/python/smoke_trl.sh RECIPE_DIR
# Runs check_metarm.py, train_reward.py with MetaRM on (so the meta step runs) and train_policy.py
# on that reward model, two steps each. PYTHON picks the interpreter (default python3); it needs
# torch, transformers, datasets, accelerate and trl==1.12.0 (the recipe's pin).
set -euo pipefail

recipe=${1:?usage: smoke_trl.sh RECIPE_DIR}
recipe=$(cd "$recipe" && pwd)
python=${PYTHON:-python3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smoke-trl.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TQDM_DISABLE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1  # readable logs

step() {
    echo "== $1"
    shift
    local start=$SECONDS
    (cd "$work" && "$@")
    echo "== ok ($((SECONDS - start)) s)"
}

step "tiny model" "$python" "$here/tiny_model.py" "$work/tiny"
step "check_metarm.py" "$python" "$recipe/check_metarm.py"
step "train_reward.py (MetaRM on)" "$python" "$recipe/train_reward.py" \
    --model "$work/tiny" --max-steps 2 --metarm --output-dir "$work/reward_model"
# PPOTrainer prints sample completions as tables (whole prompts); they are left out here.
no_tables() { "$@" 2>&1 | { grep -v -E '^(│|┃|┏|┡|├|└)' || true; }; }
step "train_policy.py" no_tables "$python" "$recipe/train_policy.py" \
    --model "$work/tiny" --reward-model "$work/reward_model" --max-steps 2 --output-dir "$work/policy"
test -f "$work/reward_model/config.json" && test -f "$work/policy/config.json"
echo "smoke_trl: PASS ($recipe)"
