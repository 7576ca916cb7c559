//! Rated multi-completion sets (UltraFeedback raw, Nectar): several completions per prompt, each
//! with a rating, become pairs by one documented rule:
//!
//! - `best-vs-random` (default, the rule of the binarised UltraFeedback copies): the highest
//!   rated completion (the first of equals) against one completion drawn at random, seeded per
//!   record, among those rated lower by at least the minimum gap;
//! - `all-pairs`: every two completions whose ratings differ by at least the minimum gap, the
//!   higher rated one chosen.
//!
//! Equal ratings (and gaps below the minimum) never make a pair; they are counted as ties.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{ParseOptions, Parsed};
use crate::data::pair::PreferencePair;
use crate::data::rng::Rng;

/// How a rated record becomes pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pairing {
    /// The best completion against a random lower-rated one: one pair per record.
    #[default]
    BestVsRandom,
    /// Every two completions with different ratings.
    AllPairs,
}

impl Pairing {
    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Pairing::BestVsRandom => "best-vs-random",
            Pairing::AllPairs => "all-pairs",
        }
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "best-vs-random" => Ok(Pairing::BestVsRandom),
            "all-pairs" => Ok(Pairing::AllPairs),
            other => Err(format!(
                "pairing \"{other}\": use best-vs-random or all-pairs"
            )),
        }
    }
}

/// One rated completion.
#[derive(Clone, Debug)]
pub struct Rated {
    /// The completion's text.
    pub text: String,
    /// Its rating (higher is better).
    pub rating: f64,
    /// The model that wrote it, where known.
    pub model: Option<String>,
}

/// The completions of `object[list]`: each an object whose `text_key` holds the text, whose
/// `"model"` (if any) names the writer, and whose rating `rating` reads (given the object and
/// its index; its error is shown as it is). `expected` describes an entry for the error when
/// one is not an object.
pub fn rated_list(
    object: &Map<String, Value>,
    list: &str,
    text_key: &str,
    expected: &str,
    rating: impl Fn(&Map<String, Value>, usize) -> Result<f64, String>,
) -> Result<Vec<Rated>, String> {
    super::value::list(object, list)?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let Value::Object(c) = c else {
                return Err(format!(
                    "field \"{list}\"[{i}] is {}; expected an object with {expected}.",
                    super::value::kind(c)
                ));
            };
            let text = super::value::text(c, text_key)
                .map_err(|e| format!("field \"{list}\"[{i}]: {e}"))?;
            Ok(Rated {
                text: text.to_owned(),
                rating: rating(c, i)?,
                model: c.get("model").and_then(Value::as_str).map(str::to_owned),
            })
        })
        .collect()
}

/// Whether a rating gap makes a pair: strictly positive and at least `min_gap`.
pub fn gap_counts(gap: f64, min_gap: f64) -> bool {
    gap > 0.0 && gap >= min_gap
}

/// The pairs of one record: `prompt`, its rated completions and the record's other fields.
pub fn pairs_from_ratings(
    prompt: &str,
    completions: &[Rated],
    record_meta: &Map<String, Value>,
    options: &ParseOptions,
    record: usize,
) -> Result<Parsed, String> {
    if completions.len() < 2 {
        return Err(format!(
            "the record has {} rated completion(s); at least 2 are needed to make a pair.",
            completions.len()
        ));
    }
    let min_gap = options.min_rating_gap;
    let make = |win: &Rated, lose: &Rated| {
        let mut meta = record_meta.clone();
        meta.insert("score_chosen".into(), json!(win.rating));
        meta.insert("score_rejected".into(), json!(lose.rating));
        if let (Some(w), Some(l)) = (&win.model, &lose.model) {
            meta.insert("model_chosen".into(), json!(w));
            meta.insert("model_rejected".into(), json!(l));
        }
        meta.insert("source_record".into(), json!(record));
        let mut pair = PreferencePair::new(0, prompt, win.text.clone(), lose.text.clone());
        pair.meta = meta;
        pair
    };
    let mut parsed = Parsed::default();
    match options.pairing {
        Pairing::BestVsRandom => {
            let mut best = 0;
            for (i, c) in completions.iter().enumerate() {
                if c.rating > completions[best].rating {
                    best = i;
                }
            }
            let lower: Vec<usize> = (0..completions.len())
                .filter(|&i| gap_counts(completions[best].rating - completions[i].rating, min_gap))
                .collect();
            if lower.is_empty() {
                parsed.ties += 1;
            } else {
                let pick =
                    Rng::derived(options.seed, &format!("rated-pair-{record}")).below(lower.len());
                parsed
                    .pairs
                    .push(make(&completions[best], &completions[lower[pick]]));
            }
        }
        Pairing::AllPairs => {
            for i in 0..completions.len() {
                for j in i + 1..completions.len() {
                    let (a, b) = (&completions[i], &completions[j]);
                    if gap_counts(a.rating - b.rating, min_gap) {
                        parsed.pairs.push(make(a, b));
                    } else if gap_counts(b.rating - a.rating, min_gap) {
                        parsed.pairs.push(make(b, a));
                    } else {
                        parsed.ties += 1;
                    }
                }
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rated(ratings: &[f64]) -> Vec<Rated> {
        ratings
            .iter()
            .enumerate()
            .map(|(i, &rating)| Rated {
                text: format!("c{i}"),
                rating,
                model: None,
            })
            .collect()
    }

    fn options(pairing: Pairing, min_rating_gap: f64) -> ParseOptions {
        ParseOptions {
            pairing,
            min_rating_gap,
            ..ParseOptions::default()
        }
    }

    #[test]
    fn best_vs_random_never_pairs_equal_ratings() {
        let meta = Map::new();
        let parsed = pairs_from_ratings(
            "p",
            &rated(&[3.0, 5.0, 5.0, 1.0]),
            &meta,
            &options(Pairing::BestVsRandom, 0.0),
            0,
        )
        .unwrap();
        assert_eq!(parsed.pairs.len(), 1);
        assert_eq!(parsed.pairs[0].chosen, "c1");
        assert!(["c0", "c3"].contains(&parsed.pairs[0].rejected.as_str()));
        assert_eq!(parsed.pairs[0].meta["score_chosen"], json!(5.0));
        let tie = pairs_from_ratings(
            "p",
            &rated(&[2.0, 2.0]),
            &meta,
            &options(Pairing::BestVsRandom, 0.0),
            0,
        )
        .unwrap();
        assert_eq!((tie.pairs.len(), tie.ties), (0, 1));
        let near = pairs_from_ratings(
            "p",
            &rated(&[2.0, 1.5]),
            &meta,
            &options(Pairing::BestVsRandom, 1.0),
            0,
        )
        .unwrap();
        assert_eq!((near.pairs.len(), near.ties), (0, 1));
    }

    #[test]
    fn all_pairs_orients_each_pair_and_counts_ties() {
        let parsed = pairs_from_ratings(
            "p",
            &rated(&[1.0, 3.0, 1.0]),
            &Map::new(),
            &options(Pairing::AllPairs, 0.0),
            4,
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = parsed
            .pairs
            .iter()
            .map(|p| (p.chosen.as_str(), p.rejected.as_str()))
            .collect();
        assert_eq!(pairs, [("c1", "c0"), ("c1", "c2")]);
        assert_eq!(parsed.ties, 1);
        assert_eq!(parsed.pairs[0].meta["source_record"], json!(4));
        assert!(
            pairs_from_ratings(
                "p",
                &rated(&[1.0]),
                &Map::new(),
                &options(Pairing::AllPairs, 0.0),
                0
            )
            .is_err()
        );
    }
}
