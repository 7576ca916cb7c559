//! Helpers shared by integration tests.
#![allow(dead_code)]
pub mod stats;
use rlhf_lab::compute::{BackendChoice, Compute};
use rlhf_lab::data::synthetic::SyntheticConfig;
use rlhf_lab::experiment::{
    DataConfig, DataSource, Event, KindEvent, RmEvent, RmRunner, RmTrainConfig, Run,
};
use rlhf_lab::model::RewardModelConfig;

/// A run of `experiment` on the CPU in the synthetic world of `pairs` pairs, world seed and run
/// seed both `seed`.
pub fn world_run<E>(pairs: usize, seed: u64, experiment: E) -> Run<E> {
    Run {
        data: DataConfig {
            source: DataSource::Synthetic(SyntheticConfig {
                pairs,
                seed,
                ..Default::default()
            }),
            ..Default::default()
        },
        seed,
        backend: BackendChoice::Cpu,
        experiment,
    }
}

/// A small, fast synthetic run on the CPU.
pub fn small_config(steps: usize, seed: u64) -> Run<RmTrainConfig> {
    Run {
        data: DataConfig {
            source: DataSource::Synthetic(SyntheticConfig {
                pairs: 600,
                ..Default::default()
            }),
            ..Default::default()
        },
        seed,
        backend: BackendChoice::Cpu,
        experiment: RmTrainConfig {
            model: RewardModelConfig {
                d_model: 32,
                layers: 1,
                heads: 2,
                ffn: 64,
                max_len: 24,
                dropout: 0.1,
                ..Default::default()
            },
            steps,
            batch_size: 16,
            eval_every: 5,
            ..Default::default()
        },
    }
}

/// Step a runner to the end, collecting every event.
pub fn run_to_end(runner: &mut RmRunner) -> Vec<Event> {
    let mut events = Vec::new();
    while !runner.is_finished() {
        events.extend(pollster::block_on(runner.step()).expect("step"));
    }
    events
}

/// Set up a CPU run.
pub fn cpu_runner(config: Run<RmTrainConfig>) -> RmRunner {
    RmRunner::setup(config, Compute::cpu(), None).expect("setup")
}

/// Losses of the RmStep events.
pub fn losses(events: &[Event]) -> Vec<f32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Kind(KindEvent::Rm(RmEvent::Step { loss, .. })) => Some(*loss),
            _ => None,
        })
        .collect()
}
