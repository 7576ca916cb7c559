//! TRL standard: `{"prompt": str, "chosen": str, "rejected": str}`.
use serde_json::{Map, Value};

use super::{Parsed, value};

/// All three are strings.
pub fn detect(object: &Map<String, Value>) -> bool {
    matches!(
        (
            object.get("prompt"),
            object.get("chosen"),
            object.get("rejected")
        ),
        (
            Some(Value::String(_)),
            Some(Value::String(_)),
            Some(Value::String(_))
        )
    )
}

/// Takes the three strings as they are.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    Ok(Parsed::one(
        value::text(object, "prompt")?.to_owned(),
        value::text(object, "chosen")?.to_owned(),
        value::text(object, "rejected")?.to_owned(),
        value::rest(object, &["prompt", "chosen", "rejected"]),
    ))
}
