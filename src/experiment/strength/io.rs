//! Strength results on disk: `strength.csv` (one row per input pair, input order) and the TRL
//! export (prompt/chosen/rejected with the flip applied and a `margin` column).
use std::collections::HashMap;

use super::report::StrengthTable;
use crate::data::PreferencePair;
use crate::rm::denoise::DenoiseSpec;

/// The header of `strength.csv`.
pub const CSV_HEADER: &str = "index,mu,sigma,band";

/// One row of `strength.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrengthRow {
    /// The pair's input index.
    pub index: usize,
    /// Ensemble mean gap.
    pub mu: f32,
    /// Ensemble population std.
    pub sigma: f32,
    /// Band by μ (0 = lowest).
    pub band: usize,
}

/// `strength.csv` text of a table.
pub fn to_csv(table: &StrengthTable) -> String {
    let mut out = String::with_capacity(table.index.len() * 32 + 32);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for i in 0..table.index.len() {
        out.push_str(&format!(
            "{},{},{},{}\n",
            table.index[i], table.mu[i], table.sigma[i], table.band[i]
        ));
    }
    out
}

/// Parse `strength.csv`; errors name the file, the line and the fix.
pub fn parse_csv(text: &str, source: &str) -> Result<Vec<StrengthRow>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == CSV_HEADER => {}
        Some((_, h)) => {
            return Err(format!(
                "{source}: line 1 is '{h}', expected the header '{CSV_HEADER}'; pass the strength.csv that `rlhf-lab strength` wrote"
            ));
        }
        None => return Err(format!("{source} is empty; run `rlhf-lab strength` first")),
    }
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("{source}: line {}: {what} in '{line}'", n + 1);
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 4 {
            return Err(bad("expected 4 comma-separated fields"));
        }
        let row = StrengthRow {
            index: f[0]
                .trim()
                .parse()
                .map_err(|_| bad("index is not a whole number"))?,
            mu: f[1].trim().parse().map_err(|_| bad("mu is not a number"))?,
            sigma: f[2]
                .trim()
                .parse()
                .map_err(|_| bad("sigma is not a number"))?,
            band: f[3]
                .trim()
                .parse()
                .map_err(|_| bad("band is not a whole number"))?,
        };
        if !row.mu.is_finite() {
            return Err(bad("mu is not finite"));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// μ per input index, and where it came from: what a strength run hands to a denoising run
/// (read from a `strength.csv`, or straight from a strength run in the app).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrengthMu {
    /// Input index of each pair.
    pub index: Vec<usize>,
    /// μ of each pair.
    pub mu: Vec<f32>,
    /// Where it came from, for messages (a file name, "the strength tab").
    pub source: String,
}

impl StrengthMu {
    /// From the rows of a `strength.csv`.
    pub fn from_rows(rows: &[StrengthRow], source: &str) -> Self {
        Self {
            index: rows.iter().map(|r| r.index).collect(),
            mu: rows.iter().map(|r| r.mu).collect(),
            source: source.into(),
        }
    }
}

/// μ of every pair, in the order of `pairs`, matched by input index. A pair without a μ is an
/// error naming it and the source, never a silent zero.
pub fn mu_by_position(pairs: &[PreferencePair], strength: &StrengthMu) -> Result<Vec<f32>, String> {
    let by_index: HashMap<usize, f32> = strength
        .index
        .iter()
        .copied()
        .zip(strength.mu.iter().copied())
        .collect();
    pairs
        .iter()
        .map(|p| {
            by_index.get(&p.index).copied().ok_or_else(|| {
                format!(
                    "pair {} has no row in {}: the data and the strength run differ; rerun `strength` on this data",
                    p.index, strength.source
                )
            })
        })
        .collect()
}

/// TRL standard JSONL of `pairs` with `spec`'s flips applied and a `margin` column (λ·μ in the
/// orientation written). Every pair needs a strength row
/// (matched by input index): a missing one is an error, never a silent zero.
pub fn export_trl(
    pairs: &[PreferencePair],
    rows: &[StrengthRow],
    spec: &DenoiseSpec,
) -> Result<(String, usize), String> {
    let mu = mu_by_position(pairs, &StrengthMu::from_rows(rows, "strength.csv"))?;
    let index: Vec<usize> = pairs.iter().map(|p| p.index).collect();
    let targets = spec.targets(&mu, &index)?;
    let mut out = String::new();
    let mut flipped = 0;
    for (p, t) in pairs.iter().zip(&targets) {
        let (chosen, rejected) = if t.flip {
            flipped += 1;
            (&p.rejected, &p.chosen)
        } else {
            (&p.chosen, &p.rejected)
        };
        let row = serde_json::json!({
            "prompt": p.prompt,
            "chosen": chosen,
            "rejected": rejected,
            "margin": t.margin,
            "flipped": t.flip,
            "source_index": p.index,
        });
        out.push_str(&row.to_string());
        out.push('\n');
    }
    Ok((out, flipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_and_bad_lines_are_named() {
        let table = StrengthTable {
            index: vec![0, 2],
            mu: vec![1.5, -0.25],
            sigma: vec![0.5, 0.125],
            band: vec![1, 0],
            train: vec![true, true],
        };
        let text = to_csv(&table);
        let rows = parse_csv(&text, "s.csv").unwrap();
        assert_eq!(
            rows,
            vec![
                StrengthRow {
                    index: 0,
                    mu: 1.5,
                    sigma: 0.5,
                    band: 1
                },
                StrengthRow {
                    index: 2,
                    mu: -0.25,
                    sigma: 0.125,
                    band: 0
                },
            ]
        );
        let err = parse_csv("index,mu,sigma,band\n1,x,0,0\n", "s.csv").unwrap_err();
        assert!(err.contains("line 2") && err.contains("mu"), "{err}");
        assert!(parse_csv("", "s.csv").unwrap_err().contains("empty"));
        assert!(parse_csv("a,b\n", "s.csv").unwrap_err().contains("header"));
    }

    #[test]
    fn export_flips_and_orients_the_margin() {
        let pairs = vec![
            PreferencePair::new(0, "p", "good", "bad"),
            PreferencePair::new(1, "q", "worse", "better"),
        ];
        let rows = [
            StrengthRow {
                index: 0,
                mu: 2.0,
                sigma: 0.1,
                band: 1,
            },
            StrengthRow {
                index: 1,
                mu: -1.0,
                sigma: 0.1,
                band: 0,
            },
        ];
        let spec = DenoiseSpec {
            flip: crate::rm::denoise::FlipRule::MuNegative,
            margin_scale: 1.0,
            ..Default::default()
        };
        let (text, flipped) = export_trl(&pairs, &rows, &spec).unwrap();
        assert_eq!(flipped, 1);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[1]["chosen"], "better");
        assert_eq!(lines[1]["margin"], 1.0);
        assert_eq!(lines[0]["margin"], 2.0);
        let missing = export_trl(&pairs, &rows[..1], &spec).unwrap_err();
        assert!(missing.contains("pair 1"), "{missing}");
    }
}
