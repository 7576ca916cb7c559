//! Reading a pair's kept record fields (its `meta`) as inputs: a number for a margin or a
//! strength, a boolean or a numeric comparison for a truth label (`meta.flipped`,
//! `GPT4 label==0`, `mean preference difference<0`).
use serde_json::Value;

use super::formats::value;
use super::pair::PreferencePair;

/// A comparison operator of a truth rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

impl Comparison {
    fn holds(self, x: f64, threshold: f64) -> bool {
        match self {
            Comparison::Less => x < threshold,
            Comparison::LessOrEqual => x <= threshold,
            Comparison::Greater => x > threshold,
            Comparison::GreaterOrEqual => x >= threshold,
            Comparison::Equal => x == threshold,
            Comparison::NotEqual => x != threshold,
        }
    }
}

/// Which pairs are known to be mislabeled: a boolean field (`meta.flipped`), or a numeric field
/// compared with a number (`GPT4 label==0`). The path may hold spaces and dots.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthRule {
    /// Dotted path into the record's kept fields.
    pub path: String,
    /// The comparison, when the field is a number.
    pub comparison: Option<(Comparison, f64)>,
}

impl TruthRule {
    /// Parses `PATH` or `PATH OP NUMBER` with OP one of `< <= > >= == !=`.
    pub fn parse(rule: &str) -> Result<Self, String> {
        let Some(at) = rule.find(['<', '>', '=', '!']) else {
            let path = rule.trim();
            if path.is_empty() {
                return Err("the rule is empty; give a dotted path such as meta.flipped".into());
            }
            return Ok(Self {
                path: path.to_owned(),
                comparison: None,
            });
        };
        let (path, rest) = rule.split_at(at);
        let (comparison, number) = [
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("==", Comparison::Equal),
            ("!=", Comparison::NotEqual),
            ("<", Comparison::Less),
            (">", Comparison::Greater),
        ]
        .into_iter()
        .find_map(|(op, c)| rest.strip_prefix(op).map(|n| (c, n)))
        .ok_or_else(|| {
            format!("'{rule}': use one of < <= > >= == != between the field and a number")
        })?;
        let threshold: f64 = number.trim().parse().map_err(|_| {
            format!(
                "'{rule}': '{}' is not a number; write e.g. \"GPT4 label==0\"",
                number.trim()
            )
        })?;
        let path = path.trim();
        if path.is_empty() || !threshold.is_finite() {
            return Err(format!(
                "'{rule}': write FIELD OP NUMBER, e.g. \"mean preference difference<0\""
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            comparison: Some((comparison, threshold)),
        })
    }

    /// Whether `pair` is marked mislabeled; the error names the pair and the field.
    pub fn mislabeled(&self, pair: &PreferencePair) -> Result<bool, String> {
        let value = field_at(pair, &self.path)?;
        match (self.comparison, value) {
            (None, Value::Bool(b)) => Ok(*b),
            (None, other) => Err(format!(
                "pair at index {}: truth field '{}' is {}, not true/false; point --truth-field at a \
                 boolean, or compare a number (\"{}==0\")",
                pair.index,
                self.path,
                value::kind(other),
                self.path
            )),
            (Some((comparison, threshold)), value) => {
                let x = value::number(
                    value,
                    &format!("pair at index {}: truth field '{}'", pair.index, self.path),
                )?;
                Ok(comparison.holds(x, threshold))
            }
        }
    }
}

/// The value at a dotted path in a pair's kept fields (a key holding dots or spaces is found
/// whole first).
pub fn field_at<'a>(pair: &'a PreferencePair, path: &str) -> Result<&'a Value, String> {
    pair.meta
        .get(path)
        .or_else(|| value::at_path(&pair.meta, path))
        .ok_or_else(|| {
            let keys: Vec<&str> = pair.meta.keys().map(String::as_str).take(12).collect();
            format!(
                "pair at index {} (0-based, in file order): field '{path}' is missing; every \
                 record needs it (fields kept: {})",
                pair.index,
                if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                }
            )
        })
}

/// The finite number at `path` in every pair, in order; the error names the first pair
/// without one.
pub fn numbers_at(pairs: &[PreferencePair], path: &str) -> Result<Vec<f32>, String> {
    pairs
        .iter()
        .map(|pair| {
            let what = format!("pair at index {}: field '{path}'", pair.index);
            value::number(field_at(pair, path)?, &what).map(|x| x as f32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pair(meta: Value) -> PreferencePair {
        let mut pair = PreferencePair::new(3, "p", "c", "r");
        pair.meta = meta.as_object().cloned().unwrap_or_default();
        pair
    }

    #[test]
    fn rules_parse_paths_with_spaces_and_comparisons() {
        let rule = TruthRule::parse("GPT4 label==0").unwrap();
        assert_eq!(rule.path, "GPT4 label");
        assert_eq!(rule.comparison, Some((Comparison::Equal, 0.0)));
        let rule = TruthRule::parse("mean preference difference <= -0.5").unwrap();
        assert_eq!(rule.comparison, Some((Comparison::LessOrEqual, -0.5)));
        assert_eq!(TruthRule::parse("meta.flipped").unwrap().comparison, None);
        assert!(
            TruthRule::parse("x<abc")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(TruthRule::parse("x=1").unwrap_err().contains("use one of"));
        assert!(TruthRule::parse("<1").is_err());
    }

    #[test]
    fn rules_read_booleans_and_compare_numbers() {
        let p = pair(json!({"GPT4 label": 0, "meta": {"flipped": true}, "s": "0.5"}));
        assert_eq!(
            TruthRule::parse("GPT4 label==0").unwrap().mislabeled(&p),
            Ok(true)
        );
        assert_eq!(
            TruthRule::parse("meta.flipped").unwrap().mislabeled(&p),
            Ok(true)
        );
        assert_eq!(TruthRule::parse("s>0.4").unwrap().mislabeled(&p), Ok(true));
        let error = TruthRule::parse("GPT4 label")
            .unwrap()
            .mislabeled(&p)
            .unwrap_err();
        assert!(
            error.contains("not true/false") && error.contains("index 3"),
            "{error}"
        );
        let missing = TruthRule::parse("x<0").unwrap().mislabeled(&p).unwrap_err();
        assert!(missing.contains("'x' is missing"), "{missing}");
        assert_eq!(numbers_at(std::slice::from_ref(&p), "s"), Ok(vec![0.5]));
        assert!(
            numbers_at(&[p], "meta")
                .unwrap_err()
                .contains("expected a number")
        );
    }
}
