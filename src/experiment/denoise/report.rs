//! What a denoising comparison found: every method run, per-method summaries, the report
//! (`DIR/report.json`) and its CSV.
use serde::{Deserialize, Serialize};

use super::config::{DenoiseConfig, Method};

/// One trained method run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodRun {
    /// The method.
    pub method: Method,
    /// Seed offset (0-based).
    pub seed: usize,
    /// Final validation accuracy.
    pub validation_accuracy: f32,
    /// Loss over its training pairs at the end (with its own targets).
    pub train_loss: Option<f32>,
    /// Validation accuracy over steps.
    pub curve: Vec<(usize, f32)>,
}

/// Mean and spread of one method over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// The method.
    pub method: Method,
    /// Mean validation accuracy over seeds.
    pub mean_accuracy: f32,
    /// Population std over seeds.
    pub std_accuracy: f32,
    /// Mean final training-set loss.
    pub mean_train_loss: Option<f32>,
    /// Seeds run.
    pub seeds: usize,
}

/// What `denoise` writes (`report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenoiseReport {
    /// The exact config.
    pub config: crate::experiment::config::Run<DenoiseConfig>,
    /// Data label.
    pub data: String,
    /// `gold` (synthetic world) or `labels` (held-out labels).
    pub validation_target: String,
    /// Fraction of training pairs with μ < 0 (`None` when no method needed μ).
    pub frac_mu_negative: Option<f32>,
    /// Pairs each method trained on.
    pub train_pairs: usize,
    /// Every run.
    pub runs: Vec<MethodRun>,
    /// Per method, in config order.
    pub summary: Vec<MethodSummary>,
}

/// `denoise.csv`: one row per method and seed.
pub fn runs_csv(report: &DenoiseReport) -> String {
    let mut out = String::from("method,seed,validation_accuracy,train_loss\n");
    for r in &report.runs {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.method.name(),
            r.seed,
            r.validation_accuracy,
            r.train_loss.map_or(String::new(), |l| l.to_string())
        ));
    }
    out
}

impl DenoiseReport {
    /// One line of `key=value` results (mean accuracy per method) for status bars and logs.
    pub fn summary(&self) -> String {
        self.summary
            .iter()
            .map(|m| format!("{}={:.3}", m.method.name(), m.mean_accuracy))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
