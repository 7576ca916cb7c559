//! UltraFeedback raw: `{"instruction", "completions": [{"response", "overall_score" |
//! "fine-grained_score", "model"}, …]}`, rated completions paired by [`super::rated`].
use serde_json::{Map, Value};

use super::messages::{Message, prompt_of};
use super::rated::{pairs_from_ratings, rated_list};
use super::{ParseOptions, Parsed, value};

/// `instruction` and a `completions` list are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    object.contains_key("instruction") && matches!(object.get("completions"), Some(Value::Array(_)))
}

/// Reads each completion's response and rating (`overall_score`, else `fine-grained_score`).
pub fn parse(
    object: &Map<String, Value>,
    options: &ParseOptions,
    record: usize,
) -> Result<Parsed, String> {
    let instruction = value::text(object, "instruction")?;
    let completions = rated_list(
        object,
        "completions",
        "response",
        "\"response\" and \"overall_score\"",
        |c, i| {
            let score = c
                .get("overall_score")
                .or_else(|| c.get("fine-grained_score"))
                .ok_or_else(|| {
                    format!(
                        "field \"completions\"[{i}] has no \"overall_score\" or \
                         \"fine-grained_score\" (it has {}).",
                        value::keys_seen(c)
                    )
                })?;
            value::number(score, &format!("field \"completions\"[{i}] score"))
        },
    )?;
    pairs_from_ratings(
        &prompt_of(&[Message::new("user", instruction)]),
        &completions,
        &value::rest(object, &["instruction", "completions", "models"]),
        options,
        record,
    )
}
