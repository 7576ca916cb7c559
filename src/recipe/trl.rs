//! The TRL recipe: `recipe.json` (the run's settings as TRL's own keyword arguments), the static
//! scripts that read it, and `rounds.sh` for an `rlhf` run's rounds.
use serde_json::json;

use super::input::RecipeInput;
use super::plan::Plan;
use crate::experiment::ppo::config::{CriticInit, RewardNorm};
use crate::experiment::rlhf::config::{KlReference, PolicyInit, RmInit};

/// The TRL release the scripts were written and tested against.
/// 1.12.0 is the last release with a PPO trainer (`trl.experimental.ppo`, removed in 1.13).
pub const TRL_VERSION: &str = "1.12.0";
/// The transformers release the scripts were tested with (its `warmup_steps` takes a ratio
/// below 1; it has no `warmup_ratio`).
pub const TRANSFORMERS_VERSION: &str = "5.25.0";

/// The paper's reward-model learning rate for a 7B model (spec §5.3), and MetaRM's η = α.
pub const RM_LR: f64 = 5e-6;
/// The paper's policy learning rate (spec §5.3).
pub const POLICY_LR: f64 = 5e-7;
/// The paper's critic learning rate (spec §5.3).
pub const CRITIC_LR: f64 = 1.5e-6;
/// Response tokens of the base model's tokenizer.
pub const RESPONSE_TOKENS: usize = 256;
/// Prompt tokens of the base model's tokenizer.
pub const PROMPT_TOKENS: usize = 1024;

/// The static scripts, by file name.
pub const SCRIPTS: &[(&str, &str)] = &[
    (
        "train_reward.py",
        include_str!("../../assets/recipe/trl/train_reward.py"),
    ),
    (
        "train_policy.py",
        include_str!("../../assets/recipe/trl/train_policy.py"),
    ),
    (
        "recipe_common.py",
        include_str!("../../assets/recipe/trl/recipe_common.py"),
    ),
    (
        "metarm_trainer.py",
        include_str!("../../assets/recipe/trl/metarm_trainer.py"),
    ),
    (
        "check_metarm.py",
        include_str!("../../assets/recipe/trl/check_metarm.py"),
    ),
];

/// What stands for "no clip": the lab's 0 means off, both targets' 0 clips to nothing.
pub const NO_CLIP: f64 = 1e9;

/// A clip of the lab (0 = off) as the targets take it.
pub fn clip_or_off(clip: f64) -> f64 {
    if clip > 0.0 { clip } else { NO_CLIP }
}

/// `recipe.json`.
pub fn settings(plan: &Plan, input: &RecipeInput, base_model: &str) -> serde_json::Value {
    let rm = &plan.rm;
    let o = &rm.optimizer;
    let p = &plan.ppo;
    let reward = json!({
        "learning_rate": RM_LR,
        "num_train_epochs": rm.epochs,
        "max_steps": if rm.steps == 0 { -1 } else { rm.steps as i64 },
        "per_device_train_batch_size": rm.batch_size,
        "weight_decay": o.weight_decay,
        "warmup_steps": o.warmup_fraction.min(0.999),
        "lr_scheduler_type": "cosine_with_min_lr",
        "lr_scheduler_kwargs": { "min_lr_rate": o.final_lr_fraction },
        "max_grad_norm": o.grad_clip_norm,
        "seed": plan.seed,
    });
    let metarm = plan.metarm.as_ref().map(|m| {
        json!({
            "meta_lr": RM_LR,
            "k": m.k,
            "meta_batch": m.meta_batch,
            "meta_prompts": m.meta_prompts,
        })
    });
    let policy = json!({
        "learning_rate": POLICY_LR,
        "kl_coef": p.kl_coef,
        "cliprange": clip_or_off(p.policy_clip),
        "cliprange_value": clip_or_off(p.value_clip),
        "gamma": p.gamma,
        "lam": p.lambda,
        "num_ppo_epochs": p.ppo_epochs,
        "num_mini_batches": p.minibatches,
        "per_device_train_batch_size": p.rollouts,
        "response_length": RESPONSE_TOKENS,
        "temperature": p.sampling.temperature,
        "max_grad_norm": p.grad_clip,
        "total_episodes": p.steps * p.rollouts,
        "stop_token": "eos",
        "seed": plan.seed,
    });
    let switches = json!({
        "reward_norm": match p.reward_norm {
            RewardNorm::None => "none",
            RewardNorm::Scale => "scale",
            RewardNorm::Normalise => "normalise",
        },
        "reward_clip": p.reward_clip,
        "advantage_norm": p.advantage_norm,
        "advantage_clip": p.advantage_clip,
        "critic": p.critic,
        "critic_init": match p.critic_init {
            CriticInit::Zero => "zero",
            CriticInit::RewardModel => "reward_model",
        },
        "entropy_coef": p.entropy_coef,
        "top_p": p.sampling.top_p,
        "top_k": p.sampling.top_k,
    });
    let rounds = plan.rounds.as_ref().map(|r| {
        json!({
            "count": r.rounds,
            "rm_init": match r.rm_init { RmInit::Fresh => "fresh", RmInit::Continue => "continue" },
            "policy_init": match r.policy_init {
                PolicyInit::Continue => "continue",
                PolicyInit::Restart => "restart",
            },
            "kl_reference": match r.kl_reference {
                KlReference::Sft => "sft",
                KlReference::Previous => "previous",
            },
        })
    });
    json!({
        "rlhf_lab": env!("CARGO_PKG_VERSION"),
        "trl": TRL_VERSION,
        "run_kind": plan.kind.command(),
        "target": "trl",
        "base_model": base_model,
        "seed": plan.seed,
        "data": {
            "pairs": "data/pairs.jsonl",
            "prompts": "data/prompts.jsonl",
            "margin": input.has_margin(),
        },
        "reward": reward,
        "metarm": metarm,
        "policy": policy,
        "policy_from_run": plan.ppo_from_run,
        "policy_switches": switches,
        "rounds": rounds,
    })
}

