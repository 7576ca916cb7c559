//! One reward-model optimizer step and batched scoring, shared by every runner and the bench.
use burn::optim::{
    AdamWConfig, GradientsParams, ModuleOptimizer, grad_clipping::GradientClippingConfig,
};
use burn::tensor::{Tensor, TensorData};

use crate::data::encode::{EncodedPair, PaddedBatch, pad_pairs};
use crate::experiment::config::OptimizerConfig;
use crate::experiment::error::ExperimentError;
use crate::model::RewardModel;
use crate::rm::contrastive::{
    ContrastiveConfig, ContrastiveMethod, instances, simcse_loss, swav_loss,
};
use crate::rm::loss::{preference_loss, preference_loss_value};
use crate::rm::metarm::{ascent_step, difference_loss, without_dropout};

/// Pairs scored per forward pass during evaluation (and by a saved model's scoring, so both
/// group pairs alike).
pub const EVAL_BATCH_PAIRS: usize = 64;

/// A padded batch of pairs: rows `0..pairs` are chosen, `pairs..2·pairs` rejected, with the
/// per-pair loss targets (margin and label smoothing; zero for plain Bradley–Terry).
pub struct PairBatch {
    /// The padded rows (host side; the model uploads what it needs).
    pub padded: PaddedBatch,
    /// Number of pairs.
    pub pairs: usize,
    /// Margin per pair inside the sigmoid (`None`: 0 everywhere).
    pub margins: Option<Vec<f32>>,
    /// Label-smoothing α per pair (`None`: 0 everywhere).
    pub smoothing: Option<Vec<f32>>,
}

impl PairBatch {
    /// Pad a batch of encoded pairs (plain Bradley–Terry targets).
    pub fn new(pairs: &[&EncodedPair], pad_id: u32) -> Self {
        Self {
            padded: pad_pairs(pairs, pad_id),
            pairs: pairs.len(),
            margins: None,
            smoothing: None,
        }
    }

    /// Reward gap `r_c − r_r` per pair, `[pairs]`.
    pub fn gaps(&self, model: &RewardModel) -> Tensor<1> {
        self.gaps_of(model.forward(&self.padded).rewards)
    }

    /// Reward gaps from the `[2·pairs]` rewards of one forward pass over this batch.
    pub fn gaps_of(&self, rewards: Tensor<1>) -> Tensor<1> {
        let n = self.pairs;
        rewards.clone().slice(0..n) - rewards.slice(n..2 * n)
    }

    /// Host-side mean loss for gaps measured on this batch (same formula as the tensor loss).
    pub fn mean_loss(&self, gaps: &[f32]) -> f32 {
        let at = |v: &Option<Vec<f32>>, i: usize| {
            v.as_ref()
                .and_then(|v| v.get(i))
                .map_or(0.0, |&x| f64::from(x))
        };
        let total: f64 = gaps
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                preference_loss_value(f64::from(g), at(&self.margins, i), at(&self.smoothing, i))
            })
            .sum();
        (total / gaps.len().max(1) as f64) as f32
    }
}

/// AdamW's β₁ (burn's default), shared with the fused AdamW of stacked runs.
pub const ADAM_BETA_1: f32 = 0.9;
/// AdamW's β₂ (burn's default).
pub const ADAM_BETA_2: f32 = 0.999;
/// AdamW's ε (burn's default).
pub const ADAM_EPSILON: f32 = 1e-5;

/// The AdamW optimizer of a config (each weight tensor's gradient clipped to the norm, when
/// set).
pub fn adamw(config: &OptimizerConfig) -> ModuleOptimizer {
    let mut c = AdamWConfig::new()
        .with_beta_1(ADAM_BETA_1)
        .with_beta_2(ADAM_BETA_2)
        .with_epsilon(ADAM_EPSILON)
        .with_weight_decay(config.weight_decay as f32);
    if config.grad_clip_norm > 0.0 {
        c = c.with_grad_clipping(Some(GradientClippingConfig::Norm(
            config.grad_clip_norm as f32,
        )));
    }
    c.init()
}

