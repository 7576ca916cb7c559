//! Denoising methods compared ([P2] §2.4–2.5, Figs 5–8): an ensemble gives μ for every
//! training pair, then baseline and each method train for several seeds on the same split and
//! are scored on validation (against gold for the synthetic world, held-out labels otherwise).
use std::sync::Arc;

use super::config::{DenoiseConfig, Method, TrainSubset};
use super::event::DenoiseEvent;
use super::report::{DenoiseReport, MethodRun, MethodSummary};
use crate::compute::Compute;
use crate::experiment::KindEvent;
use crate::experiment::config::Run;
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::jobs::{Job, JobQueue};
use crate::experiment::prepare::{PreparedData, Upload, prepare};
use crate::experiment::rm::TrainPlan;
use crate::experiment::strength::io::{StrengthMu, mu_by_position};
use crate::experiment::strength::{StrengthConfig, StrengthEvent, StrengthRunner};
use crate::rm::denoise::{DenoiseSpec, PairTarget};

enum Stage {
    Strength(Box<StrengthRunner>),
    Methods(Box<JobQueue>),
    Done,
}

/// The step-wise comparison runner.
pub struct DenoiseRunner {
    run: Run<DenoiseConfig>,
    compute: Compute,
    data: Arc<PreparedData>,
    stage: Stage,
    mu: Vec<f32>,
    job_method: Vec<(Method, usize)>,
    runs: Vec<MethodRun>,
    train_pairs: usize,
    started: bool,
    wall_time_s: f64,
    finished: bool,
}

impl DenoiseRunner {
    /// Load the data and set up. `strength` (μ by input index, from a `strength.csv` or a
    /// strength run) skips the ensemble when given.
    pub fn setup(
        run: Run<DenoiseConfig>,
        compute: Compute,
        upload: Option<&Upload>,
        strength: Option<&StrengthMu>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let config = &run.experiment;
        // Both models read the same encoded pairs: encode for the shorter of the two, so a
        // transformer never sees positions beyond its table.
        let max_len = config
            .strength
            .rm
            .model
            .max_len
            .min(config.rm.model.max_len);
        let data = prepare(&run.data, max_len, run.seed, upload)?;
        let mu = match (strength, &data.strength) {
            (Some(m), _) => Some(mu_by_position(&data.pairs, m).map_err(ExperimentError::Config)?),
            // The data carries μ itself (`data.strength_field`): no ensemble.
            (None, Some(field)) => Some(field.mu.clone()),
            (None, None) => None,
        };
        Self::new(run, compute, Arc::new(data), mu)
    }

    /// Set up on prepared data.
    pub fn new(
        run: Run<DenoiseConfig>,
        compute: Compute,
        data: Arc<PreparedData>,
        mu: Option<Vec<f32>>,
    ) -> Result<Self, ExperimentError> {
        let config = &run.experiment;
        config.validate().map_err(ExperimentError::Config)?;
        if data.margins.is_some() {
            return Err(ExperimentError::Config(
                "--margin-field applies to train-rm; denoise sets each method's margins from μ (drop the flag)".into(),
            ));
        }
        if config.methods.contains(&Method::Oracle) && data.mislabeled.is_none() {
            return Err(ExperimentError::Config(
                "the oracle method needs ground truth (the synthetic world, --truth-field or --inject-flip-rate)".into(),
            ));
        }
        let needs_mu = config
            .methods
            .iter()
            .any(|m| config.spec(*m).needs_strength())
            || config.subset != TrainSubset::All;
        let mut runner = Self {
            stage: Stage::Done,
            mu: Vec::new(),
            job_method: Vec::new(),
            runs: Vec::new(),
            train_pairs: 0,
            started: false,
            wall_time_s: 0.0,
            finished: false,
            run,
            compute,
            data,
        };
        match mu {
            Some(mu) => {
                if mu.len() != runner.data.pairs.len() {
                    return Err(ExperimentError::Config(format!(
                        "{} strength values for {} pairs: the strength run used other data",
                        mu.len(),
                        runner.data.pairs.len()
                    )));
                }
                runner.mu = mu;
                runner.start_methods()?;
            }
            None if needs_mu => {
                let strength = runner.run.with(StrengthConfig {
                    band_retrain: false,
                    ..runner.run.experiment.strength.clone()
                });
                runner.stage = Stage::Strength(Box::new(StrengthRunner::new(
                    strength,
                    runner.compute.clone(),
                    Arc::clone(&runner.data),
                )?));
            }
            None => runner.start_methods()?,
        }
        Ok(runner)
    }

