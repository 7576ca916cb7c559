//! Configs written before the run envelope (links with `?config=`, saved `config.json` and
//! report `config` objects): each reward-model block carried its own data, seed and backend.
//! They convert to a [`Run`](super::config::Run) value, with a line saying what changed.
use serde_json::{Map, Value};

/// The fields that moved from the reward-model blocks to the envelope.
const MOVED: [&str; 3] = ["data", "seed", "backend"];

/// True when `value` is a config of the older layouts: a plain reward-model config (no
/// `experiment`) with knobs at the top, or one whose `experiment` is a kind name.
pub fn is_legacy(value: &Value) -> bool {
    let Some(fields) = value.as_object() else {
        return false;
    };
    match fields.get("experiment") {
        Some(Value::String(_)) => true,
        Some(_) => false,
        None => fields.keys().any(|k| !MOVED.contains(&k.as_str())),
    }
}

/// Take the moved fields out of one reward-model block.
fn take_moved(block: &mut Map<String, Value>) -> Map<String, Value> {
    MOVED
        .iter()
        .filter_map(|k| block.remove(*k).map(|v| ((*k).to_string(), v)))
        .collect()
}

/// The reward-model block at `path` (created empty if missing), or an error naming it.
fn block<'a>(
    fields: &'a mut Map<String, Value>,
    path: &[&str],
) -> Result<&'a mut Map<String, Value>, String> {
    let mut at = fields;
    for key in path {
        at = at
            .entry(*key)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| format!("{} is not an object", path.join(".")))?;
    }
    Ok(at)
}

/// Convert an older config to the envelope: the value to parse and a line for the user.
pub fn convert(value: Value) -> Result<(Value, String), String> {
    let Value::Object(mut fields) = value else {
        return Err("a config is a JSON object".into());
    };
    if let Some(kind) = fields.get("kind") {
        return Err(format!(
            "\"kind\": {kind} sits at the top: put the experiment's knobs and its kind under \"experiment\", e.g. {{\"seed\": 0, \"experiment\": {{\"kind\": {kind}, …}}}}"
        ));
    }
    let kind = match fields.remove("experiment") {
        Some(Value::String(k)) => k,
        _ => "rm".to_string(),
    };
    let (common, note) = match kind.as_str() {
        "rm" => (take_moved(&mut fields), String::new()),
        "strength" => (take_moved(block(&mut fields, &["rm"])?), String::new()),
        "denoise" => {
            // The ensemble's block named the data the old runs used; the methods' copy was
            // not read for data.
            let ensemble = take_moved(block(&mut fields, &["strength", "rm"])?);
            let methods = take_moved(block(&mut fields, &["rm"])?);
            let differs: Vec<&str> = MOVED
                .iter()
                .copied()
                .filter(|k| methods.get(*k).is_some_and(|v| ensemble.get(*k) != Some(v)))
                .collect();
            let note = if differs.is_empty() {
                String::new()
            } else {
                format!(
                    " Its two blocks named different {}: the run uses the ensemble's (strength.rm), which the older runs read the data from.",
                    differs.join(", ")
                )
            };
            (ensemble, note)
        }
        other => {
            return Err(format!(
                "unknown experiment '{other}': use rm, strength or denoise"
            ));
        }
    };
    fields.insert("kind".into(), Value::String(kind));
    let mut run = common;
    run.insert("experiment".into(), Value::Object(fields));
    let note = format!(
        "converted a config from before the run envelope (data, seed and backend now sit at the top, the knobs under \"experiment\"); save it again to keep the new layout.{note}"
    );
    Ok((Value::Object(run), note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn older_layouts_move_data_seed_and_backend_to_the_top() {
        let plain = json!({"steps": 7, "seed": 3, "data": {"vocab_size": 300}});
        assert!(is_legacy(&plain));
        let (v, note) = convert(plain).unwrap();
        assert_eq!(
            v,
            json!({"seed": 3, "data": {"vocab_size": 300}, "experiment": {"kind": "rm", "steps": 7}})
        );
        assert!(note.contains("converted"), "{note}");

        let strength =
            json!({"experiment": "strength", "models": 4, "rm": {"seed": 5, "epochs": 2.0}});
        let (v, _) = convert(strength).unwrap();
        assert_eq!(
            v,
            json!({"seed": 5, "experiment": {"kind": "strength", "models": 4, "rm": {"epochs": 2.0}}})
        );

        let denoise = json!({"experiment": "denoise", "strength": {"rm": {"seed": 1}}, "rm": {"seed": 2, "epochs": 1.0}});
        let (v, note) = convert(denoise).unwrap();
        assert_eq!(v["seed"], 1, "the ensemble's block named the data and seed");
        assert_eq!(v["experiment"]["rm"], json!({"epochs": 1.0}));
        assert!(note.contains("different seed"), "{note}");

        let err = convert(json!({"kind": "ppo", "steps": 3})).unwrap_err();
        assert!(err.contains("under \"experiment\""), "{err}");
        let err = convert(json!({"experiment": "ppo"})).unwrap_err();
        assert!(err.contains("unknown experiment 'ppo'"), "{err}");
        // The envelope itself, and envelopes without knobs, are not legacy.
        assert!(!is_legacy(
            &json!({"seed": 1, "experiment": {"kind": "rm"}})
        ));
        assert!(!is_legacy(&json!({"seed": 1})));
    }
}
