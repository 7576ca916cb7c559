//! What the Iterative RLHF tab shows, folded from events (no egui here): the plan and the stage
//! in progress, each arm's PPO curve across rounds, the MetaRM reward model's training, the round
//! rows, the first reward model's Δr spread at checkpoints, the |Δr| histograms, the feature map
//! and the head-to-head.
use std::collections::BTreeMap;

use super::strength_view::JobProgress;
use crate::experiment::ppo::PpoStep;
use crate::experiment::rlhf::RlhfEvent;
use crate::experiment::rlhf::report::{
    FeaturePoint, HeadToHead, HistRow, RlhfReport, RoundRow, SpreadRow,
};
use crate::experiment::{Event, KindEvent};

/// The tab's state.
#[derive(Clone, Debug, Default)]
pub struct RlhfView {
    /// Progress of the first reward model (and the gold model on text).
    pub progress: JobProgress,
    /// Rounds planned.
    pub rounds: usize,
    /// Arm names, in order.
    pub arms: Vec<String>,
    /// PPO iterations per round.
    pub ppo_steps: usize,
    /// The stage in progress, in words: (round, arm, what).
    pub stage: Option<(usize, String, String)>,
    /// SFT steps done and planned (transformer policy).
    pub sft: (usize, usize),
    /// RM_0's held-out accuracy, SFT's gold and the tie band, once known.
    pub start: Option<(Option<f32>, f64, f64)>,
    /// Each arm's PPO iterations: (round, metrics).
    pub curves: BTreeMap<String, Vec<(usize, PpoStep)>>,
    /// The MetaRM reward model of each round: (round, step, loss, J).
    pub rm_steps: Vec<(usize, usize, f32, Option<f32>)>,
    /// RM steps planned for the round in training.
    pub rm_total: usize,
    /// Round rows, in order.
    pub rows: Vec<RoundRow>,
    /// The first reward model's Δr at checkpoints.
    pub spread: Vec<SpreadRow>,
    /// |Δr| histograms.
    pub hist: Vec<HistRow>,
    /// The feature map and the original pairs' hull.
    pub features: Vec<FeaturePoint>,
    /// The hull.
    pub hull: Vec<[f64; 2]>,
    /// The arms' last policies against each other.
    pub head_to_head: Option<HeadToHead>,
    /// The report, once done.
    pub report: Option<RlhfReport>,
}

impl RlhfView {
    /// Fold one event in.
    pub fn apply(&mut self, event: &Event) {
        if self.progress.apply(event).is_some() {
            return;
        }
        if let Event::Kind(KindEvent::Ppo(crate::experiment::ppo::PpoEvent::Sft {
            step,
            steps,
            ..
        })) = event
        {
            self.sft = (*step, *steps);
        }
        let Event::Kind(KindEvent::Rlhf(e)) = event else {
            return;
        };
        match e {
            RlhfEvent::Setup {
                rounds,
                arms,
                ppo_steps,
                ..
            } => {
                self.rounds = *rounds;
                self.arms = arms.clone();
                self.ppo_steps = *ppo_steps;
            }
            RlhfEvent::Stage { round, arm, what } => {
                self.stage = Some((*round, arm.clone(), what.clone()));
            }
            RlhfEvent::Start {
                rm0_accuracy,
                sft_gold,
                tie_band_gold,
            } => self.start = Some((*rm0_accuracy, *sft_gold, *tie_band_gold)),
            RlhfEvent::RmStep {
                round,
                step,
                steps,
                loss,
                difference_loss,
            } => {
                self.rm_total = *steps;
                self.rm_steps.push((*round, *step, *loss, *difference_loss));
            }
            RlhfEvent::PpoStep {
                arm,
                round,
                metrics,
            } => self
                .curves
                .entry(arm.clone())
                .or_default()
                .push((*round, metrics.clone())),
            RlhfEvent::Round(row) => self.rows.push(row.clone()),
            RlhfEvent::Spread(row) => self.spread.push(row.clone()),
            RlhfEvent::Histograms { rows } => self.hist = rows.clone(),
            RlhfEvent::Features { points, hull } => {
                self.features = points.clone();
                self.hull = hull.clone();
            }
            RlhfEvent::HeadToHead(h) => self.head_to_head = Some(h.clone()),
            RlhfEvent::Done { report } => self.report = Some((**report).clone()),
        }
    }

