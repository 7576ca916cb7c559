//! The record formats a preference JSONL line may use, and how each becomes a [`PreferencePair`]:
//! Anthropic HH-RLHF transcripts, TRL standard (`prompt`/`chosen`/`rejected` strings) and TRL
//! conversational (lists of `{"role", "content"}` messages).
//!
//! Errors here are plain strings without a place; the loader in [`super::jsonl`] prefixes the
//! source name and line number.
use serde::Serialize;
use serde_json::{Map, Value};

use super::pair::PreferencePair;

/// The marker that opens an assistant turn in an HH-RLHF transcript. Every prompt this module
/// produces ends with it.
pub const ASSISTANT_MARKER: &str = "\n\nAssistant:";

/// The keys a record's parser consumes; every other key is kept in [`PreferencePair::meta`].
const CONSUMED_KEYS: [&str; 3] = ["prompt", "chosen", "rejected"];

const EXPECTED_FORMATS: &str = "Expected HH-RLHF ({\"chosen\",\"rejected\"} transcripts), \
     TRL standard ({\"prompt\",\"chosen\",\"rejected\"} strings) \
     or TRL conversational (lists of {\"role\",\"content\"}).";

const MESSAGE_SHAPE: &str =
    "each message must be an object {\"role\": string, \"content\": string}";

/// Which of the supported record formats a line used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// `{"chosen": "\n\nHuman: …\n\nAssistant: …", "rejected": "…"}`: full transcripts, no prompt.
    HhTranscript,
    /// `{"prompt": str, "chosen": str, "rejected": str}`.
    TrlStandard,
    /// `chosen`/`rejected` (and optionally `prompt`) are lists of `{"role", "content"}` messages.
    TrlConversational,
}

impl Format {
    /// A short human-readable name, for reports and the UI.
    pub fn label(self) -> &'static str {
        match self {
            Format::HhTranscript => "HH-RLHF transcript",
            Format::TrlStandard => "TRL standard",
            Format::TrlConversational => "TRL conversational",
        }
    }
}

/// Parses one JSON record into a pair (with `index` 0; the loader sets it) and names its format.
///
/// Keys other than `prompt`, `chosen` and `rejected` are kept in `meta`; `truth` is `None`.
/// The error says what is wrong with the record and how to fix it, without a place.
pub fn parse_record(value: &Value) -> Result<(Format, PreferencePair), String> {
    let Value::Object(object) = value else {
        return Err(format!(
            "the line is {}, not a JSON object. Each line must be one JSON object such as \
             {{\"chosen\": ..., \"rejected\": ...}}.",
            kind(value)
        ));
    };
    let chosen = required(object, "chosen")?;
    let rejected = required(object, "rejected")?;
    let prompt = object.get("prompt");
    let (format, (prompt, chosen, rejected)) = match (chosen, rejected) {
        (Value::String(c), Value::String(r)) => match prompt {
            None => (Format::HhTranscript, split_hh_transcript(c, r)?),
            Some(Value::String(p)) => (Format::TrlStandard, (p.clone(), c.clone(), r.clone())),
            Some(other) => {
                return Err(format!(
                    "field \"prompt\" is {}; with string \"chosen\" and \"rejected\" it must be \
                     a string (TRL standard) or absent (HH-RLHF transcripts).",
                    kind(other)
                ));
            }
        },
        (Value::Array(c), Value::Array(r)) => (
            Format::TrlConversational,
            parse_conversational(prompt, c, r)?,
        ),
        (c, r) if is_text_or_list(c) && is_text_or_list(r) => {
            return Err(format!(
                "field \"chosen\" is {} but \"rejected\" is {}; both must be strings or both \
                 lists of {{\"role\",\"content\"}} messages.",
                kind(c),
                kind(r)
            ));
        }
        (c, r) => {
            let (field, value) = if is_text_or_list(c) {
                ("rejected", r)
            } else {
                ("chosen", c)
            };
            return Err(format!(
                "field \"{field}\" is {}; expected a string or a list of \
                 {{\"role\",\"content\"}} messages.",
                kind(value)
            ));
        }
    };
    let mut pair = PreferencePair::new(0, prompt, chosen, rejected);
    pair.meta = object
        .iter()
        .filter(|(key, _)| !CONSUMED_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok((format, pair))
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
            "field \"{field}\" has no \"\\n\\nAssistant:\" turn. HH-RLHF transcripts look like \
             \"\\n\\nHuman: ...\\n\\nAssistant: ...\"; for plain prompt/response text add a \
             \"prompt\" field (TRL standard)."
        ));
    };
    let (prefix, rest) = transcript.split_at(start + ASSISTANT_MARKER.len());
    Ok((prefix, rest.trim_start()))
}

