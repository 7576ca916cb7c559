//! The knobs of iterative RLHF (Part II §3.2's rounds, spec §5.3): how many rounds, which arms,
//! PPO-max and its reward model (whose `meta_lr`, `k` and `meta_batch` drive MetaRM), what is
//! sampled from each round's policy, and the choices the paper leaves open, each with a default
//! and the reason for it.
use serde::{Deserialize, Serialize};

use crate::experiment::config::KindConfig;
use crate::experiment::metarm::MetaSampling;
use crate::experiment::ppo::PpoConfig;

/// One arm of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Each round a MetaRM reward model (the original pairs plus the meta step on the last
    /// round's policy samples), then PPO against it.
    Metarm,
    /// The first reward model kept every round ("vanilla PPO" in the paper's tables), with the
    /// same PPO schedule.
    Vanilla,
}

impl Arm {
    /// Its name in reports and flags.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Metarm => "metarm",
            Arm::Vanilla => "vanilla",
        }
    }

    /// Parse a flag value.
    pub fn from_arg(s: &str) -> Result<Self, String> {
        match s.trim() {
            "metarm" => Ok(Arm::Metarm),
            "vanilla" => Ok(Arm::Vanilla),
            other => Err(format!("unknown arm '{other}': use metarm and/or vanilla")),
        }
    }
}

/// Where each round's MetaRM reward model starts (the paper does not say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmInit {
    /// From the run's seed, as the first reward model did: the rounds differ only by their meta
    /// sets, so a round's change is MetaRM's doing (the spec's tiny setup trains from scratch).
    #[default]
    Fresh,
    /// From the last round's reward model, trained again on the pairs with the new meta set.
    Continue,
}

/// Where each round's policy starts (the paper does not say; its Fig 17 suggests continued).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyInit {
    /// From the last round's policy: rounds add up, as the paper's per-round curves suggest.
    #[default]
    Continue,
    /// From SFT again: each round shows what its reward model alone reaches.
    Restart,
}

/// What the KL penalty measures each round's policy against (the paper does not say).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlReference {
    /// The SFT policy, every round: KL stays one distance from the start, so rounds and arms are
    /// compared on one axis (and at matched KL).
    #[default]
    Sft,
    /// The last round's policy: each round's leash starts where the policy stands.
    Previous,
}

/// How each round's policy is judged against SFT and the other arm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalConfig {
    /// Prompts drawn for the win/tie/lose table: one response of each policy per prompt,
    /// compared by gold.
    pub draws: usize,
    /// A comparison is a tie when the two gold rewards differ by less than this many standard
    /// deviations of gold over SFT's responses (the judge's tie band, scale-free).
    pub tie_band: f64,
    /// Groups of k responses per prompt for the diversity measures.
    pub diversity_groups: usize,
    /// Prompt draws (two responses each) scored by the first reward model at each checkpoint of
    /// the distribution-shift spread.
    pub spread_pairs: usize,
    /// Checkpoints of the spread per round (besides the start).
    pub spread_per_round: usize,
    /// Responses per source in the feature map (PCA of the first reward model's features).
    pub feature_points: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            draws: 600,
            tie_band: 0.1,
            diversity_groups: 60,
            spread_pairs: 300,
            spread_per_round: 2,
            feature_points: 150,
        }
    }
}

/// Iterative RLHF: rounds of (meta set from the last policy → reward model → PPO-max).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RlhfConfig {
    /// Rounds (the paper: 4 for dialogue, 5 for summaries; its best round was 3 and 4).
    pub rounds: usize,
    /// The arms, in the order they run each round.
    pub arms: Vec<Arm>,
    /// PPO-max and its reward model: `ppo.proxy` is the first reward model and each MetaRM
    /// round's (its `meta_lr`, `k`, `meta_batch`); `ppo.steps` are each round's PPO iterations.
    /// Rounds draw no best-of-n curve: `ppo.bon_trials` is not read.
    pub ppo: PpoConfig,
    /// What each round samples from the last policy.
    pub sampling: MetaSampling,
    /// Where each round's MetaRM reward model starts.
    pub rm_init: RmInit,
    /// Where each round's policy starts.
    pub policy_init: PolicyInit,
    /// What the KL penalty measures against.
    pub kl_reference: KlReference,
    /// How rounds are judged.
    pub eval: EvalConfig,
}

impl Default for RlhfConfig {
    fn default() -> Self {
        let ppo = PpoConfig {
            steps: 100,
            bon_trials: 0,
            ..PpoConfig::default()
        };
        Self {
            rounds: 3,
            arms: vec![Arm::Metarm, Arm::Vanilla],
            ppo,
            sampling: MetaSampling {
                groups: 400,
                heldout_groups: 100,
                shifted_pairs: 500,
            },
            rm_init: RmInit::default(),
            policy_init: PolicyInit::default(),
            kl_reference: KlReference::default(),
            eval: EvalConfig::default(),
        }
    }
}

impl RlhfConfig {
    /// Check every knob, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=20).contains(&self.rounds) {
            return Err(format!("rounds = {}: use 1 to 20", self.rounds));
        }
        if self.arms.is_empty() {
            return Err("arms is empty: run metarm, vanilla or both".into());
        }
        let mut seen = self.arms.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != self.arms.len() {
            return Err("arms: each arm once".into());
        }
        self.ppo.validate().map_err(|e| format!("ppo.{e}"))?;
        self.sampling.validate("sampling")?;
        let e = &self.eval;
        if !(e.tie_band.is_finite() && e.tie_band >= 0.0) {
            return Err(format!(
                "eval.tie_band = {}: a number of standard deviations ≥ 0",
                e.tie_band
            ));
        }
        for (name, v, least) in [
            ("eval.draws", e.draws, 10),
            ("eval.diversity_groups", e.diversity_groups, 1),
            ("eval.spread_pairs", e.spread_pairs, 10),
            ("eval.feature_points", e.feature_points, 2),
        ] {
            if !(least..=100_000).contains(&v) {
                return Err(format!("{name} = {v}: use {least} to 100000"));
            }
        }
        if e.spread_per_round > self.ppo.steps {
            return Err(format!(
                "eval.spread_per_round = {}: at most one checkpoint per PPO step ({})",
                e.spread_per_round, self.ppo.steps
            ));
        }
        Ok(())
    }

    /// Whether the MetaRM arm runs.
    pub fn has(&self, arm: Arm) -> bool {
        self.arms.contains(&arm)
    }
}

impl KindConfig for RlhfConfig {
    fn kind(&self) -> &'static str {
        "rlhf"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}