/// What a training step measured.
pub struct StepOutcome {
    /// The updated model (the input model, unchanged, when the loss was not finite).
    pub model: RewardModel,
    /// Mean loss of the batch, before the update.
    pub loss: f32,
    /// Per-pair reward gaps before the update.
    pub gaps: Vec<f32>,
    /// False when the loss was NaN/inf and the update was skipped.
    pub applied: bool,
    /// The contrastive term (before β), when the run has one.
    pub contrastive_loss: Option<f32>,
}

/// Read a tensor back (async, so it works on WebGPU in the browser).
pub async fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, ExperimentError> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| ExperimentError::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>()
        .map_err(|e| ExperimentError::Device(format!("{e:?}")))
}

/// The contrastive term of one step from the two dropout views' pooled features.
fn contrastive_term(
    model: &RewardModel,
    features_s: Tensor<2>,
    features_t: Tensor<2>,
    pairs: usize,
    c: &ContrastiveConfig,
) -> Tensor<1> {
    let kind = c.instances();
    let h_s = instances(features_s, pairs, kind);
    let h_t = instances(features_t, pairs, kind);
    match (c.method, model.prototypes()) {
        (ContrastiveMethod::Swav | ContrastiveMethod::SwavDiff, Some(protos)) => swav_loss(
            h_s,
            h_t,
            protos,
            c.tau,
            c.sinkhorn_epsilon,
            c.sinkhorn_iterations,
        ),
        _ => simcse_loss(h_s, h_t, c.tau),
    }
}

/// Algorithm 1's meta step on one minibatch of meta groups (`groups`: `[m·k]` rows, group by
/// group): J of the groups at θ = `model`, measured **without dropout** (a copy with its
/// dropout off, so no masks are drawn and the run's generators do not move: with η = 0 a
/// MetaRM run is its vanilla run bit for bit), then θ' = θ + η ∇J, a plain ascent step on a
/// copy. Returns θ' and J at θ.
pub async fn meta_ascent(
    model: &RewardModel,
    groups: &PaddedBatch,
    k: usize,
    eta: f64,
) -> Result<(RewardModel, f32), ExperimentError> {
    let plain = without_dropout(model.clone());
    let rows = groups.rows;
    if k < 2 || rows == 0 || !rows.is_multiple_of(k) {
        return Err(ExperimentError::Config(format!(
            "meta step: {rows} responses do not make groups of k = {k}"
        )));
    }
    let rewards = plain.forward(groups).rewards.reshape([rows / k, k]);
    let j = difference_loss(rewards);
    let value = read_floats(j.clone().detach()).await?;
    let value = value.first().copied().unwrap_or(f32::NAN);
    if !value.is_finite() {
        return Err(ExperimentError::Config(format!(
            "meta step: the difference loss J is {value}; lower meta_lr or the learning rate"
        )));
    }
    let mut grads = GradientsParams::from_grads(j.backward(), &plain);
    Ok((ascent_step(model, &mut grads, eta), value))
}

