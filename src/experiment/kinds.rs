//! The registry of experiment kinds: every kind's config, the run config around them, and the
//! one place that turns a config into its runner. Adding a kind = its own folder, a variant and
//! a build arm here, and its payload (and phases, if it runs jobs) in `events.rs`.
use serde::{Deserialize, Serialize};

use super::config::{KindConfig, Run};
use super::denoise::{DenoiseConfig, DenoiseRunner};
use super::error::ExperimentError;
use super::events::Event;
use super::legacy;
use super::ppo::{PpoConfig, PpoRunner};
use super::prepare::Upload;
use super::rm::{RmRunner, RmTrainConfig};
use super::runner::{AnyRunner, Artifacts};
use super::strength::{StrengthConfig, StrengthEvent, StrengthRunner};
use crate::compute::Compute;

/// The knobs of any experiment, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Configs are built a handful of times per session; boxing would only complicate their use.
#[allow(clippy::large_enum_variant)]
pub enum ExperimentConfig {
    /// Train one reward model.
    Rm(RmTrainConfig),
    /// Preference strength by ensemble.
    Strength(StrengthConfig),
    /// Denoising methods compared.
    Denoise(DenoiseConfig),
    /// PPO against a proxy reward model.
    Ppo(PpoConfig),
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self::Rm(RmTrainConfig::default())
    }
}

/// Deserialize one kind's knobs, naming the field that does not parse.
fn knobs<T: serde::de::DeserializeOwned>(
    kind: &str,
    value: serde_json::Value,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("{kind} config: {}", e.inner())
        } else {
            format!("{kind} config, field {path}: {}", e.inner())
        }
    })
}

// By hand rather than derived: a derived tagged enum buffers its fields, and its errors then
// cannot say which field was wrong.
impl<'de> Deserialize<'de> for ExperimentConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut value = serde_json::Value::deserialize(deserializer)?;
        let fields = value
            .as_object_mut()
            .ok_or_else(|| D::Error::custom("an experiment is a JSON object with a \"kind\""))?;
        let kind = match fields.remove("kind") {
            Some(serde_json::Value::String(k)) => k,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "kind = {other}: use \"rm\", \"strength\", \"denoise\" or \"ppo\""
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "missing \"kind\": say which experiment, \"rm\", \"strength\", \"denoise\" or \"ppo\"",
                ));
            }
        };
        match kind.as_str() {
            "rm" => knobs(&kind, value).map(Self::Rm),
            "strength" => knobs(&kind, value).map(Self::Strength),
            "denoise" => knobs(&kind, value).map(Self::Denoise),
            "ppo" => knobs(&kind, value).map(Self::Ppo),
            other => Err(format!(
                "unknown experiment kind '{other}': use rm, strength, denoise or ppo"
            )),
        }
        .map_err(D::Error::custom)
    }
}

impl KindConfig for ExperimentConfig {
    fn kind(&self) -> &'static str {
        match self {
            Self::Rm(c) => c.kind(),
            Self::Strength(c) => c.kind(),
            Self::Denoise(c) => c.kind(),
            Self::Ppo(c) => c.kind(),
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Self::Rm(c) => c.check(),
            Self::Strength(c) => c.check(),
            Self::Denoise(c) => c.check(),
            Self::Ppo(c) => c.check(),
        }
    }
}

/// Any run: data, seed, backend and the experiment (what the CLI's `--config`, the app, saved
/// runs and the browser URL all carry).
pub type RunConfig = Run<ExperimentConfig>;

/// A parsed run config and, for a config of an older layout, a line saying it was converted.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedConfig {
    /// The config.
    pub config: RunConfig,
    /// Set when the input used an older layout.
    pub note: Option<String>,
}

