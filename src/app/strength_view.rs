//! What the Preference-strength panel shows, folded from events (no egui here): the pairs,
//! μ and σ as the ensemble grows, band-alone results and the final report, plus the derived
//! views (training-pair statistics, groups, PR curve, extreme pairs).
use crate::experiment::strength::PairView;
use crate::experiment::strength::{BandResult, StrengthReport};
use crate::experiment::{Event, KindEvent, Phase, RmEvent, StrengthEvent};
use crate::rm::strength::{PreferenceStrength, auroc, pr_curve};

/// Progress of the current run inside a multi-run experiment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobProgress {
    /// 0-based run index (for stacked runs: the stack's index).
    pub job: usize,
    /// Runs in this phase (for stacked runs: the number of stacks).
    pub jobs: usize,
    /// What the run is.
    pub phase: Option<Phase>,
    /// Its name ([`Phase::label`]).
    pub label: String,
    /// Its steps done (a stack's steps train all its runs).
    pub step: usize,
    /// Its steps in total.
    pub steps: usize,
}

impl JobProgress {
    /// Fold in a job event; returns the inner event.
    pub fn apply<'a>(&mut self, event: &'a Event) -> Option<&'a Event> {
        let Event::Job {
            job,
            jobs,
            phase,
            inner,
        } = event
        else {
            return None;
        };
        // While stacked runs train, their own evaluations and results (each under its run's
        // phase) leave the stack's progress alone; anything else of another run switches to it.
        let progress_event = matches!(
            inner.as_ref(),
            Event::Started { .. } | Event::Kind(KindEvent::Rm(RmEvent::Step { .. }))
        );
        let stacked = matches!(self.phase, Some(Phase::Stacked { .. }));
        let other = *job != self.job || self.phase.as_ref() != Some(phase);
        if other && (progress_event || !stacked) {
            *self = JobProgress {
                job: *job,
                jobs: *jobs,
                phase: Some(phase.clone()),
                label: phase.label(),
                ..Default::default()
            };
        }
        if self.phase.as_ref() == Some(phase) {
            match inner.as_ref() {
                Event::Started { total_steps, .. } => self.steps = *total_steps,
                Event::Kind(KindEvent::Rm(RmEvent::Step { step, .. })) => self.step = *step,
                _ => {}
            }
        }
        Some(inner)
    }

    /// Fraction of the phase done.
    pub fn fraction(&self) -> f32 {
        if self.jobs == 0 {
            return 0.0;
        }
        let within = if self.steps > 0 {
            self.step as f32 / self.steps as f32
        } else {
            0.0
        };
        ((self.job as f32 + within) / self.jobs as f32).clamp(0.0, 1.0)
    }
}

/// The panel's state.
#[derive(Clone, Debug, Default)]
pub struct StrengthView {
    /// Every pair (positions as μ uses them).
    pub pairs: Vec<PairView>,
    /// Known mislabels.
    pub mislabeled: Option<Vec<bool>>,
    /// Where they come from.
    pub truth_source: Option<String>,
    /// μ per position (latest ensemble).
    pub mu: Vec<f32>,
    /// σ per position.
    pub sigma: Vec<f32>,
    /// Members done / ensemble size.
    pub members: (usize, usize),
    /// `(step, steps)` while μ and σ are a snapshot of members still training.
    pub snapshot: Option<(usize, usize)>,
    /// Current run.
    pub progress: JobProgress,
    /// Live band-alone validation curves: one per band as it trains.
    pub band_curves: Vec<Vec<[f64; 2]>>,
    /// Finished bands.
    pub bands: Vec<BandResult>,
    /// The final report.
    pub report: Option<StrengthReport>,
    /// Training positions.
    pub train: Vec<usize>,
    /// (mean μ, mean σ) of 20 groups of training pairs.
    pub groups: Vec<(f32, f32)>,
    /// PR curve over training pairs, when truth is known.
    pub pr: Vec<(f32, f32)>,
    /// AUROC of −μ over training pairs, when truth is known.
    pub auroc: Option<f32>,
}

