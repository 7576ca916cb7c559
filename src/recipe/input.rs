//! What a recipe is made from: the run's config, and its pairs as they should train elsewhere —
//! with the strength-based flip and a margin where the run measured strength (a `strength` or
//! `denoise` run), with the file's own margins where the run read them, plain otherwise.
use serde::Serialize;

use super::plan::{Plan, RunKind};
use crate::data::PreferencePair;
use crate::experiment::denoise::DenoiseConfig;
use crate::experiment::denoise::config::Method;
use crate::experiment::strength::io::{StrengthMu, StrengthRow, mu_by_position};
use crate::rm::denoise::{DenoiseSpec, FlipRule};

/// One pair in TRL's standard layout (`margin` only where the run had one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrlRow {
    /// The prompt.
    pub prompt: String,
    /// The preferred response.
    pub chosen: String,
    /// The other response.
    pub rejected: String,
    /// The margin of Bradley–Terry with margin (TRL's `RewardTrainer` reads this column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f32>,
}

/// A run, ready to become a recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct RecipeInput {
    /// The run's config as its report wrote it (`data`, `seed`, `backend`, `experiment` with
    /// its `kind`).
    pub config: serde_json::Value,
    /// The pairs to train on elsewhere.
    pub rows: Vec<TrlRow>,
    /// Distinct prompts in input order (the policy stage's prompt set), repeated in order when
    /// there are fewer than one rollout batch.
    pub prompts: Vec<String>,
    /// Pairs whose labels the strength-based flip swapped.
    pub flipped: usize,
    /// One sentence on how the pairs were written (flip, margin, as read).
    pub data_note: String,
}

