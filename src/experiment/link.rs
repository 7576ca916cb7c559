//! A run's state as a short, readable link (TF-Playground style):
//! `#preset=strength&models=4&flip=0.2&seed=3`. The preset names the tab and its full config;
//! each other key sets one knob over it — a short name from [`SHARED_KEYS`] or the kind's own or the knob's dotted path
//! (`experiment.rm.optimizer.lr=0.001`). Writing a link names only what differs from the preset.
//! `autostart` and `hide` ride along; the older `config=<json>` is read as a partial config.
use serde_json::Value;

use super::presets::{self, merge};
use super::{KindConfig, RunConfig};

/// Short names of the knobs every kind has, `(name, dotted path)`; each kind adds its own
/// ([`super::kinds::ExperimentKind::LINK_KEYS`]).
pub const SHARED_KEYS: &[(&str, &str)] = &[
    ("seed", "seed"),
    ("backend", "backend"),
    ("pairs", "data.source.pairs"),
    ("flip", "data.source.flip_rate"),
    ("temp", "data.source.temperature"),
    ("world", "data.source.seed"),
    ("val", "data.validation_fraction"),
];

/// The short keys of a run of `kind`: the shared ones, then the kind's own.
fn keys_of(kind: &str) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    let own = super::ExperimentConfig::every_default()
        .into_iter()
        .find(|e| e.kind() == kind)
        .map_or(&[][..], |e| e.link_keys());
    SHARED_KEYS.iter().chain(own)
}

/// Keys that are not knobs.
const PRESET: &str = "preset";
const AUTOSTART: &str = "autostart";
const HIDE: &str = "hide";
const CONFIG: &str = "config";

/// What a link says.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The preset (its tab's own when the link names none).
    pub preset: String,
    /// The config: the preset's, with the link's knobs over it (bad keys left out).
    pub config: RunConfig,
    /// Start as soon as the page is ready.
    pub autostart: bool,
    /// Controls and panels to hide (checked by the app, which knows their names).
    pub hide: Vec<String>,
    /// Each bad key or value, named with its fix; empty for a good link.
    pub errors: Vec<String>,
    /// A note for an older `config=` layout that was converted.
    pub note: Option<String>,
}

/// The dotted path a key stands for in a run of `kind`.
fn path_of(key: &str, kind: &str) -> String {
    keys_of(kind)
        .find(|(name, _)| *name == key)
        .map_or_else(|| key.to_string(), |(_, path)| path.to_string())
}

/// The short name of `path` in a run of `kind`, if it has one.
fn alias_of(path: &str, kind: &str) -> Option<&'static str> {
    keys_of(kind)
        .find(|(_, p)| *p == path)
        .map(|(name, _)| *name)
}

