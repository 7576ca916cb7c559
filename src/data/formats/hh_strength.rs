//! The paper's own release of HH-RLHF with preference strength (`fnlp/hh-rlhf-strength-cleaned`):
//! `chosen` and `rejected` are lists of strings (alternating turns, the last one the response),
//! beside `mean preference difference`, `std preference difference`, the members' score lists and
//! (validation split) `GPT4 label`. Those fields stay in the pair's metadata, where
//! `--strength-field "mean preference difference"` and `--truth-field "GPT4 label==0"` find them.
use serde_json::{Map, Value};

use super::messages;
use super::{Parsed, value};

/// Both sides are non-empty lists of strings.
pub fn detect(object: &Map<String, Value>) -> bool {
    let strings = |v: Option<&Value>| matches!(v, Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string));
    strings(object.get("chosen")) && strings(object.get("rejected"))
}

/// Turns become messages (roles counted back from the response), then as TRL conversational.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let chosen = messages::alternating("chosen", value::list(object, "chosen")?)?;
    let rejected = messages::alternating("rejected", value::list(object, "rejected")?)?;
    let (prompt, chosen, rejected) = messages::conversation_pair(None, &chosen, &rejected)?;
    Ok(Parsed::one(
        prompt,
        chosen,
        rejected,
        value::rest(object, &["prompt", "chosen", "rejected"]),
    ))
}
