//! The registry of experiment kinds: every kind's config and the one place that turns a config
//! into its runner. Adding a kind = its own folder, a variant and a build arm here, and its
//! payload (and phases, if it runs jobs) in `events.rs`.
use serde::{Deserialize, Serialize};

use super::denoise::{DenoiseConfig, DenoiseRunner};
use super::error::ExperimentError;
use super::events::Event;
use super::prepare::Upload;
use super::rm::{RmRunner, RmTrainConfig};
use super::runner::{AnyRunner, Artifacts};
use super::strength::{StrengthConfig, StrengthEvent, StrengthRunner};
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

    /// Load the data and set up the experiment: the one place that turns a kind of config into
    /// its runner, handing it what earlier runs left in `artifacts`. Also returns the events to
    /// show before the first step.
    pub fn build(
        self,
        compute: Compute,
        upload: Option<&Upload>,
        artifacts: &Artifacts,
    ) -> Result<(AnyRunner, Vec<Event>), ExperimentError> {
        Ok(match self {
            Self::Rm(c) => (Box::new(RmRunner::setup(c, compute, upload)?), Vec::new()),
            Self::Strength(c) => {
                let r = StrengthRunner::setup(c, compute, upload)?;
                let ev = vec![StrengthEvent::pairs_of(r.data()).into()];
                (Box::new(r), ev)
            }
            Self::Denoise(c) => {
                let r = DenoiseRunner::setup(c, compute, upload, artifacts.strength.as_ref())?;
                let ev = vec![StrengthEvent::pairs_of(r.data()).into()];
                (Box::new(r), ev)
            }
        })
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
