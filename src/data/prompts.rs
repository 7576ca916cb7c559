//! Prompt sets for the RL runs: the prompts of any preference file (every layout and container
//! the pair loader reads), or prompt-only records: `{"prompt": str | messages}`,
//! `{"messages": [...]}` (up to the last user turn), `{"question"}`, `{"instruction", "input"?}`,
//! `{"history"}`. Every prompt comes out in the HH shape the policy sees
//! (`"\n\nHuman: …\n\nAssistant:"`); duplicates are kept once and counted.
use std::collections::HashSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::container::{Container, Item};
use super::formats::messages::{self, ASSISTANT_MARKER, Message, prompt_of};
use super::formats::{Reader, value};
use super::load::{DataError, LoadOptions, SkippedLine, read_file, with_records};

/// The prompts of a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PromptSet {
    /// Distinct prompts in input order.
    pub prompts: Vec<String>,
    /// Repeated prompts left out (a preference file repeats a prompt for each of its pairs).
    pub duplicates: usize,
    /// Bad records skipped (with `skip_bad_lines`).
    pub skipped: Vec<SkippedLine>,
}

/// Loads the prompts of a file.
pub fn load_prompts_path(path: &Path, options: &LoadOptions) -> Result<PromptSet, DataError> {
    load_prompts(&path.display().to_string(), &read_file(path)?, options)
}

