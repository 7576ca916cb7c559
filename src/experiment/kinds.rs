//! The registry of experiment kinds: every kind's config, event payload and job phases, and the
//! one place that turns a config into its runner. Adding a kind = its own folder plus one
//! variant in each enum here.
use serde::{Deserialize, Serialize};

use super::denoise::{DenoiseConfig, DenoiseEvent, DenoiseRunner, Method};
use super::error::ExperimentError;
use super::events::Event;
use super::prepare::{PreparedData, Upload};
use super::rm::{RmEvent, RmRunner, RmTrainConfig};
use super::runner::Runner;
use super::strength::io::StrengthMu;
use super::strength::{PairView, StrengthConfig, StrengthEvent, StrengthRunner};
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

/// Each kind's own events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum KindEvent {
    /// Reward-model training.
    Rm(RmEvent),
    /// Preference strength.
    Strength(StrengthEvent),
    /// Denoising comparison.
    Denoise(DenoiseEvent),
}

impl From<RmEvent> for Event {
    fn from(e: RmEvent) -> Self {
        Self::Kind(KindEvent::Rm(e))
    }
}

impl From<StrengthEvent> for Event {
    fn from(e: StrengthEvent) -> Self {
        Self::Kind(KindEvent::Strength(e))
    }
}

impl From<DenoiseEvent> for Event {
    fn from(e: DenoiseEvent) -> Self {
        Self::Kind(KindEvent::Denoise(e))
    }
}

/// What one run inside a multi-run experiment is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// An ensemble member (0-based), with its fold when cross-fitted.
    Member {
        /// Member index.
        member: usize,
        /// Fold index (cross-fitting only).
        fold: Option<usize>,
    },
    /// A band-alone retraining run (0-based band, 0 = lowest μ).
    Band {
        /// Band index.
        band: usize,
        /// Number of bands.
        bands: usize,
    },
    /// A denoising method run.
    Method {
        /// The method.
        method: Method,
        /// Its seed (0-based).
        seed: usize,
    },
}

impl Phase {
    /// How the UI and logs name the run ("member 3 / fold 2", "band 4/10", "flip · seed 1").
    pub fn label(&self) -> String {
        match self {
            Self::Member { member, fold: None } => format!("member {}", member + 1),
            Self::Member {
                member,
                fold: Some(f),
            } => format!("member {} / fold {}", member + 1, f + 1),
            Self::Band { band, bands } => format!("band {}/{bands}", band + 1),
            Self::Method { method, seed } => format!("{} · seed {}", method.name(), seed + 1),
        }
    }
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
                let ev = vec![pairs_event(r.data())];
                (Box::new(r), ev)
            }
            Self::Denoise(c) => {
                let r = DenoiseRunner::setup(c, compute, upload, artifacts.strength.as_ref())?;
                let ev = vec![pairs_event(r.data())];
                (Box::new(r), ev)
            }
        })
    }
}

/// What one run hands to the next (the strength tab's μ to the denoising tab; later trained
/// weights from stage to stage).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Artifacts {
    /// μ by input index: a denoising run uses it instead of training its own ensemble.
    pub strength: Option<StrengthMu>,
}

/// A running experiment of any kind: what [`ExperimentConfig::build`] returns.
pub type AnyRunner = Box<dyn Runner>;

/// The pairs a multi-run experiment works on, for tables and hover text in the app.
fn pairs_event(data: &PreparedData) -> Event {
    let mut train = vec![false; data.pairs.len()];
    for &p in &data.split.train {
        train[p] = true;
    }
    StrengthEvent::Pairs {
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
    .into()
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

    #[test]
    fn events_round_trip_as_lifecycle_and_kind_payloads() {
        let step: Event = RmEvent::Step {
            step: 3,
            loss: 0.5,
            train_accuracy: 0.75,
            lr: 1e-3,
            contrastive_loss: None,
        }
        .into();
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["event"], "rm");
        assert_eq!(json["rm"], "step");
        assert_eq!(json["step"], 3);
        let job = Event::Job {
            job: 1,
            jobs: 4,
            phase: Phase::Method {
                method: Method::Flip,
                seed: 0,
            },
            inner: Box::new(step.clone()),
        };
        let progress = Event::Progress { done: 2, total: 9 };
        for e in [step, job, progress] {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e, "{text}");
        }
        assert_eq!(
            Phase::Member {
                member: 2,
                fold: Some(0)
            }
            .label(),
            "member 3 / fold 1"
        );
    }
}
