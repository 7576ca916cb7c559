//! The OpenRLHF recipe: `openrlhf.sh`, the reward model (`openrlhf.cli.train_rm`) and PPO
//! (`openrlhf.cli.train_ppo_ray`) command lines with every PPO-max switch OpenRLHF has mapped to
//! its flag.
use super::input::RecipeInput;
use super::plan::Plan;
use super::trl::{CRITIC_LR, POLICY_LR, PROMPT_TOKENS, RESPONSE_TOKENS, RM_LR, clip_or_off};
use crate::experiment::ppo::config::{CriticInit, RewardNorm};

/// The OpenRLHF release whose flags the script uses (read from its argument parsers: 0.11
/// names every flag by its group, `--actor.adam.lr`, `--algo.kl.init_coef`).
pub const OPENRLHF_VERSION: &str = "0.11.2";

/// A flag and its value (`None` for a switch without one).
type Flag = (&'static str, Option<String>);

fn num(v: f64) -> Option<String> {
    Some(format!("{v}"))
}

fn text(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// The reward model's flags (`openrlhf.cli.train_rm`).
pub fn reward_flags(plan: &Plan, input: &RecipeInput) -> Vec<Flag> {
    let rm = &plan.rm;
    let o = &rm.optimizer;
    let mut flags: Vec<Flag> = vec![
        ("--model.model_name_or_path", text("\"$MODEL\"")),
        ("--data.dataset", text("\"$HERE/data/pairs.jsonl\"")),
        ("--data.prompt_key", text("prompt")),
        ("--data.chosen_key", text("chosen")),
        ("--data.rejected_key", text("rejected")),
        ("--data.max_len", text("2048")),
        ("--train.batch_size", Some(rm.batch_size.to_string())),
        ("--train.micro_batch_size", text("4")),
        (
            "--train.max_epochs",
            Some((rm.epochs.ceil() as usize).max(1).to_string()),
        ),
        ("--adam.lr", num(RM_LR)),
        ("--adam.weight_decay", num(o.weight_decay)),
        ("--lr_warmup_ratio", num(o.warmup_fraction)),
        ("--min_lr_ratio", num(o.final_lr_fraction)),
        ("--max_norm", num(o.grad_clip_norm)),
        ("--train.seed", Some(plan.seed.to_string())),
        ("--ds.zero_stage", text("3")),
        ("--model.gradient_checkpointing_enable", None),
        ("--ckpt.output_dir", text("\"$HERE/reward_model\"")),
    ];
    if input.has_margin() {
        flags.push(("--model.margin_loss_enable", None));
    }
    if plan.ppo.reward_norm == RewardNorm::Normalise {
        // train_rm stores the reward's mean and std in the model only when it evaluates.
        flags.push(("--eval.dataset", text("\"$HERE/data/pairs.jsonl\"")));
    }
    flags
}

/// The PPO stage's flags (`openrlhf.cli.train_ppo_ray`).
pub fn ppo_flags(plan: &Plan, prompts: usize) -> Vec<Flag> {
    let p = &plan.ppo;
    let mut flags: Vec<Flag> = vec![
        ("--actor.model_name_or_path", text("\"$MODEL\"")),
        (
            "--reward.model_name_or_path",
            text("\"$HERE/reward_model\""),
        ),
        (
            "--critic.model_name_or_path",
            text(match p.critic_init {
                CriticInit::RewardModel => "\"$HERE/reward_model\"",
                CriticInit::Zero => "\"$MODEL\"",
            }),
        ),
        (
            "--data.prompt_dataset",
            text("\"$HERE/data/prompts.jsonl\""),
        ),
        ("--data.input_key", text("prompt")),
        (
            "--data.max_len",
            Some((PROMPT_TOKENS + RESPONSE_TOKENS).to_string()),
        ),
        (
            "--rollout.max_new_tokens",
            Some(RESPONSE_TOKENS.to_string()),
        ),
        ("--rollout.batch_size", Some(p.rollouts.to_string())),
        ("--rollout.micro_batch_size", text("8")),
        (
            "--train.batch_size",
            Some((p.rollouts / p.minibatches.max(1)).max(1).to_string()),
        ),
        ("--train.micro_batch_size", text("4")),
        ("--train.max_epochs", Some(p.ppo_epochs.to_string())),
        (
            "--train.num_episodes",
            Some(
                (p.steps * p.rollouts)
                    .div_ceil(prompts.max(1))
                    .max(1)
                    .to_string(),
            ),
        ),
        ("--actor.adam.lr", num(POLICY_LR)),
        ("--critic.adam.lr", num(CRITIC_LR)),
        ("--algo.kl.init_coef", num(p.kl_coef)),
        ("--algo.advantage.gamma", num(p.gamma)),
        ("--algo.advantage.lambd", num(p.lambda)),
        ("--actor.eps_clip", num(clip_or_off(p.policy_clip))),
        ("--critic.value_clip", num(clip_or_off(p.value_clip))),
        ("--actor.max_norm", num(p.grad_clip)),
        ("--critic.max_norm", num(p.grad_clip)),
        (
            "--algo.advantage.estimator",
            text(if p.critic { "gae" } else { "reinforce" }),
        ),
        ("--rollout.temperature", num(p.sampling.temperature)),
        ("--rollout.top_p", num(p.sampling.top_p)),
        ("--train.seed", Some(plan.seed.to_string())),
        ("--ds.zero_stage", text("2")),
        ("--actor.gradient_checkpointing_enable", None),
        ("--ckpt.output_dir", text("\"$HERE/policy\"")),
    ];
    if p.entropy_coef > 0.0 {
        flags.push(("--actor.entropy_coef", num(p.entropy_coef)));
    }
    if p.reward_norm == RewardNorm::Normalise {
        flags.push(("--reward.normalize_enable", None));
    }
    if p.reward_clip > 0.0 {
        flags.push((
            "--reward.clip_range",
            Some(format!("{} {}", -p.reward_clip, p.reward_clip)),
        ));
    }
    flags
}

/// `text` as one shell word, whatever it holds (single quotes, each `'` written as `'\''`).
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn lines(flags: &[Flag]) -> String {
    flags
        .iter()
        .map(|(f, v)| match v {
            Some(v) => format!("  {f} {v}"),
            None => format!("  {f}"),
        })
        .collect::<Vec<_>>()
        .join(" \\\n")
}

/// `openrlhf.sh`.
pub fn script(plan: &Plan, input: &RecipeInput, base_model: &str) -> String {
    let rm_batch = plan.rm.batch_size;
    let rollouts = plan.ppo.rollouts;
    format!(
        r#"#!/usr/bin/env bash
# The lab's `{kind}` run as OpenRLHF {version} jobs: a reward model on data/pairs.jsonl, then PPO
# against it (every PPO-max switch OpenRLHF has is set below; MAPPING.md says what has no flag).
# Usage: bash openrlhf.sh [--model PATH] [--max-steps N]
#   --model PATH    the base model (default: the MODEL line below)
#   --max-steps N   a smoke run: N optimizer steps' worth of samples in each stage
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL={model}
MAX_STEPS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=${{2:?openrlhf.sh: --model needs a path or a model name}}; shift 2 ;;
    --max-steps) MAX_STEPS=${{2:?openrlhf.sh: --max-steps needs a number}}; shift 2 ;;
    *) echo "openrlhf.sh: unknown option $1 (use --model PATH or --max-steps N)" >&2; exit 2 ;;
  esac
done
case "$MAX_STEPS" in
  ''|*[!0-9]*) [ -z "$MAX_STEPS" ] || {{ echo "openrlhf.sh: --max-steps $MAX_STEPS: give a whole number" >&2; exit 2; }} ;;
esac
RM_LIMIT=()
PPO_LIMIT=()
if [ -n "$MAX_STEPS" ]; then
  RM_LIMIT=(--data.max_samples "$((MAX_STEPS * {rm_batch}))")
  PPO_LIMIT=(--train.num_episodes 1 --data.max_samples "$((MAX_STEPS * {rollouts}))")
fi

# 1. The reward model.
deepspeed --module openrlhf.cli.train_rm \
{reward} \
  ${{RM_LIMIT[@]+"${{RM_LIMIT[@]}}"}}

# 2. PPO against it (Ray starts locally; one GPU per model unless you change the counts).
python3 -m openrlhf.cli.train_ppo_ray \
  --actor.num_nodes 1 --actor.num_gpus_per_node 1 \
  --critic.num_nodes 1 --critic.num_gpus_per_node 1 \
  --ref.num_nodes 1 --ref.num_gpus_per_node 1 \
  --reward.num_nodes 1 --reward.num_gpus_per_node 1 \
{ppo} \
  ${{PPO_LIMIT[@]+"${{PPO_LIMIT[@]}}"}}
"#,
        kind = plan.kind.command(),
        model = sh_quote(base_model),
        version = OPENRLHF_VERSION,
        reward = lines(&reward_flags(plan, input)),
        ppo = lines(&ppo_flags(plan, input.prompts.len())),
    )
}