    /// `(step, value)` of one metric of an arm's PPO iterations.
    pub fn series(&self, arm: &str, f: impl Fn(&PpoStep) -> f64) -> Vec<[f64; 2]> {
        self.curves
            .get(arm)
            .map(|c| c.iter().map(|(_, s)| [s.step as f64, f(s)]).collect())
            .unwrap_or_default()
    }

    /// Rows of one arm, in round order.
    pub fn rows_of(&self, arm: &str) -> Vec<&RoundRow> {
        self.rows.iter().filter(|r| r.arm == arm).collect()
    }

    /// Fraction of the run done: the start, then every arm's rounds.
    pub fn fraction(&self) -> f32 {
        if self.rounds == 0 || self.arms.is_empty() {
            return 0.0;
        }
        let planned = (self.rounds * self.arms.len()) as f32;
        let done = self.rows.len() as f32;
        let in_round = self
            .stage
            .as_ref()
            .and_then(|(round, arm, _)| {
                let steps = self.curves.get(arm)?;
                let this: usize = steps.iter().filter(|(r, _)| r == round).count();
                Some(this as f32 / self.ppo_steps.max(1) as f32)
            })
            .unwrap_or(0.0)
            .min(1.0);
        if self.start.is_none() {
            return 0.15 * self.progress.fraction();
        }
        (0.15 + 0.85 * (done + in_round.min(0.99)) / planned).min(1.0)
    }

    /// One line on where the run stands.
    pub fn status(&self) -> String {
        if let Some(r) = &self.report {
            return r.summary();
        }
        match &self.stage {
            Some((round, arm, what)) if *round > 0 => {
                format!("round {round}/{} · {arm}: {what}", self.rounds)
            }
            _ if self.sft.1 > 0 && self.sft.0 > 0 && self.start.is_none() => {
                format!(
                    "warming the policy up (SFT): step {}/{}",
                    self.sft.0, self.sft.1
                )
            }
            _ if self.progress.jobs > 0 && self.start.is_none() => format!(
                "training the first reward model: step {}/{}",
                self.progress.step, self.progress.steps
            ),
            _ => String::new(),
        }
    }
}

/// A violin's outline for `values` centred at `x`, its widest point `half_width` from the centre:
/// a Gaussian kernel density (Silverman's bandwidth) at 40 levels from the smallest to the largest
/// value, right side up then left side down. Empty for fewer than two distinct values.
pub fn violin(values: &[f32], x: f64, half_width: f64) -> Vec<[f64; 2]> {
    let v: Vec<f64> = values
        .iter()
        .map(|&x| f64::from(x))
        .filter(|x| x.is_finite())
        .collect();
    let n = v.len() as f64;
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if v.len() < 2 || hi <= lo {
        return Vec::new();
    }
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let bandwidth = (1.06 * sd * n.powf(-0.2)).max((hi - lo) * 1e-3);
    let levels: Vec<f64> = (0..40)
        .map(|i| lo + (hi - lo) * f64::from(i) / 39.0)
        .collect();
    let density: Vec<f64> = levels
        .iter()
        .map(|y| {
            v.iter()
                .map(|x| (-0.5 * ((y - x) / bandwidth).powi(2)).exp())
                .sum::<f64>()
        })
        .collect();
    let top = density.iter().copied().fold(0.0, f64::max).max(1e-12);
    let right = levels
        .iter()
        .zip(&density)
        .map(|(&y, &d)| [x + half_width * d / top, y]);
    let left: Vec<[f64; 2]> = levels
        .iter()
        .zip(&density)
        .rev()
        .map(|(&y, &d)| [x - half_width * d / top, y])
        .collect();
    right.chain(left).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violin_is_widest_at_the_mode_and_spans_the_values() {
        let values: Vec<f32> = [0.0f32, 1.0, 1.0, 1.0, 1.1, 0.9, 2.0].to_vec();
        let outline = violin(&values, 10.0, 0.5);
        assert_eq!(outline.len(), 80);
        let widest = outline
            .iter()
            .take(40)
            .max_by(|a, b| a[0].total_cmp(&b[0]))
            .unwrap();
        assert!((widest[0] - 10.5).abs() < 1e-12, "the full half-width");
        assert!((widest[1] - 1.0).abs() < 0.15, "at the mode: {widest:?}");
        assert_eq!((outline[0][1], outline[39][1]), (0.0, 2.0));
        assert!(outline[40..].iter().all(|p| p[0] <= 10.0), "the left side");
        assert!(violin(&[1.0, 1.0], 0.0, 1.0).is_empty());
    }
}