/// One `{"role", "content"}` message, borrowed from the record.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

/// TRL conversational: returns `(prompt, chosen response, rejected response)`.
fn parse_conversational(
    prompt: Option<&Value>,
    chosen: &[Value],
    rejected: &[Value],
) -> Result<(String, String, String), String> {
    let explicit_prompt = match prompt {
        None => None,
        Some(Value::Array(list)) => Some(messages("prompt", list)?),
        Some(other) => {
            return Err(format!(
                "field \"prompt\" is {}; with lists of messages in \"chosen\" and \"rejected\" it \
                 must be a list of {{\"role\",\"content\"}} messages or absent.",
                kind(other)
            ));
        }
    };
    let chosen = messages("chosen", chosen)?;
    let rejected = messages("rejected", rejected)?;
    let (chosen_response, chosen_context) = split_response("chosen", &chosen)?;
    let (rejected_response, rejected_context) = split_response("rejected", &rejected)?;
    let context = match explicit_prompt {
        // Earlier turns inside chosen/rejected join the prompt only when both sides agree.
        Some(mut context) => {
            if chosen_context == rejected_context {
                context.extend_from_slice(chosen_context);
            }
            context
        }
        // Implicit prompt: the leading turns (taken from `chosen`, like HH-RLHF).
        None => chosen_context.to_vec(),
    };
    Ok((
        render(&context) + ASSISTANT_MARKER,
        chosen_response.content.to_owned(),
        rejected_response.content.to_owned(),
    ))
}

/// The last message (which must be the assistant's) and the messages before it.
fn split_response<'m, 'a>(
    field: &str,
    list: &'m [Message<'a>],
) -> Result<(Message<'a>, &'m [Message<'a>]), String> {
    let Some((last, context)) = list.split_last() else {
        return Err(format!(
            "field \"{field}\" is an empty list; it must end with the assistant's response \
             message."
        ));
    };
    if !last.role.eq_ignore_ascii_case("assistant") {
        return Err(format!(
            "field \"{field}\"[{}] (the last message) has role \"{}\"; the last message must be \
             the assistant's response (role \"assistant\").",
            list.len() - 1,
            last.role
        ));
    }
    Ok((*last, context))
}

fn messages<'a>(field: &str, list: &'a [Value]) -> Result<Vec<Message<'a>>, String> {
    list.iter()
        .enumerate()
        .map(|(i, value)| {
            let Value::Object(object) = value else {
                return Err(format!(
                    "field \"{field}\"[{i}] is {}; {MESSAGE_SHAPE}.",
                    kind(value)
                ));
            };
            let role = message_text(object, field, i, "role")?;
            if role.is_empty() {
                return Err(format!(
                    "field \"{field}\"[{i}] has an empty \"role\"; use \"user\", \"assistant\" \
                     or \"system\"."
                ));
            }
            let content = message_text(object, field, i, "content")?;
            Ok(Message { role, content })
        })
        .collect()
}

fn message_text<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    i: usize,
    key: &str,
) -> Result<&'a str, String> {
    match object.get(key) {
        Some(Value::String(text)) => Ok(text),
        None => Err(format!(
            "field \"{field}\"[{i}]: message has no \"{key}\"; {MESSAGE_SHAPE}."
        )),
        Some(other) => Err(format!(
            "field \"{field}\"[{i}]: \"{key}\" is {}; {MESSAGE_SHAPE}.",
            kind(other)
        )),
    }
}

/// Renders messages as an HH-style transcript: `"\n\n{Role}: {content}"` for each.
fn render(messages: &[Message<'_>]) -> String {
    let mut out = String::new();
    for message in messages {
        out.push_str("\n\n");
        out.push_str(&speaker(message.role));
        out.push_str(": ");
        out.push_str(message.content);
    }
    out
}

/// `user` → `Human`, `assistant` → `Assistant`, `system` → `System`, others capitalised.
fn speaker(role: &str) -> String {
    match role.to_ascii_lowercase().as_str() {
        "user" | "human" => "Human".to_owned(),
        "assistant" => "Assistant".to_owned(),
        "system" => "System".to_owned(),
        _ => {
            let mut chars = role.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

fn required<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a Value, String> {
    object.get(field).ok_or_else(|| {
        let mut found: Vec<String> = object.keys().take(8).map(|k| format!("{k:?}")).collect();
        if object.len() > found.len() {
            found.push("...".to_owned());
        }
        let found = if found.is_empty() {
            "The object has no fields.".to_owned()
        } else {
            format!("The object has fields {}.", found.join(", "))
        };
        format!("missing field \"{field}\". {EXPECTED_FORMATS} {found}")
    })
}

fn is_text_or_list(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Array(_))
}

/// "a number", "null", … for messages like `field "chosen" is a number`.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
