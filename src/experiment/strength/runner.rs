//! Preference strength ([P2] §2.2–2.3): an ensemble of M reward models trained on the same
//! pairs (differing in seed and shuffle order) scores every pair; μ and σ of the gaps, their
//! views (bands, groups, AUROC against known mislabels) and, optionally, a fresh reward model
//! retrained on each band by μ and scored on validation (Fig 4). One step-wise runner.
use std::sync::Arc;

use super::config::StrengthConfig;
use super::event::StrengthEvent;
use super::io::StrengthMu;
use super::report::{BandResult, StrengthReport, StrengthTable};
use super::stacked::{StackedJobs, StackedResult};
use crate::compute::Compute;
use crate::data::rng::Rng;
use crate::experiment::config::Run;
use crate::experiment::error::ExperimentError;
use crate::experiment::events::{Event, Phase};
use crate::experiment::jobs::{FinishedJob, Job, JobQueue};
use crate::experiment::prepare::{FieldStrength, PreparedData, Upload, prepare};
use crate::experiment::rm::{RmTrainConfig, TrainPlan};
use crate::rm::strength::{PreferenceStrength, auroc, precision_recall_bottom};

/// Each member's gaps summed per position (a pair is scored by each of a member's K fold
/// models), and the folds each member has finished (a member is done when all are).
struct MemberGaps {
    sum: Vec<Vec<f64>>,
    count: Vec<Vec<u32>>,
    folds_done: Vec<usize>,
}

impl MemberGaps {
    fn new(members: usize, positions: usize) -> Self {
        Self {
            sum: vec![vec![0.0; positions]; members],
            count: vec![vec![0; positions]; members],
            folds_done: vec![0; members],
        }
    }

    fn members(&self) -> usize {
        self.sum.len()
    }

    fn positions(&self) -> usize {
        self.sum.first().map_or(0, Vec::len)
    }

    /// Add one fold model's `gaps` to `member`'s sums at the `scored` positions (`gaps` given
    /// at those positions in order, or at every position when `all_positions`); true when that
    /// completes the member's `folds`.
    fn add(
        &mut self,
        member: usize,
        scored: &[usize],
        gaps: &[f32],
        all_positions: bool,
        folds: usize,
    ) -> bool {
        for (i, &p) in scored.iter().enumerate() {
            let g = if all_positions {
                gaps.get(p)
            } else {
                gaps.get(i)
            };
            if let Some(&g) = g {
                self.sum[member][p] += f64::from(g);
                self.count[member][p] += 1;
            }
        }
        self.folds_done[member] += 1;
        self.folds_done[member] == folds
    }

    /// The mean gap per position of every member with all its `folds` done.
    fn complete(&self, folds: usize) -> Vec<Vec<f32>> {
        (0..self.members())
            .filter(|&m| self.folds_done[m] >= folds)
            .map(|m| {
                self.sum[m]
                    .iter()
                    .zip(&self.count[m])
                    .map(|(&s, &c)| (s / f64::from(c.max(1))) as f32)
                    .collect()
            })
            .collect()
    }
}

enum Stage {
    Ensemble,
    Bands,
    Done,
}

/// The step-wise ensemble runner.
pub struct StrengthRunner {
    run: Run<StrengthConfig>,
    compute: Compute,
    data: Arc<PreparedData>,
    stage: Stage,
    started: bool,
    queue: JobQueue,
    /// The current stage's runs trained together as stacked models (bag-of-words runs),
    /// instead of the queue.
    stacked: Option<StackedJobs>,
    /// Positions each ensemble job scores, parallel to the ensemble's jobs (queued or stacked).
    scored: Vec<Vec<usize>>,
    /// Each member's gaps so far.
    gaps: MemberGaps,
    strength: Option<PreferenceStrength>,
    band_results: Vec<BandResult>,
    wall_time_s: f64,
    finished: bool,
}

impl StrengthRunner {
    /// See [`crate::experiment::Runner::span`]: `[stage, job or group, epoch]`.
    pub fn span_of(&self, stride: crate::experiment::Stride) -> Option<crate::experiment::Span> {
        let stage = match self.stage {
            Stage::Ensemble => 0,
            Stage::Bands => 1,
            Stage::Done => return None,
        };
        let inner = match &self.stacked {
            Some(stacked) => stacked.span(stride),
            None => self.queue.span(stride),
        };
        // Between stages (the next one not planned yet) the step that plans it trains nothing.
        let mut span = vec![stage];
        span.extend(inner.unwrap_or_default());
        Some(span)
    }
}

fn member_seed(base: u64, member: usize, fold: usize) -> u64 {
    base.wrapping_add(1 + 1_000 * member as u64 + fold as u64)
}

