//! Strength-bench: the default synthetic strength run (M = 10 bag-of-words members, then band
//! retraining), timed by stage, for `rlhf-lab bench strength`.
use serde::Serialize;
use web_time::Instant;

use super::{StrengthConfig, StrengthEvent, StrengthRunner};
use crate::compute::Compute;
use crate::experiment::error::ExperimentError;
use crate::experiment::{Event, KindEvent, Run};

/// Figures printed by `rlhf-lab bench strength`.
#[derive(Clone, Debug, Serialize)]
pub struct StrengthBenchResult {
    /// Wall time of the whole run (data preparation excluded), seconds.
    pub wall_s: f64,
    /// Wall time of the ensemble stage (all members trained and scored), seconds.
    pub ensemble_s: f64,
    /// Wall time of band-alone retraining, seconds (0 when it is off).
    pub bands_s: f64,
    /// Ensemble members.
    pub members: usize,
    /// Training pairs each member sees per epoch.
    pub train_pairs: usize,
    /// Optimizer steps of each member.
    pub member_steps: usize,
    /// Pairs per optimizer step.
    pub batch_pairs: usize,
    /// True when the members trained together as one stacked model.
    pub stacked_members: bool,
    /// Pair updates per second in the ensemble stage: members × steps × batch pairs / s.
    pub member_pairs_per_s: f64,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Adapter description.
    pub adapter: String,
    /// The run's config (the default strength run unless changed).
    pub config: Run<StrengthConfig>,
}

/// Run the strength workload `run` to the end on `compute`, timing each stage.
pub async fn run_strength_bench(
    compute: &Compute,
    run: Run<StrengthConfig>,
) -> Result<StrengthBenchResult, ExperimentError> {
    let backend = compute.backend_name().to_string();
    let adapter = compute.adapter.clone();
    let mut runner = StrengthRunner::setup(run.clone(), compute.clone(), None)?;
    let train_pairs = runner.data().split.train.len();
    let models = run.experiment.models;
    let stacked_members = runner.members_stacked();
    let t0 = Instant::now();
    let mut ensemble_s = None;
    while !runner.is_finished() {
        let events = runner.step().await?;
        let ensemble_done = events.iter().any(|e| {
            matches!(e, Event::Kind(KindEvent::Strength(StrengthEvent::Update { members, .. }))
                if *members == models)
        });
        if ensemble_done && ensemble_s.is_none() {
            ensemble_s = Some(t0.elapsed().as_secs_f64());
        }
    }
    let wall_s = t0.elapsed().as_secs_f64();
    let ensemble_s = match ensemble_s {
        Some(s) if run.experiment.band_retrain => s,
        _ => wall_s,
    };
    let member_steps = run.experiment.rm.total_steps(train_pairs);
    let batch_pairs = run.experiment.rm.batch_size.min(train_pairs);
    let updates = (models * member_steps * batch_pairs) as f64;
    Ok(StrengthBenchResult {
        wall_s,
        ensemble_s,
        bands_s: wall_s - ensemble_s,
        members: models,
        train_pairs,
        member_steps,
        batch_pairs,
        stacked_members,
        member_pairs_per_s: updates / ensemble_s.max(1e-9),
        backend,
        adapter,
        config: run,
    })
}
