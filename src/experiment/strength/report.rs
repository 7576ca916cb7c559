//! What a preference-strength run found: band-alone results, the per-pair table and the report
//! (`DIR/report.json`).
use serde::{Deserialize, Serialize};

use super::config::StrengthConfig;

/// One band-alone retraining result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandResult {
    /// 0-based band (0 = lowest μ).
    pub band: usize,
    /// Mean μ of the band's training pairs.
    pub mean_mu: f32,
    /// Validation accuracy of the model trained on this band alone.
    pub validation_accuracy: f32,
    /// Its loss on its own band at the end.
    pub train_loss: Option<f32>,
    /// Validation accuracy over steps.
    pub curve: Vec<(usize, f32)>,
}

/// What a strength run found (`report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrengthReport {
    /// The exact config.
    pub config: crate::experiment::config::Run<StrengthConfig>,
    /// Data label.
    pub data: String,
    /// Pairs scored (all input pairs).
    pub pairs: usize,
    /// Training pairs (the ones the statistics below describe).
    pub train_pairs: usize,
    /// Fraction of training pairs with μ < 0 (null in a partial report).
    pub frac_mu_negative: f32,
    /// 20 groups of training pairs sorted by μ: (mean μ, mean σ).
    pub groups: Vec<(f32, f32)>,
    /// Where μ comes from: `ensemble`, or `field NAME` when the data carried it.
    #[serde(default)]
    pub strength_source: String,
    /// Where the ground truth comes from, if any.
    pub truth_source: Option<String>,
    /// Fraction of training pairs known to be mislabeled.
    pub true_noise_rate: Option<f32>,
    /// AUROC of −μ for "mislabeled" over training pairs.
    pub auroc: Option<f32>,
    /// Precision of the bottom-ρ fraction by μ (ρ = true noise rate).
    pub precision_bottom: Option<f32>,
    /// Recall of the bottom-ρ fraction by μ.
    pub recall_bottom: Option<f32>,
    /// Precision of {μ < 0}.
    pub precision_mu_negative: Option<f32>,
    /// Recall of {μ < 0}.
    pub recall_mu_negative: Option<f32>,
    /// Held-out accuracy of the ensemble mean (μ > 0 on validation pairs).
    pub ensemble_validation_accuracy: f32,
    /// Band-alone retraining, lowest band first (empty when not asked for).
    pub band_results: Vec<BandResult>,
    /// Seconds of training over all runs.
    pub wall_time_s: f64,
}

/// Per-pair results in input order (`strength.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct StrengthTable {
    /// The input index of each pair.
    pub index: Vec<usize>,
    /// μ per pair.
    pub mu: Vec<f32>,
    /// σ per pair.
    pub sigma: Vec<f32>,
    /// Band by μ among training pairs; validation pairs get the band their μ falls in.
    pub band: Vec<usize>,
    /// Whether the pair was in the training split.
    pub train: Vec<bool>,
}

impl StrengthReport {
    /// One line of `key=value` results for status bars and logs.
    pub fn summary(&self) -> String {
        let auroc = self.auroc.map_or("n/a".into(), |a| format!("{a:.3}"));
        format!(
            "frac_mu_negative={:.3} auroc={auroc} ensemble_validation_accuracy={:.3}",
            self.frac_mu_negative, self.ensemble_validation_accuracy
        )
    }
}
