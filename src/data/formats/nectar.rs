//! Nectar: `{"prompt": "\n\nHuman: …\n\nAssistant:", "answers": [{"answer", "model", "rank"}, …]}`,
//! rank 1 the best. Of k answers, rank r becomes the rating k + 1 − r, then [`super::rated`]
//! pairs them.
use serde_json::{Map, Value};

use super::messages::{ASSISTANT_MARKER, Message, prompt_of};
use super::rated::{pairs_from_ratings, rated_list};
use super::{ParseOptions, Parsed, value};

/// `prompt` and an `answers` list are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    object.contains_key("prompt") && matches!(object.get("answers"), Some(Value::Array(_)))
}

/// Reads each answer and its rank.
pub fn parse(
    object: &Map<String, Value>,
    options: &ParseOptions,
    record: usize,
) -> Result<Parsed, String> {
    let prompt = value::text(object, "prompt")?;
    let prompt = if prompt.trim_end().ends_with(ASSISTANT_MARKER.trim_end()) {
        prompt.trim_end().to_owned()
    } else {
        prompt_of(&[Message::new("user", prompt)])
    };
    let k = value::list(object, "answers")?.len() as f64;
    let mut completions = rated_list(
        object,
        "answers",
        "answer",
        "\"answer\" and \"rank\"",
        |a, i| {
            let rank = value::number_field(a, "rank")
                .map_err(|e| format!("field \"answers\"[{i}]: {e}"))?;
            Ok(k + 1.0 - rank)
        },
    )?;
    for c in &mut completions {
        c.text = c.text.trim_start().to_owned();
    }
    pairs_from_ratings(
        &prompt,
        &completions,
        &value::rest(object, &["prompt", "answers"]),
        options,
        record,
    )
}
