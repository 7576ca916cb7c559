//! Lesson presets, as data (`assets/presets/lessons/KIND.json`, one file per tab): one per paper
//! figure plus one per tab, each a partial run config with a paragraph saying what it shows and
//! what to look for. A partial config — a preset's, a link's, a file's — is merged over the full
//! config of its tab's preset, never over other defaults.
use serde::Deserialize;
use serde_json::Value;

use super::{ExperimentConfig, KindConfig, RunConfig};
use crate::experiment::Run;

/// One lesson preset.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Its name in links (`#preset=NAME`), `gui --preset` and the status marker.
    pub name: String,
    /// The tab (experiment kind) it belongs to: the file it is in.
    #[serde(skip_deserializing)]
    pub tab: String,
    /// The paper figure it reproduces.
    pub figure: String,
    /// Its title in the app.
    pub title: String,
    /// What it shows, in plain words.
    pub about: String,
    /// What to look for in its charts.
    pub look_for: String,
    /// A partial run config over the tab's defaults.
    pub config: Value,
}

/// Every preset, tab by tab in tab order and in file order within a tab (a tab's own preset,
/// named like the tab, first); parsed once.
pub fn all() -> Result<&'static [Preset], String> {
    static PARSED: std::sync::OnceLock<Result<Vec<Preset>, String>> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            let mut all = Vec::new();
            for kind in ExperimentConfig::every_default() {
                let tab = kind.kind();
                let mut presets: Vec<Preset> = serde_json::from_str(kind.lessons())
                    .map_err(|e| format!("assets/presets/lessons/{tab}.json: {e}"))?;
                for p in &mut presets {
                    p.tab = tab.to_string();
                }
                all.extend(presets);
            }
            Ok(all)
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The preset called `name`; an unknown name lists the known ones.
pub fn find(name: &str) -> Result<Preset, String> {
    let presets = all()?;
    presets
        .iter()
        .find(|p| p.name == name)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
            format!("unknown preset '{name}': use one of {}", names.join(", "))
        })
}

/// The presets of tab `tab`, in file order.
pub fn of_tab(tab: &str) -> Vec<&'static Preset> {
    all()
        .unwrap_or_default()
        .iter()
        .filter(|p| p.tab == tab)
        .collect()
}

/// A run of kind `kind` with every knob at its code default (what presets are written over).
fn kind_default(kind: &str) -> Result<RunConfig, String> {
    let experiment = ExperimentConfig::every_default()
        .into_iter()
        .find(|e| e.kind() == kind)
        .ok_or_else(|| format!("unknown experiment kind '{kind}'"))?;
    Ok(Run {
        experiment,
        ..Default::default()
    })
}

/// The tags of serde's internally tagged enums in run configs: when a partial config names
/// another variant, the variant's object is replaced, not merged with the old variant's fields.
const TAGS: [&str; 3] = ["kind", "rule", "subset"];

