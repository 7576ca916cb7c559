//! The preference-strength experiment's settings: the config of `strength` and of the app's
//! panel.
use serde::{Deserialize, Serialize};

use crate::experiment::rm::RmTrainConfig;
use crate::model::RewardModelConfig;

/// An ensemble strength experiment: the config of `strength` and of the app's panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StrengthConfig {
    /// Data, model and training of every member (members differ in seed and shuffle only).
    pub rm: RmTrainConfig,
    /// Ensemble size M (≥ 2; the paper uses 10).
    pub models: usize,
    /// 0 or 1: members train on all training pairs and score them in-sample (the paper).
    /// K ≥ 2: K-fold cross-fitting, each training pair scored by models that never saw it.
    pub cross_fit: usize,
    /// Bands by μ for band retraining and the band column of `strength.csv`.
    pub bands: usize,
    /// Groups by μ for the σ-by-group chart (Fig 2).
    pub groups: usize,
    /// Retrain a fresh reward model on each band alone and score it on validation (Fig 4).
    pub band_retrain: bool,
    /// Epochs of each band-alone run.
    pub band_epochs: f64,
    /// Train bag-of-words members, and the band-alone runs, together as stacked models (the
    /// same runs to float rounding; the default strength run is about 2× faster, more with
    /// several cores); `false` trains them one after another. Transformer and contrastive
    /// members always train one after another.
    pub stacked: bool,
    /// Interim μ and σ while stacked members train, to watch the ensemble form: this many
    /// snapshots spread over their training (0: none; the app's lessons take 10). Each scores
    /// every pair with every member, so it costs about a third of an epoch.
    pub snapshots: usize,
}

impl Default for StrengthConfig {
    fn default() -> Self {
        Self {
            rm: RmTrainConfig {
                model: RewardModelConfig::bow(),
                epochs: 5.0,
                eval_every: 1_000_000,
                optimizer: crate::experiment::config::OptimizerConfig {
                    lr: 3e-3,
                    ..Default::default()
                },
                ..Default::default()
            },
            models: 10,
            cross_fit: 0,
            bands: 10,
            groups: 20,
            band_retrain: true,
            band_epochs: 5.0,
            stacked: true,
            snapshots: 0,
        }
    }
}

impl StrengthConfig {
    /// Check everything a user can set.
    pub fn validate(&self) -> Result<(), String> {
        self.rm.validate()?;
        if self.models < 2 {
            return Err(crate::rm::strength::StrengthError::TooFewModels(self.models).to_string());
        }
        if self.models > 100 {
            return Err(format!("models = {}: at most 100", self.models));
        }
        if self.cross_fit == 1 || self.cross_fit > 50 {
            return Err(format!(
                "cross_fit = {}: use 0 (in-sample) or 2 to 50 folds",
                self.cross_fit
            ));
        }
        if !(2..=100).contains(&self.bands) || !(2..=100).contains(&self.groups) {
            return Err(format!(
                "bands = {}, groups = {}: each must be 2 to 100",
                self.bands, self.groups
            ));
        }
        if self.band_retrain && !(self.band_epochs.is_finite() && self.band_epochs > 0.0) {
            return Err(format!("band_epochs = {}: must be > 0", self.band_epochs));
        }
        if self.snapshots > 100 {
            return Err(format!("snapshots = {}: at most 100", self.snapshots));
        }
        Ok(())
    }
}

impl crate::experiment::config::KindConfig for StrengthConfig {
    fn kind(&self) -> &'static str {
        "strength"
    }

    fn check(&self) -> Result<(), String> {
        self.validate()
    }
}
