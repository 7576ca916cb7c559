//! What a preference-strength run reports besides the lifecycle.
use serde::{Deserialize, Serialize};

use super::report::{BandResult, StrengthReport};

/// One pair as the app shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairView {
    /// Input index.
    pub index: usize,
    /// Prompt text.
    pub prompt: String,
    /// Chosen response.
    pub chosen: String,
    /// Rejected response.
    pub rejected: String,
    /// In the training split.
    pub train: bool,
}

/// Preference-strength events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strength", rename_all = "snake_case")]
pub enum StrengthEvent {
    /// The pairs of the experiment (once, before its first step), parallel to the positions
    /// that μ and σ use.
    Pairs {
        /// Every pair.
        pairs: Vec<PairView>,
        /// Known mislabels, where known.
        mislabeled: Option<Vec<bool>>,
        /// Where they come from.
        truth_source: Option<String>,
    },
    /// Preference strength over the members done so far (≥ 2), every input position.
    Update {
        /// Members finished.
        members: usize,
        /// Ensemble size.
        models: usize,
        /// μ per pair (input positions).
        mu: Vec<f32>,
        /// σ per pair.
        sigma: Vec<f32>,
    },
    /// A band-alone retraining run finished (Fig 4).
    BandDone {
        /// Its result.
        result: BandResult,
    },
    /// The strength experiment's report.
    Done {
        /// Everything it found.
        report: Box<StrengthReport>,
    },
}
