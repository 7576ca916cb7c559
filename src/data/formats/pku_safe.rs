//! PKU-SafeRLHF: `{"prompt", "response_0", "response_1", "better_response_id"}` (0 or 1). The
//! safety fields (`safer_response_id`, `is_response_0_safe`, …) stay in the metadata.
use serde_json::{Map, Value};

use super::messages::{Message, prompt_of};
use super::{Parsed, value};

/// `prompt`, `response_0`, `response_1` and `better_response_id` are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    value::has_all(
        object,
        &["prompt", "response_0", "response_1", "better_response_id"],
    )
}

/// Orients the two responses by `better_response_id`.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let prompt = value::text(object, "prompt")?;
    let responses = [
        value::text(object, "response_0")?,
        value::text(object, "response_1")?,
    ];
    let better = value::zero_or_one(object, "better_response_id", "the better response")?;
    Ok(Parsed::one(
        prompt_of(&[Message::new("user", prompt)]),
        responses[better].to_owned(),
        responses[1 - better].to_owned(),
        value::rest(object, &["prompt", "response_0", "response_1"]),
    ))
}
