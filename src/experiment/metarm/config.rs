//! The knobs of a MetaRM comparison: the reward model both arms train (its `meta_lr`, `k` and
//! `meta_batch` are MetaRM's), and how much is sampled from the policy — meta groups to train
//! on, held-out groups for J, and pairs for the shifted accuracy.
use serde::{Deserialize, Serialize};

use crate::experiment::rm::RmTrainConfig;

/// How much a MetaRM measurement samples from a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetaSampling {
    /// Meta groups (k responses to one prompt each) the MetaRM arm trains on.
    pub groups: usize,
    /// Held-out meta groups on which J is measured.
    pub heldout_groups: usize,
    /// Pairs of policy responses (two to one prompt), labelled by gold: the shifted accuracy
    /// and |Δr| are measured on them.
    pub shifted_pairs: usize,
}

impl Default for MetaSampling {
    fn default() -> Self {
        Self {
            groups: 400,
            heldout_groups: 200,
            shifted_pairs: 1000,
        }
    }
}

impl MetaSampling {
    /// Check the sizes, naming the field.
    pub fn validate(&self, at: &str) -> Result<(), String> {
        for (name, v, least) in [
            ("groups", self.groups, 1),
            ("heldout_groups", self.heldout_groups, 1),
            ("shifted_pairs", self.shifted_pairs, 10),
        ] {
            if v < least {
                return Err(format!("{at}.{name} = {v}: use at least {least}"));
            }
            if v > 100_000 {
                return Err(format!("{at}.{name} = {v}: at most 100000"));
            }
        }
        Ok(())
    }
}

/// One MetaRM round on a saved policy (`rlhf-lab metarm`): a vanilla reward model and a MetaRM
/// one, from the same seed on the same pairs, the MetaRM arm also taking the meta step on
/// groups sampled from the policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetaRmConfig {
    /// Both arms' reward model; `meta_lr`, `k` and `meta_batch` drive the MetaRM arm's meta step.
    pub rm: RmTrainConfig,
    /// What is sampled from the policy.
    pub sampling: MetaSampling,
}

impl Default for MetaRmConfig {
    fn default() -> Self {
        Self {
            rm: crate::experiment::ppo::PpoConfig::default().proxy,
            sampling: MetaSampling::default(),
        }
    }
}

impl MetaRmConfig {
    /// Check every knob, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        self.rm.validate().map_err(|e| format!("rm.{e}"))?;
        self.sampling.validate("sampling")
    }
}

impl crate::experiment::config::KindConfig for MetaRmConfig {
    fn kind(&self) -> &'static str {
        "metarm"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}
