//! TRL conversational: `chosen` and `rejected` are lists of `{"role", "content"}` messages
//! ending with the assistant's response; `prompt` is a list of messages, a plain string (the
//! user's turn, as in the binarised UltraFeedback copies), null or absent. Content may be a
//! string or a list of `{"type": "text", "text"}` parts.
use serde_json::{Map, Value};

use super::messages::{self, Message, is_message_list};
use super::value::kind;
use super::{Parsed, value};

/// Both sides are lists of message objects.
pub fn detect(object: &Map<String, Value>) -> bool {
    object.get("chosen").is_some_and(is_message_list)
        && object.get("rejected").is_some_and(is_message_list)
}

/// The prompt, then each side's final assistant message.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let explicit_prompt = match object.get("prompt") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(messages::messages("prompt", list)?),
        Some(Value::String(text)) => Some(vec![Message::new("user", text)]),
        Some(other) => {
            return Err(format!(
                "field \"prompt\" is {}; with lists of messages in \"chosen\" and \"rejected\" it \
                 must be a list of {{\"role\",\"content\"}} messages, a string or absent.",
                kind(other)
            ));
        }
    };
    let chosen = messages::messages("chosen", value::list(object, "chosen")?)?;
    let rejected = messages::messages("rejected", value::list(object, "rejected")?)?;
    let (prompt, chosen, rejected) =
        messages::conversation_pair(explicit_prompt, &chosen, &rejected)?;
    Ok(Parsed::one(
        prompt,
        chosen,
        rejected,
        value::rest(object, &["prompt", "chosen", "rejected"]),
    ))
}