impl StrengthRunner {
    /// Load and prepare the data, then set up the ensemble.
    pub fn setup(
        run: Run<StrengthConfig>,
        compute: Compute,
        upload: Option<&Upload>,
    ) -> Result<Self, ExperimentError> {
        run.validate().map_err(ExperimentError::Config)?;
        let data = prepare(&run.data, run.experiment.rm.model.max_len, run.seed, upload)?;
        Self::new(run, compute, Arc::new(data))
    }

    /// Set up on prepared data.
    pub fn new(
        run: Run<StrengthConfig>,
        compute: Compute,
        data: Arc<PreparedData>,
    ) -> Result<Self, ExperimentError> {
        let config = &run.experiment;
        config.validate().map_err(ExperimentError::Config)?;
        if data.margins.is_some() {
            return Err(ExperimentError::Config(
                "--margin-field applies to train-rm; the strength ensemble trains plain Bradley–Terry members (drop the flag)".into(),
            ));
        }
        let train = data.split.train.clone();
        if config.band_retrain && train.len() < 2 * config.bands {
            return Err(ExperimentError::Config(format!(
                "{} training pairs cannot fill {} bands for band retraining (2 pairs each at least); turn band retraining off or use more data",
                train.len(),
                config.bands
            )));
        }
        if let Some(field) = &data.strength {
            return Self::from_field(run, compute, Arc::clone(&data), field);
        }
        if config.cross_fit > train.len() / 2 {
            return Err(ExperimentError::Config(format!(
                "cross_fit = {} folds for {} training pairs: each fold needs at least one pair and the rest to train on; use fewer folds or more data",
                config.cross_fit,
                train.len()
            )));
        }
        let validation = data.split.validation.clone();
        let all: Vec<usize> = (0..data.pairs.len()).collect();
        let folds = config.cross_fit.max(1);
        let mut fold_of = vec![0usize; data.pairs.len()];
        if folds > 1 {
            let mut order = train.clone();
            Rng::derived(run.seed, "strength-folds").shuffle(&mut order);
            for (rank, &p) in order.iter().enumerate() {
                fold_of[p] = rank * folds / order.len().max(1);
            }
        }
        let mut jobs = Vec::new();
        let mut scored = Vec::new();
        for m in 0..config.models {
            for k in 0..folds {
                let (plan_train, score) = if folds == 1 {
                    (train.clone(), all.clone())
                } else {
                    let fit: Vec<usize> =
                        train.iter().copied().filter(|&p| fold_of[p] != k).collect();
                    let mut score: Vec<usize> =
                        train.iter().copied().filter(|&p| fold_of[p] == k).collect();
                    score.extend(&validation);
                    (fit, score)
                };
                jobs.push(Job {
                    phase: Phase::Member {
                        member: m,
                        fold: (folds > 1).then_some(k),
                    },
                    config: run
                        .with(config.rm.clone())
                        .reseeded(member_seed(run.seed, m, k)),
                    plan: TrainPlan {
                        train: plan_train,
                        validation: validation.clone(),
                        targets: Vec::new(),
                        measure_features: false,
                        meta: None,
                    },
                });
                scored.push(score);
            }
        }
        Self::assemble(run, compute, data, jobs, scored, None)
    }

    /// A runner at its start: the ensemble's jobs (none when `strength` is already known).
    fn assemble(
        run: Run<StrengthConfig>,
        compute: Compute,
        data: Arc<PreparedData>,
        jobs: Vec<Job>,
        scored: Vec<Vec<usize>>,
        strength: Option<PreferenceStrength>,
    ) -> Result<Self, ExperimentError> {
        let (n, models) = (data.pairs.len(), scored.len().min(run.experiment.models));
        let (queue, stacked) = Self::runs_of(&run, &compute, &data, jobs, &scored)?;
        Ok(Self {
            queue,
            stacked,
            gaps: MemberGaps::new(models, n),
            scored,
            strength,
            band_results: Vec::new(),
            wall_time_s: 0.0,
            finished: false,
            stage: Stage::Ensemble,
            started: false,
            run,
            compute,
            data,
        })
    }

    /// The runs of a stage: stacked when the config allows it and the runs can
    /// ([`StackedJobs::can_stack`]), else queued one after another.
    fn runs_of(
        run: &Run<StrengthConfig>,
        compute: &Compute,
        data: &Arc<PreparedData>,
        jobs: Vec<Job>,
        scored: &[Vec<usize>],
    ) -> Result<(JobQueue, Option<StackedJobs>), ExperimentError> {
        if run.experiment.stacked && StackedJobs::can_stack(&jobs) {
            let stacked = StackedJobs::new(compute.clone(), Arc::clone(data), jobs, scored)?;
            Ok((
                JobQueue::new(compute.clone(), Arc::clone(data), Vec::new()),
                Some(stacked),
            ))
        } else {
            Ok((JobQueue::new(compute.clone(), Arc::clone(data), jobs), None))
        }
    }