    /// The run config.
    pub fn config(&self) -> &Run<DenoiseConfig> {
        &self.run
    }

    /// The prepared data.
    pub fn data(&self) -> &Arc<PreparedData> {
        &self.data
    }

    /// μ per prepared position (empty until the ensemble is done).
    pub fn mu(&self) -> &[f32] {
        &self.mu
    }

    /// Runs finished so far.
    pub fn runs(&self) -> &[MethodRun] {
        &self.runs
    }

    /// True when all runs are done.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Training positions the methods use.
    fn train_positions(&self) -> Vec<usize> {
        let train = &self.data.split.train;
        match self.run.experiment.subset {
            TrainSubset::All => train.clone(),
            TrainSubset::Top { fraction } => {
                let mut order = train.clone();
                order.sort_by(|&a, &b| self.mu[b].total_cmp(&self.mu[a]).then(a.cmp(&b)));
                let k = ((train.len() as f64 * fraction).round() as usize).clamp(1, train.len());
                order.truncate(k);
                order.sort_unstable();
                order
            }
        }
    }

    fn targets(&self, method: Method, train: &[usize]) -> Result<Vec<PairTarget>, ExperimentError> {
        let n = self.data.pairs.len();
        let mut targets = vec![PairTarget::default(); n];
        if method == Method::Oracle {
            let truth = self.data.mislabeled.as_ref().ok_or_else(|| {
                ExperimentError::Config("the oracle method needs ground truth".into())
            })?;
            for &p in train {
                targets[p].flip = truth[p];
            }
            return Ok(targets);
        }
        let spec = self.run.experiment.spec(method);
        if spec == DenoiseSpec::default() {
            return Ok(targets);
        }
        // Recipes that do not read μ (smoothing every pair) run without an ensemble.
        let mu: Vec<f32> = if spec.needs_strength() {
            train.iter().map(|&p| self.mu[p]).collect()
        } else {
            vec![0.0; train.len()]
        };
        let names: Vec<usize> = train.iter().map(|&p| self.data.pairs[p].index).collect();
        let per_pair = spec
            .targets(&mu, &names)
            .map_err(|e| ExperimentError::Config(format!("{}: {e}", method.name())))?;
        for (&p, t) in train.iter().zip(per_pair) {
            targets[p] = t;
        }
        Ok(targets)
    }

    fn start_methods(&mut self) -> Result<(), ExperimentError> {
        let train = self.train_positions();
        self.train_pairs = train.len();
        let mut jobs = Vec::new();
        for &method in &self.run.experiment.methods {
            let targets = self.targets(method, &train)?;
            for s in 0..self.run.experiment.seeds {
                jobs.push(Job {
                    phase: Phase::Method { method, seed: s },
                    // Apart from the ensemble's member seeds (seed + 1 + 1000·m + k), so no
                    // method run reproduces a model that measured μ.
                    config: self
                        .run
                        .with(self.run.experiment.rm.clone())
                        .reseeded(self.run.seed.wrapping_add(0x5EED_0000 + s as u64)),
                    plan: TrainPlan {
                        train: train.clone(),
                        validation: self.data.split.validation.clone(),
                        targets: targets.clone(),
                        measure_features: false,
                        meta: None,
                    },
                });
                self.job_method.push((method, s));
            }
        }
        self.stage = Stage::Methods(Box::new(JobQueue::new(
            self.compute.clone(),
            Arc::clone(&self.data),
            jobs,
        )));
        Ok(())
    }

