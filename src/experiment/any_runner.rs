//! One handle over every kind of experiment, so the app's drivers (worker thread natively,
//! async task in the browser) step any of them the same way.
use serde::{Deserialize, Serialize};

use super::RmTrainConfig;
use super::denoise_runner::{DenoiseConfig, DenoiseRunner};
use super::error::ExperimentError;
use super::events::{Event, PairView};
use super::prepare::{PreparedData, Upload};
use super::rm_runner::RmRunner;
use super::strength_runner::{StrengthConfig, StrengthRunner};
use crate::compute::Compute;

/// The config of any experiment (what the app starts and the URL carries).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "experiment", rename_all = "snake_case")]
// Configs are built a handful of times per session; boxing would only complicate their use.
#[allow(clippy::large_enum_variant)]
pub enum ExperimentConfig {
    /// Train one reward model.
    Rm(RmTrainConfig),
    /// Preference strength by ensemble.
    Strength(StrengthConfig),
    /// Denoising methods compared.
    Denoise(DenoiseConfig),
}

impl ExperimentConfig {
    /// Parse a config (the URL's `?config=`, a saved run): any experiment tagged with
    /// `"experiment"`, or a plain reward-model config as older links carry it. A tagged config
    /// that does not parse is an error, never silently a default run.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        if value.get("experiment").is_some() {
            serde_json::from_value(value).map_err(|e| e.to_string())
        } else {
            serde_json::from_value::<RmTrainConfig>(value)
                .map(Self::Rm)
                .map_err(|e| e.to_string())
        }
    }

    /// Check every field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Rm(c) => c.validate(),
            Self::Strength(c) => c.validate(),
            Self::Denoise(c) => c.validate(),
        }
    }
}

/// A running experiment of any kind.
pub enum AnyRunner {
    /// One reward model.
    Rm(Box<RmRunner>),
    /// An ensemble.
    Strength(Box<StrengthRunner>),
    /// A method comparison.
    Denoise(Box<DenoiseRunner>),
}

/// The pairs a multi-run experiment works on, for tables and hover text in the app.
fn pairs_event(data: &PreparedData) -> Event {
    let mut train = vec![false; data.pairs.len()];
    for &p in &data.split.train {
        train[p] = true;
    }
    Event::Pairs {
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

impl AnyRunner {
    /// Load the data and set up the experiment.
    pub fn setup(
        config: ExperimentConfig,
        compute: Compute,
        upload: Option<&Upload>,
    ) -> Result<(Self, Vec<Event>), ExperimentError> {
        Ok(match config {
            ExperimentConfig::Rm(c) => (
                Self::Rm(Box::new(RmRunner::setup(c, compute, upload)?)),
                Vec::new(),
            ),
            ExperimentConfig::Strength(c) => {
                let r = StrengthRunner::setup(c, compute, upload)?;
                let ev = vec![pairs_event(r.data())];
                (Self::Strength(Box::new(r)), ev)
            }
            ExperimentConfig::Denoise(c) => {
                let r = DenoiseRunner::setup(c, compute, upload, None)?;
                let ev = vec![pairs_event(r.data())];
                (Self::Denoise(Box::new(r)), ev)
            }
        })
    }

    /// One step of work.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        match self {
            Self::Rm(r) => r.step().await,
            Self::Strength(r) => r.step().await,
            Self::Denoise(r) => r.step().await,
        }
    }

    /// True once everything is done.
    pub fn is_finished(&self) -> bool {
        match self {
            Self::Rm(r) => r.is_finished(),
            Self::Strength(r) => r.is_finished(),
            Self::Denoise(r) => r.is_finished(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_parse_tagged_or_plain_and_bad_tags_are_errors() {
        let s = ExperimentConfig::from_json(r#"{"experiment":"strength","models":4}"#).unwrap();
        assert!(matches!(s, ExperimentConfig::Strength(c) if c.models == 4));
        let rm = ExperimentConfig::from_json(r#"{"steps":7}"#).unwrap();
        assert!(matches!(rm, ExperimentConfig::Rm(c) if c.steps == 7));
        let err = ExperimentConfig::from_json(r#"{"experiment":"strenght"}"#).unwrap_err();
        assert!(err.contains("strenght"), "{err}");
        let err =
            ExperimentConfig::from_json(r#"{"experiment":"strength","models":"x"}"#).unwrap_err();
        assert!(
            err.contains("models") || err.contains("invalid type"),
            "{err}"
        );
        let round = ExperimentConfig::Denoise(DenoiseConfig::default());
        let json = serde_json::to_string(&round).unwrap();
        assert_eq!(ExperimentConfig::from_json(&json).unwrap(), round);
    }
}
