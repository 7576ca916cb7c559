//! Small helpers every layout shares: reading typed fields out of a JSON record, and messages
//! that name the field, what it is and what it should be.
use serde_json::{Map, Value};

/// "a number", "null", … for messages like `field "chosen" is a number`.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The record as an object, or an error that says what it is instead.
pub fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(format!(
            "the record is {}, not a JSON object. Each record must be one JSON object such as \
             {{\"prompt\": ..., \"chosen\": ..., \"rejected\": ...}}.",
            kind(other)
        )),
    }
}

/// `"a", "b", "c"` (the first 12 keys, then `...`), or `no fields`.
pub fn keys_seen(object: &Map<String, Value>) -> String {
    if object.is_empty() {
        return "no fields".to_owned();
    }
    let mut keys: Vec<String> = object.keys().take(12).map(|k| format!("{k:?}")).collect();
    if object.len() > keys.len() {
        keys.push("...".to_owned());
    }
    format!("fields {}", keys.join(", "))
}

/// A field that must be present.
pub fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    object.get(key).ok_or_else(|| {
        format!(
            "missing field \"{key}\" (the record has {}).",
            keys_seen(object)
        )
    })
}

/// A string field that must be present.
pub fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match field(object, key)? {
        Value::String(text) => Ok(text),
        other => Err(format!(
            "field \"{key}\" is {}; expected a string.",
            kind(other)
        )),
    }
}

/// A list field that must be present.
pub fn list<'a>(object: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match field(object, key)? {
        Value::Array(items) => Ok(items),
        other => Err(format!(
            "field \"{key}\" is {}; expected a list.",
            kind(other)
        )),
    }
}

/// A number, or a string that holds one (CSV cells are strings). `what` names it in errors.
pub fn number(value: &Value, what: &str) -> Result<f64, String> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(x),
        Some(x) => Err(format!("{what} is {x}; it must be a finite number.")),
        None => Err(format!("{what} is {}; expected a number.", describe(value))),
    }
}

/// A numeric field that must be present.
pub fn number_field(object: &Map<String, Value>, key: &str) -> Result<f64, String> {
    number(field(object, key)?, &format!("field \"{key}\""))
}

/// A field that must be 0 or 1 (an index into two responses); `meaning` says what it picks.
pub fn zero_or_one(object: &Map<String, Value>, key: &str, meaning: &str) -> Result<usize, String> {
    let x = number_field(object, key)?;
    if x == 0.0 {
        Ok(0)
    } else if x == 1.0 {
        Ok(1)
    } else {
        Err(format!(
            "field \"{key}\" is {x}; it must be 0 or 1 ({meaning})."
        ))
    }
}

/// `"abc"` for short strings, otherwise the kind.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() <= 24 => format!("the string {s:?}"),
        other => kind(other).to_owned(),
    }
}

/// Follows a dotted path (`info.post`) through nested objects.
pub fn at_path<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = object.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// The record's fields other than `consumed`, kept as they were.
pub fn rest(object: &Map<String, Value>, consumed: &[&str]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| !consumed.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Whether every one of `keys` is present.
pub fn has_all(object: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|key| object.contains_key(*key))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_come_from_numbers_strings_and_booleans_only() {
        assert_eq!(number(&json!(2.5), "x"), Ok(2.5));
        assert_eq!(number(&json!(" -1 "), "x"), Ok(-1.0));
        assert_eq!(number(&json!(true), "x"), Ok(1.0));
        let error = number(&json!("high"), "field \"score\"").unwrap_err();
        assert!(error.contains("the string \"high\""), "{error}");
        assert!(number(&json!("NaN"), "x").unwrap_err().contains("finite"));
        assert!(number(&json!(null), "x").unwrap_err().contains("null"));
    }

    #[test]
    fn paths_and_missing_fields_name_what_is_there() {
        let record = json!({"info": {"post": "text"}, "b": 1});
        let object = record.as_object().unwrap();
        assert_eq!(at_path(object, "info.post"), Some(&json!("text")));
        assert_eq!(at_path(object, "info.title"), None);
        let error = text(object, "question").unwrap_err();
        assert!(
            error.contains("\"question\"") && error.contains("\"b\", \"info\""),
            "{error}"
        );
    }
}
