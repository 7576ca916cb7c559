//! Experiment configs: one serde struct is the CLI's `--config`, the UI's settings, the saved
//! run's header and (in the browser) the URL state. Every config carries its seed.
use serde::{Deserialize, Serialize};

use crate::compute::BackendChoice;
use crate::data::synthetic::SyntheticConfig;
use crate::model::RewardModelConfig;

/// Where the preference pairs come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// The synthetic preference world (gold reward known).
    Synthetic(SyntheticConfig),
    /// The Anthropic HH-RLHF harmless-base test split shipped in `shared/data`.
    HhSample,
    /// A JSONL or JSONL.gz file (HH-RLHF transcripts, TRL standard or TRL conversational).
    Jsonl {
        /// File path (natively) or the picked file's name (in the browser).
        path: String,
    },
}

impl Default for DataSource {
    fn default() -> Self {
        Self::Synthetic(SyntheticConfig::default())
    }
}

impl DataSource {
    /// Parse the CLI's `--data` value: `synthetic`, `hh-sample` or a path.
    pub fn from_arg(arg: &str) -> Self {
        match arg {
            "synthetic" => Self::Synthetic(SyntheticConfig::default()),
            "hh-sample" | "hh" => Self::HhSample,
            path => Self::Jsonl { path: path.into() },
        }
    }

    /// A short name for logs and the UI.
    pub fn label(&self) -> String {
        match self {
            Self::Synthetic(s) => {
                format!(
                    "synthetic world ({} pairs, flip rate {})",
                    s.pairs, s.flip_rate
                )
            }
            Self::HhSample => "HH-RLHF harmless-base sample".into(),
            Self::Jsonl { path } => path.clone(),
        }
    }
}

/// Data source and how it is split and tokenized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataConfig {
    /// The pairs.
    pub source: DataSource,
    /// Fraction of pairs held out for validation (seeded split).
    pub validation_fraction: f64,
    /// Skip (and count) malformed JSONL lines instead of stopping at the first.
    pub skip_bad_lines: bool,
    /// Byte-level BPE vocabulary size for text data (the synthetic world uses its own words).
    pub vocab_size: usize,
    /// Keep at most this many prompt tokens (the last ones, nearest the response).
    pub max_prompt_len: usize,
    /// Dotted JSON path, in each input record, to a boolean that says the pair is known to be
    /// mislabeled (e.g. `meta.flipped`): ground truth for strength analysis on real data.
    pub truth_field: Option<String>,
    /// Flip this fraction of all pairs at random (seeded) before anything else, and remember
    /// which: the injected-noise test on real text (spec §8.3, HH-3).
    pub inject_flip_rate: f64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            source: DataSource::default(),
            validation_fraction: 0.2,
            skip_bad_lines: false,
            vocab_size: 4096,
            max_prompt_len: 48,
            truth_field: None,
            inject_flip_rate: 0.0,
        }
    }
}

/// AdamW with linear warmup over the first `warmup_fraction` of the steps, then cosine decay to
/// `final_lr_fraction · lr`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Fraction of the run spent warming up linearly from 0 to `lr`.
    pub warmup_fraction: f64,
    /// Learning rate at the last step, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// Clip the global gradient norm to this value (0 = off).
    pub grad_clip_norm: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            weight_decay: 0.01,
            warmup_fraction: 0.1,
            final_lr_fraction: 0.1,
            grad_clip_norm: 1.0,
        }
    }
}

impl OptimizerConfig {
    /// Learning rate at optimizer step `step` (0-based) of `total`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warmup = (self.warmup_fraction.clamp(0.0, 1.0) * total as f64).round() as usize;
        if step < warmup {
            return self.lr * (step + 1) as f64 / warmup as f64;
        }
        // The last step taken is `total - 1`: it gets exactly the final learning rate.
        let span = total.saturating_sub(warmup + 1).max(1) as f64;
        let progress = ((step - warmup) as f64 / span).clamp(0.0, 1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.lr * (self.final_lr_fraction + (1.0 - self.final_lr_fraction) * cosine)
    }
}

/// Reward-model training: the config of `train-rm` and of the app's RM panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RmTrainConfig {
    /// Data and split.
    pub data: DataConfig,
    /// Reward-model shape.
    pub model: RewardModelConfig,
    /// Optimizer and schedule.
    pub optimizer: OptimizerConfig,
    /// Passes over the training pairs (used when `steps` is 0). The paper trains one epoch;
    /// small data needs a few.
    pub epochs: f64,
    /// Optimizer steps; 0 means "from `epochs`".
    pub steps: usize,
    /// Pairs per step.
    pub batch_size: usize,
    /// Evaluate on validation every this many steps (and at the end).
    pub eval_every: usize,
    /// Seed of weights, shuffling and dropout (and of the synthetic world unless it has its own).
    pub seed: u64,
    /// Compute backend.
    pub backend: BackendChoice,
    /// Contrastive auxiliary loss (SimCSE / SwAV); off by default.
    pub contrastive: crate::rm::contrastive::ContrastiveConfig,
}

