//! The report a finished reward-model run writes (`DIR/report.json`).
use serde::{Deserialize, Serialize};

use super::config::RmTrainConfig;
use crate::experiment::config::Run;

/// Results of `train-rm`. Measurements a run has not reached yet (a partial report written
/// after an error) are `null`, never a made-up 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RmReport {
    /// The exact config that ran.
    pub config: Run<RmTrainConfig>,
    /// Accuracy on the training pairs (against their labels) at the end.
    pub train_accuracy: Option<f32>,
    /// Held-out accuracy: against the gold reward for the synthetic world, else the labels.
    pub validation_accuracy: Option<f32>,
    /// Held-out accuracy against the dataset's own (possibly flipped) labels.
    pub validation_label_accuracy: Option<f32>,
    /// What `validation_accuracy` is measured against: `gold` or `labels`.
    pub validation_target: String,
    /// "Shorter response wins" on the validation pairs, against the same target.
    pub baseline_accuracy: f32,
    /// Mean validation loss against the labels.
    pub validation_loss: Option<f32>,
    /// Mean loss of the last training batch.
    pub final_train_loss: Option<f32>,
    /// Mean loss over the whole training set at the end, with the run's loss targets (flips,
    /// margins, smoothing): the floor of the strong-data overfit experiment.
    #[serde(default)]
    pub train_set_loss: Option<f32>,
    /// How well a linear probe on held-out pooled features tells chosen from rejected
    /// responses (AUROC; [P2] Fig 11's question).
    #[serde(default)]
    pub feature_separation_auroc: Option<f32>,
    /// Seconds spent in training steps (data preparation and final scoring excluded).
    pub wall_time_s: f64,
    /// Training pairs per second.
    pub train_pairs_per_s: f64,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Adapter description.
    pub adapter: String,
    /// Backend fallback notice, if any.
    pub backend_notice: Option<String>,
    /// Steps taken.
    pub steps: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Data source label.
    pub data: String,
    /// Training pairs.
    pub train_pairs: usize,
    /// Validation pairs.
    pub validation_pairs: usize,
    /// Malformed lines skipped.
    pub skipped_lines: usize,
    /// Candidate pairs dropped as ties while loading (equal scores or ratings).
    #[serde(default)]
    pub dropped_ties: usize,
    /// Validation accuracy after each evaluation: `(step, accuracy)`.
    pub validation_curve: Vec<(usize, f32)>,
}

impl RmReport {
    /// Write `dir/report.json` (creating `dir`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn write(
        &self,
        dir: &std::path::Path,
    ) -> Result<std::path::PathBuf, crate::experiment::error::ExperimentError> {
        let out = |e: &dyn std::fmt::Display, p: &std::path::Path| {
            crate::experiment::error::ExperimentError::Output {
                path: p.display().to_string(),
                message: e.to_string(),
            }
        };
        std::fs::create_dir_all(dir).map_err(|e| out(&e, dir))?;
        let path = dir.join("report.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| out(&e, &path))?;
        std::fs::write(&path, json).map_err(|e| out(&e, &path))?;
        Ok(path)
    }
}