    /// One step of the current run.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let mut events = Vec::new();
        if !self.started && !self.finished {
            self.started = true;
            let total_steps = crate::experiment::runner::Runner::progress(self).total;
            events.push(Event::started(&self.compute, total_steps));
        }
        match &mut self.stage {
            Stage::Done => {}
            Stage::Strength(runner) => {
                // The ensemble is a phase of this run: its own end is not the run's end.
                // Its lifecycle and report are the ensemble's, not this run's.
                let mut inner = runner.step().await?;
                inner.retain(|e| {
                    !matches!(
                        e,
                        Event::Started { .. }
                            | Event::Finished { .. }
                            | Event::Kind(KindEvent::Strength(StrengthEvent::Done { .. }))
                    )
                });
                events.extend(inner);
                if runner.is_finished() {
                    self.wall_time_s += runner.report().wall_time_s;
                    let mu = runner.strength().map(|s| s.mu.clone()).ok_or_else(|| {
                        ExperimentError::Config("the ensemble gave no strength".into())
                    })?;
                    self.mu = mu;
                    self.start_methods()?;
                }
            }
            Stage::Methods(queue) => {
                let (ev, finished) = queue.step().await?;
                events.extend(ev);
                let all_done = queue.is_finished();
                if let Some(done) = finished {
                    let (method, seed) = self.job_method[done.job];
                    let report = done.runner.report();
                    self.wall_time_s += report.wall_time_s;
                    let run = MethodRun {
                        method,
                        seed,
                        validation_accuracy: report.validation_accuracy.unwrap_or(f32::NAN),
                        train_loss: report.train_set_loss,
                        curve: report.validation_curve,
                    };
                    self.runs.push(run.clone());
                    events.push(DenoiseEvent::MethodDone { run }.into());
                }
                if all_done {
                    self.stage = Stage::Done;
                    self.finished = true;
                    let report = self.report();
                    let summary = report.summary();
                    let done = DenoiseEvent::Done {
                        report: Box::new(report),
                    };
                    events.extend(Event::closing(done, self.wall_time_s, summary));
                }
            }
        }
        Ok(events)
    }

    /// The comparison so far.
    pub fn report(&self) -> DenoiseReport {
        let train = &self.data.split.train;
        let neg = (!self.mu.is_empty()).then(|| {
            train.iter().filter(|&&p| self.mu[p] < 0.0).count() as f32 / train.len().max(1) as f32
        });
        let summary = self
            .run
            .experiment
            .methods
            .iter()
            .filter_map(|&method| {
                let runs: Vec<&MethodRun> =
                    self.runs.iter().filter(|r| r.method == method).collect();
                if runs.is_empty() {
                    return None;
                }
                let n = runs.len() as f32;
                let mean = runs.iter().map(|r| r.validation_accuracy).sum::<f32>() / n;
                let var = runs
                    .iter()
                    .map(|r| (r.validation_accuracy - mean).powi(2))
                    .sum::<f32>()
                    / n;
                let losses: Vec<f32> = runs.iter().filter_map(|r| r.train_loss).collect();
                Some(MethodSummary {
                    method,
                    mean_accuracy: mean,
                    std_accuracy: var.sqrt(),
                    mean_train_loss: (!losses.is_empty())
                        .then(|| losses.iter().sum::<f32>() / losses.len() as f32),
                    seeds: runs.len(),
                })
            })
            .collect();
        let gold = self.data.has_gold();
        DenoiseReport {
            config: self.run.clone(),
            data: self.data.label.clone(),
            validation_target: if gold { "gold" } else { "labels" }.into(),
            frac_mu_negative: neg,
            train_pairs: self.train_pairs,
            runs: self.runs.clone(),
            summary,
        }
    }
}

impl crate::experiment::runner::Runner for DenoiseRunner {
    fn step(&mut self) -> crate::experiment::runner::StepFuture<'_> {
        Box::pin(DenoiseRunner::step(self))
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    /// `[0, …]` the ensemble's span, then `[1, method run, epoch]`.
    fn span(&self, stride: crate::experiment::Stride) -> Option<crate::experiment::Span> {
        let (phase, inner) = match &self.stage {
            Stage::Done => return None,
            Stage::Strength(runner) => (0, runner.span_of(stride)),
            Stage::Methods(queue) => (1, queue.span(stride)),
        };
        let mut span = vec![phase];
        span.extend(inner.unwrap_or_default());
        Some(span)
    }

    /// Steps of the current phase (the ensemble, then the method runs).
    fn progress(&self) -> crate::experiment::runner::Progress {
        let (done, total) = match &self.stage {
            Stage::Done => (1, 1),
            Stage::Strength(runner) => runner.progress(),
            Stage::Methods(queue) => queue.progress(),
        };
        crate::experiment::runner::Progress { done, total }
    }

    fn report_json(&self) -> serde_json::Value {
        crate::experiment::runner::report_value(&self.report())
    }
}
