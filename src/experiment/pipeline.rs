//! Runs of different kinds chained in sequence: each stage's runner is built from what the
//! stages before it left ([`Artifacts`]: μ today, trained weights for SFT → RM → PPO later).
//! The pipeline is a runner itself: its stages' events arrive wrapped in [`Event::Job`] with a
//! [`Phase::Stage`], and it has one lifecycle of its own.
use std::collections::VecDeque;

use super::error::ExperimentError;
use super::events::{Event, Phase};
use super::runner::{AnyRunner, Artifacts, Progress, Runner, StepFuture, StepResult};
use crate::compute::Compute;

/// Builds a stage's runner from the artifacts of the stages before it.
pub type StageBuilder = Box<dyn FnOnce(&Artifacts) -> Result<AnyRunner, ExperimentError>>;

/// A sequence of stages run one after another.
pub struct Pipeline {
    compute: Compute,
    pending: VecDeque<(String, StageBuilder)>,
    current: Option<(usize, String, AnyRunner)>,
    stages: usize,
    artifacts: Artifacts,
    wall_time_s: f64,
    last_summary: String,
    last_report: serde_json::Value,
    started: bool,
    finished: bool,
}

impl Pipeline {
    /// A pipeline of named stages on `compute` (for its own lifecycle events).
    pub fn new(compute: Compute, stages: Vec<(String, StageBuilder)>) -> Self {
        Self {
            compute,
            stages: stages.len(),
            pending: stages.into(),
            current: None,
            artifacts: Artifacts::default(),
            wall_time_s: 0.0,
            last_summary: String::new(),
            last_report: serde_json::Value::Null,
            started: false,
            finished: false,
        }
    }

    /// What the finished stages have left so far.
    pub fn artifacts_so_far(&self) -> &Artifacts {
        &self.artifacts
    }

    async fn step_inner(&mut self) -> StepResult {
        let mut events = Vec::new();
        if self.finished {
            return Ok(events);
        }
        if !self.started {
            self.started = true;
            events.push(Event::started(&self.compute, self.stages * 1000));
        }
        if self.current.is_none() {
            let Some((name, build)) = self.pending.pop_front() else {
                self.finished = true;
                events.push(Event::Finished {
                    wall_time_s: 0.0,
                    summary: "no stages".into(),
                });
                return Ok(events);
            };
            let index = self.stages - self.pending.len() - 1;
            self.current = Some((index, name, build(&self.artifacts)?));
        }
        let Some((index, name, runner)) = self.current.as_mut() else {
            return Ok(events);
        };
        let phase = Phase::Stage {
            stage: *index,
            name: name.clone(),
        };
        for e in runner.step().await? {
            if let Event::Finished {
                wall_time_s,
                summary,
            } = &e
            {
                self.wall_time_s += wall_time_s;
                self.last_summary = summary.clone();
            }
            events.push(Event::Job {
                job: *index,
                jobs: self.stages,
                phase: phase.clone(),
                inner: Box::new(e),
            });
        }
        if runner.is_finished() {
            self.artifacts.merge(runner.artifacts());
            self.last_report = runner.report_json();
            self.current = None;
            if self.pending.is_empty() {
                self.finished = true;
                events.push(Event::Finished {
                    wall_time_s: self.wall_time_s,
                    summary: self.last_summary.clone(),
                });
            }
        }
        Ok(events)
    }
}

impl Runner for Pipeline {
    fn step(&mut self) -> StepFuture<'_> {
        Box::pin(self.step_inner())
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    /// `[stage, …]` with the current stage's own span (none: the stage has no such unit).
    fn span(&self, stride: super::runner::Stride) -> Option<super::runner::Span> {
        let (index, _, runner) = self.current.as_ref()?;
        let mut span = vec![*index];
        span.extend(runner.span(stride)?);
        Some(span)
    }

    /// Per-mille of the stages: finished stages count whole, the current one by its fraction.
    fn progress(&self) -> Progress {
        let done_stages = self.stages - self.pending.len() - usize::from(self.current.is_some());
        let current = self
            .current
            .as_ref()
            .map_or(0.0, |(_, _, r)| r.progress().fraction());
        Progress {
            done: done_stages * 1000 + (current * 1000.0) as usize,
            total: self.stages * 1000,
        }
    }

    /// The last finished stage's report.
    fn report_json(&self) -> serde_json::Value {
        self.last_report.clone()
    }

    fn artifacts(&self) -> Artifacts {
        self.artifacts.clone()
    }
}