/// The dotted paths of `given` that `known` (the parsed config written back) does not have: the
/// fields serde skipped because nothing reads them (a typo, a field from another kind).
fn unknown_fields(
    given: &serde_json::Value,
    known: &serde_json::Value,
    at: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (given, known) {
        (Value::Object(g), Value::Object(k)) => {
            for (key, value) in g {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match k.get(key) {
                    Some(inner) => unknown_fields(value, inner, &path, out),
                    None => out.push(path),
                }
            }
        }
        (Value::Array(g), Value::Array(k)) if g.len() == k.len() => {
            for (i, (a, b)) in g.iter().zip(k).enumerate() {
                unknown_fields(a, b, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

impl RunConfig {
    /// Parse a run config (the CLI's `--config`, the URL's `?config=`, a saved run, a report's
    /// `config`). Configs of the older layout (data, seed and backend inside each reward-model
    /// block) are converted, with a note. A field nothing reads is an error naming it, never
    /// silently a default.
    pub fn parse(json: &str) -> Result<ParsedConfig, String> {
        let mut value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let mut note = None;
        if legacy::is_legacy(&value) {
            let (converted, line) = legacy::convert(value)?;
            value = converted;
            note = Some(line);
        }
        let config: RunConfig = serde_path_to_error::deserialize(value.clone()).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })?;
        let written = serde_json::to_value(&config).map_err(|e| e.to_string())?;
        let mut unknown = Vec::new();
        unknown_fields(&value, &written, "", &mut unknown);
        if !unknown.is_empty() {
            return Err(format!(
                "unknown field(s) {} for this {} run: check the spelling, or start from the \"config\" of a report.json",
                unknown.join(", "),
                config.experiment.kind()
            ));
        }
        Ok(ParsedConfig { config, note })
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
        Ok(match &self.experiment {
            ExperimentConfig::Rm(c) => (
                Box::new(RmRunner::setup(self.with(c.clone()), compute, upload)?),
                Vec::new(),
            ),
            ExperimentConfig::Strength(c) => {
                let r = StrengthRunner::setup(self.with(c.clone()), compute, upload)?;
                let ev = vec![StrengthEvent::pairs_of(r.data()).into()];
                (Box::new(r), ev)
            }
            ExperimentConfig::Denoise(c) => {
                let r = DenoiseRunner::setup(
                    self.with(c.clone()),
                    compute,
                    upload,
                    artifacts.strength.as_ref(),
                )?;
                let ev = vec![StrengthEvent::pairs_of(r.data()).into()];
                (Box::new(r), ev)
            }
            ExperimentConfig::Ppo(c) => (
                Box::new(PpoRunner::setup(
                    self.with(c.clone()),
                    compute,
                    upload,
                    artifacts.reward_model.as_deref().map(Vec::as_slice),
                )?),
                Vec::new(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_parse_new_and_old_layouts_and_name_bad_fields() {
        let p =
            RunConfig::parse(r#"{"seed":4,"experiment":{"kind":"strength","models":4}}"#).unwrap();
        assert_eq!(p.note, None);
        assert_eq!(p.config.seed, 4);
        assert!(matches!(&p.config.experiment, ExperimentConfig::Strength(c) if c.models == 4));
        // An older plain reward-model config, and an older tagged one.
        let p = RunConfig::parse(r#"{"steps":7,"seed":2}"#).unwrap();
        assert!(p.note.is_some());
        assert_eq!(p.config.seed, 2);
        assert!(matches!(&p.config.experiment, ExperimentConfig::Rm(c) if c.steps == 7));
        let p = RunConfig::parse(r#"{"experiment":"strength","rm":{"seed":9}}"#).unwrap();
        assert_eq!(p.config.seed, 9);
        let err = RunConfig::parse(r#"{"experiment":{"kind":"strenght"}}"#).unwrap_err();
        assert!(err.contains("strenght"), "{err}");
        let err =
            RunConfig::parse(r#"{"experiment":{"kind":"strength","models":"x"}}"#).unwrap_err();
        assert!(
            err.contains("experiment: strength config, field models: invalid type"),
            "{err}"
        );
        let err = RunConfig::parse(r#"{"data":{"vocab_size":-1}}"#).unwrap_err();
        assert!(err.contains("data.vocab_size"), "{err}");
        let err = RunConfig::parse(r#"{"experiment":{"steps":1}}"#).unwrap_err();
        assert!(err.contains("missing \"kind\""), "{err}");
        // A typo, or a field that moved, is named instead of ignored.
        let err = RunConfig::parse(r#"{"experiment":{"kind":"rm","epochz":2}}"#).unwrap_err();
        assert!(err.contains("experiment.epochz"), "{err}");
        let err =
            RunConfig::parse(r#"{"experiment":{"kind":"strength","rm":{"seed":1}}}"#).unwrap_err();
        assert!(err.contains("experiment.rm.seed"), "{err}");
        // Every kind's full config round-trips with nothing unknown.
        for experiment in [
            ExperimentConfig::default(),
            ExperimentConfig::Strength(StrengthConfig::default()),
            ExperimentConfig::Denoise(DenoiseConfig::default()),
            ExperimentConfig::Ppo(PpoConfig::default()),
        ] {
            let run = RunConfig {
                seed: 5,
                experiment,
                ..Default::default()
            };
            let json = serde_json::to_string(&run).unwrap();
            assert_eq!(RunConfig::parse(&json).unwrap().config, run);
        }
    }
}
