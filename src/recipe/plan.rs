//! What a run's config means for a recipe: which block is the reward model's, which the PPO
//! stage's, whether MetaRM and rounds are on.
use crate::experiment::ppo::PpoConfig;
use crate::experiment::rlhf::RlhfConfig;
use crate::experiment::rm::RmTrainConfig;

/// The command that made a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// `train-rm`.
    Rm,
    /// `strength`.
    Strength,
    /// `denoise`.
    Denoise,
    /// `ppo`.
    Ppo,
    /// `metarm`.
    Metarm,
    /// `rlhf`.
    Rlhf,
}

impl RunKind {
    /// From a config's `experiment.kind`.
    pub fn from_tag(tag: &str) -> Result<Self, String> {
        Ok(match tag {
            "rm" => Self::Rm,
            "strength" => Self::Strength,
            "denoise" => Self::Denoise,
            "ppo" => Self::Ppo,
            "metarm" => Self::Metarm,
            "rlhf" => Self::Rlhf,
            other => {
                return Err(format!(
                    "experiment kind '{other}' has no recipe: use a run of train-rm, strength, denoise, ppo, metarm or rlhf"
                ));
            }
        })
    }

    /// The command that makes such a run.
    pub fn command(self) -> &'static str {
        match self {
            Self::Rm => "train-rm",
            Self::Strength => "strength",
            Self::Denoise => "denoise",
            Self::Ppo => "ppo",
            Self::Metarm => "metarm",
            Self::Rlhf => "rlhf",
        }
    }

    /// Where the reward model's knobs sit in the config (dotted, with the trailing dot).
    pub fn reward_prefix(self) -> &'static str {
        match self {
            Self::Rm => "experiment.",
            Self::Strength | Self::Denoise | Self::Metarm => "experiment.rm.",
            Self::Ppo => "experiment.proxy.",
            Self::Rlhf => "experiment.ppo.proxy.",
        }
    }

    /// Where the PPO stage's knobs sit, for runs that have one.
    pub fn ppo_prefix(self) -> Option<&'static str> {
        match self {
            Self::Ppo => Some("experiment."),
            Self::Rlhf => Some("experiment.ppo."),
            _ => None,
        }
    }
}

/// MetaRM's settings for the recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaPlan {
    /// The run's meta learning rate η (the recipe uses the paper's η = α at scale).
    pub meta_lr: f64,
    /// Responses per prompt.
    pub k: usize,
    /// Meta groups per step.
    pub meta_batch: usize,
    /// Prompts the meta set samples.
    pub meta_prompts: usize,
}

/// A run's config read for a recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The command that made the run.
    pub kind: RunKind,
    /// The experiment's knobs as JSON (without `kind`).
    pub experiment: serde_json::Value,
    /// The run's seed.
    pub seed: u64,
    /// The reward model's knobs.
    pub rm: RmTrainConfig,
    /// The PPO stage's knobs: the run's, or the lab's PPO-max defaults for a run without PPO.
    pub ppo: PpoConfig,
    /// Whether `ppo` is the run's own.
    pub ppo_from_run: bool,
    /// MetaRM, where the run trained with it (η > 0 and, for `rlhf`, a MetaRM arm).
    pub metarm: Option<MetaPlan>,
    /// Iterative rounds (an `rlhf` run).
    pub rounds: Option<RlhfConfig>,
}

impl Plan {
    /// Read a run's config (`report.json`'s `config`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self, String> {
        let mut experiment = config
            .get("experiment")
            .cloned()
            .ok_or("the run's config has no \"experiment\": not a report of this version")?;
        let tag = experiment
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or("the run's experiment has no \"kind\"")?
            .to_string();
        let kind = RunKind::from_tag(&tag)?;
        if let Some(fields) = experiment.as_object_mut() {
            fields.remove("kind");
        }
        let seed = config.get("seed").and_then(|s| s.as_u64()).unwrap_or(0);
        let block = |prefix: &str| -> serde_json::Value {
            let mut at = config.clone();
            for part in prefix.trim_end_matches('.').split('.') {
                at = at.get(part).cloned().unwrap_or(serde_json::Value::Null);
            }
            at
        };
        let parse_err = |what: &str, e: serde_json::Error| format!("the run's {what} config: {e}");
        let rm: RmTrainConfig = serde_json::from_value(block(kind.reward_prefix()))
            .map_err(|e| parse_err("reward model", e))?;
        let (ppo, ppo_from_run) = match kind.ppo_prefix() {
            Some(prefix) => (
                serde_json::from_value(block(prefix)).map_err(|e| parse_err("PPO", e))?,
                true,
            ),
            None => (PpoConfig::default(), false),
        };
        let rounds: Option<RlhfConfig> = match kind {
            RunKind::Rlhf => {
                Some(serde_json::from_value(experiment.clone()).map_err(|e| parse_err("rlhf", e))?)
            }
            _ => None,
        };
        let groups = experiment["sampling"]["groups"].as_u64();
        let metarm_arm = rounds
            .as_ref()
            .is_none_or(|r| r.has(crate::experiment::rlhf::config::Arm::Metarm));
        let metarm = match (kind, groups) {
            (RunKind::Metarm | RunKind::Rlhf, Some(groups)) if rm.meta_lr > 0.0 && metarm_arm => {
                Some(MetaPlan {
                    meta_lr: rm.meta_lr,
                    k: rm.k,
                    meta_batch: rm.meta_batch,
                    meta_prompts: groups as usize,
                })
            }
            _ => None,
        };
        Ok(Self {
            kind,
            experiment,
            seed,
            rm,
            ppo,
            ppo_from_run,
            metarm,
            rounds,
        })
    }
}
