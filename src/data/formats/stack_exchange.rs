//! StackExchange-paired (as in TRL's examples): `{"question", "response_j", "response_k"}`,
//! `response_j` the preferred answer (more votes).
use serde_json::{Map, Value};

use super::messages::{Message, prompt_of};
use super::{Parsed, value};

/// `question`, `response_j` and `response_k` are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    value::has_all(object, &["question", "response_j", "response_k"])
}

/// The question as the user's turn; j chosen, k rejected.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let question = value::text(object, "question")?;
    Ok(Parsed::one(
        prompt_of(&[Message::new("user", question)]),
        value::text(object, "response_j")?.to_owned(),
        value::text(object, "response_k")?.to_owned(),
        value::rest(object, &["question", "response_j", "response_k"]),
    ))
}
