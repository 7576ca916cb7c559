//! PPO-bench: a short PPO run of `ppo`'s default world for `rlhf-lab bench ppo`: the set-up
//! (proxy reward model, and SFT for the transformer policy) timed apart from the PPO
//! iterations, and each iteration split into update and the rest (sampling, scoring,
//! measuring).
use serde::Serialize;
use web_time::Instant;

use super::{PpoConfig, PpoRunner};
use crate::compute::Compute;
use crate::experiment::error::ExperimentError;
use crate::experiment::{Run, Runner};

/// Figures printed by `rlhf-lab bench ppo`.
#[derive(Clone, Debug, Serialize)]
pub struct PpoBenchResult {
    /// Seconds before the first PPO iteration: the proxy reward model and, for the transformer
    /// policy, SFT (loading and preparing the data is not timed).
    pub setup_s: f64,
    /// Seconds of the PPO iterations.
    pub ppo_s: f64,
    /// PPO iterations timed.
    pub steps: usize,
    /// Seconds per iteration.
    pub seconds_per_step: f64,
    /// Seconds per iteration in the update (policy and critic epochs).
    pub update_seconds_per_step: f64,
    /// Seconds per iteration outside the update: sampling, scoring, measuring.
    pub rollout_seconds_per_step: f64,
    /// Response tokens sampled per second of the PPO stage.
    pub rollout_tokens_per_s: f64,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Adapter description.
    pub adapter: String,
    /// The run's config.
    pub config: Run<PpoConfig>,
}

/// Run the PPO workload `run` (best-of-n off, so only PPO is timed) on `compute`.
pub async fn run_ppo_bench(
    compute: &Compute,
    mut run: Run<PpoConfig>,
) -> Result<PpoBenchResult, ExperimentError> {
    run.experiment.bon_trials = 0;
    let mut runner = PpoRunner::setup(run.clone(), compute.clone(), None, None)?;
    let t0 = Instant::now();
    while !runner.is_finished() {
        runner.step().await?;
    }
    let wall_s = t0.elapsed().as_secs_f64();
    let report = runner.report();
    Ok(PpoBenchResult {
        setup_s: (wall_s - report.wall_time_s).max(0.0),
        ppo_s: report.wall_time_s,
        steps: report.steps,
        seconds_per_step: report.seconds_per_step,
        update_seconds_per_step: report.update_seconds_per_step,
        rollout_seconds_per_step: report.seconds_per_step - report.update_seconds_per_step,
        rollout_tokens_per_s: report.rollout_tokens_per_s,
        backend: compute.backend_name().into(),
        adapter: compute.adapter.clone(),
        config: run,
    })
}