impl Default for RmTrainConfig {
    fn default() -> Self {
        Self {
            data: DataConfig::default(),
            model: RewardModelConfig::default(),
            optimizer: OptimizerConfig::default(),
            epochs: 3.0,
            steps: 0,
            batch_size: 32,
            eval_every: 50,
            seed: 0,
            backend: BackendChoice::Auto,
            contrastive: crate::rm::contrastive::ContrastiveConfig::default(),
        }
    }
}

impl RmTrainConfig {
    /// Optimizer steps for a training set of `train_pairs` pairs.
    pub fn total_steps(&self, train_pairs: usize) -> usize {
        if self.steps > 0 {
            return self.steps;
        }
        let per_epoch = train_pairs as f64 / self.batch_size.max(1) as f64;
        ((self.epochs * per_epoch).ceil() as usize).max(1)
    }

    /// Check everything a user can set, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        self.contrastive.validate()?;
        if self.contrastive.active() && self.model.dropout <= 0.0 {
            return Err(
                "contrastive learning needs dropout for its two views: set model.dropout > 0 (the paper uses 0.05)".into(),
            );
        }
        if let DataSource::Synthetic(s) = &self.data.source {
            s.validate()?;
        }
        if self.steps == 0 && !(self.epochs.is_finite() && self.epochs > 0.0) {
            return Err(format!(
                "epochs = {}: must be > 0 when steps is 0 (from epochs)",
                self.epochs
            ));
        }
        if self.batch_size == 0 {
            return Err("batch_size = 0: use at least 1 pair per step".into());
        }
        if self.eval_every == 0 {
            return Err("eval_every = 0: evaluate every N ≥ 1 steps".into());
        }
        if !(self.optimizer.lr.is_finite() && self.optimizer.lr > 0.0) {
            return Err(format!(
                "optimizer.lr = {}: must be a positive number",
                self.optimizer.lr
            ));
        }
        let o = &self.optimizer;
        for (name, v) in [
            ("optimizer.warmup_fraction", o.warmup_fraction),
            ("optimizer.final_lr_fraction", o.final_lr_fraction),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v}: must be in [0, 1]"));
            }
        }
        for (name, v) in [
            ("optimizer.weight_decay", o.weight_decay),
            ("optimizer.grad_clip_norm", o.grad_clip_norm),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v}: must be ≥ 0 (0 turns it off)"));
            }
        }
        if !(0.0..=1.0).contains(&self.data.inject_flip_rate) {
            return Err(format!(
                "data.inject_flip_rate = {}: must be in [0, 1]",
                self.data.inject_flip_rate
            ));
        }
        if self
            .data
            .truth_field
            .as_deref()
            .is_some_and(|f| f.trim().is_empty())
        {
            return Err(
                "data.truth_field is empty: give a dotted path such as meta.flipped".into(),
            );
        }
        if !(self.data.validation_fraction > 0.0 && self.data.validation_fraction < 1.0) {
            return Err(format!(
                "data.validation_fraction = {}: must be strictly between 0 and 1",
                self.data.validation_fraction
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_through_json_with_defaults() {
        let cfg = RmTrainConfig {
            data: DataConfig {
                source: DataSource::Jsonl {
                    path: "x.jsonl".into(),
                },
                ..Default::default()
            },
            seed: 9,
            ..Default::default()
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<RmTrainConfig>(&json).unwrap(), cfg);
        // Partial configs fill in defaults.
        let partial: RmTrainConfig =
            serde_json::from_str(r#"{"steps": 5, "data": {"source": {"kind": "hh_sample"}}}"#)
                .unwrap();
        assert_eq!(partial.steps, 5);
        assert_eq!(partial.data.source, DataSource::HhSample);
        assert_eq!(partial.batch_size, RmTrainConfig::default().batch_size);
    }

    #[test]
    fn schedule_warms_up_then_decays() {
        let o = OptimizerConfig {
            lr: 1.0,
            warmup_fraction: 0.1,
            final_lr_fraction: 0.1,
            ..Default::default()
        };
        assert!((o.lr_at(0, 100) - 0.1).abs() < 1e-12);
        assert!((o.lr_at(9, 100) - 1.0).abs() < 1e-12);
        assert!((o.lr_at(10, 100) - 1.0).abs() < 1e-12);
        assert!((o.lr_at(99, 100) - 0.1).abs() < 1e-9);
        assert!(o.lr_at(50, 100) < 1.0 && o.lr_at(50, 100) > 0.1);
    }

    #[test]
    fn steps_come_from_epochs_unless_set() {
        let c = RmTrainConfig {
            epochs: 2.0,
            steps: 0,
            batch_size: 32,
            ..Default::default()
        };
        assert_eq!(c.total_steps(1850), 116);
        assert_eq!(
            RmTrainConfig {
                steps: 7,
                ..c.clone()
            }
            .total_steps(1850),
            7
        );
        assert!(
            RmTrainConfig { epochs: 0.0, ..c }
                .validate()
                .unwrap_err()
                .contains("epochs")
        );
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = RmTrainConfig::default();
        c.model.heads = 3;
        assert!(c.validate().unwrap_err().contains("heads"));
        let c = RmTrainConfig {
            batch_size: 0,
            ..Default::default()
        };
        assert!(c.validate().unwrap_err().contains("batch_size"));
    }
}
