//! Stanford Human Preferences (SHP): `{"history", "human_ref_A", "human_ref_B", "labels"}`,
//! `labels` 1 when A is preferred, 0 when B is. `score_A`/`score_B` (votes), where present,
//! become `score_chosen`/`score_rejected` so `--min-score-gap` can use them.
use serde_json::{Map, Value, json};

use super::messages::{Message, prompt_of};
use super::{Parsed, value};

/// `history`, `human_ref_A`, `human_ref_B` and `labels` are present.
pub fn detect(object: &Map<String, Value>) -> bool {
    value::has_all(object, &["history", "human_ref_A", "human_ref_B", "labels"])
}

/// Orients A and B by `labels`.
pub fn parse(object: &Map<String, Value>) -> Result<Parsed, String> {
    let history = value::text(object, "history")?;
    let a = value::text(object, "human_ref_A")?;
    let b = value::text(object, "human_ref_B")?;
    let a_wins = value::zero_or_one(object, "labels", "1: A preferred, 0: B preferred")? == 1;
    let (chosen, rejected) = if a_wins { (a, b) } else { (b, a) };
    let mut meta = value::rest(object, &["history", "human_ref_A", "human_ref_B"]);
    if let (Some(sa), Some(sb)) = (object.get("score_A"), object.get("score_B")) {
        let sa = value::number(sa, "field \"score_A\"")?;
        let sb = value::number(sb, "field \"score_B\"")?;
        let (sc, sr) = if a_wins { (sa, sb) } else { (sb, sa) };
        meta.insert("score_chosen".into(), json!(sc));
        meta.insert("score_rejected".into(), json!(sr));
    }
    Ok(Parsed::one(
        prompt_of(&[Message::new("user", history)]),
        chosen.to_owned(),
        rejected.to_owned(),
        meta,
    ))
}