/// The JSON value a link's text stands for, given what the preset holds there: text for text,
/// a comma list for a list, JSON (a number, `true`) otherwise; text when it is not JSON.
fn value_of(text: &str, like: Option<&Value>) -> Value {
    match like {
        Some(Value::String(_)) => Value::String(text.to_string()),
        Some(Value::Array(_)) if !text.starts_with('[') => Value::Array(
            text.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| value_of(s, None))
                .collect(),
        ),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

/// The text of a value in a link (the inverse of [`value_of`]).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            items.iter().map(text_of).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

/// `{"a":{"b":value}}` for the path `a.b`.
fn nested(path: &str, value: Value) -> Value {
    path.rsplit('.').fold(value, |inner, key| {
        let mut object = serde_json::Map::new();
        object.insert(key.to_string(), inner);
        Value::Object(object)
    })
}

fn pointer(path: &str) -> String {
    format!("/{}", path.replace('.', "/"))
}

/// A config error in the words of a link: what the value should be, without serde's types.
fn plain(error: &str) -> String {
    let Some((_, expected)) = error.rsplit_once(", expected ") else {
        return error.to_string();
    };
    let what = match expected.trim() {
        "usize" | "u64" | "u32" => "a whole number".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a boolean" => "true or false".to_string(),
        other => other.replace('`', "'"),
    };
    if error.contains("unknown variant") {
        let value = error
            .split("unknown variant")
            .nth(1)
            .and_then(|t| t.split('`').nth(1))
            .unwrap_or("?");
        return format!("'{value}' is not {what}");
    }
    format!("expected {what}")
}

/// Read a link's keys (already split and decoded; later keys win).
pub fn read(params: &[(String, String)]) -> Link {
    let mut errors = Vec::new();
    let mut note = None;
    let get = |key: &str| params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
    // The preset and its config: the named one, or the tab of an older `config=`.
    let mut preset = get(PRESET).cloned().unwrap_or_else(|| "rm".to_string());
    let mut base = None;
    if let Some(json) = get(CONFIG) {
        match presets::over_preset(json) {
            Ok((name, parsed)) => {
                preset = name;
                note = parsed.note;
                base = Some(parsed.config);
            }
            Err(e) => errors.push(format!("config= is not valid ({e})")),
        }
    }
    let found = presets::find(&preset).or_else(|e| {
        errors.push(format!("preset={preset}: {e}"));
        preset = "rm".to_string();
        presets::find("rm")
    });
    let base = match (base, found.and_then(|p| p.run_config())) {
        (Some(b), _) => b,
        (None, Ok(c)) => c,
        (None, Err(e)) => {
            errors.push(e);
            RunConfig::default()
        }
    };
    let autostart = get(AUTOSTART).is_some_and(|v| v != "0" && v != "false");
    let hide = get(HIDE)
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let kind = base.experiment.kind();
    let base_json = serde_json::to_value(&base).unwrap_or(Value::Null);
    // Each knob alone over the preset, so a bad one is named and the good ones still apply.
    let mut overlay = Value::Object(Default::default());
    for (key, text) in params {
        if [PRESET, AUTOSTART, HIDE, CONFIG].contains(&key.as_str()) {
            continue;
        }
        let path = path_of(key, kind);
        if path == "experiment.kind" {
            errors.push(format!(
                "{key}={text}: the experiment comes from the preset; use preset=NAME"
            ));
            continue;
        }
        let value = value_of(text, base_json.pointer(&pointer(&path)));
        let one = nested(&path, value);
        let mut alone = base_json.clone();
        merge(&mut alone, &one);
        match RunConfig::parse(&alone.to_string()).and_then(|p| p.config.validate().map(|_| p)) {
            Ok(_) => merge(&mut overlay, &one),
            Err(e) => errors.push(format!("{key}={text}: {}", plain(&e))),
        }
    }
    let mut merged = base_json;
    merge(&mut merged, &overlay);
    let config = match RunConfig::parse(&merged.to_string()) {
        Ok(p) => p.config,
        Err(e) => {
            errors.push(format!("these settings do not go together: {e}"));
            base
        }
    };
    Link {
        preset,
        config,
        autostart,
        hide,
        errors,
        note,
    }
}

/// The dotted paths and values where `now` differs from `base`, in document order.
fn differences(base: &Value, now: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match (base, now) {
        (Value::Object(b), Value::Object(n)) => {
            for (key, value) in n {
                match b.get(key) {
                    Some(old) if old == value => {}
                    Some(old @ Value::Object(_)) if value.is_object() => {
                        differences(old, value, &join(key), out)
                    }
                    _ => out.push((join(key), value.clone())),
                }
            }
        }
        _ => out.push((at.to_string(), now.clone())),
    }
}

/// Percent-encode what a link's value cannot hold as it is.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decode `%XX` escapes and `+` (a bad escape stays as it is).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split `a=1&b=2` (a query or a fragment, with or without its `?`/`#`) into decoded pairs.
pub fn split(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches(['?', '#'])
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The link of `config` as a `preset` with knobs over it: `preset=NAME&key=value…`, plus
/// `autostart=1` and `hide=…` when set.
pub fn write(preset: &str, config: &RunConfig, autostart: bool, hide: &[String]) -> String {
    let kind = config.experiment.kind();
    // A config of another kind than the preset's is written over its own tab's preset.
    let preset = match presets::find(preset) {
        Ok(p) if p.tab == kind => p,
        _ => presets::find(kind).unwrap_or_else(|_| presets::Preset::empty(kind)),
    };
    let mut parts = vec![format!("{PRESET}={}", encode(&preset.name))];
    let base = preset
        .json()
        .unwrap_or_else(|_| Value::Object(Default::default()));
    let now = serde_json::to_value(config).unwrap_or(Value::Null);
    let mut diff = Vec::new();
    differences(&base, &now, "", &mut diff);
    for (path, value) in diff {
        let key = alias_of(&path, kind).map_or(path.clone(), str::to_string);
        parts.push(format!("{}={}", encode(&key), encode(&text_of(&value))));
    }
    if autostart {
        parts.push(format!("{AUTOSTART}=1"));
    }
    if !hide.is_empty() {
        parts.push(format!("{HIDE}={}", encode(&hide.join(","))));
    }
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{DataSource, ExperimentConfig};

    fn pairs(link: &str) -> Vec<(String, String)> {
        split(link)
    }

    #[test]
    fn short_keys_set_knobs_over_the_preset() {
        let l = read(&pairs(
            "#preset=strength&models=4&flip=0.2&seed=3&autostart=1",
        ));
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.preset, "strength");
        assert!(l.autostart);
        let mut expected = presets::find("strength").unwrap().run_config().unwrap();
        expected.seed = 3;
        if let ExperimentConfig::Strength(s) = &mut expected.experiment {
            s.models = 4;
        }
        if let DataSource::Synthetic(w) = &mut expected.data.source {
            w.flip_rate = 0.2;
        }
        assert_eq!(l.config, expected);
        // A dotted path works for any knob; a list as a comma list.
        let l = read(&pairs(
            "preset=denoise&experiment.rm.optimizer.lr=0.01&methods=baseline,flip",
        ));
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let ExperimentConfig::Denoise(d) = &l.config.experiment else {
            panic!("denoise")
        };
        assert_eq!(d.rm.optimizer.lr, 0.01);
        assert_eq!(
            d.methods,
            [
                crate::experiment::Method::Baseline,
                crate::experiment::Method::Flip
            ]
        );
    }

    #[test]
    fn a_bad_key_or_value_is_an_error_naming_it_and_the_rest_still_applies() {
        let l = read(&pairs(
            "preset=strength&models=abc&seed=5&modles=3&folds=-1",
        ));
        assert_eq!(l.errors.len(), 3, "{:?}", l.errors);
        assert_eq!(l.errors[0], "models=abc: expected a whole number");
        assert!(l.errors[1].contains("modles"), "{:?}", l.errors);
        assert!(l.errors[2].starts_with("folds=-1"), "{:?}", l.errors);
        assert_eq!(l.config.seed, 5, "good keys still apply");
        let ExperimentConfig::Strength(s) = &l.config.experiment else {
            panic!("strength")
        };
        let preset = presets::find("strength").unwrap().run_config().unwrap();
        let ExperimentConfig::Strength(p) = &preset.experiment else {
            panic!("strength")
        };
        assert_eq!(
            s.models, p.models,
            "the preset's value, not a silent default"
        );
        // An out-of-range value fails validation, naming the key.
        let l = read(&pairs("preset=strength&models=1"));
        assert!(l.errors[0].starts_with("models=1:"), "{:?}", l.errors);
        let l = read(&pairs("preset=rm&arch=lstm&bands=maybe&lr=fast"));
        assert_eq!(
            l.errors,
            [
                "arch=lstm: 'lstm' is not one of 'transformer', 'bow', 'counts'",
                "bands=maybe: unknown field(s) bands for this rm run: check the spelling, or start from the \"config\" of a report.json",
                "lr=fast: expected a number",
            ]
        );
        let l = read(&pairs("preset=nope"));
        assert!(
            l.errors[0].contains("unknown preset 'nope'"),
            "{:?}",
            l.errors
        );
        assert_eq!(l.preset, "rm");
        let l = read(&pairs("preset=rm&experiment.kind=strength"));
        assert!(l.errors[0].contains("use preset="), "{:?}", l.errors);
        let l = read(&pairs("config=%7Bnot"));
        assert!(
            l.errors[0].contains("config= is not valid"),
            "{:?}",
            l.errors
        );
    }

    #[test]
    fn a_written_link_reads_back_to_the_same_config_and_names_only_changes() {
        let mut c = presets::find("denoise").unwrap().run_config().unwrap();
        assert_eq!(write("denoise", &c, false, &[]), "preset=denoise");
        c.seed = 9;
        if let ExperimentConfig::Denoise(d) = &mut c.experiment {
            d.flip = crate::rm::denoise::FlipRule::MuNegative;
            d.methods.truncate(2);
            d.rm.optimizer.lr = 0.002;
        }
        if let DataSource::Synthetic(w) = &mut c.data.source {
            w.pairs = 1234;
        }
        let hide = vec!["settings".to_string()];
        let link = write("denoise", &c, true, &hide);
        assert!(
            link.contains("seed=9") && link.contains("pairs=1234"),
            "{link}"
        );
        assert!(link.contains("methods=baseline,flip"), "{link}");
        assert!(link.contains("autostart=1&hide=settings"), "{link}");
        let back = read(&split(&link));
        assert!(back.errors.is_empty(), "{:?}", back.errors);
        assert_eq!((back.config, back.autostart, back.hide), (c, true, hide));
        // A config of another kind than the preset: written over its own tab's preset.
        let other = presets::find("bands").unwrap().run_config().unwrap();
        let link = write("rm", &other, false, &[]);
        assert!(
            link.starts_with("preset=strength&") && link.contains("bands=true"),
            "{link}"
        );
        assert_eq!(read(&split(&link)).config, other, "{link}");
    }

    #[test]
    fn the_older_config_link_merges_over_its_tabs_preset() {
        let json = r#"{"experiment":{"kind":"strength","models":4}}"#;
        let l = read(&[("config".to_string(), json.to_string())]);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.preset, "strength");
        let ExperimentConfig::Strength(s) = &l.config.experiment else {
            panic!("strength")
        };
        assert_eq!((s.models, s.band_retrain), (4, false));
    }

    #[test]
    fn encoding_round_trips() {
        let text = "a b&c=d#é%";
        assert_eq!(decode(&encode(text)), text);
        assert_eq!(decode("50%"), "50%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