impl RecipeInput {
    /// From a run's config and its pairs (input order), with the margins a `margin_field` gave
    /// (parallel to `pairs`) and the rows of the run's `strength.csv` (a `strength` or `denoise`
    /// run needs them: its flips and margins come from μ).
    pub fn from_parts(
        config: serde_json::Value,
        pairs: &[PreferencePair],
        field_margins: Option<&[f32]>,
        strength: Option<&[StrengthRow]>,
    ) -> Result<Self, String> {
        let plan = Plan::from_config(&config)?;
        if pairs.is_empty() {
            return Err("the run's data has no pairs: nothing to write".into());
        }
        let spec = match plan.kind {
            // What `export` writes by default: flip μ < 0, margin = μ.
            RunKind::Strength => Some(DenoiseSpec {
                flip: FlipRule::MuNegative,
                margin_scale: 1.0,
                ..Default::default()
            }),
            RunKind::Denoise => {
                let denoise: DenoiseConfig = serde_json::from_value(plan.experiment.clone())
                    .map_err(|e| format!("the run's denoise config: {e}"))?;
                Some(denoise.spec(Method::FlipMargin))
            }
            _ => None,
        };
        let (rows, flipped, data_note) = match (spec, strength) {
            (Some(spec), Some(table)) => {
                if config["data"]["inject_flip_rate"].as_f64().unwrap_or(0.0) > 0.0 {
                    return Err("this run injected flips on purpose (a test of the method): its μ describes swapped pairs; rerun it without --inject-flip-rate to take it further".into());
                }
                let mu = mu_by_position(pairs, &StrengthMu::from_rows(table, "strength.csv"))?;
                let index: Vec<usize> = pairs.iter().map(|p| p.index).collect();
                let targets = spec.targets(&mu, &index)?;
                let mut flipped = 0;
                let rows: Vec<TrlRow> = pairs
                    .iter()
                    .zip(&targets)
                    .map(|(p, t)| {
                        flipped += usize::from(t.flip);
                        let (chosen, rejected) = if t.flip {
                            (&p.rejected, &p.chosen)
                        } else {
                            (&p.chosen, &p.rejected)
                        };
                        TrlRow {
                            prompt: p.prompt.clone(),
                            chosen: chosen.clone(),
                            rejected: rejected.clone(),
                            margin: Some(t.margin),
                        }
                    })
                    .collect();
                let note = format!(
                    "{flipped} of {} pairs flipped by preference strength ({}), margin = {}·μ in the written orientation{}",
                    pairs.len(),
                    flip_words(spec.flip),
                    spec.margin_scale,
                    if spec.margin_clamp {
                        ", clamped at 0"
                    } else {
                        ""
                    }
                );
                (rows, flipped, note)
            }
            (Some(_), None) => {
                return Err(format!(
                    "a {} run's pairs are flipped and margined by their strength, but its strength.csv is missing: pass the folder `{}` wrote",
                    plan.kind.command(),
                    plan.kind.command()
                ));
            }
            (None, _) => {
                if let Some(m) = field_margins
                    && m.len() != pairs.len()
                {
                    return Err(format!(
                        "{} margins for {} pairs: the margin field must give one per pair",
                        m.len(),
                        pairs.len()
                    ));
                }
                let rows = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| TrlRow {
                        prompt: p.prompt.clone(),
                        chosen: p.chosen.clone(),
                        rejected: p.rejected.clone(),
                        margin: field_margins.map(|m| m[i]),
                    })
                    .collect();
                let note = match field_margins {
                    Some(_) => "the pairs as the run read them, with the margins of its margin field".to_string(),
                    None => "the pairs as the run read them (this run measured no strength, so no margin column)".to_string(),
                };
                (rows, 0, note)
            }
        };
        let mut prompts: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for p in pairs {
            if seen.insert(p.prompt.as_str()) {
                prompts.push(p.prompt.clone());
            }
        }
        // A rollout batch drops its short tail in TRL and OpenRLHF: with fewer prompts than one
        // batch takes (the synthetic world has a few topics) no step would run. The lab samples
        // prompts with replacement; the file repeats them in order to fill one batch.
        let batch = plan.ppo.rollouts.max(1);
        if prompts.len() < batch {
            let distinct = prompts.clone();
            while prompts.len() < batch {
                prompts.extend(distinct.iter().cloned());
            }
        }
        if let Some(i) = rows
            .iter()
            .position(|r| r.margin.is_some_and(|m| !m.is_finite()))
        {
            return Err(format!(
                "pair {} has no finite margin ({:?}): recompute its strength or fix its margin field",
                pairs[i].index, rows[i].margin
            ));
        }
        Ok(Self {
            config,
            rows,
            prompts,
            flipped,
            data_note,
        })
    }

    /// Whether the pairs carry a margin column.
    pub fn has_margin(&self) -> bool {
        self.rows.first().is_some_and(|r| r.margin.is_some())
    }

    /// `data/pairs.jsonl`.
    pub fn pairs_jsonl(&self) -> String {
        lines(&self.rows)
    }

    /// `data/prompts.jsonl` (`{"prompt": …}` per line).
    pub fn prompts_jsonl(&self) -> String {
        let rows: Vec<_> = self
            .prompts
            .iter()
            .map(|p| serde_json::json!({ "prompt": p }))
            .collect();
        lines(&rows)
    }

    /// Read a run folder: its `report.json`'s config, its data (loaded again as the run loaded
    /// it) and, for `strength` and `denoise`, its `strength.csv`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_run_dir(dir: &std::path::Path) -> Result<Self, String> {
        use crate::experiment::DataConfig;
        use crate::experiment::prepare::{load_pairs, numeric_fields};
        let report_path = dir.join("report.json");
        let text = std::fs::read_to_string(&report_path).map_err(|e| {
            format!(
                "{} is not a run folder: could not read {} ({e}). Pass a folder that train-rm, strength, denoise, ppo, metarm or rlhf wrote with --out",
                dir.display(),
                report_path.display()
            )
        })?;
        let report: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON ({e})", report_path.display()))?;
        let config = report.get("config").cloned().ok_or_else(|| {
            format!(
                "{} has no \"config\": it was not written by a run of this version; rerun the run",
                report_path.display()
            )
        })?;
        let plan =
            Plan::from_config(&config).map_err(|e| format!("{}: {e}", report_path.display()))?;
        let data: DataConfig = serde_json::from_value(config["data"].clone())
            .map_err(|e| format!("{}: the run's data config: {e}", report_path.display()))?;
        let (pairs, _) = load_pairs(&data, None).map_err(|e| e.to_string())?;
        let (margins, _) = numeric_fields(&data, &pairs).map_err(|e| e.to_string())?;
        let strength = match plan.kind {
            RunKind::Strength | RunKind::Denoise => {
                let path = dir.join("strength.csv");
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "could not read {} ({e}): a {} run writes it; rerun `{}` with --out",
                        path.display(),
                        plan.kind.command(),
                        plan.kind.command()
                    )
                })?;
                Some(crate::experiment::strength::io::parse_csv(
                    &text,
                    &path.display().to_string(),
                )?)
            }
            _ => None,
        };
        Self::from_parts(config, &pairs, margins.as_deref(), strength.as_deref())
    }
}

fn flip_words(flip: FlipRule) -> String {
    match flip {
        FlipRule::None => "no flip".into(),
        FlipRule::MuNegative => "μ < 0".into(),
        FlipRule::Bottom { fraction } => format!("the lowest {fraction} by μ"),
    }
}

fn lines<T: Serialize>(rows: &[T]) -> String {
    let mut out = String::new();
    for row in rows {
        // Plain strings and numbers: serializing cannot fail.
        out.push_str(&serde_json::to_string(row).unwrap_or_default());
        out.push('\n');
    }
    out
}
