//! Chat messages (`{"role", "content"}`), as TRL's conversational layout and many chat datasets
//! store them, and their rendering as an HH-style transcript (`"\n\nHuman: …\n\nAssistant:"`),
//! the one prompt shape every layout produces.
use serde_json::Value;

use super::value::kind;

/// The marker that opens an assistant turn in an HH-RLHF transcript. Every prompt a layout
/// produces ends with it.
pub const ASSISTANT_MARKER: &str = "\n\nAssistant:";

const MESSAGE_SHAPE: &str = "each message must be an object {\"role\": string, \"content\": \
     string or a list of {\"type\": \"text\", \"text\": string} parts}";

/// One message with its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `user`, `assistant`, `system`, …
    pub role: String,
    /// The text (parts joined with a blank line).
    pub content: String,
}

impl Message {
    /// A message.
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.to_owned(),
            content: content.to_owned(),
        }
    }

    fn is_assistant(&self) -> bool {
        self.role.eq_ignore_ascii_case("assistant")
    }
}

/// Whether `value` looks like a list of messages (a non-empty list of objects).
pub fn is_message_list(value: &Value) -> bool {
    matches!(value, Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object))
}

/// Parses `field`'s list of messages.
pub fn messages(field: &str, list: &[Value]) -> Result<Vec<Message>, String> {
    list.iter()
        .enumerate()
        .map(|(i, value)| {
            let Value::Object(object) = value else {
                return Err(format!(
                    "field \"{field}\"[{i}] is {}; {MESSAGE_SHAPE}.",
                    kind(value)
                ));
            };
            let role = match object.get("role") {
                Some(Value::String(role)) if !role.is_empty() => role.clone(),
                Some(Value::String(_)) => {
                    return Err(format!(
                        "field \"{field}\"[{i}] has an empty \"role\"; use \"user\", \
                         \"assistant\" or \"system\"."
                    ));
                }
                None => {
                    return Err(format!(
                        "field \"{field}\"[{i}]: message has no \"role\"; {MESSAGE_SHAPE}."
                    ));
                }
                Some(other) => {
                    return Err(format!(
                        "field \"{field}\"[{i}]: \"role\" is {}; {MESSAGE_SHAPE}.",
                        kind(other)
                    ));
                }
            };
            let content = content(field, i, object.get("content"))?;
            Ok(Message { role, content })
        })
        .collect()
}

/// A message's content: a string, or a list of parts whose text parts are joined.
fn content(field: &str, i: usize, value: Option<&Value>) -> Result<String, String> {
    match value {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    Value::String(text) => texts.push(text.as_str()),
                    Value::Object(object) => match (object.get("type"), object.get("text")) {
                        (_, Some(Value::String(text))) => texts.push(text),
                        (Some(Value::String(t)), None) if t != "text" => {
                            return Err(format!(
                                "field \"{field}\"[{i}].content[{j}] is a \"{t}\" part; only text \
                                 parts can be read. Drop images and other media from the record."
                            ));
                        }
                        _ => {
                            return Err(format!(
                                "field \"{field}\"[{i}].content[{j}] has no \"text\"; a part \
                                 must be {{\"type\": \"text\", \"text\": string}}."
                            ));
                        }
                    },
                    other => {
                        return Err(format!(
                            "field \"{field}\"[{i}].content[{j}] is {}; a part must be \
                             {{\"type\": \"text\", \"text\": string}}.",
                            kind(other)
                        ));
                    }
                }
            }
            Ok(texts.join("\n\n"))
        }
        None => Err(format!(
            "field \"{field}\"[{i}]: message has no \"content\"; {MESSAGE_SHAPE}."
        )),
        Some(other) => Err(format!(
            "field \"{field}\"[{i}]: \"content\" is {}; {MESSAGE_SHAPE}.",
            kind(other)
        )),
    }
}

/// The last message (which must be the assistant's) and the messages before it.
pub fn split_response<'m>(
    field: &str,
    list: &'m [Message],
) -> Result<(&'m Message, &'m [Message]), String> {
    let Some((last, context)) = list.split_last() else {
        return Err(format!(
            "field \"{field}\" is an empty list; it must end with the assistant's response \
             message."
        ));
    };
    if !last.is_assistant() {
        return Err(format!(
            "field \"{field}\"[{}] (the last message) has role \"{}\"; the last message must be \
             the assistant's response (role \"assistant\").",
            list.len() - 1,
            last.role
        ));
    }
    Ok((last, context))
}

/// Renders messages as an HH-style transcript: `"\n\n{Role}: {content}"` for each.
pub fn render(messages: &[Message]) -> String {
    let mut out = String::new();
    for message in messages {
        out.push_str("\n\n");
        out.push_str(&speaker(&message.role));
        out.push_str(": ");
        out.push_str(&message.content);
    }
    out
}