    /// The current stage's runs (ensemble members, or band retraining runs).
    pub fn jobs(&self) -> &[Job] {
        self.stacked
            .as_ref()
            .map_or_else(|| self.queue.jobs(), StackedJobs::jobs)
    }

    /// μ (and σ) the data carries in a field: no ensemble is trained; band retraining still
    /// runs when asked.
    fn from_field(
        run: Run<StrengthConfig>,
        compute: Compute,
        data: Arc<PreparedData>,
        field: &FieldStrength,
    ) -> Result<Self, ExperimentError> {
        // No spread given: unknown (NaN, null in reports), never a made-up certainty of 0.
        let sigma = field
            .sigma
            .clone()
            .unwrap_or_else(|| vec![f32::NAN; field.mu.len()]);
        let strength = PreferenceStrength {
            mu: field.mu.clone(),
            sigma,
        };
        Self::assemble(run, compute, data, Vec::new(), Vec::new(), Some(strength))
    }

    /// Where μ comes from: `ensemble`, or the data's field.
    pub fn strength_source(&self) -> String {
        match &self.data.strength {
            Some(field) => format!("field {}", field.field),
            None => "ensemble".into(),
        }
    }

    /// The run config.
    pub fn config(&self) -> &Run<StrengthConfig> {
        &self.run
    }

    /// The prepared data.
    pub fn data(&self) -> &Arc<PreparedData> {
        &self.data
    }

    /// μ and σ of every pair (input positions), once two members are done.
    pub fn strength(&self) -> Option<&PreferenceStrength> {
        self.strength.as_ref()
    }

    /// True once the ensemble (and band retraining, when asked) is done.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Optimizer steps done and planned in the current phase.
    pub fn progress(&self) -> (usize, usize) {
        self.stacked
            .as_ref()
            .map_or_else(|| self.queue.progress(), StackedJobs::progress)
    }

    /// True when the current stage's runs train together as stacked models.
    pub fn members_stacked(&self) -> bool {
        self.stacked.is_some()
    }

