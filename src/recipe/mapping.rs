//! `MAPPING.md`: every setting of the run (each leaf of its config), its value, and where it went
//! in the target — a key of `recipe.json`, a flag of `openrlhf.sh`, the written data, a script —
//! or, said plainly, that it has no counterpart there.
use super::Target;
use super::plan::{Plan, RunKind};

/// Where one setting goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A key of `recipe.json` (dotted), value unchanged.
    Key(&'static str),
    /// A key of `recipe.json`, set as the text says (scale-dependent or converted).
    KeyAs(&'static str, &'static str),
    /// A flag of `openrlhf.sh`, value unchanged.
    Flag(&'static str),
    /// A flag of `openrlhf.sh`, set as the text says.
    FlagAs(&'static str, &'static str),
    /// Applied to the pairs written in `data/`.
    Data(&'static str),
    /// Shapes a script, as the text says.
    Script(&'static str),
    /// No counterpart in the target, and why.
    Nothing(&'static str),
}

/// Which part of a config a setting belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// `seed`, `backend`, `experiment.kind`.
    Run,
    /// `data.*`.
    Data,
    /// The reward model's knobs.
    Reward,
    /// The text track's gold reward model.
    Gold,
    /// The PPO stage.
    Ppo,
    /// An `rlhf` run's own knobs.
    Rlhf,
    /// A `metarm` run's own knobs.
    Metarm,
    /// A `strength` run's own knobs.
    Strength,
    /// The ensemble inside a `denoise` run.
    Ensemble,
    /// A `denoise` run's own knobs.
    Denoise,
}

/// One setting's destination in each target. `key` is relative to its block; a key matches
/// itself and everything under it (`""` matches the whole block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The block.
    pub block: Block,
    /// The key inside it.
    pub key: &'static str,
    /// Where it goes in TRL.
    pub trl: Dest,
    /// Where it goes in OpenRLHF.
    pub openrlhf: Dest,
}

const SHAPE: &str =
    "the base model (--base-model) replaces the lab's small model; its shape does not carry over";
const MEASURE: &str = "the lab's own measurement, not training: nothing to carry";
const NO_META_SET: &str = "this run trained without a meta set (or with η = 0, or without a MetaRM arm), so the recipe's MetaRM is off (`metarm` is null in recipe.json)";
const NO_METARM: &str =
    "MetaRM exists in no OpenRLHF trainer; take the TRL recipe (metarm_trainer.py) for it";

macro_rules! rules {
    ($($block:ident $key:literal => $trl:expr, $orl:expr;)*) => {
        &[$(Rule { block: Block::$block, key: $key, trl: $trl, openrlhf: $orl },)*]
    };
}

use Dest::{Data, Flag, FlagAs, Key, KeyAs, Nothing, Script};

/// Every rule, first match wins.
pub const RULES: &[Rule] = rules! {
    Run "seed" => Key("seed"), Flag("--train.seed");
    Run "backend" => Nothing("devices are accelerate's choice"), Nothing("devices are DeepSpeed's and Ray's choice");
    Run "experiment.kind" => Script("which stages the recipe writes (README.md)"), Script("which stages the recipe writes (README.md)");

    Data "source" => Data("the run's pairs, read again, written to data/pairs.jsonl and their prompts to data/prompts.jsonl"), Data("the run's pairs, read again, written to data/pairs.jsonl and their prompts to data/prompts.jsonl");
    Data "validation_fraction" => Nothing("every pair is written; hold some out with the trainer's own eval split if you want one"), Nothing("every pair is written; hold some out with --eval_dataset if you want one");
    Data "skip_bad_lines" => Data("applied while reading: skipped records are not written"), Data("applied while reading: skipped records are not written");
    Data "vocab_size" => Nothing("the base model's tokenizer replaces the lab's byte-level BPE"), Nothing("the base model's tokenizer replaces the lab's byte-level BPE");
    Data "max_prompt_len" => Nothing("counted in the lab's tokens; the reward model's max_length counts the base model's"), Nothing("counted in the lab's tokens; --max_len counts the base model's");
    Data "truth_field" => Nothing(MEASURE), Nothing(MEASURE);
    Data "inject_flip_rate" => Data("must be 0: a run with injected flips is refused"), Data("must be 0: a run with injected flips is refused");
    Data "format" => Data("applied while reading"), Data("applied while reading");
    Data "pairing" => Data("applied while reading"), Data("applied while reading");
    Data "min_rating_gap" => Data("applied while reading"), Data("applied while reading");
    Data "min_score_gap" => Data("applied while reading"), Data("applied while reading");
    Data "margin_field" => Data("its values are the margin column, except in a strength or denoise run, whose margin is λ·μ"), Data("its values are the margin column, except in a strength or denoise run, whose margin is λ·μ");
    Data "strength_field" => Data("μ read from the file: the flip and the margin of a strength or denoise run"), Data("μ read from the file: the flip and the margin of a strength or denoise run");
    Data "strength_std_field" => Nothing(MEASURE), Nothing(MEASURE);

    Reward "model" => Nothing(SHAPE), Nothing(SHAPE);
    Reward "optimizer.lr" => KeyAs("reward.learning_rate", "scale-dependent: the paper's 5e-6 for a 7B reward model (spec §5.3), not the lab's rate for a tiny one"), FlagAs("--adam.lr", "scale-dependent: the paper's 5e-6 (spec §5.3)");
    Reward "optimizer.weight_decay" => Key("reward.weight_decay"), Flag("--adam.weight_decay");
    Reward "optimizer.warmup_fraction" => KeyAs("reward.warmup_steps", "the same fraction: transformers 5 reads a warmup_steps below 1 as a ratio"), Flag("--lr_warmup_ratio");
    Reward "optimizer.final_lr_fraction" => Key("reward.lr_scheduler_kwargs.min_lr_rate"), Flag("--min_lr_ratio");
    Reward "optimizer.grad_clip_norm" => KeyAs("reward.max_grad_norm", "the same value, as a global norm (the lab clips each tensor)"), FlagAs("--max_norm", "the same value, as a global norm (the lab clips each tensor)");
    Reward "epochs" => Key("reward.num_train_epochs"), FlagAs("--train.max_epochs", "rounded up to whole epochs");
    Reward "steps" => KeyAs("reward.max_steps", "0 (steps from epochs) becomes -1, TRL's 'from epochs'"), Nothing("OpenRLHF trains whole epochs; --max-steps N caps the samples");
    Reward "batch_size" => Key("reward.per_device_train_batch_size"), Flag("--train.batch_size");
    Reward "eval_every" => Nothing("no held-out split in the recipe"), Nothing("no held-out split in the recipe");
    Reward "contrastive" => Nothing("no contrastive reward-model loss in TRL's RewardTrainer: the reward model trains with Bradley–Terry (and MetaRM) only"), Nothing("no contrastive reward-model loss in OpenRLHF");
    Reward "meta_lr" => KeyAs("metarm.meta_lr", "scale-dependent: η = the reward model's learning rate, as the paper sets α = η = 5e-6; 0 turns MetaRM off"), Nothing(NO_METARM);
    Reward "k" => Key("metarm.k"), Nothing(NO_METARM);
    Reward "meta_batch" => Key("metarm.meta_batch"), Nothing(NO_METARM);

    Gold "" => Nothing("the text track's gold reward model is the lab's judge; at scale, judge with people or a stronger model"), Nothing("the text track's gold reward model is the lab's judge; at scale, judge with people or a stronger model");

    Ppo "policy" => Nothing(SHAPE), Nothing(SHAPE);
    Ppo "steps" => KeyAs("policy.total_episodes", "steps × rollouts episodes"), FlagAs("--train.num_episodes", "⌈steps × rollouts ÷ prompts⌉ passes over data/prompts.jsonl (the prompts repeated there to fill at least one rollout batch)");
    Ppo "rollouts" => Key("policy.per_device_train_batch_size"), Flag("--rollout.batch_size");
    Ppo "ppo_epochs" => Key("policy.num_ppo_epochs"), Flag("--train.max_epochs");
    Ppo "minibatches" => Key("policy.num_mini_batches"), FlagAs("--train.batch_size", "rollouts ÷ minibatches");
    Ppo "lr" => KeyAs("policy.learning_rate", "scale-dependent: the paper's 5e-7 (spec §5.3); the lab's rate is for its tiny policy"), FlagAs("--actor.adam.lr", "scale-dependent: the paper's 5e-7 (spec §5.3)");
    Ppo "lm_lr" => KeyAs("policy.learning_rate", "scale-dependent: the paper's 5e-7 (spec §5.3)"), FlagAs("--actor.adam.lr", "scale-dependent: the paper's 5e-7 (spec §5.3)");
    Ppo "critic_lr" => Nothing("TRL's PPO trainer trains policy and value with one optimizer, at policy.learning_rate"), FlagAs("--critic.adam.lr", "scale-dependent: the paper's 1.5e-6 (spec §5.3)");
    Ppo "lm_critic_lr" => Nothing("TRL's PPO trainer trains policy and value with one optimizer, at policy.learning_rate"), FlagAs("--critic.adam.lr", "scale-dependent: the paper's 1.5e-6 (spec §5.3)");
    Ppo "kl_coef" => Key("policy.kl_coef"), Flag("--algo.kl.init_coef");
    Ppo "reward_norm" => KeyAs("policy_switches.reward_norm", "no counterpart in TRL's PPO trainer: train_policy.py says at start that it is not applied"), FlagAs("--reward.normalize_enable", "on for normalise; OpenRLHF normalises with the mean and std train_rm stores in the reward model (the recipe passes --eval.dataset so that it does), not running ones; scale has no counterpart");
    Ppo "reward_clip" => KeyAs("policy_switches.reward_clip", "no counterpart in TRL's PPO trainer: train_policy.py says at start that it is not applied"), FlagAs("--reward.clip_range", "−δ δ (absent when 0: OpenRLHF's default −10 10 then applies)");
    Ppo "gamma" => Key("policy.gamma"), Flag("--algo.advantage.gamma");
    Ppo "lambda" => Key("policy.lam"), Flag("--algo.advantage.lambd");
    Ppo "advantage_norm" => KeyAs("policy_switches.advantage_norm", "TRL's PPO trainer always whitens advantages; train_policy.py says so when the run had it off"), Script("OpenRLHF always whitens GAE advantages (mean and std; --algo.advantage.no_std_norm drops only the std): off has no counterpart");
    Ppo "advantage_clip" => KeyAs("policy_switches.advantage_clip", "no counterpart in TRL: said at start"), Nothing("no advantage clip in OpenRLHF");
    Ppo "policy_clip" => KeyAs("policy.cliprange", "the same ε; 0 (off in the lab) becomes 1e9, since TRL would clip the ratio to exactly 1"), FlagAs("--actor.eps_clip", "the same ε; 0 (off) becomes 1e9");
    Ppo "critic" => KeyAs("policy_switches.critic", "TRL's PPO trainer always trains a critic; without one, use TRL's RLOO trainer instead"), FlagAs("--algo.advantage.estimator", "gae with a critic, reinforce without");
    Ppo "value_clip" => KeyAs("policy.cliprange_value", "the same clip; 0 (off in the lab) becomes 1e9, since TRL would pin the value to the old one"), FlagAs("--critic.value_clip", "the same clip; 0 (off) becomes 1e9");
    Ppo "critic_init" => KeyAs("policy_switches.critic_init", "reward_model: train_policy.py loads the value model from the reward model; zero: from the base model"), FlagAs("--critic.model_name_or_path", "the reward model's folder for reward_model, the base model for zero (a fresh value head either way)");
    Ppo "grad_clip" => KeyAs("policy.max_grad_norm", "written, but TRL 1.12's PPOTrainer steps without clipping: train_policy.py says at start that it is not applied"), FlagAs("--actor.max_norm", "and --critic.max_norm, the same value (a global norm there, per tensor in the lab)");
    Ppo "entropy_coef" => KeyAs("policy_switches.entropy_coef", "no entropy bonus in TRL's PPO trainer: said at start when not 0"), FlagAs("--actor.entropy_coef", "absent when 0 (no bonus)");
    Ppo "sampling.temperature" => Key("policy.temperature"), Flag("--rollout.temperature");
    Ppo "sampling.top_p" => KeyAs("policy_switches.top_p", "TRL's PPO trainer samples the whole distribution: said at start when below 1"), Flag("--rollout.top_p");
    Ppo "sampling.top_k" => KeyAs("policy_switches.top_k", "TRL's PPO trainer samples the whole distribution: said at start when not 0"), Nothing("OpenRLHF's rollouts take no top-k");
    Ppo "collapse" => Nothing("the lab's collapse detector; watch response length and reward in the trainer's logs"), Nothing("the lab's collapse detector; watch response length and reward in the logs");
    Ppo "smooth" => Nothing(MEASURE), Nothing(MEASURE);
    Ppo "bon_trials" => Nothing(MEASURE), Nothing(MEASURE);
    Ppo "bon_max_n" => Nothing(MEASURE), Nothing(MEASURE);
    Ppo "policy_model" => Nothing(SHAPE), Nothing(SHAPE);
    Ppo "sft_steps" => Nothing("the recipe starts from an instruct (SFT) model; run TRL's SFTTrainer first if yours is a base model"), Nothing("the recipe starts from an instruct (SFT) model; run openrlhf.cli.train_sft first if yours is a base model");
    Ppo "sft_batch" => Nothing("SFT is not part of the recipe (see sft_steps)"), Nothing("SFT is not part of the recipe (see sft_steps)");
    Ppo "sft_lr" => Nothing("SFT is not part of the recipe (see sft_steps)"), Nothing("SFT is not part of the recipe (see sft_steps)");
    Ppo "text.proxy_pairs" => Nothing("the text track's proxy pair count: the recipe's reward model trains on every pair"), Nothing("the text track's proxy pair count: the recipe's reward model trains on every pair");
    Ppo "text.prompt_tokens" => Nothing("counted in the lab's tokens: TRL's PPO trainer keeps whole prompts"), FlagAs("--data.max_len", "prompt and response together: 1024 + 256 of the base model's tokens, not the lab's");
    Ppo "text.response_tokens" => KeyAs("policy.response_length", "256 of the base model's tokens, not the lab's"), FlagAs("--rollout.max_new_tokens", "256 of the base model's tokens, not the lab's");

    Rlhf "rounds" => KeyAs("rounds.count", "rounds.sh runs that many rounds"), Nothing("one round: MetaRM's rounds run with the TRL recipe (rounds.sh)");
    Rlhf "arms" => KeyAs("metarm", "on when the run had a MetaRM arm; train_reward.py --no-metarm trains the vanilla arm"), Nothing(NO_METARM);
    Rlhf "sampling.groups" => Key("metarm.meta_prompts"), Nothing(NO_METARM);
    Rlhf "sampling.heldout_groups" => Nothing(MEASURE), Nothing(MEASURE);
    Rlhf "sampling.shifted_pairs" => Nothing(MEASURE), Nothing(MEASURE);
    Rlhf "rm_init" => Key("rounds.rm_init"), Nothing("one round only");
    Rlhf "policy_init" => Key("rounds.policy_init"), Nothing("one round only");
    Rlhf "kl_reference" => Key("rounds.kl_reference"), Nothing("one round only: the reference is the base model");
    Rlhf "eval" => Nothing(MEASURE), Nothing(MEASURE);

    Metarm "sampling.groups" => Key("metarm.meta_prompts"), Nothing(NO_METARM);
    Metarm "sampling.heldout_groups" => Nothing(MEASURE), Nothing(MEASURE);
    Metarm "sampling.shifted_pairs" => Nothing(MEASURE), Nothing(MEASURE);

    Strength "models" => Data("μ of this ensemble flips the pairs with μ < 0 and is their margin"), Data("μ of this ensemble flips the pairs with μ < 0 and is their margin");
    Strength "cross_fit" => Data("how μ was measured (its flips and margins are in the data)"), Data("how μ was measured (its flips and margins are in the data)");
    Strength "bands" => Nothing(MEASURE), Nothing(MEASURE);
    Strength "groups" => Nothing(MEASURE), Nothing(MEASURE);
    Strength "band_retrain" => Nothing(MEASURE), Nothing(MEASURE);
    Strength "band_epochs" => Nothing(MEASURE), Nothing(MEASURE);
    Strength "stacked" => Nothing("how the lab trains its ensemble, not what"), Nothing("how the lab trains its ensemble, not what");
    Strength "snapshots" => Nothing(MEASURE), Nothing(MEASURE);

    Ensemble "" => Data("the ensemble that measured μ: its work is the flips and margins in data/pairs.jsonl"), Data("the ensemble that measured μ: its work is the flips and margins in data/pairs.jsonl");

    Denoise "methods" => Data("the recipe writes flip+margin, the paper's combined method"), Data("the recipe writes flip+margin, the paper's combined method");
    Denoise "seeds" => Nothing(MEASURE), Nothing(MEASURE);
    Denoise "flip" => Data("applied: the flipped pairs are written swapped"), Data("applied: the flipped pairs are written swapped");
    Denoise "smoothing" => Nothing("no label smoothing in TRL's RewardTrainer; the recipe writes flip+margin"), Nothing("no label smoothing in OpenRLHF's reward training; the recipe writes flip+margin");
    Denoise "smoothing_scope" => Nothing("see smoothing"), Nothing("see smoothing");
    Denoise "margin_scale" => Data("applied: margin = λ·μ"), Data("applied: margin = λ·μ");
    Denoise "margin_clamp" => Data("applied: max(μ, 0) when on"), Data("applied: max(μ, 0) when on");
    Denoise "subset" => Nothing("the top-band experiment: the recipe writes every pair"), Nothing("the top-band experiment: the recipe writes every pair");
};

/// Every leaf of a JSON value as (dotted path, value); arrays are leaves.
pub fn leaves(value: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    fn walk(v: &serde_json::Value, at: &str, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(m) if !m.is_empty() => {
                for (k, x) in m {
                    let path = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    walk(x, &path, out);
                }
            }
            _ => out.push((at.to_string(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// The block a config path belongs to in a run of `kind`, and the path inside it.
fn block_of(kind: RunKind, path: &str) -> (Block, &str) {
    if path == "experiment.kind" || !path.starts_with("experiment.") {
        return match path.strip_prefix("data.") {
            Some(rest) => (Block::Data, rest),
            None => (Block::Run, path),
        };
    }
    let prefixes: &[(&str, Block)] = match kind {
        RunKind::Rm => &[("experiment.", Block::Reward)],
        RunKind::Strength => &[
            ("experiment.rm.", Block::Reward),
            ("experiment.", Block::Strength),
        ],
        RunKind::Denoise => &[
            ("experiment.strength.", Block::Ensemble),
            ("experiment.rm.", Block::Reward),
            ("experiment.", Block::Denoise),
        ],
        RunKind::Ppo => &[
            ("experiment.proxy.", Block::Reward),
            ("experiment.text.gold.", Block::Gold),
            ("experiment.", Block::Ppo),
        ],
        RunKind::Metarm => &[
            ("experiment.rm.", Block::Reward),
            ("experiment.", Block::Metarm),
        ],
        RunKind::Rlhf => &[
            ("experiment.ppo.proxy.", Block::Reward),
            ("experiment.ppo.text.gold.", Block::Gold),
            ("experiment.ppo.", Block::Ppo),
            ("experiment.", Block::Rlhf),
        ],
    };
    prefixes
        .iter()
        .find_map(|(p, b)| path.strip_prefix(p).map(|rest| (*b, rest)))
        .unwrap_or((Block::Run, path))
}

/// The rule for one config path of a run of `kind`, if there is one.
pub fn rule_for(kind: RunKind, path: &str) -> Option<&'static Rule> {
    let (block, rel) = block_of(kind, path);
    RULES.iter().find(|r| {
        r.block == block
            && (r.key.is_empty()
                || rel == r.key
                || rel
                    .strip_prefix(r.key)
                    .is_some_and(|rest| rest.starts_with('.')))
    })
}

fn describe(dest: Dest) -> String {
    match dest {
        Key(k) => format!("`recipe.json` → `{k}`"),
        KeyAs(k, how) => format!("`recipe.json` → `{k}`: {how}"),
        Flag(f) => format!("`openrlhf.sh` → `{f}`"),
        FlagAs(f, how) => format!("`openrlhf.sh` → `{f}`: {how}"),
        Data(how) => format!("data/pairs.jsonl: {how}"),
        Script(how) => how.to_string(),
        Nothing(why) => format!("**no counterpart**: {why}"),
    }
}

/// The text of `MAPPING.md`.
pub fn table(config: &serde_json::Value, plan: &Plan, target: Target) -> Result<String, String> {
    let who = match target {
        Target::Trl => format!("TRL {}", super::trl::TRL_VERSION),
        Target::Openrlhf => format!("OpenRLHF {}", super::openrlhf::OPENRLHF_VERSION),
    };
    let mut out = format!(
        "# Where every setting of this `{}` run went in {who}\n\n\
         Each row is one setting of the run's config (as its `report.json` wrote it), its value, \
         and where it went. **No counterpart** says plainly what does not carry over, and why. \
         \"Scale-dependent\" settings (learning rates, lengths in tokens) were chosen for the \
         lab's tiny models; the recipe sets the paper's values for a real model instead, and \
         says so.\n\n",
        plan.kind.command()
    );
    if target == Target::Trl {
        out.push_str(
            "In `recipe.json`, `reward` holds keyword arguments of TRL's `RewardConfig`, `policy` \
             those of its PPO config, `metarm` MetaRM's settings (metarm_trainer.py), \
             `policy_switches` the PPO-max switches TRL's trainer lacks (train_policy.py names \
             each one it cannot apply), and `rounds` the iterative rounds (rounds.sh).\n\n",
        );
    }
    out.push_str("| setting | value | where it went |\n|---|---|---|\n");
    for (path, value) in leaves(config) {
        let dest = match rule_for(plan.kind, &path) {
            Some(rule) => {
                let dest = match target {
                    Target::Trl => rule.trl,
                    Target::Openrlhf => rule.openrlhf,
                };
                match dest {
                    // MetaRM's keys exist only when the run trained with a meta set.
                    Key(k) | KeyAs(k, _) if k.starts_with("metarm") && plan.metarm.is_none() => {
                        describe(Nothing(NO_META_SET))
                    }
                    _ => describe(dest),
                }
            }
            None => "**no counterpart**: this version of rlhf-lab has no rule for it; set it by hand if it matters".into(),
        };
        let value = serde_json::to_string(&value).map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "| `{path}` | `{}` | {} |\n",
            value.replace('|', "\\|"),
            dest.replace('|', "\\|")
        ));
    }
    Ok(out)
}
