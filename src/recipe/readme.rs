//! The recipe folder's `README.md`: what is in it, the commands to run, the packages and versions.
use super::Target;
use super::input::RecipeInput;
use super::plan::{Plan, RunKind};

/// The text of `README.md`.
pub fn readme(plan: &Plan, input: &RecipeInput, target: Target, base_model: &str) -> String {
    let synthetic = input.config["data"]["source"]["kind"].as_str() == Some("synthetic");
    let mut out = format!(
        "# This `{}` run, ready for {}\n\n\
         Written by `rlhf-lab recipe --to {}` (rlhf-lab {}). The base model is `{base_model}`; \
         every script takes `--model PATH` to train another (a tiny local model makes a smoke \
         run) and `--max-steps N` to stop early.\n\n\
         ## What is here\n\n\
         - `data/pairs.jsonl`: {} pairs in TRL's standard layout (`prompt`, `chosen`, `rejected`{}): {}.\n\
         - `data/prompts.jsonl`: the {} distinct prompts, for the policy stage ({} lines: repeated in order to fill at least one rollout batch).\n\
         - `MAPPING.md`: every setting of the run, its value, and where it went here, or that it has no counterpart.\n",
        plan.kind.command(),
        match target {
            Target::Trl => "TRL",
            Target::Openrlhf => "OpenRLHF",
        },
        target.name(),
        env!("CARGO_PKG_VERSION"),
        input.rows.len(),
        if input.has_margin() { ", `margin`" } else { "" },
        input.data_note,
        input
            .prompts
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        input.prompts.len(),
    );
    match target {
        Target::Trl => {
            out.push_str(&format!(
                "- `recipe.json`: the run's settings as TRL's own arguments (read by the scripts).\n\
                 - `train_reward.py`: the reward model, `RewardTrainer`{}{}.\n\
                 - `metarm_trainer.py`: MetaRM (Algorithm 1's first-order meta step) as a `RewardTrainer` subclass; `check_metarm.py` checks that η = 0 is the plain trainer.\n\
                 - `train_policy.py`: PPO with the trained reward model as the reward and the value model started from it.\n\
                 - `recipe_common.py`: what the two training scripts share (reading recipe.json and the data).\n",
                if input.has_margin() {
                    " with the margin column"
                } else {
                    ""
                },
                if plan.metarm.is_some() {
                    ", MetaRM on (the run trained with it)"
                } else {
                    ""
                }
            ));
            if plan.kind == RunKind::Rlhf {
                out.push_str("- `rounds.sh`: the run's iterative rounds, each a reward model (MetaRM on a meta set sampled from the last policy) and PPO against it.\n");
            }
            out.push_str(&format!(
                "\n## Run it\n\n\
                 ```bash\n\
                 python3 -m venv .venv && . .venv/bin/activate\n\
                 pip install 'trl=={}' 'transformers=={}' torch datasets accelerate\n\
                 python3 check_metarm.py                      # MetaRM with η = 0 is the plain trainer\n\
                 python3 train_reward.py                      # → reward_model/\n\
                 python3 train_policy.py --reward-model reward_model   # → policy/\n",
                super::trl::TRL_VERSION,
                super::trl::TRANSFORMERS_VERSION
            ));
            if plan.kind == RunKind::Rlhf {
                out.push_str("bash rounds.sh                               # or every round, as the run did\n");
            }
            out.push_str(&format!(
                "```\n\nTRL {} is the last TRL with a PPO trainer (`trl.experimental.ppo`; 1.13 removed it). \
                 The scripts were tested with it, transformers {} and torch 2.15 on the CPU, on a tiny \
                 random model. A smoke run on a small local model: add `--model PATH --max-steps 2` to \
                 each command.\n",
                super::trl::TRL_VERSION,
                super::trl::TRANSFORMERS_VERSION
            ));
        }
        Target::Openrlhf => {
            out.push_str(
                "- `openrlhf.sh`: the reward model (`openrlhf.cli.train_rm`) and PPO (`openrlhf.cli.train_ppo_ray`) with every PPO-max switch OpenRLHF has set.\n",
            );
            if plan.metarm.is_some() {
                out.push_str("\nThis run trained its reward model with MetaRM, which no OpenRLHF trainer has: `--to trl` writes a recipe with it.\n");
            }
            out.push_str(&format!(
                "\n## Run it\n\n\
                 ```bash\n\
                 pip install 'openrlhf=={}'     # on a machine with NVIDIA GPUs (DeepSpeed, Ray, vLLM)\n\
                 bash openrlhf.sh               # → reward_model/ then policy/\n\
                 ```\n",
                super::openrlhf::OPENRLHF_VERSION
            ));
        }
    }
    if synthetic {
        out.push_str(
            "\n## The data\n\nThe run's data is the lab's synthetic world: its \"text\" is made-up words, \
             fine for a smoke run of the scripts, meaningless to a real language model. Make the \
             recipe from a run on real pairs (`--data hh-sample` or your own file) to learn \
             something at scale.\n",
        );
    }
    out
}
