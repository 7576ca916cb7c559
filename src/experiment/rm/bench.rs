//! RM-bench: a fixed reward-model workload for comparing backends and frameworks on one machine.
//!
//! Pre-LN transformer RM: vocab 4096, d_model 128, 4 layers, 4 heads, ffn 512 (GELU), every
//! sequence 128 tokens, 32 pairs (64 sequences) per step, learned positions, causal mask,
//! last-token readout through a final LayerNorm and a 1-unit linear head, BT loss, AdamW lr 1e-4,
//! random token ids; 3 warm-up steps, then timed steps. Training and scoring timed separately.
use burn::module::Module;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::step::{PairBatch, adamw, read_floats, train_step};
use crate::compute::Compute;
use crate::data::encode::EncodedPair;
use crate::data::rng::Rng;
use crate::experiment::config::OptimizerConfig;
use crate::experiment::error::ExperimentError;
use crate::model::RewardModelConfig;

/// The workload's fixed shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RmBenchSpec {
    /// Vocabulary.
    pub vocab: usize,
    /// Model shape.
    pub model: RewardModelConfig,
    /// Tokens per sequence.
    pub seq: usize,
    /// Pairs per step.
    pub pairs_per_step: usize,
    /// Untimed steps first.
    pub warmup_steps: usize,
    /// Timed steps.
    pub timed_steps: usize,
}

impl Default for RmBenchSpec {
    fn default() -> Self {
        Self {
            vocab: 4096,
            model: RewardModelConfig {
                d_model: 128,
                layers: 4,
                heads: 4,
                ffn: 512,
                max_len: 128,
                dropout: 0.0,
                ..Default::default()
            },
            seq: 128,
            pairs_per_step: 32,
            warmup_steps: 3,
            timed_steps: 20,
        }
    }
}

/// Figures printed by `rlhf-lab bench rm`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RmBenchResult {
    /// Training throughput (pairs per second, forward + backward + AdamW).
    pub train_pairs_per_s: f64,
    /// Scoring throughput (pairs per second, forward only, no gradients).
    pub score_pairs_per_s: f64,
    /// Mean milliseconds per training step.
    pub train_ms_per_step: f64,
    /// Mean milliseconds per scoring batch.
    pub score_ms_per_batch: f64,
    /// Trainable parameters.
    pub params: usize,
    /// `wgpu` or `flex`.
    pub backend: String,
    /// Adapter description.
    pub adapter: String,
    /// The workload.
    pub spec: RmBenchSpec,
}

fn random_pairs(spec: &RmBenchSpec, rng: &mut Rng) -> Vec<EncodedPair> {
    let mut seq = || {
        (0..spec.seq)
            .map(|_| rng.below(spec.vocab) as u32)
            .collect::<Vec<_>>()
    };
    (0..spec.pairs_per_step)
        .map(|index| EncodedPair::without_prompt(index, seq(), seq()))
        .collect()
}

/// Run RM-bench on `compute`.
pub async fn run_rm_bench(
    compute: &Compute,
    spec: &RmBenchSpec,
) -> Result<RmBenchResult, ExperimentError> {
    let device = compute.train_device();
    let mut model = spec.model.init_seeded(spec.vocab, 0, 0, &device);
    let optimizer = OptimizerConfig {
        lr: 1e-4,
        weight_decay: 0.01,
        grad_clip_norm: 0.0,
        ..Default::default()
    };
    let mut optim = adamw(&optimizer);
    let mut rng = Rng::new(0);
    let batches: Vec<Vec<EncodedPair>> = (0..4).map(|_| random_pairs(spec, &mut rng)).collect();
    let mut train_ms = 0.0;
    for i in 0..spec.warmup_steps + spec.timed_steps {
        let refs: Vec<&EncodedPair> = batches[i % batches.len()].iter().collect();
        let t0 = Instant::now();
        let batch = PairBatch::new(&refs, 0);
        model = train_step(
            &model,
            None,
            &mut optim,
            &batch,
            optimizer.lr,
            &Default::default(),
            crate::model::init::step_seed(0, i),
        )
        .await?
        .model;
        if i >= spec.warmup_steps {
            train_ms += t0.elapsed().as_secs_f64() * 1e3;
        }
    }
    let plain = compute.device.clone();
    let scorer = model.valid().to_device(&plain);
    let mut score_ms = 0.0;
    for i in 0..spec.warmup_steps + spec.timed_steps {
        let refs: Vec<&EncodedPair> = batches[i % batches.len()].iter().collect();
        let t0 = Instant::now();
        let batch = PairBatch::new(&refs, 0);
        read_floats(batch.gaps(&scorer)).await?;
        if i >= spec.warmup_steps {
            score_ms += t0.elapsed().as_secs_f64() * 1e3;
        }
    }
    let n = spec.timed_steps.max(1) as f64;
    let pairs = spec.pairs_per_step as f64;
    Ok(RmBenchResult {
        train_pairs_per_s: pairs * n / (train_ms / 1e3),
        score_pairs_per_s: pairs * n / (score_ms / 1e3),
        train_ms_per_step: train_ms / n,
        score_ms_per_batch: score_ms / n,
        params: model.num_params(),
        backend: compute.backend_name().into(),
        adapter: compute.adapter.clone(),
        spec: spec.clone(),
    })
}