    /// Do one step of whichever run is current.
    pub async fn step(&mut self) -> Result<Vec<Event>, ExperimentError> {
        if self.finished {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        if !self.started {
            self.started = true;
            events.push(Event::started(&self.compute, self.progress().1));
            if let (Some(_), Some(s)) = (&self.data.strength, &self.strength) {
                // μ from the data: shown at once, as a finished "ensemble" of no members.
                events.push(
                    StrengthEvent::Update {
                        members: 0,
                        models: 0,
                        mu: s.mu.clone(),
                        sigma: s.sigma.clone(),
                    }
                    .into(),
                );
            }
        }
        let finished = if let Some(stacked) = self.stacked.as_mut() {
            let (run_events, results) = stacked.step().await?;
            events.extend(run_events);
            // Members finishing together give one update of μ and σ.
            let mut completed = false;
            for result in results {
                self.wall_time_s += result.train_seconds;
                match self.stage {
                    Stage::Ensemble => completed |= self.add_gaps(result.job, &result.gaps, true),
                    Stage::Bands => events.extend(self.stacked_band_done(result)),
                    Stage::Done => {}
                }
            }
            if completed {
                events.extend(self.update()?);
            } else if matches!(self.stage, Stage::Ensemble) {
                events.extend(self.snapshot().await?);
            }
            None
        } else {
            let (job_events, finished) = self.queue.step().await?;
            events.extend(job_events);
            finished
        };
        if let Some(done) = finished {
            self.wall_time_s += done.runner.report().wall_time_s;
            match self.stage {
                Stage::Ensemble => events.extend(self.member_done(done).await?),
                Stage::Bands => events.extend(self.band_done(done)),
                Stage::Done => {}
            }
        }
        let stacked_finished = self.stacked.as_ref().is_none_or(StackedJobs::is_finished);
        if self.queue.is_finished() && stacked_finished {
            match self.stage {
                Stage::Ensemble if self.run.experiment.band_retrain => self.start_bands()?,
                Stage::Ensemble | Stage::Bands => {
                    self.stage = Stage::Done;
                    self.finished = true;
                    let report = self.report();
                    let summary = report.summary();
                    let done = StrengthEvent::Done {
                        report: Box::new(report),
                    };
                    events.extend(Event::closing(done, self.wall_time_s, summary));
                }
                Stage::Done => {}
            }
        }
        Ok(events)
    }

    async fn member_done(&mut self, done: FinishedJob) -> Result<Vec<Event>, ExperimentError> {
        let gaps = done.runner.score_gaps(&self.scored[done.job]).await?;
        if self.add_gaps(done.job, &gaps, false) {
            return self.update();
        }
        Ok(Vec::new())
    }

    /// Add job `job`'s gaps (given at its scored positions, or at every position when
    /// `all_positions`) to its member's sums; true when that completes the member (all folds).
    fn add_gaps(&mut self, job: usize, gaps: &[f32], all_positions: bool) -> bool {
        let folds = self.run.experiment.cross_fit.max(1);
        self.gaps
            .add(job / folds, &self.scored[job], gaps, all_positions, folds)
    }

    /// Interim μ and σ of the stacked members still training, when a snapshot falls due
    /// (`snapshots` spread over their steps; from two complete members on).
    async fn snapshot(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let wanted = self.run.experiment.snapshots;
        let Some(stacked) = self.stacked.as_mut() else {
            return Ok(Vec::new());
        };
        let Some((step, steps)) = stacked.training_step() else {
            return Ok(Vec::new());
        };
        let every = steps.div_ceil(wanted.max(1)).max(1);
        if wanted == 0 || step == 0 || step >= steps || !step.is_multiple_of(every) {
            return Ok(Vec::new());
        }
        let folds = self.run.experiment.cross_fit.max(1);
        // The members as they stand, summed like finished ones but apart from them.
        let mut interim = MemberGaps::new(self.gaps.members(), self.gaps.positions());
        for (job, gaps) in stacked.snapshot().await? {
            let member = job / folds;
            if member < interim.members() {
                interim.add(member, &self.scored[job], &gaps, true, folds);
            }
        }
        let gaps = interim.complete(folds);
        if gaps.len() < 2 {
            return Ok(Vec::new());
        }
        let strength = PreferenceStrength::from_gaps(&gaps)
            .map_err(|e| ExperimentError::Config(e.to_string()))?;
        Ok(vec![
            StrengthEvent::Snapshot {
                step,
                steps,
                members: gaps.len(),
                mu: strength.mu,
                sigma: strength.sigma,
            }
            .into(),
        ])
    }

    /// μ and σ over the members done so far (from two members on).
    fn update(&mut self) -> Result<Vec<Event>, ExperimentError> {
        let folds = self.run.experiment.cross_fit.max(1);
        let gaps = self.gaps.complete(folds);
        if gaps.len() < 2 {
            return Ok(Vec::new());
        }
        let strength = PreferenceStrength::from_gaps(&gaps)
            .map_err(|e| ExperimentError::Config(e.to_string()))?;
        let event = StrengthEvent::Update {
            members: gaps.len(),
            models: self.run.experiment.models,
            mu: strength.mu.clone(),
            sigma: strength.sigma.clone(),
        }
        .into();
        self.strength = Some(strength);
        Ok(vec![event])
    }

    /// Training positions sorted into bands by μ (lowest first).
    pub fn train_bands(&self) -> Vec<Vec<usize>> {
        let Some(s) = &self.strength else {
            return Vec::new();
        };
        let train = &self.data.split.train;
        let train_mu = PreferenceStrength {
            mu: train.iter().map(|&p| s.mu[p]).collect(),
            sigma: train.iter().map(|&p| s.sigma[p]).collect(),
        };
        let mut bands = vec![Vec::new(); self.run.experiment.bands];
        for (i, b) in train_mu
            .bands(self.run.experiment.bands)
            .into_iter()
            .enumerate()
        {
            bands[b].push(train[i]);
        }
        bands
    }

    fn start_bands(&mut self) -> Result<(), ExperimentError> {
        let bands = self.train_bands();
        let jobs = bands
            .into_iter()
            .enumerate()
            .map(|(b, positions)| Job {
                phase: Phase::Band {
                    band: b,
                    bands: self.run.experiment.bands,
                },
                config: self
                    .run
                    .with(RmTrainConfig {
                        epochs: self.run.experiment.band_epochs,
                        steps: 0,
                        eval_every: 10,
                        ..self.run.experiment.rm.clone()
                    })
                    .reseeded(member_seed(self.run.seed, 900 + b, 0)),
                plan: TrainPlan {
                    train: positions,
                    validation: self.data.split.validation.clone(),
                    targets: Vec::new(),
                    measure_features: false,
                    meta: None,
                },
            })
            .collect();
        (self.queue, self.stacked) =
            Self::runs_of(&self.run, &self.compute, &self.data, jobs, &[])?;
        self.stage = Stage::Bands;
        Ok(())
    }

    fn band_done(&mut self, done: FinishedJob) -> Vec<Event> {
        let report = done.runner.report();
        self.band_result(
            done.job,
            &done.runner.plan().train,
            report.validation_accuracy.unwrap_or(f32::NAN),
            report.train_set_loss,
            report.validation_curve,
        )
    }

    fn stacked_band_done(&mut self, done: StackedResult) -> Vec<Event> {
        let train = self
            .stacked
            .as_ref()
            .and_then(|s| s.jobs().get(done.job))
            .map(|j| j.plan.train.clone())
            .unwrap_or_default();
        let loss = done
            .train_set_loss
            .is_finite()
            .then_some(done.train_set_loss);
        self.band_result(done.job, &train, done.validation_accuracy, loss, done.curve)
    }

    fn band_result(
        &mut self,
        band: usize,
        train: &[usize],
        validation_accuracy: f32,
        train_loss: Option<f32>,
        curve: Vec<(usize, f32)>,
    ) -> Vec<Event> {
        let mean_mu = self.strength.as_ref().map_or(f32::NAN, |s| {
            train.iter().map(|&i| s.mu[i]).sum::<f32>() / train.len().max(1) as f32
        });
        let result = BandResult {
            band,
            mean_mu,
            validation_accuracy,
            train_loss,
            curve,
        };
        // In band order, whichever order the runs finish in.
        let at = self.band_results.partition_point(|r| r.band < band);
        self.band_results.insert(at, result.clone());
        vec![StrengthEvent::BandDone { result }.into()]
    }

    /// Per-pair table in input order.
    pub fn table(&self) -> Option<StrengthTable> {
        let s = self.strength.as_ref()?;
        let n = self.data.pairs.len();
        let mut train = vec![false; n];
        for &p in &self.data.split.train {
            train[p] = true;
        }
        // Training pairs carry the band they were retrained in; validation pairs fall between
        // the lowest μ of each (non-empty) band.
        let bands = self.train_bands();
        let edges: Vec<(usize, f32)> = bands
            .iter()
            .enumerate()
            .filter_map(|(b, ps)| {
                ps.iter()
                    .map(|&p| s.mu[p])
                    .reduce(f32::min)
                    .map(|lo| (b, lo))
            })
            .collect();
        let mut band: Vec<usize> = (0..n)
            .map(|p| {
                edges
                    .iter()
                    .rev()
                    .find(|(_, lo)| s.mu[p] >= *lo)
                    .or(edges.first())
                    .map_or(0, |(b, _)| *b)
            })
            .collect();
        for (b, ps) in bands.iter().enumerate() {
            for &p in ps {
                band[p] = b;
            }
        }
        Some(StrengthTable {
            index: self.data.pairs.iter().map(|p| p.index).collect(),
            mu: s.mu.clone(),
            sigma: s.sigma.clone(),
            band,
            train,
        })
    }

    /// The report (statistics over training pairs).
    pub fn report(&self) -> StrengthReport {
        let train = &self.data.split.train;
        let empty = PreferenceStrength {
            mu: Vec::new(),
            sigma: Vec::new(),
        };
        let s = self.strength.as_ref().unwrap_or(&empty);
        let have = !s.mu.is_empty();
        let train_s = PreferenceStrength {
            mu: if have {
                train.iter().map(|&p| s.mu[p]).collect()
            } else {
                Vec::new()
            },
            sigma: if have {
                train.iter().map(|&p| s.sigma[p]).collect()
            } else {
                Vec::new()
            },
        };
        let truth: Option<Vec<bool>> = self
            .data
            .mislabeled
            .as_ref()
            .map(|m| train.iter().map(|&p| m[p]).collect());
        let finite = |x: f32| x.is_finite().then_some(x);
        let (mut auc, mut pb, mut rb, mut pn, mut rn, mut rate) =
            (None, None, None, None, None, None);
        if let (Some(t), true) = (&truth, have) {
            let noise = t.iter().filter(|&&x| x).count() as f64 / t.len().max(1) as f64;
            rate = Some(noise as f32);
            let neg: Vec<f32> = train_s.mu.iter().map(|m| -m).collect();
            auc = finite(auroc(&neg, t));
            let (p, r) = precision_recall_bottom(&train_s.mu, t, noise);
            (pb, rb) = (finite(p), finite(r));
            let below = train_s.mu.iter().filter(|&&m| m < 0.0).count();
            let hits = train_s
                .mu
                .iter()
                .zip(t)
                .filter(|(m, x)| **m < 0.0 && **x)
                .count();
            let positives = t.iter().filter(|&&x| x).count();
            pn = finite(hits as f32 / below as f32);
            rn = finite(hits as f32 / positives as f32);
        }
        let val = &self.data.split.validation;
        let ensemble_validation_accuracy = if have {
            let gaps: Vec<f32> = val.iter().map(|&p| s.mu[p]).collect();
            let pairs: Vec<_> = val.iter().map(|&p| &self.data.pairs[p]).collect();
            let gold = self.data.has_gold();
            crate::experiment::metrics::pairwise_accuracy(&pairs, &gaps, gold)
        } else {
            f32::NAN
        };
        StrengthReport {
            config: self.run.clone(),
            data: self.data.label.clone(),
            pairs: self.data.pairs.len(),
            train_pairs: train.len(),
            // NaN (null in JSON) until two members have scored: never a made-up 0.
            frac_mu_negative: if have {
                train_s.frac_mu_negative()
            } else {
                f32::NAN
            },
            groups: if have {
                train_s.groups(self.run.experiment.groups)
            } else {
                Vec::new()
            },
            strength_source: self.strength_source(),
            truth_source: self.data.truth_source.clone(),
            true_noise_rate: rate,
            auroc: auc,
            precision_bottom: pb,
            recall_bottom: rb,
            precision_mu_negative: pn,
            recall_mu_negative: rn,
            ensemble_validation_accuracy,
            band_results: self.band_results.clone(),
            wall_time_s: self.wall_time_s,
        }
    }
}

impl crate::experiment::runner::Runner for StrengthRunner {
    fn step(&mut self) -> crate::experiment::runner::StepFuture<'_> {
        Box::pin(StrengthRunner::step(self))
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn progress(&self) -> crate::experiment::runner::Progress {
        let (done, total) = StrengthRunner::progress(self);
        crate::experiment::runner::Progress { done, total }
    }

