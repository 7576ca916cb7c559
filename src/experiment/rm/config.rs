//! Reward-model training settings: the config of `train-rm` and of the app's RM panel, and the
//! block every experiment that trains reward models embeds.
use serde::{Deserialize, Serialize};

use crate::experiment::config::{KindConfig, OptimizerConfig};
use crate::model::RewardModelConfig;

/// Reward-model training, the knobs only (data, seed and backend are the run's, see
/// [`crate::experiment::config::Run`]): the experiment of `train-rm` and the app's RM panel, and
/// the block of every experiment that trains reward models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RmTrainConfig {
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
    /// Contrastive auxiliary loss (SimCSE / SwAV); off by default.
    pub contrastive: crate::rm::contrastive::ContrastiveConfig,
    /// MetaRM's meta learning rate η: each step first takes θ' = θ + η ∇J (J, the difference
    /// loss, on a minibatch of the meta set's groups), then the vanilla loss's gradient at θ'
    /// updates θ (Algorithm 1). Used only when the run has a meta set (sampled from a policy, as
    /// `metarm` and `rlhf` do): a run on pairs alone trains plainly whatever η says. 0 = the
    /// meta step moves nothing (vanilla training, bit for bit).
    pub meta_lr: f64,
    /// Responses per prompt in a meta group (k of the difference loss).
    pub k: usize,
    /// Meta groups per step (m of Algorithm 1).
    pub meta_batch: usize,
}

impl Default for RmTrainConfig {
    fn default() -> Self {
        Self {
            model: RewardModelConfig::default(),
            optimizer: OptimizerConfig::default(),
            epochs: 3.0,
            steps: 0,
            batch_size: 32,
            eval_every: 50,
            contrastive: crate::rm::contrastive::ContrastiveConfig::default(),
            meta_lr: 2.0,
            k: 5,
            meta_batch: 16,
        }
    }
}

impl RmTrainConfig {
    /// Switch to the defaults for real text, chosen by measurement on the HH-RLHF sample (the
    /// plain defaults are tuned for the synthetic world, and the small transformer stays near
    /// the shorter-wins baseline on 1,850 pairs): the unigram bag of words, 3 epochs at lr
    /// 0.01 — the best of 11 bag-of-words settings over tuning seeds 11–15 (mean held-out
    /// 0.587; the calibration tier measures it on seeds 1–5).
    pub fn use_text_defaults(&mut self) {
        self.model = RewardModelConfig::bow();
        self.epochs = 3.0;
        self.steps = 0;
        self.optimizer.lr = 0.01;
    }

    /// Optimizer steps of one pass over `train_pairs` pairs (the last batch may be short).
    pub fn steps_per_epoch(&self, train_pairs: usize) -> usize {
        train_pairs.div_ceil(self.batch_size.max(1)).max(1)
    }

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
        if !(self.meta_lr.is_finite() && self.meta_lr >= 0.0) {
            return Err(format!(
                "meta_lr = {}: MetaRM's meta learning rate η must be a number ≥ 0 (0: no meta step)",
                self.meta_lr
            ));
        }
        if self.k < 2 {
            return Err(format!(
                "k = {}: MetaRM compares the k responses to one prompt, so k must be at least 2 (the paper uses 5)",
                self.k
            ));
        }
        if self.meta_batch == 0 {
            return Err(
                "meta_batch = 0: use at least 1 meta group per step (the paper uses 16)".into(),
            );
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
        Ok(())
    }
}

impl KindConfig for RmTrainConfig {
    fn kind(&self) -> &'static str {
        "rm"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn config_round_trips_through_json_with_defaults() {
        use crate::experiment::config::{DataConfig, DataSource, Run};
        let cfg = Run {
            data: DataConfig {
                source: DataSource::Jsonl {
                    path: "x.jsonl".into(),
                },
                ..Default::default()
            },
            seed: 9,
            experiment: RmTrainConfig {
                steps: 4,
                ..Default::default()
            },
            ..Default::default()
        };
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["experiment"]["kind"], "rm", "the kind tag is written");
        assert_eq!(
            serde_json::from_value::<Run<RmTrainConfig>>(json).unwrap(),
            cfg
        );
        // Partial configs fill in defaults.
        let partial: Run<RmTrainConfig> = serde_json::from_str(
            r#"{"experiment": {"steps": 5}, "data": {"source": {"kind": "hh_sample"}}}"#,
        )
        .unwrap();
        assert_eq!(partial.experiment.steps, 5);
        assert_eq!(partial.data.source, DataSource::HhSample);
        assert_eq!(
            partial.experiment.batch_size,
            RmTrainConfig::default().batch_size
        );
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
        for (c, field) in [
            (
                RmTrainConfig {
                    k: 1,
                    ..Default::default()
                },
                "k = 1",
            ),
            (
                RmTrainConfig {
                    meta_lr: -0.5,
                    ..Default::default()
                },
                "meta_lr = -0.5",
            ),
            (
                RmTrainConfig {
                    meta_lr: f64::NAN,
                    ..Default::default()
                },
                "meta_lr = NaN",
            ),
            (
                RmTrainConfig {
                    meta_batch: 0,
                    ..Default::default()
                },
                "meta_batch = 0",
            ),
        ] {
            let err = c.validate().unwrap_err();
            assert!(err.contains(field), "{err}");
        }
    }
}