/// Loads the prompts of a file's bytes.
pub fn load_prompts(
    source_name: &str,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<PromptSet, DataError> {
    with_records(
        source_name,
        bytes,
        options.max_line_bytes,
        |kind, records| read_prompts(source_name, kind, records, options),
    )
}

/// The prompts of a file's records.
fn read_prompts(
    source_name: &str,
    kind: Container,
    records: &mut dyn Iterator<Item = Item>,
    options: &LoadOptions,
) -> Result<PromptSet, DataError> {
    let mut reader = Reader::new(options.parse);
    let mut set = PromptSet::default();
    let mut seen = HashSet::new();
    for (ordinal, (line, record)) in records.enumerate() {
        let prompts = record.and_then(|value| {
            let object = value::object(&value)?;
            match prompt_only(object) {
                Some(prompt) => prompt.map(|p| vec![p]),
                None => {
                    let place = format!("{} {line}", kind.unit());
                    let (_, parsed) = reader.parse(&value, ordinal, &place)?;
                    Ok(parsed.pairs.into_iter().map(|p| p.prompt).collect())
                }
            }
        });
        match prompts {
            Ok(prompts) => {
                for prompt in prompts {
                    if seen.insert(prompt.clone()) {
                        set.prompts.push(prompt);
                    } else {
                        set.duplicates += 1;
                    }
                }
            }
            Err(reason) if options.skip_bad_lines => set.skipped.push(SkippedLine { line, reason }),
            Err(message) => {
                return Err(DataError::Line {
                    source_name: source_name.to_owned(),
                    unit: kind.unit(),
                    line,
                    message,
                });
            }
        }
    }
    if set.prompts.is_empty() {
        return Err(DataError::Empty {
            source_name: source_name.to_owned(),
        });
    }
    Ok(set)
}

/// A prompt-only record's prompt; `None` when the record is a preference record (it has
/// responses to compare), which the pair layouts then read.
fn prompt_only(object: &Map<String, Value>) -> Option<Result<String, String>> {
    let has_responses = [
        "chosen",
        "rejected",
        "answers",
        "completions",
        "response_0",
        "response_j",
        "human_ref_A",
        "summaries",
    ]
    .iter()
    .any(|k| object.contains_key(*k));
    if has_responses {
        return None;
    }
    if let Some(prompt) = object.get("prompt") {
        return Some(match prompt {
            Value::String(text) if text.trim_end().ends_with(ASSISTANT_MARKER) => {
                Ok(text.trim_end().to_owned())
            }
            Value::String(text) => Ok(prompt_of(&[Message::new("user", text)])),
            Value::Array(list) => messages::messages("prompt", list).map(|m| prompt_of(&m)),
            other => Err(format!(
                "field \"prompt\" is {}; a prompt is a string or a list of messages.",
                value::kind(other)
            )),
        });
    }
    if let Some(list) = object.get("messages") {
        return Some(conversation_prompt(list));
    }
    for key in ["question", "history"] {
        if let Some(text) = object.get(key) {
            return Some(match text {
                Value::String(t) => Ok(prompt_of(&[Message::new("user", t)])),
                other => Err(format!(
                    "field \"{key}\" is {}; expected a string.",
                    value::kind(other)
                )),
            });
        }
    }
    if object.contains_key("instruction") {
        return Some(value::text(object, "instruction").map(|instruction| {
            let input = object
                .get("input")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let text = if input.trim().is_empty() {
                instruction.to_owned()
            } else {
                format!("{instruction}\n\n{input}")
            };
            prompt_of(&[Message::new("user", &text)])
        }));
    }
    Some(Err(format!(
        "no prompt found: the record has {}. A prompt record has \"prompt\", \"messages\", \
         \"question\" or \"instruction\"; a preference record in any supported layout works too.",
        value::keys_seen(object)
    )))
}

/// The turns of a conversation up to and including its last user turn.
fn conversation_prompt(list: &Value) -> Result<String, String> {
    let Value::Array(list) = list else {
        return Err(format!(
            "field \"messages\" is {}; expected a list of messages.",
            value::kind(list)
        ));
    };
    let turns = messages::messages("messages", list)?;
    let last_user = turns
        .iter()
        .rposition(|m| !m.role.eq_ignore_ascii_case("assistant"))
        .ok_or_else(|| "field \"messages\" has no user turn to answer.".to_owned())?;
    Ok(prompt_of(&turns[..=last_user]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts(text: &str) -> Result<PromptSet, DataError> {
        load_prompts("p.jsonl", text.as_bytes(), &LoadOptions::default())
    }

    #[test]
    fn prompt_records_of_every_shape_become_hh_prompts() {
        let text = [
            r#"{"prompt": "Name a colour."}"#,
            r#"{"prompt": [{"role": "user", "content": "Hi"}]}"#,
            r#"{"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}"#,
            r#"{"instruction": "Add", "input": "2 and 3"}"#,
            r#"{"question": "Why?"}"#,
            r#"{"prompt": "Name a colour."}"#,
        ]
        .join("\n");
        let set = prompts(&text).unwrap();
        assert_eq!(
            set.prompts,
            [
                "\n\nHuman: Name a colour.\n\nAssistant:",
                "\n\nHuman: Hi\n\nAssistant:",
                "\n\nSystem: Be kind.\n\nHuman: Hi\n\nAssistant:",
                "\n\nHuman: Add\n\n2 and 3\n\nAssistant:",
                "\n\nHuman: Why?\n\nAssistant:",
            ]
        );
        assert_eq!(set.duplicates, 1);
    }

    #[test]
    fn preference_files_give_their_prompts_once() {
        let text = [
            r#"{"prompt": "Q", "chosen": "a", "rejected": "b"}"#,
            r#"{"prompt": "Q", "chosen": "c", "rejected": "d"}"#,
            r#"{"question": "Why?", "response_j": "x", "response_k": "y"}"#,
        ]
        .join("\n");
        // One file, one layout: the StackExchange line does not fit the TRL family.
        assert!(
            prompts(&text)
                .unwrap_err()
                .to_string()
                .contains("one layout")
        );
        let set = prompts(&text[..text.rfind('\n').unwrap_or(0)]).unwrap();
        assert_eq!(
            (set.prompts.as_slice(), set.duplicates),
            (&["Q".to_owned()][..], 1)
        );
    }

    #[test]
    fn records_without_a_prompt_are_named_errors() {
        let error = prompts(r#"{"text": "x"}"#).unwrap_err().to_string();
        assert!(
            error.contains("line 1")
                && error.contains("no prompt found")
                && error.contains("\"text\""),
            "{error}"
        );
        let error =
            prompts(r#"{"messages": [{"role": "assistant", "content": "x"}]}"#).unwrap_err();
        assert!(error.to_string().contains("no user turn"), "{error}");
    }
}