    fn report_json(&self) -> serde_json::Value {
        crate::experiment::runner::report_value(&self.report())
    }

    /// `[stage, job or group, epoch]`: the ensemble is stage 0, the band models stage 1.
    fn span(&self, stride: crate::experiment::Stride) -> Option<crate::experiment::Span> {
        self.span_of(stride)
    }

    /// μ of every pair by input index, once the ensemble has it.
    fn artifacts(&self) -> crate::experiment::runner::Artifacts {
        crate::experiment::runner::Artifacts {
            strength: self.strength.as_ref().map(|s| StrengthMu {
                index: self.data.pairs.iter().map(|p| p.index).collect(),
                mu: s.mu.clone(),
                source: format!("the strength run on {}", self.data.label),
            }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::SyntheticConfig;
    use crate::experiment::DataSource;

    fn config(pairs: usize, cross_fit: usize, band_retrain: bool) -> Run<StrengthConfig> {
        let mut c = Run {
            experiment: StrengthConfig {
                models: 3,
                cross_fit,
                band_retrain,
                ..Default::default()
            },
            ..Default::default()
        };
        c.data.source = DataSource::Synthetic(SyntheticConfig {
            pairs,
            ..Default::default()
        });
        c
    }

    fn runner(c: Run<StrengthConfig>) -> Result<StrengthRunner, ExperimentError> {
        StrengthRunner::setup(c, Compute::cpu(), None)
    }

    #[test]
    fn cross_fit_never_scores_a_pair_with_a_model_that_trained_on_it() {
        let r = runner(config(200, 4, false)).unwrap();
        assert_eq!(r.jobs().len(), 3 * 4);
        let mut scored_train = vec![0usize; r.data.pairs.len()];
        for (job, scored) in r.jobs().iter().zip(&r.scored) {
            for p in scored {
                assert!(
                    !job.plan.train.contains(p),
                    "{}: scores its own pair {p}",
                    job.phase.label()
                );
                if r.data.split.train.contains(p) {
                    scored_train[*p] += 1;
                }
            }
        }
        // Every training pair is scored exactly once per member.
        for &p in &r.data.split.train {
            assert_eq!(scored_train[p], 3, "pair {p}");
        }
        // In-sample: every member trains on all training pairs and scores every pair.
        let r = runner(config(200, 0, false)).unwrap();
        assert!(r.jobs().iter().all(|j| j.plan.train == r.data.split.train));
        assert!(r.scored.iter().all(|s| s.len() == 200));
    }

    #[test]
    fn too_little_data_is_refused_before_training() {
        let err = runner(config(10, 0, true))
            .err()
            .expect("8 pairs cannot fill 10 bands");
        assert!(err.to_string().contains("bands"), "{err}");
        let err = runner(config(10, 6, false))
            .err()
            .expect("6 folds of 8 pairs");
        assert!(err.to_string().contains("cross_fit"), "{err}");
        assert!(runner(config(10, 2, false)).is_ok());
    }

    fn run_to_end(r: &mut StrengthRunner) -> Vec<Event> {
        let mut events = Vec::new();
        while !r.is_finished() {
            events.extend(pollster::block_on(r.step()).unwrap());
        }
        events
    }

    /// Run to the end, grouping the steps by the span each began in: `(span, steps)`.
    fn spans(mut r: StrengthRunner, stride: crate::experiment::Stride) -> Vec<(Vec<usize>, usize)> {
        use crate::experiment::Runner;
        let mut out: Vec<(Vec<usize>, usize)> = Vec::new();
        while !r.is_finished() {
            let span = r.span(stride).expect("a span until the run ends");
            match out.last_mut() {
                Some((s, n)) if *s == span => *n += 1,
                _ => out.push((span, 1)),
            }
            pollster::block_on(r.step()).unwrap();
        }
        assert_eq!(r.span(stride), None, "none once finished");
        out
    }

    #[test]
    fn a_span_is_a_member_band_or_epoch_in_both_ways_of_training() {
        use crate::experiment::Stride;
        for stacked in [false, true] {
            let mut c = config(200, 0, true);
            c.experiment.stacked = stacked;
            c.experiment.rm.epochs = 2.0;
            let r = runner(c.clone()).unwrap();
            let member = &r.jobs()[0];
            let steps = member
                .config
                .experiment
                .total_steps(member.plan.train.len());
            let per_epoch = member
                .config
                .experiment
                .steps_per_epoch(member.plan.train.len());
            assert_eq!(
                (steps, per_epoch),
                (10, 5),
                "160 pairs, batches of 32, 2 epochs"
            );
            let jobs = spans(r, Stride::Job);
            let members: Vec<_> = jobs.iter().filter(|(s, _)| s[0] == 0).collect();
            let bands = jobs.iter().filter(|(s, _)| s[0] == 1).count();
            if stacked {
                assert_eq!(members, [&(vec![0, 0], steps)], "one stack of 3 members");
            } else {
                assert_eq!(
                    members,
                    [
                        &(vec![0, 0], steps),
                        &(vec![0, 1], steps),
                        &(vec![0, 2], steps)
                    ],
                    "member by member"
                );
            }
            assert!(bands >= 1, "then the band models: {jobs:?}");
            let epochs = spans(runner(c).unwrap(), Stride::Epoch);
            let first: Vec<_> = epochs.iter().take(2).collect();
            assert_eq!(
                first,
                [&(vec![0, 0, 0], per_epoch), &(vec![0, 0, 1], per_epoch)]
            );
        }
    }

    #[test]
    fn snapshots_show_the_members_as_they_train_and_change_nothing() {
        for cross_fit in [0, 2] {
            let plain = config(300, cross_fit, false);
            let mut watched = plain.clone();
            watched.experiment.snapshots = 4;
            let (mut a, mut b) = (runner(plain).unwrap(), runner(watched).unwrap());
            assert!(a.members_stacked() && b.members_stacked());
            run_to_end(&mut a);
            let events = run_to_end(&mut b);
            assert_eq!(
                a.strength().unwrap(),
                b.strength().unwrap(),
                "snapshots only read the members"
            );
            let snaps: Vec<(usize, usize, usize, Vec<f32>)> = events
                .iter()
                .filter_map(|e| match e.kind() {
                    Some(crate::experiment::KindEvent::Strength(StrengthEvent::Snapshot {
                        step,
                        steps,
                        members,
                        mu,
                        ..
                    })) => Some((*step, *steps, *members, mu.clone())),
                    _ => None,
                })
                .collect();
            // 4 snapshots spread over the steps, none at the start or the end.
            let steps = snaps[0].1;
            let every = steps.div_ceil(4);
            let at: Vec<usize> = snaps.iter().map(|s| s.0).collect();
            let expected: Vec<usize> = (1..)
                .map(|k| k * every)
                .take_while(|&s| s < steps)
                .collect();
            assert_eq!(at, expected, "cross_fit {cross_fit}");
            assert!(snaps.iter().all(|s| s.2 == 3 && s.3.len() == 300));
            // μ of the pairs every member scores moves between snapshots.
            let scored = |mu: &[f32]| mu.iter().filter(|m| m.is_finite()).count();
            assert!(scored(&snaps[0].3) > 0);
            assert_ne!(snaps[0].3, snaps[snaps.len() - 1].3);
        }
        let mut c = config(300, 0, false);
        c.experiment.snapshots = 101;
        assert!(c.experiment.validate().unwrap_err().contains("snapshots"));
    }

    #[test]
    fn stacked_runs_match_runs_made_one_by_one() {
        // (pairs, folds, band retraining, bands): the last two give runs of unequal sizes in a
        // stage (bands of 30 and 31 pairs; folds of 27 and 26, fewer than a batch).
        for (pairs, cross_fit, band_retrain, bands) in [
            (400, 0, true, 2),
            (400, 3, false, 2),
            (380, 0, true, 10),
            (50, 3, false, 2),
        ] {
            let mut c = config(pairs, cross_fit, band_retrain);
            c.experiment.bands = bands;
            let mut stacked = runner(c.clone()).unwrap();
            c.experiment.stacked = false;
            let mut one_by_one = runner(c).unwrap();
            assert!(stacked.members_stacked() && !one_by_one.members_stacked());
            let events = run_to_end(&mut stacked);
            run_to_end(&mut one_by_one);
            let (a, b) = (stacked.report(), one_by_one.report());
            let (sa, sb) = (stacked.strength().unwrap(), one_by_one.strength().unwrap());
            for (x, y) in sa
                .mu
                .iter()
                .zip(&sb.mu)
                .chain(sa.sigma.iter().zip(&sb.sigma))
            {
                assert!((x - y).abs() < 1e-4, "cross_fit {cross_fit}: {x} vs {y}");
            }
            assert_eq!(a.frac_mu_negative, b.frac_mu_negative);
            assert_eq!(a.band_results.len(), if band_retrain { bands } else { 0 });
            let order: Vec<usize> = a.band_results.iter().map(|r| r.band).collect();
            assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "band order {order:?}"
            );
            for (x, y) in a.band_results.iter().zip(&b.band_results) {
                assert_eq!((x.band, x.curve.len()), (y.band, y.curve.len()));
                assert!((x.validation_accuracy - y.validation_accuracy).abs() < 1e-3);
                let (lx, ly) = (x.train_loss.unwrap(), y.train_loss.unwrap());
                assert!((lx - ly).abs() < 1e-4, "band {}: {lx} vs {ly}", x.band);
            }
            // Every member reports its own validation accuracy, once.
            let done = events
                .iter()
                .filter(|e| {
                    matches!(e, Event::Job { phase: Phase::Member { .. }, inner, .. }
                        if matches!(inner.as_ref(), Event::Kind(crate::experiment::KindEvent::Rm(crate::experiment::RmEvent::Done { .. }))))
                })
                .count();
            assert_eq!(done, 3 * cross_fit.max(1));
            // Members finishing together update μ and σ once.
            let updates = events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        Event::Kind(crate::experiment::KindEvent::Strength(
                            StrengthEvent::Update { .. }
                        ))
                    )
                })
                .count();
            assert_eq!(updates, 1, "pairs {pairs}, folds {cross_fit}");
        }
    }