/// One preference-loss step (Bradley–Terry with the batch's margins and smoothing), plus β
/// times a contrastive loss over two dropout views when `contrastive` is active (the reward
/// loss then averages both views): forward, loss, backward, AdamW update at `lr`. With
/// `lookahead` (MetaRM's θ'), the forward pass and the gradients are taken there and the
/// update is applied to `model` (θ): Algorithm 1's first-order outer step.
pub async fn train_step(
    model: &RewardModel,
    lookahead: Option<&RewardModel>,
    optim: &mut ModuleOptimizer,
    batch: &PairBatch,
    lr: f64,
    contrastive: &ContrastiveConfig,
    draw_seed: u64,
) -> Result<StepOutcome, ExperimentError> {
    let at = lookahead.unwrap_or(model);
    let device = model.device();
    let upload = |v: &Option<Vec<f32>>| {
        v.as_ref()
            .map(|v| Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), &device))
    };
    let n = batch.pairs;
    let view = |out: crate::model::reward::RewardOutput| (batch.gaps_of(out.rewards), out.features);
    let rm_loss =
        |g: Tensor<1>| preference_loss(g, upload(&batch.margins), upload(&batch.smoothing)).mean();
    // The forward passes draw the dropout masks: from this step's own seed, with the
    // generator held, so the draws do not depend on other runs in the process.
    let (gaps, loss, cl) = {
        let _draws = crate::model::init::generator_lock();
        device.seed(draw_seed);
        let (gaps, features_s) = view(at.forward_train(&batch.padded, draw_seed));
        if contrastive.active() {
            // The second view's bag-of-words mask has its own seed; a transformer's continues
            // the device's stream.
            let second = draw_seed.rotate_left(32) ^ 0xD1B5_4A32_D192_ED03;
            let (gaps_t, features_t) = view(at.forward_train(&batch.padded, second));
            let cl = contrastive_term(at, features_s, features_t, n, contrastive);
            let loss =
                (rm_loss(gaps.clone()) + rm_loss(gaps_t)) / 2.0 + cl.clone() * contrastive.beta;
            (gaps, loss, Some(cl))
        } else {
            let loss = rm_loss(gaps.clone());
            (gaps, loss, None)
        }
    };
    // One readback per step: the gaps (plus, in contrastive runs, the contrastive term and the
    // whole loss, so a NaN anywhere in it stops the update); the reward loss is the same
    // formula on the host.
    let readback = match &cl {
        Some(cl) => Tensor::cat(
            vec![
                gaps.detach(),
                cl.clone().detach().reshape([1]),
                loss.clone().detach().reshape([1]),
            ],
            0,
        ),
        None => gaps.detach(),
    };
    let mut gap_values = read_floats(readback).await?;
    let total = cl.is_some().then(|| gap_values.pop()).flatten();
    let contrastive_loss = cl.is_some().then(|| gap_values.pop()).flatten();
    let loss_value = batch.mean_loss(&gap_values);
    let loss_value = if total.is_some_and(|t| !t.is_finite()) {
        f32::NAN
    } else {
        loss_value
    };
    if !loss_value.is_finite() {
        return Ok(StepOutcome {
            model: model.clone(),
            loss: loss_value,
            gaps: gap_values,
            applied: false,
            contrastive_loss,
        });
    }
    // θ' keeps θ's parameter ids, so its gradients update θ.
    let grads = GradientsParams::from_grads(loss.backward(), at);
    let model = optim.step(lr, model.clone(), grads);
    Ok(StepOutcome {
        model,
        loss: loss_value,
        gaps: gap_values,
        applied: true,
        contrastive_loss,
    })
}

/// Pooled features of every pair (`chosen`, `rejected`; one vector per response), computed in
/// batches on the model's device (pass a model without autodiff).
pub async fn score_features(
    model: &RewardModel,
    pairs: &[&EncodedPair],
    pad_id: u32,
    batch_pairs: usize,
) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>), ExperimentError> {
    let mut chosen = Vec::with_capacity(pairs.len());
    let mut rejected = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_pairs.max(1)) {
        let batch = pad_pairs(chunk, pad_id);
        let features = model.forward(&batch).features;
        let d = features.dims()[1];
        let flat = read_floats(features).await?;
        crate::compute::yield_to_host().await;
        let rows: Vec<Vec<f32>> = flat.chunks(d.max(1)).map(<[f32]>::to_vec).collect();
        let n = chunk.len().min(rows.len());
        chosen.extend_from_slice(&rows[..n]);
        rejected.extend_from_slice(&rows[n..]);
    }
    Ok((chosen, rejected))
}

/// Rewards of every pair (`chosen`, `rejected`), scored in batches on the model's device (pass
/// a model without autodiff for no gradients).
pub async fn score_pairs(
    model: &RewardModel,
    pairs: &[&EncodedPair],
    pad_id: u32,
    batch_pairs: usize,
) -> Result<(Vec<f32>, Vec<f32>), ExperimentError> {
    let mut chosen = Vec::with_capacity(pairs.len());
    let mut rejected = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_pairs.max(1)) {
        let batch = pad_pairs(chunk, pad_id);
        let rewards = model.forward(&batch).rewards;
        let r = read_floats(rewards).await?;
        // Long evaluations must not freeze a browser tab (CPU backend: reads finish at once).
        crate::compute::yield_to_host().await;
        let n = chunk.len();
        chosen.extend_from_slice(&r[..n.min(r.len())]);
        rejected.extend_from_slice(&r[n.min(r.len())..]);
    }
    Ok((chosen, rejected))
}