/// Merge `over` into `base`: objects key by key, anything else replaced; an object naming
/// another variant of a tagged enum replaces the old one whole.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            // Tags are text; a field of the same name holding an object is not a tag.
            let tag = |m: &serde_json::Map<String, Value>, t: &str| {
                m.get(t).and_then(Value::as_str).map(str::to_string)
            };
            let other_variant = TAGS
                .iter()
                .any(|t| tag(o, t).is_some_and(|v| tag(b, t).is_some_and(|w| w != v)));
            if other_variant {
                *b = o.clone();
                return;
            }
            for (key, value) in o {
                match b.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        b.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

impl Preset {
    /// A preset of tab `tab` that sets nothing (when the file has none for it).
    pub fn empty(tab: &str) -> Self {
        Self {
            name: tab.to_string(),
            tab: tab.to_string(),
            figure: String::new(),
            title: String::new(),
            about: String::new(),
            look_for: String::new(),
            config: Value::Object(Default::default()),
        }
    }

    /// Its full config as JSON: its partial config over its kind's code defaults.
    pub fn json(&self) -> Result<Value, String> {
        let base = kind_default(&self.tab)?;
        let mut value = serde_json::to_value(&base).map_err(|e| e.to_string())?;
        merge(&mut value, &self.config);
        Ok(value)
    }

    /// Its full run config (checked: unknown fields and bad values are errors naming them).
    pub fn run_config(&self) -> Result<RunConfig, String> {
        let json = self.json()?;
        RunConfig::parse(&json.to_string())
            .map(|p| p.config)
            .map_err(|e| format!("preset '{}': {e}", self.name))
    }
}

/// The kind a partial config asks for (`experiment.kind`; a reward model when it names none).
pub fn kind_of(partial: &Value) -> String {
    partial
        .pointer("/experiment/kind")
        .and_then(Value::as_str)
        .unwrap_or("rm")
        .to_string()
}

/// A partial run config (a link's `config=`, a config file) merged over its tab's preset: the
/// preset's name and the config. Configs of the older layout are converted as before, whole.
pub fn over_preset(json: &str) -> Result<(String, super::ParsedConfig), String> {
    let partial: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    if super::legacy::is_legacy(&partial) {
        return RunConfig::parse(json).map(|p| ("rm".to_string(), p));
    }
    let kind = kind_of(&partial);
    let preset = find(&kind).map_err(|_| format!("experiment.kind: unknown kind '{kind}'"))?;
    let mut value = preset.json()?;
    merge(&mut value, &partial);
    Ok((preset.name, RunConfig::parse(&value.to_string())?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::SyntheticConfig;
    use crate::experiment::{DataSource, StrengthConfig};

    #[test]
    fn every_preset_is_a_valid_config_of_its_tab_and_each_tab_has_its_own() {
        let presets = all().unwrap();
        assert!(presets.len() >= 7);
        for p in presets {
            let c = p.run_config().unwrap();
            assert_eq!(c.experiment.kind(), p.tab, "{}", p.name);
            c.validate().unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert!(p.about.len() > 100 && !p.look_for.is_empty(), "{}", p.name);
        }
        for tab in super::super::kinds::kind_names() {
            assert_eq!(of_tab(tab)[0].name, tab, "a tab's own preset comes first");
        }
        let mut names: Vec<&str> = presets.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), presets.len(), "names are unique");
        let err = find("stength").unwrap_err();
        assert!(err.contains("stength") && err.contains("bands"), "{err}");
    }

    #[test]
    fn a_preset_sets_what_it_names_and_keeps_the_rest_of_its_kinds_defaults() {
        let bands = find("bands").unwrap();
        let named = |path: &str| bands.config.pointer(path).cloned().unwrap();
        let c = bands.run_config().unwrap();
        let ExperimentConfig::Strength(s) = &c.experiment else {
            panic!("a strength config")
        };
        assert_eq!(serde_json::json!(s.models), named("/experiment/models"));
        assert!(s.band_retrain);
        assert_eq!(
            s.rm,
            StrengthConfig::default().rm,
            "the rest is the kind's default"
        );
        let DataSource::Synthetic(w) = &c.data.source else {
            panic!("synthetic")
        };
        assert_eq!(serde_json::json!(w.pairs), named("/data/source/pairs"));
        assert_eq!(
            serde_json::json!(w.flip_rate),
            named("/data/source/flip_rate")
        );
        assert_eq!(w.temperature, SyntheticConfig::default().temperature);
    }

    #[test]
    fn a_partial_config_merges_over_its_tabs_preset_not_other_defaults() {
        // The strength preset's bag-of-words ensemble stays; only the models change.
        let (name, p) = over_preset(r#"{"experiment":{"kind":"strength","models":4}}"#).unwrap();
        assert_eq!(name, "strength");
        let preset = find("strength").unwrap().run_config().unwrap();
        let mut expected = preset.clone();
        if let ExperimentConfig::Strength(s) = &mut expected.experiment {
            s.models = 4;
        }
        assert_eq!(p.config, expected);
        // Another variant of a tagged enum replaces the preset's, whole.
        let (_, p) = over_preset(r#"{"data":{"source":{"kind":"hh_sample"}}}"#).unwrap();
        assert_eq!(p.config.data.source, DataSource::HhSample);
        let (_, p) =
            over_preset(r#"{"experiment":{"kind":"denoise","flip":{"rule":"mu_negative"}}}"#)
                .unwrap();
        let ExperimentConfig::Denoise(d) = &p.config.experiment else {
            panic!("denoise")
        };
        assert_eq!(d.flip, crate::rm::denoise::FlipRule::MuNegative);
        assert_eq!(d.seeds, 2, "the denoise preset's seeds");
        // A field named like a tag (denoise's `subset`) merges as a field: the soft-labels
        // lesson keeps the kind's bag-of-words reward model under its 20 epochs.
        let c = find("soft-labels").unwrap().run_config().unwrap();
        let ExperimentConfig::Denoise(d) = &c.experiment else {
            panic!("denoise")
        };
        let defaults = crate::experiment::DenoiseConfig::default();
        assert_eq!(
            (d.rm.epochs, d.rm.model.arch),
            (20.0, defaults.rm.model.arch)
        );
        assert_eq!(d.flip, defaults.flip);
        // Errors name the field.
        let err = over_preset(r#"{"experiment":{"kind":"strength","modles":4}}"#).unwrap_err();
        assert!(err.contains("experiment.modles"), "{err}");
        let err = over_preset(r#"{"experiment":{"kind":"sft"}}"#).unwrap_err();
        assert!(err.contains("sft"), "{err}");
        // The older layout is converted whole, as before.
        let (_, p) = over_preset(r#"{"steps":7,"seed":2}"#).unwrap();
        assert!(p.note.is_some());
    }
}
