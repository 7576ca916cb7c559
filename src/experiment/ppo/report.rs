//! The report a finished PPO run writes (`DIR/report.json`) and its `curves.csv`.
use serde::{Deserialize, Serialize};

use super::config::PpoConfig;
use crate::experiment::config::Run;

/// Results of `ppo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PpoReport {
    /// The exact config.
    pub config: Run<PpoConfig>,
    /// The proxy reward model's held-out accuracy against the gold reward.
    pub proxy_validation_accuracy: Option<f32>,
    /// The gold reward model's held-out accuracy on the pairs' labels (text track).
    #[serde(default)]
    pub gold_validation_accuracy: Option<f32>,
    /// How the critic started, in words.
    #[serde(default)]
    pub critic_init: String,
    /// Mean gold reward of the starting policy (step 0's batch).
    pub gold_initial: f64,
    /// The highest value of the gold reward's trailing moving average (`smooth` steps).
    pub gold_peak: f64,
    /// The step at which it peaked.
    pub gold_peak_step: usize,
    /// The moving average at the last step.
    pub gold_final: f64,
    /// Mean proxy score of the starting policy.
    pub proxy_initial: f64,
    /// The proxy's moving average at the last step.
    pub proxy_final: f64,
    /// KL(π ‖ π_ref) at the last step.
    pub kl_final: f64,
    /// KL at the gold peak.
    pub kl_at_gold_peak: f64,
    /// Steps the collapse detector flagged (empty if none).
    pub collapse_steps: Vec<usize>,
    /// PPO iterations done.
    pub steps: usize,
    /// Seconds of the PPO stage.
    pub wall_time_s: f64,
    /// Seconds per PPO iteration.
    pub seconds_per_step: f64,
    /// Response tokens per second of the PPO stage (tokens sampled / its wall time).
    pub rollout_tokens_per_s: f64,
    /// Seconds per PPO iteration spent in the update (policy and critic epochs); the rest of
    /// `seconds_per_step` is sampling, scoring and measuring.
    #[serde(default)]
    pub update_seconds_per_step: f64,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Best-of-n on the proxy, against the same √KL axis (empty when off).
    pub best_of_n: Vec<super::bon::BonPoint>,
}

impl PpoReport {
    /// One line of `key=value` results.
    pub fn summary(&self) -> String {
        format!(
            "gold_initial={:.3} gold_peak={:.3} gold_peak_step={} gold_final={:.3} proxy_final={:.3} kl_final={:.3} collapse_steps={}",
            self.gold_initial,
            self.gold_peak,
            self.gold_peak_step,
            self.gold_final,
            self.proxy_final,
            self.kl_final,
            self.collapse_steps.len()
        )
    }
}
