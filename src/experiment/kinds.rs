//! The registry of experiment kinds: every kind's config, the run config around them, and the
//! one place that turns a config into its runner. Adding a kind = its own folder, a variant and
//! a build arm here, and its payload (and phases, if it runs jobs) in `events.rs`.
//! The registry of experiment kinds. A kind is its own folder (config, runner, events, report,
//! its lessons in `assets/presets/lessons/KIND.json`) whose config implements [`ExperimentKind`],
//! plus one line of [`register_kinds!`] in `experiment/mod.rs`: the macro writes the enums of every
//! kind's config ([`ExperimentConfig`]) and payload ([`KindEvent`]), their parsing, and every match
//! over kinds, so the compiler names whatever a new kind still lacks.
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ExperimentConfig;
use super::config::{KindConfig, Run};
use super::error::ExperimentError;
use super::events::Event;
use super::legacy;
use super::prepare::Upload;
use super::runner::{AnyRunner, Artifacts};
use crate::compute::Compute;

/// A kind's runner, set up, and the events to show before its first step (or why it could not
/// be set up).
pub type Built = Result<(AnyRunner, Vec<Event>), ExperimentError>;

/// What makes a config an experiment kind: implemented by each kind's config, in its own folder.
pub trait ExperimentKind: KindConfig + Clone + Default + Serialize + DeserializeOwned {
    /// What its runs report besides the lifecycle.
    type Event;
    /// The `rlhf-lab` command that runs it headless.
    const COMMAND: &'static str;
    /// Its lesson presets: the text of `assets/presets/lessons/KIND.json` (the tab's own lesson,
    /// named like the kind, first).
    const LESSONS: &'static str;
    /// Short link keys of its knobs, `(key, dotted path)` (see [`super::link`]).
    const LINK_KEYS: &'static [(&'static str, &'static str)] = &[];
    /// Load its data and set it up, taking what earlier runs left in `artifacts`; also the
    /// events to show before the first step.
    fn build(
        run: Run<Self>,
        compute: Compute,
        upload: Option<&Upload>,
        artifacts: &Artifacts,
    ) -> Built;
    /// Whether `event` is a run's report (its closing payload).
    fn is_report(event: &Self::Event) -> bool;
}

