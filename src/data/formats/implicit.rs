//! Implicit prompt with plain strings: `{"chosen": "…", "rejected": "…"}` without a prompt
//! field or an HH `"\n\nAssistant:"` marker. Both strings start with the same prompt; the prompt
//! is their longest shared prefix, cut back to the last whitespace so no word is split (TRL's
//! `extract_prompt` rule).
use serde_json::{Map, Value};

use super::messages::ASSISTANT_MARKER;
use super::{Parsed, hh, value};

/// Both sides are strings, there is no prompt, and neither holds an assistant turn.
pub fn detect(object: &Map<String, Value>) -> bool {
    hh::no_prompt(object)
        && matches!(
            (object.get("chosen"), object.get("rejected")),
            (Some(Value::String(c)), Some(Value::String(r)))
                if !c.contains(ASSISTANT_MARKER) && !r.contains(ASSISTANT_MARKER)
        )
}

/// Splits off the shared prefix.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let chosen = value::text(object, "chosen")?;
    let rejected = value::text(object, "rejected")?;
    if chosen.contains(ASSISTANT_MARKER) != rejected.contains(ASSISTANT_MARKER) {
        // One side is an HH transcript, the other is not: let the HH parser say which.
        return hh::parse(object);
    }
    let (prompt, chosen, rejected) = split_shared_prefix(chosen, rejected);
    Ok(Parsed::one(
        prompt,
        chosen,
        rejected,
        value::rest(object, &["prompt", "chosen", "rejected"]),
    ))
}

/// `(shared prompt without trailing whitespace, chosen rest, rejected rest)`, the rests without
/// leading whitespace.
pub fn split_shared_prefix(chosen: &str, rejected: &str) -> (String, String, String) {
    let mut end = 0;
    for ((i, a), b) in chosen.char_indices().zip(rejected.chars()) {
        if a != b {
            break;
        }
        end = i + a.len_utf8();
    }
    let whole_word = |s: &str| s.len() == end || s[end..].starts_with(char::is_whitespace);
    if !(whole_word(chosen) && whole_word(rejected)) {
        // The two diverge inside a word: back off to the whitespace before it.
        end = chosen[..end]
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
    }
    let prompt = chosen[..end].trim_end().to_owned();
    (
        prompt,
        chosen[end..].trim_start().to_owned(),
        rejected[end..].trim_start().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_is_the_shared_prefix_in_whole_words() {
        let split = |c, r| split_shared_prefix(c, r);
        let owned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
        assert_eq!(
            split("Q: sky colour? It is blue.", "Q: sky colour? It is bleak."),
            owned("Q: sky colour? It is", "blue.", "bleak.")
        );
        assert_eq!(split("Q? Yes", "Q? No"), owned("Q?", "Yes", "No"));
        assert_eq!(split("abc", "xyz"), owned("", "abc", "xyz"));
        assert_eq!(split("Q? ok", "Q? ok then"), owned("Q? ok", "", "then"));
        assert_eq!(split("é à", "é b"), owned("é", "à", "b"));
        // Whitespace of more than one byte (no-break space, ideographic space).
        assert_eq!(split("Q:\u{a0}yes", "Q:\u{a0}yo"), owned("Q:", "yes", "yo"));
        assert_eq!(
            split("問\u{3000}はい", "問\u{3000}はな"),
            owned("問", "はい", "はな")
        );
    }
}
