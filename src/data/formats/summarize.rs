//! OpenAI summarize-from-feedback comparisons (the paper's TL;DR data):
//! `{"info": {"post", "title", "subreddit"}, "summaries": [{"text"}, {"text"}], "choice": 0|1}`.
//! The prompt is the usual TL;DR template; `info.article` (the CNN/DM part) stands in for
//! `info.post`.
use serde_json::{Map, Value};

use super::value::kind;
use super::{Parsed, value};

/// `info`, `summaries` and `choice` are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    value::has_all(object, &["info", "summaries", "choice"])
}

/// The post in the TL;DR template; the chosen summary by `choice`.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let Value::Object(info) = value::field(object, "info")? else {
        return Err("field \"info\" must be an object with \"post\" (or \"article\").".into());
    };
    // The CNN/DM rows of the hub copies carry `"post": null` beside their article.
    let post = info
        .get("post")
        .and_then(Value::as_str)
        .or_else(|| info.get("article").and_then(Value::as_str))
        .ok_or_else(|| {
            format!(
                "field \"info\" has no string \"post\" or \"article\" (it has {}).",
                value::keys_seen(info)
            )
        })?;
    let optional = |key: &str| info.get(key).and_then(Value::as_str);
    let mut prompt = String::new();
    if let Some(subreddit) = optional("subreddit") {
        prompt.push_str(&format!("SUBREDDIT: r/{subreddit}\n"));
    }
    if let Some(title) = optional("title") {
        prompt.push_str(&format!("TITLE: {title}\n"));
    }
    prompt.push_str(&format!("POST: {post}\nTL;DR:"));
    let summaries = value::list(object, "summaries")?;
    if summaries.len() != 2 {
        return Err(format!(
            "field \"summaries\" has {} entries; a comparison has exactly 2.",
            summaries.len()
        ));
    }
    let text = |i: usize| match summaries[i].get("text") {
        Some(Value::String(t)) => Ok(t.trim_start().to_owned()),
        Some(other) => Err(format!(
            "field \"summaries\"[{i}].text is {}; expected a string.",
            kind(other)
        )),
        None => Err(format!("field \"summaries\"[{i}] has no \"text\".")),
    };
    let chosen = value::zero_or_one(object, "choice", "the preferred summary")?;
    let mut meta = value::rest(object, &["summaries", "choice"]);
    if let Some(Value::Object(info)) = meta.get_mut("info") {
        info.remove("post");
        info.remove("article");
    }
    Ok(Parsed::one(prompt, text(chosen)?, text(1 - chosen)?, meta))
}