/// Writes, for the kinds it lists (`Variant(Config)`, the first is the default), the enum of
/// their configs ([`ExperimentConfig`], tagged by `kind`) and of their payloads ([`KindEvent`]),
/// with every dispatch over kinds.
macro_rules! register_kinds {
    ($first:ident($first_config:ty) $(, $variant:ident($config:ty))* $(,)?) => {
        /// The knobs of any experiment, tagged by `kind` (see [`kinds`]).
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        // Configs are built a handful of times per session; boxing would only complicate them.
        #[allow(clippy::large_enum_variant)]
        pub enum ExperimentConfig {
            #[allow(missing_docs)]
            $first($first_config),
            $(
                #[allow(missing_docs)]
                $variant($config),
            )*
        }

        impl Default for ExperimentConfig {
            fn default() -> Self {
                Self::$first(Default::default())
            }
        }

        impl ExperimentConfig {
            /// Every kind at its code defaults, in registry order.
            pub fn every_default() -> Vec<Self> {
                vec![
                    Self::$first(Default::default()),
                    $(Self::$variant(Default::default()),)*
                ]
            }

            /// The `rlhf-lab` command that runs this kind.
            pub fn command(&self) -> &'static str {
                use $crate::experiment::kinds::ExperimentKind;
                match self {
                    Self::$first(_) => <$first_config>::COMMAND,
                    $(Self::$variant(_) => <$config>::COMMAND,)*
                }
            }

            /// Its lessons' text (`assets/presets/lessons/KIND.json`).
            pub fn lessons(&self) -> &'static str {
                use $crate::experiment::kinds::ExperimentKind;
                match self {
                    Self::$first(_) => <$first_config>::LESSONS,
                    $(Self::$variant(_) => <$config>::LESSONS,)*
                }
            }

            /// Its short link keys, `(key, dotted path)`.
            pub fn link_keys(&self) -> &'static [(&'static str, &'static str)] {
                use $crate::experiment::kinds::ExperimentKind;
                match self {
                    Self::$first(_) => <$first_config>::LINK_KEYS,
                    $(Self::$variant(_) => <$config>::LINK_KEYS,)*
                }
            }

            /// Parse the knobs of kind `kind` (`None`: no such kind).
            fn knobs_of(
                kind: &str,
                value: serde_json::Value,
            ) -> Option<Result<Self, String>> {
                use $crate::experiment::config::KindConfig;
                if kind == <$first_config>::default().kind() {
                    return Some($crate::experiment::kinds::knobs(kind, value).map(Self::$first));
                }
                $(
                    if kind == <$config>::default().kind() {
                        return Some($crate::experiment::kinds::knobs(kind, value).map(Self::$variant));
                    }
                )*
                None
            }

            /// Set up its runner (see [`RunConfig::build`]).
            fn build_runner(
                run: &$crate::experiment::RunConfig,
                compute: $crate::compute::Compute,
                upload: Option<&$crate::experiment::prepare::Upload>,
                artifacts: &$crate::experiment::runner::Artifacts,
            ) -> $crate::experiment::kinds::Built {
                use $crate::experiment::kinds::ExperimentKind;
                match &run.experiment {
                    Self::$first(c) => <$first_config>::build(run.with(c.clone()), compute, upload, artifacts),
                    $(Self::$variant(c) => <$config>::build(run.with(c.clone()), compute, upload, artifacts),)*
                }
            }
        }

        impl $crate::experiment::config::KindConfig for ExperimentConfig {
            fn kind(&self) -> &'static str {
                match self {
                    Self::$first(c) => c.kind(),
                    $(Self::$variant(c) => c.kind(),)*
                }
            }

            fn check(&self) -> Result<(), String> {
                match self {
                    Self::$first(c) => c.check(),
                    $(Self::$variant(c) => c.check(),)*
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for ExperimentConfig {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::experiment::kinds::deserialize_experiment(deserializer)
            }
        }

        /// Each kind's own events (its payload type is its [`kinds::ExperimentKind::Event`]).
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "event", rename_all = "snake_case")]
        pub enum KindEvent {
            #[allow(missing_docs)]
            $first(<$first_config as $crate::experiment::kinds::ExperimentKind>::Event),
            $(
                #[allow(missing_docs)]
                $variant(<$config as $crate::experiment::kinds::ExperimentKind>::Event),
            )*
        }

        impl KindEvent {
            /// Whether this is a run's report (its kind's closing payload).
            pub fn is_report(&self) -> bool {
                use $crate::experiment::kinds::ExperimentKind;
                match self {
                    Self::$first(e) => <$first_config>::is_report(e),
                    $(Self::$variant(e) => <$config>::is_report(e),)*
                }
            }
        }

        impl From<<$first_config as $crate::experiment::kinds::ExperimentKind>::Event> for $crate::experiment::Event {
            fn from(e: <$first_config as $crate::experiment::kinds::ExperimentKind>::Event) -> Self {
                $crate::experiment::Event::Kind(KindEvent::$first(e))
            }
        }
        $(
            impl From<<$config as $crate::experiment::kinds::ExperimentKind>::Event> for $crate::experiment::Event {
                fn from(e: <$config as $crate::experiment::kinds::ExperimentKind>::Event) -> Self {
                    $crate::experiment::Event::Kind(KindEvent::$variant(e))
                }
            }
        )*
    };
}
pub(crate) use register_kinds;

/// The names of every kind, for messages ("rm, strength, …").
pub fn kind_names() -> Vec<&'static str> {
    ExperimentConfig::every_default()
        .iter()
        .map(KindConfig::kind)
        .collect()
}

/// Deserialize one kind's knobs, naming the field that does not parse.
pub fn knobs<T: DeserializeOwned>(kind: &str, value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("{kind} config: {}", e.inner())
        } else {
            format!("{kind} config, field {path}: {}", e.inner())
        }
    })
}

/// By hand rather than derived: a derived tagged enum buffers its fields, and its errors then
/// cannot say which field was wrong.
pub fn deserialize_experiment<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<ExperimentConfig, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let mut value = serde_json::Value::deserialize(deserializer)?;
    let names = kind_names().join("\", \"");
    let fields = value
        .as_object_mut()
        .ok_or_else(|| D::Error::custom("an experiment is a JSON object with a \"kind\""))?;
    let kind = match fields.remove("kind") {
        Some(serde_json::Value::String(k)) => k,
        Some(other) => {
            return Err(D::Error::custom(format!("kind = {other}: use \"{names}\"")));
        }
        None => {
            return Err(D::Error::custom(format!(
                "missing \"kind\": say which experiment, \"{names}\""
            )));
        }
    };
    ExperimentConfig::knobs_of(&kind, value)
        .unwrap_or_else(|| {
            Err(format!(
                "unknown experiment kind '{kind}': use {}",
                kind_names().join(", ")
            ))
        })
        .map_err(D::Error::custom)
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
        ExperimentConfig::build_runner(&self, compute, upload, artifacts)
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
        // Every kind's full config round-trips with nothing unknown, and its `kind` tag is the
        // one its config names.
        for experiment in ExperimentConfig::every_default() {
            let tag = serde_json::to_value(&experiment).unwrap()["kind"].clone();
            assert_eq!(tag, experiment.kind(), "{}", experiment.command());
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