/// `rounds.sh`, for an `rlhf` run: its rounds of (reward model with MetaRM on a meta set
/// sampled from the current policy → PPO against it), started and referenced as the run was.
pub fn rounds_script(plan: &Plan) -> Option<String> {
    let r = plan.rounds.as_ref()?;
    let metarm_flag = if plan.metarm.is_some() {
        ""
    } else {
        " --no-metarm"
    };
    let after_round = [
        match r.policy_init {
            PolicyInit::Continue => "  POLICY=\"round-$r/policy\"   # policy_init = continue",
            PolicyInit::Restart => {
                "  # policy_init = restart: every round starts from the base model"
            }
        },
        match r.rm_init {
            RmInit::Continue => "  REWARD_FROM=\"round-$r/reward_model\"   # rm_init = continue",
            RmInit::Fresh => {
                "  # rm_init = fresh: every round's reward model starts from the base model"
            }
        },
        match r.kl_reference {
            KlReference::Previous => "  REF=\"round-$r/policy\"   # kl_reference = previous",
            KlReference::Sft => {
                "  # kl_reference = sft: the KL penalty always measures against the base model"
            }
        },
        "  SAMPLER=\"round-$r/policy\"   # the next meta set is sampled from this round's policy",
    ]
    .join("\n");
    Some(format!(
        r#"#!/usr/bin/env bash
# Iterative RLHF as the lab's `rlhf` run did it: {rounds} rounds of
#   1. a reward model trained on data/pairs.jsonl{metarm_words}
#   2. PPO against it (train_policy.py).
# Usage: bash rounds.sh [--model PATH] [--max-steps N]   (PYTHON=… picks the interpreter)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${{PYTHON:-python3}}
MODEL=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=${{2:?rounds.sh: --model needs a path or a model name}}; shift 2 ;;
    --max-steps) EXTRA=(--max-steps "${{2:?rounds.sh: --max-steps needs a number}}"); shift 2 ;;
    *) echo "rounds.sh: unknown option $1 (use --model PATH or --max-steps N)" >&2; exit 2 ;;
  esac
done
# A local model folder given relative to where this was started still names it after the cd.
if [ -n "$MODEL" ] && [ -e "$MODEL" ]; then MODEL=$(cd "$MODEL" && pwd); fi
cd "$HERE"
if [ -z "$MODEL" ]; then
  MODEL=$("$PYTHON" -c 'import json; print(json.load(open("recipe.json"))["base_model"])')
fi
POLICY=$MODEL
REWARD_FROM=$MODEL
REF=$MODEL
SAMPLER=$MODEL
for r in $(seq 1 {rounds}); do
  echo "== round $r of {rounds}"
  "$PYTHON" train_reward.py --model "$REWARD_FROM" --policy "$SAMPLER" --output-dir "round-$r/reward_model"{metarm_flag} ${{EXTRA[@]+"${{EXTRA[@]}}"}}
  "$PYTHON" train_policy.py --model "$POLICY" --ref-model "$REF" --reward-model "round-$r/reward_model" --output-dir "round-$r/policy" ${{EXTRA[@]+"${{EXTRA[@]}}"}}
{after_round}
done
"#,
        rounds = r.rounds,
        metarm_words = if plan.metarm.is_some() {
            " with MetaRM's meta step, its meta set sampled from the current policy (train_reward.py, metarm_trainer.py)"
        } else {
            " (the run had no MetaRM arm, so no meta step)"
        },
    ))
}
