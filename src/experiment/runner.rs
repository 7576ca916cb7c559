//! The one interface every experiment runs through: a step-wise state machine that the app's
//! worker thread, the browser's async task, the CLI and the tests all drive the same way.
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::error::ExperimentError;
use super::events::Event;
use super::strength::io::StrengthMu;

/// What one step yields: the events it produced, or the error that stopped the run (everything
/// before it stays valid).
pub type StepResult = Result<Vec<Event>, ExperimentError>;

/// A step in flight. Boxed so that any runner can sit behind `dyn Runner`; not `Send`, since a
/// runner stays on the thread (or browser task) that created it.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + 'a>>;

/// How far a run has come, in its own units of work (optimizer steps over all its jobs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Units done.
    pub done: usize,
    /// Units planned (may grow as later phases are planned).
    pub total: usize,
}

impl Progress {
    /// Done as a fraction of the total, in [0, 1].
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f32 / self.total as f32).min(1.0)
        }
    }
}

/// What one run hands to the next (the strength tab's μ to the denoising tab; a trained reward
/// model to PPO).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Artifacts {
    /// μ by input index: a denoising run uses it instead of training its own ensemble.
    pub strength: Option<StrengthMu>,
    /// A trained reward model as the bytes of a model file: a PPO run uses it as its proxy
    /// instead of training one.
    pub reward_model: Option<std::sync::Arc<Vec<u8>>>,
}

impl Artifacts {
    /// Take what `newer` holds, keeping what it does not.
    pub fn merge(&mut self, newer: Artifacts) {
        if newer.strength.is_some() {
            self.strength = newer.strength;
        }
        if newer.reward_model.is_some() {
            self.reward_model = newer.reward_model;
        }
    }
}

/// A Step coarser than one optimizer step (the app's Step button).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stride {
    /// To the end of the current pass over the training pairs.
    Epoch,
    /// To the end of the current run of a multi-run experiment: an ensemble member (or all the
    /// members trained together), a band, a method, a stage.
    Job,
}

/// Where a run is in units of a [`Stride`]: a path naming the current epoch or job (stage, job,
/// epoch; outer runners put their own part in front). A Step of that stride runs until the path
/// changes or the run ends; steps that train nothing leave it as it was.
pub type Span = Vec<usize>;

/// A running experiment of any kind: what [`super::kinds::ExperimentConfig::build`] returns.
pub type AnyRunner = Box<dyn Runner>;

/// A step-wise experiment run.
pub trait Runner {
    /// Do one bounded slice of work (one optimizer step, one rollout batch) and report it.
    fn step(&mut self) -> StepFuture<'_>;
    /// True once every step and the final measurements are done.
    fn is_finished(&self) -> bool;
    /// Work done and planned.
    fn progress(&self) -> Progress;
    /// The report so far (complete once finished), as the JSON `report.json` holds.
    fn report_json(&self) -> serde_json::Value;
    /// What this run leaves for the runs after it (once finished).
    fn artifacts(&self) -> Artifacts {
        Artifacts::default()
    }
    /// The epoch or job the next step belongs to (none: the run has no such unit now).
    fn span(&self, _stride: Stride) -> Option<Span> {
        None
    }
}

/// Serialise a report for [`Runner::report_json`]; a report that cannot be written says so.
pub fn report_value<T: Serialize>(report: &T) -> serde_json::Value {
    serde_json::to_value(report)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("report not serialisable: {e}") }))
}

/// One step followed by a [`Event::Progress`] of where the run now stands: what every driver
/// (the app's worker and browser task, the CLI) calls, so progress is reported the same way for
/// every kind.
pub async fn step_reported<R: Runner + ?Sized>(runner: &mut R) -> StepResult {
    let mut events = runner.step().await?;
    let Progress { done, total } = runner.progress();
    // Before the run's `Finished`, so that stays the last word.
    let at = events
        .iter()
        .position(|e| matches!(e, Event::Finished { .. }))
        .unwrap_or(events.len());
    events.insert(at, Event::Progress { done, total });
    Ok(events)
}
