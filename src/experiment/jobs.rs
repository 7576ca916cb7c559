//! A queue of reward-model runs on shared data, stepped one optimizer step at a time: the
//! denoising methods, and the ensemble members and band retraining of preference strength when
//! they cannot train stacked (`strength::stacked` trains bag-of-words runs together and is held
//! to this queue's results by a test), all run through the same [`RmRunner`] loop.
use std::sync::Arc;

use super::config::Run;
use super::error::ExperimentError;
use super::events::{Event, Phase};
use super::prepare::PreparedData;
use super::rm::{RmRunner, RmTrainConfig, TrainPlan};
use super::runner::{Span, Stride};
use crate::compute::Compute;

/// One run of the queue.
#[derive(Clone, Debug)]
pub struct Job {
    /// What the run is (member, band, method); the UI and logs name it by this.
    pub phase: Phase,
    /// Its training config (seed, epochs, model; the data is the queue's, already prepared).
    pub config: Run<RmTrainConfig>,
    /// Its positions and loss targets.
    pub plan: TrainPlan,
}

/// A run that just finished, handed back for scoring.
pub struct FinishedJob {
    /// Index into the queue.
    pub job: usize,
    /// The runner, finished.
    pub runner: RmRunner,
}

/// Runs jobs in order, one step per call.
pub struct JobQueue {
    compute: Compute,
    data: Arc<PreparedData>,
    jobs: Vec<Job>,
    next: usize,
    current: Option<(usize, RmRunner)>,
}

impl JobQueue {
    /// A queue over shared data.
    pub fn new(compute: Compute, data: Arc<PreparedData>, jobs: Vec<Job>) -> Self {
        Self {
            compute,
            data,
            jobs,
            next: 0,
            current: None,
        }
    }

    /// Number of jobs.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// True when there are no jobs.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// The jobs.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Jobs finished so far.
    pub fn done(&self) -> usize {
        self.next - usize::from(self.current.is_some())
    }

    /// True once every job has finished.
    pub fn is_finished(&self) -> bool {
        self.current.is_none() && self.next >= self.jobs.len()
    }

    /// Optimizer steps of all jobs, done and total (a job's total is known once it starts;
    /// the others are estimated from their configs).
    pub fn progress(&self) -> (usize, usize) {
        let mut done = 0;
        let mut total = 0;
        for (i, job) in self.jobs.iter().enumerate() {
            let steps = job.config.experiment.total_steps(job.plan.train.len());
            total += steps;
            if i < self.done() {
                done += steps;
            }
        }
        if let Some((_, runner)) = &self.current {
            done += runner.steps_done();
        }
        (done, total)
    }

    /// The job the next step belongs to, and with [`Stride::Epoch`] its epoch: `[job, epoch]`.
    pub fn span(&self, stride: Stride) -> Option<Span> {
        let (job, inner) = match &self.current {
            Some((job, runner)) => (*job, runner.span_of(stride)?),
            None if self.next < self.jobs.len() => {
                (self.next, vec![0; usize::from(stride == Stride::Epoch)])
            }
            None => return None,
        };
        let mut span = vec![job];
        span.extend(inner);
        Some(span)
    }

    /// Take one step of the current job (starting the next one first when none runs). Returns
    /// the job's events, wrapped in [`Event::Job`], and the runner once its job has finished.
    pub async fn step(&mut self) -> Result<(Vec<Event>, Option<FinishedJob>), ExperimentError> {
        if self.current.is_none() {
            let Some(job) = self.jobs.get(self.next) else {
                return Ok((Vec::new(), None));
            };
            let runner = RmRunner::with_plan(
                job.config.clone(),
                self.compute.clone(),
                Arc::clone(&self.data),
                job.plan.clone(),
            )?;
            self.current = Some((self.next, runner));
            self.next += 1;
        }
        let Some((job, runner)) = self.current.as_mut() else {
            return Ok((Vec::new(), None));
        };
        let job = *job;
        let inner = runner.step().await?;
        let phase = &self.jobs[job].phase;
        let events = inner
            .into_iter()
            .filter(|e| !matches!(e, Event::Notice { .. }) || job == 0)
            .map(|e| Event::Job {
                job,
                jobs: self.jobs.len(),
                phase: phase.clone(),
                inner: Box::new(e),
            })
            .collect();
        let finished = if runner.is_finished() {
            self.current
                .take()
                .map(|(job, runner)| FinishedJob { job, runner })
        } else {
            None
        };
        Ok((events, finished))
    }
}
