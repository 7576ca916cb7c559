//! Anthropic HH-RLHF: `{"chosen": "\n\nHuman: …\n\nAssistant: …", "rejected": "…"}`, two full
//! transcripts and no prompt field. The prompt is the chosen transcript up to and including its
//! last `"\n\nAssistant:"`.
use serde_json::{Map, Value};

use super::messages::ASSISTANT_MARKER;
use super::{Parsed, value};

/// Both sides are strings, there is no prompt, and `chosen` holds an assistant turn.
pub fn detect(object: &Map<String, Value>) -> bool {
    no_prompt(object)
        && matches!(
            (object.get("chosen"), object.get("rejected")),
            (Some(Value::String(c)), Some(Value::String(_))) if c.contains(ASSISTANT_MARKER)
        )
}

/// No `prompt` key, or a null one.
pub fn no_prompt(object: &Map<String, Value>) -> bool {
    matches!(object.get("prompt"), None | Some(Value::Null))
}

/// Splits the two transcripts.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let chosen = value::text(object, "chosen")?;
    let rejected = value::text(object, "rejected")?;
    let (prompt, chosen, rejected) = split_hh_transcript(chosen, rejected)?;
    Ok(Parsed::one(
        prompt,
        chosen,
        rejected,
        value::rest(object, &["prompt", "chosen", "rejected"]),
    ))
}

/// Splits two HH-RLHF transcripts into `(prompt, chosen response, rejected response)`.
///
/// The prompt is the chosen transcript up to and including its last `"\n\nAssistant:"`; each
/// response is the text after its own transcript's last marker, with leading whitespace trimmed.
/// When the two prefixes differ (a few real pairs do), the chosen prefix is used. A transcript
/// without any `"\n\nAssistant:"` is an error.
pub fn split_hh_transcript(
    chosen: &str,
    rejected: &str,
) -> Result<(String, String, String), String> {
    let (prompt, chosen_response) = split_at_last_assistant("chosen", chosen)?;
    let (_, rejected_response) = split_at_last_assistant("rejected", rejected)?;
    Ok((
        prompt.to_owned(),
        chosen_response.to_owned(),
        rejected_response.to_owned(),
    ))
}

/// `(prefix including the last marker, response with leading whitespace trimmed)`.
fn split_at_last_assistant<'a>(
    field: &str,
    transcript: &'a str,
) -> Result<(&'a str, &'a str), String> {
    let Some(start) = transcript.rfind(ASSISTANT_MARKER) else {
        return Err(format!(
            "field \"{field}\" has no \"\\n\\nAssistant:\" turn but the other side has one. \
             HH-RLHF transcripts look like \"\\n\\nHuman: ...\\n\\nAssistant: ...\" on both \
             sides; for plain prompt/response text add a \"prompt\" field (TRL standard)."
        ));
    };
    let (prefix, rest) = transcript.split_at(start + ASSISTANT_MARKER.len());
    Ok((prefix, rest.trim_start()))
}
