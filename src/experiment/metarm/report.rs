//! What `rlhf-lab metarm` writes (`DIR/report.json`): both arms measured on the original pairs
//! and on the policy's samples.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::MetaRmConfig;
use super::measure::ShiftMeasures;
use crate::experiment::config::Run;

/// One arm's reward model, measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmReport {
    /// Held-out accuracy on the original pairs (against gold on the world; on text against the
    /// labels the gold model drew).
    pub original_accuracy: Option<f32>,
    /// Accuracy on pairs of policy samples labelled by gold (the shifted distribution).
    pub shifted_accuracy: f64,
    /// Shifted pairs counted (pairs tied in gold left out).
    pub shifted_pairs: usize,
    /// Mean difference loss J on the held-out meta groups.
    pub j: f64,
    /// Mean |Δr| on the shifted pairs.
    pub mean_abs_dr: f64,
}

impl ArmReport {
    /// An arm's report from its held-out accuracy and its measures on the policy's samples.
    pub fn new(original_accuracy: Option<f32>, m: &ShiftMeasures) -> Self {
        Self {
            original_accuracy,
            shifted_accuracy: m.shifted_accuracy,
            shifted_pairs: m.shifted_pairs,
            j: m.j,
            mean_abs_dr: m.mean_abs_dr,
        }
    }
}

/// The report of a MetaRM comparison on one policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetaRmReport {
    /// The config that ran (data, the arms' seed, backend, knobs).
    pub config: Run<MetaRmConfig>,
    /// `factorised` or `transformer`.
    pub policy: String,
    /// What the arms trained on, in words.
    pub data: String,
    /// Meta groups the MetaRM arm trained on.
    pub meta_groups: usize,
    /// `vanilla` and `metarm`.
    pub arms: BTreeMap<String, ArmReport>,
    /// Histograms of |Δr| on the shifted pairs over [0, 1] (each arm's |Δr| divided by its
    /// largest), 20 bins, as shares: `vanilla` and `metarm`.
    pub abs_dr_hist: BTreeMap<String, Vec<f64>>,
    /// Seconds of work (data preparation excluded).
    pub wall_time_s: f64,
}

impl MetaRmReport {
    /// One line of `key=value` results.
    pub fn summary(&self) -> String {
        let arm = |name: &str| self.arms.get(name).cloned().unwrap_or_default();
        let (v, m) = (arm("vanilla"), arm("metarm"));
        let show = |x: Option<f32>| x.map_or("n/a".into(), |a| format!("{a:.3}"));
        format!(
            "original vanilla={} metarm={} · shifted vanilla={:.3} metarm={:.3} · J vanilla={:.3} metarm={:.3}",
            show(v.original_accuracy),
            show(m.original_accuracy),
            v.shifted_accuracy,
            m.shifted_accuracy,
            v.j,
            m.j
        )
    }
}
