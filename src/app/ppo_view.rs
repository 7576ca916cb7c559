//! What the PPO panel shows, folded from events (no egui here): the curves, the best-of-n
//! curve, the reward distributions at checkpoints, samples, one response token by token, the
//! collapse flags and the report; and the proxy stage's progress.
use super::strength_view::JobProgress;
use crate::experiment::ppo::PpoReport;
use crate::experiment::ppo::bon::BonPoint;
use crate::experiment::ppo::event::{SampleView, TokenView};
use crate::experiment::ppo::{PpoEvent, PpoStep};
use crate::experiment::{Event, KindEvent};

/// The batch's rewards at one checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// Iteration.
    pub step: usize,
    /// Proxy scores.
    pub proxy: Vec<f32>,
    /// Gold rewards.
    pub gold: Vec<f32>,
}

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct PpoView {
    /// The proxy stage's progress.
    pub progress: JobProgress,
    /// The proxy's held-out accuracy against gold, once trained.
    pub proxy_accuracy: Option<f32>,
    /// Iterations planned.
    pub steps: usize,
    /// One row per iteration.
    pub curves: Vec<PpoStep>,
    /// Best-of-n from the reference policy.
    pub best_of_n: Vec<BonPoint>,
    /// Reward distributions at checkpoints (the first is the reference policy).
    pub checkpoints: Vec<Checkpoint>,
    /// The latest samples.
    pub samples: Vec<SampleView>,
    /// The latest sample token by token.
    pub tokens: Vec<TokenView>,
    /// Flagged iterations.
    pub collapse_steps: Vec<usize>,
    /// The final report.
    pub report: Option<PpoReport>,
    /// `(step, loss)` of the transformer policy's SFT, and the steps planned.
    pub sft: Vec<[f64; 2]>,
    /// SFT steps planned.
    pub sft_steps: usize,
}

impl PpoView {
    /// Fold one event in.
    pub fn apply(&mut self, event: &Event) {
        if self.progress.apply(event).is_some() {
            return;
        }
        let Event::Kind(KindEvent::Ppo(e)) = event else {
            return;
        };
        match e {
            PpoEvent::Setup {
                proxy_validation_accuracy,
                steps,
                ..
            } => {
                self.proxy_accuracy = *proxy_validation_accuracy;
                self.steps = *steps;
            }
            PpoEvent::Sft { step, steps, loss } => {
                self.sft.push([*step as f64, f64::from(*loss)]);
                self.sft_steps = *steps;
            }
            PpoEvent::Step(s) => self.curves.push(s.clone()),
            PpoEvent::BestOfN { points } => self.best_of_n = points.clone(),
            PpoEvent::Checkpoint { step, proxy, gold } => self.checkpoints.push(Checkpoint {
                step: *step,
                proxy: proxy.clone(),
                gold: gold.clone(),
            }),
            PpoEvent::Samples {
                samples, tokens, ..
            } => {
                self.samples = samples.clone();
                self.tokens = tokens.clone();
            }
            PpoEvent::Collapse { step, .. } => self.collapse_steps.push(*step),
            PpoEvent::Done { report } => self.report = Some((**report).clone()),
        }
    }

    /// `(x, y)` points of one metric per iteration.
    pub fn series(
        &self,
        x: impl Fn(&PpoStep) -> f64,
        y: impl Fn(&PpoStep) -> f64,
    ) -> Vec<[f64; 2]> {
        self.curves.iter().map(|s| [x(s), y(s)]).collect()
    }

    /// Fraction of the run done: the proxy stage, then the iterations.
    pub fn fraction(&self) -> f32 {
        if self.steps == 0 {
            return 0.5 * self.progress.fraction();
        }
        0.5 + 0.5 * (self.curves.len() as f32 / self.steps as f32).min(1.0)
    }
}

/// The five-number summary (min, q1, median, q3, max) of a sample.
pub fn quartiles(xs: &[f32]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = xs
        .iter()
        .map(|&x| f64::from(x))
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Some([at(0.0), at(0.25), at(0.5), at(0.75), at(1.0)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_by_hand_and_events_fold_in() {
        assert_eq!(
            quartiles(&[4.0, 1.0, 3.0, 2.0, 5.0]),
            Some([1.0, 2.0, 3.0, 4.0, 5.0])
        );
        assert_eq!(quartiles(&[]), None);
        let mut v = PpoView::default();
        v.apply(
            &PpoEvent::Setup {
                data: "w".into(),
                proxy_validation_accuracy: Some(0.9),
                gold_validation_accuracy: None,
                critic_init: "zero".into(),
                steps: 4,
                rollouts: 8,
            }
            .into(),
        );
        v.apply(&PpoEvent::Step(PpoStep::default()).into());
        v.apply(
            &PpoEvent::Collapse {
                step: 0,
                signals: vec![1, 3],
            }
            .into(),
        );
        assert_eq!(
            (v.steps, v.curves.len(), v.collapse_steps.clone()),
            (4, 1, vec![0])
        );
        assert!((v.fraction() - 0.625).abs() < 1e-6);
    }
}
