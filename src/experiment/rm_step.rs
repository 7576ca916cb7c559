//! One reward-model optimizer step and batched scoring, shared by every runner and the bench.
use burn::optim::{
    AdamWConfig, GradientsParams, ModuleOptimizer, grad_clipping::GradientClippingConfig,
};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::config::OptimizerConfig;
use super::error::ExperimentError;
use crate::data::encode::{EncodedPair, pad_pairs};
use crate::model::RewardModel;
use crate::rm::loss::{mean_bt_loss, preference_loss};

/// A padded batch of pairs on a device: rows `0..pairs` are chosen, `pairs..2·pairs` rejected.
pub struct PairBatch {
    /// `[2·pairs, seq]` token ids.
    pub ids: Tensor<2, Int>,
    /// Real length of each row.
    pub lengths: Vec<usize>,
    /// Number of pairs.
    pub pairs: usize,
}

impl PairBatch {
    /// Pad and upload a batch of encoded pairs.
    pub fn new(pairs: &[&EncodedPair], pad_id: u32, device: &Device) -> Self {
        let padded = pad_pairs(pairs, pad_id);
        let ids: Vec<i64> = padded.ids.iter().map(|&x| i64::from(x)).collect();
        Self {
            ids: Tensor::from_data(TensorData::new(ids, [padded.rows, padded.seq_len]), device),
            lengths: padded.lengths,
            pairs: pairs.len(),
        }
    }

    /// Reward gap `r_c − r_r` per pair, `[pairs]`.
    pub fn gaps(&self, model: &RewardModel) -> Tensor<1> {
        let rewards = model.forward(self.ids.clone(), &self.lengths).rewards;
        let n = self.pairs;
        rewards.clone().slice(0..n) - rewards.slice(n..2 * n)
    }
}

/// The AdamW optimizer of a config (gradient clipping by global norm when set).
pub fn adamw(config: &OptimizerConfig) -> ModuleOptimizer {
    let mut c = AdamWConfig::new().with_weight_decay(config.weight_decay as f32);
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

/// One Bradley–Terry step: forward, loss, backward, AdamW update at `lr`.
pub async fn train_step(
    model: &RewardModel,
    optim: &mut ModuleOptimizer,
    batch: &PairBatch,
    lr: f64,
) -> Result<StepOutcome, ExperimentError> {
    let gaps = batch.gaps(model);
    let loss = preference_loss(gaps.clone(), None, None).mean();
    // One readback per step: the gaps; the batch loss is the same formula on the host.
    let gap_values = read_floats(gaps.detach()).await?;
    let loss_value = mean_bt_loss(&gap_values);
    if !loss_value.is_finite() {
        return Ok(StepOutcome {
            model: model.clone(),
            loss: loss_value,
            gaps: gap_values,
            applied: false,
        });
    }
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let model = optim.step(lr, model.clone(), grads);
    Ok(StepOutcome {
        model,
        loss: loss_value,
        gaps: gap_values,
        applied: true,
    })
}

/// Rewards of every pair (`chosen`, `rejected`), scored without gradients in batches.
pub async fn score_pairs(
    model: &RewardModel,
    pairs: &[&EncodedPair],
    pad_id: u32,
    device: &Device,
    batch_pairs: usize,
) -> Result<(Vec<f32>, Vec<f32>), ExperimentError> {
    let mut chosen = Vec::with_capacity(pairs.len());
    let mut rejected = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_pairs.max(1)) {
        let batch = PairBatch::new(chunk, pad_id, device);
        let rewards = model.forward(batch.ids, &batch.lengths).rewards;
        let r = read_floats(rewards).await?;
        // Long evaluations must not freeze a browser tab (CPU backend: reads finish at once).
        crate::compute::yield_to_host().await;
        let n = chunk.len();
        chosen.extend_from_slice(&r[..n.min(r.len())]);
        rejected.extend_from_slice(&r[n.min(r.len())..]);
    }
    Ok((chosen, rejected))
}