/// The prompt of a transcript: the messages rendered, then the assistant marker.
pub fn prompt_of(messages: &[Message]) -> String {
    render(messages) + ASSISTANT_MARKER
}

/// `user` → `Human`, `assistant` → `Assistant`, `system` → `System`, others capitalised.
pub fn speaker(role: &str) -> String {
    match role.to_ascii_lowercase().as_str() {
        "user" | "human" => "Human".to_owned(),
        "assistant" | "gpt" | "bot" => "Assistant".to_owned(),
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

/// Alternating turns given as plain strings (`["question", "answer", …]`), the last one the
/// assistant's: roles are assigned backwards from it. A turn that already starts with
/// `Human:` / `Assistant:` keeps its own speaker.
pub fn alternating(field: &str, turns: &[Value]) -> Result<Vec<Message>, String> {
    let count = turns.len();
    turns
        .iter()
        .enumerate()
        .map(|(i, turn)| {
            let Value::String(text) = turn else {
                return Err(format!(
                    "field \"{field}\"[{i}] is {}; the turns must all be strings.",
                    kind(turn)
                ));
            };
            let trimmed = text.trim_start();
            for (prefix, role) in [("Human:", "user"), ("Assistant:", "assistant")] {
                if let Some(rest) = trimmed.strip_prefix(prefix) {
                    return Ok(Message::new(role, rest.trim_start()));
                }
            }
            let from_end = count - 1 - i;
            let role = if from_end.is_multiple_of(2) {
                "assistant"
            } else {
                "user"
            };
            Ok(Message::new(role, text))
        })
        .collect()
}

/// `(prompt, chosen response, rejected response)` of two message lists that each end with the
/// assistant's response, after an optional explicit prompt. Earlier turns inside both lists
/// join the prompt when the two sides agree on them; turns that only repeat the explicit prompt
/// are not added twice.
pub fn conversation_pair(
    explicit_prompt: Option<Vec<Message>>,
    chosen: &[Message],
    rejected: &[Message],
) -> Result<(String, String, String), String> {
    let (chosen_response, chosen_context) = split_response("chosen", chosen)?;
    let (rejected_response, rejected_context) = split_response("rejected", rejected)?;
    let context = match explicit_prompt {
        Some(mut context) => {
            let chosen_rest = chosen_context
                .strip_prefix(context.as_slice())
                .unwrap_or(chosen_context);
            let rejected_rest = rejected_context
                .strip_prefix(context.as_slice())
                .unwrap_or(rejected_context);
            if chosen_rest == rejected_rest {
                context.extend_from_slice(chosen_rest);
            }
            context
        }
        // Implicit prompt: the leading turns (taken from `chosen`, like HH-RLHF).
        None => chosen_context.to_vec(),
    };
    Ok((
        prompt_of(&context),
        chosen_response.content.clone(),
        rejected_response.content.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn content_parts_join_and_media_parts_are_refused() {
        let list = json!([{"role": "user", "content": [{"type": "text", "text": "a"}, "b"]}]);
        let parsed = messages("prompt", list.as_array().unwrap()).unwrap();
        assert_eq!(parsed, vec![Message::new("user", "a\n\nb")]);
        let image = json!([{"role": "user", "content": [{"type": "image", "url": "x"}]}]);
        let error = messages("prompt", image.as_array().unwrap()).unwrap_err();
        assert!(error.contains("\"image\" part"), "{error}");
    }

    #[test]
    fn alternating_turns_end_with_the_assistant() {
        let turns = json!(["hi", "hello", "bye?", "bye"]);
        let parsed = alternating("chosen", turns.as_array().unwrap()).unwrap();
        let roles: Vec<&str> = parsed.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
        let marked = json!(["Human: q", "Assistant: a"]);
        let parsed = alternating("chosen", marked.as_array().unwrap()).unwrap();
        assert_eq!(parsed[0], Message::new("user", "q"));
    }

    #[test]
    fn a_repeated_explicit_prompt_is_not_added_twice() {
        let prompt = vec![Message::new("user", "q")];
        let chosen = [Message::new("user", "q"), Message::new("assistant", "a")];
        let rejected = [Message::new("user", "q"), Message::new("assistant", "b")];
        let (p, c, r) = conversation_pair(Some(prompt), &chosen, &rejected).unwrap();
        assert_eq!(
            (p.as_str(), c.as_str(), r.as_str()),
            ("\n\nHuman: q\n\nAssistant:", "a", "b")
        );
    }
}
