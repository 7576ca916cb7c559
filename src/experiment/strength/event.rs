//! What a preference-strength run reports besides the lifecycle.
use serde::{Deserialize, Serialize};

use super::report::{BandResult, StrengthReport};
use crate::experiment::prepare::PreparedData;

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
    /// Interim preference strength while the stacked members still train (`snapshots`):
    /// every member scored after `step` of its `steps`, every input position.
    Snapshot {
        /// Steps the members have taken.
        step: usize,
        /// Steps they will take.
        steps: usize,
        /// Members scored.
        members: usize,
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

impl StrengthEvent {
    /// The pairs a multi-run experiment works on (for the app's tables and hover text).
    pub fn pairs_of(data: &PreparedData) -> Self {
        let mut train = vec![false; data.pairs.len()];
        for &p in &data.split.train {
            train[p] = true;
        }
        Self::Pairs {
            pairs: data
                .pairs
                .iter()
                .zip(&train)
                .map(|(p, &t)| PairView {
                    index: p.index,
                    prompt: p.prompt.clone(),
                    chosen: p.chosen.clone(),
                    rejected: p.rejected.clone(),
                    train: t,
                })
                .collect(),
            mislabeled: data.mislabeled.clone(),
            truth_source: data.truth_source.clone(),
        }
    }
}