    #[test]
    fn a_diverged_stacked_step_keeps_the_last_good_stack_and_says_so() {
        let mut c = config(200, 0, false);
        c.experiment.rm.optimizer.lr = 1e30;
        c.experiment.rm.optimizer.warmup_fraction = 0.0;
        c.experiment.rm.optimizer.grad_clip_norm = 0.0;
        let mut r = runner(c).unwrap();
        assert!(r.members_stacked());
        let error = (0..50)
            .find_map(|_| pollster::block_on(r.step()).err())
            .expect("lr = 1e30 must diverge");
        let text = error.to_string();
        let ExperimentError::NonFinite {
            step, last_good, ..
        } = error
        else {
            panic!("expected NonFinite, got {text}");
        };
        // As a single run: the loss of step k+1 comes from update k, so the stack falls back to
        // the weights after step k-1.
        assert_eq!(step, last_good + 2, "{text}");
        assert_eq!(r.progress().0, last_good, "{text}");
        assert!(text.contains("lower optimizer.lr"), "{text}");
    }

    #[test]
    fn transformer_and_contrastive_members_train_one_by_one() {
        let mut c = config(200, 0, false);
        c.experiment.rm.model = crate::model::RewardModelConfig::default();
        assert!(!runner(c).unwrap().members_stacked());
        let mut c = config(200, 0, false);
        c.experiment.rm.contrastive.method = crate::rm::contrastive::ContrastiveMethod::Simcse;
        c.experiment.rm.contrastive.beta = 0.1;
        assert!(!runner(c).unwrap().members_stacked());
    }
}