impl StrengthView {
    /// Fold one event in.
    pub fn apply(&mut self, event: &Event) {
        if let Some(inner) = self.progress.apply(event) {
            let phase = match event {
                Event::Job { phase, .. } => Some(phase),
                _ => None,
            };
            if let (
                Event::Kind(KindEvent::Rm(RmEvent::Eval {
                    step,
                    validation_accuracy,
                    ..
                })),
                Some(Phase::Band { band, .. }),
            ) = (inner, phase)
            {
                if self.band_curves.len() <= *band {
                    self.band_curves.resize(band + 1, Vec::new());
                }
                self.band_curves[*band].push([*step as f64, f64::from(*validation_accuracy)]);
            }
            return;
        }
        let Some(KindEvent::Strength(event)) = event.kind() else {
            return;
        };
        match event {
            StrengthEvent::Pairs {
                pairs,
                mislabeled,
                truth_source,
            } => {
                self.train = pairs
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.train)
                    .map(|(i, _)| i)
                    .collect();
                self.pairs = pairs.clone();
                self.mislabeled = mislabeled.clone();
                self.truth_source = truth_source.clone();
            }
            StrengthEvent::Update {
                members,
                models,
                mu,
                sigma,
            } => {
                self.members = (*members, *models);
                self.snapshot = None;
                self.mu = mu.clone();
                self.sigma = sigma.clone();
                self.derive();
            }
            StrengthEvent::Snapshot {
                step,
                steps,
                mu,
                sigma,
                ..
            } => {
                self.snapshot = Some((*step, *steps));
                self.mu = mu.clone();
                self.sigma = sigma.clone();
                self.derive();
            }
            StrengthEvent::BandDone { result } => self.bands.push(result.clone()),
            StrengthEvent::Done { report } => self.report = Some(report.as_ref().clone()),
        }
    }

    /// μ of the training pairs.
    pub fn train_mu(&self) -> Vec<f32> {
        self.train
            .iter()
            .filter_map(|&p| self.mu.get(p).copied())
            .collect()
    }

    /// σ of the training pairs.
    pub fn train_sigma(&self) -> Vec<f32> {
        self.train
            .iter()
            .filter_map(|&p| self.sigma.get(p).copied())
            .collect()
    }

    fn derive(&mut self) {
        let s = PreferenceStrength {
            mu: self.train_mu(),
            sigma: self.train_sigma(),
        };
        self.groups = s.groups(20);
        if let Some(m) = &self.mislabeled {
            let truth: Vec<bool> = self.train.iter().map(|&p| m[p]).collect();
            let step = (truth.len() / 200).max(1);
            self.pr = pr_curve(&s.mu, &truth, step);
            let neg: Vec<f32> = s.mu.iter().map(|x| -x).collect();
            self.auroc = Some(auroc(&neg, &truth)).filter(|a| a.is_finite());
        }
    }

    /// Training positions sorted by a key, first `k` (for the tables).
    pub fn extremes(&self, k: usize, by_sigma: bool) -> Vec<usize> {
        let mut order = self.train.clone();
        order.retain(|&p| p < self.mu.len());
        if by_sigma {
            order.sort_by(|&a, &b| self.sigma[b].total_cmp(&self.sigma[a]));
        } else {
            order.sort_by(|&a, &b| self.mu[a].total_cmp(&self.mu[b]));
        }
        order.truncate(k);
        order
    }

    /// Training positions whose value (μ or σ) falls in `[lo, hi)`.
    pub fn in_range(&self, lo: f64, hi: f64, sigma: bool) -> Vec<usize> {
        let v = if sigma { &self.sigma } else { &self.mu };
        self.train
            .iter()
            .copied()
            .filter(|&p| {
                v.get(p)
                    .is_some_and(|&x| f64::from(x) >= lo && f64::from(x) < hi)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(i: usize, train: bool) -> PairView {
        PairView {
            index: i,
            prompt: format!("p{i}"),
            chosen: "c".into(),
            rejected: "r".into(),
            train,
        }
    }

    #[test]
    fn view_folds_pairs_strength_and_bands() {
        let mut v = StrengthView::default();
        v.apply(
            &StrengthEvent::Pairs {
                pairs: vec![pair(0, true), pair(1, true), pair(2, false)],
                mislabeled: Some(vec![true, false, false]),
                truth_source: Some("gold reward".into()),
            }
            .into(),
        );
        v.apply(
            &StrengthEvent::Update {
                members: 2,
                models: 10,
                mu: vec![-1.0, 2.0, 0.5],
                sigma: vec![0.3, 0.1, 0.2],
            }
            .into(),
        );
        assert_eq!(v.members, (2, 10));
        assert_eq!(v.train_mu(), vec![-1.0, 2.0]);
        assert_eq!(v.auroc, Some(1.0));
        assert_eq!(v.extremes(1, false), vec![0]);
        assert_eq!(v.extremes(1, true), vec![0]);
        assert_eq!(v.in_range(0.0, 3.0, false), vec![1]);
        let band = |inner: Event| Event::Job {
            job: 0,
            jobs: 10,
            phase: Phase::Band { band: 0, bands: 10 },
            inner: Box::new(inner),
        };
        v.apply(&band(
            RmEvent::Eval {
                step: 10,
                validation_accuracy: 0.3,
                validation_label_accuracy: 0.3,
                validation_loss: 0.7,
                chosen_rewards: vec![],
                rejected_rewards: vec![],
            }
            .into(),
        ));
        assert_eq!(v.band_curves, vec![vec![[10.0, 0.30000001192092896]]]);
        assert_eq!(v.progress.label, "band 1/10");
        // Stacked runs: the stack's steps drive the progress; a run's evaluation inside the
        // stack adds its curve without taking the progress over.
        let stack = |inner: Event| Event::Job {
            job: 0,
            jobs: 1,
            phase: Phase::Stacked {
                runs: 10,
                of: "bands".into(),
            },
            inner: Box::new(inner),
        };
        v.apply(&stack(Event::Started {
            backend: "flex".into(),
            adapter: String::new(),
            notice: None,
            total_steps: 100,
        }));
        v.apply(&stack(
            RmEvent::Step {
                step: 20,
                loss: 0.5,
                train_accuracy: 0.7,
                lr: 1e-3,
                contrastive_loss: None,
                difference_loss: None,
            }
            .into(),
        ));
        v.apply(&band(
            RmEvent::Eval {
                step: 20,
                validation_accuracy: 0.4,
                validation_label_accuracy: 0.4,
                validation_loss: 0.7,
                chosen_rewards: vec![],
                rejected_rewards: vec![],
            }
            .into(),
        ));
        assert_eq!(v.band_curves[0].len(), 2);
        assert_eq!(v.progress.label, "10 bands trained together");
        assert_eq!((v.progress.step, v.progress.steps), (20, 100));
        assert!((v.progress.fraction() - 0.2).abs() < 1e-6);
    }
}
