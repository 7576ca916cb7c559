//! The transformer policy's SFT step and batched sampling. SFT teaches the policy LM the
//! reference distribution (words and when to stop: EOS) by next-token cross-entropy on the
//! response tokens; sampling runs the prompts once and each new token from a key/value cache,
//! and draws from the same masked distribution the log-probabilities read.
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Tensor, TensorData};

use crate::data::encode::{PaddedBatch, pad_sequences};
use crate::data::rng::Rng;
use crate::experiment::error::ExperimentError;
use crate::experiment::rm::step::read_floats;
use crate::model::policy::PolicyLm;
use crate::rl::sampling::Sampling;

/// A padded batch of `prompt + response + EOS` sequences and, per next-token position, 1 where
/// the predicted token is a response token (EOS included), else 0: `[rows, seq − 1]`.
pub fn response_mask(sequences: &[&[u32]], starts: &[usize], pad: u32) -> (PaddedBatch, Vec<f32>) {
    let batch = pad_sequences(sequences, pad);
    let (rows, seq) = (batch.rows, batch.seq_len);
    let width = seq.saturating_sub(1);
    let mut mask = vec![0.0f32; rows * width];
    for r in 0..rows {
        let start = starts.get(r).copied().unwrap_or(0).max(1);
        for t in start.saturating_sub(1)..batch.lengths[r].saturating_sub(1) {
            mask[r * width + t] = 1.0;
        }
    }
    (batch, mask)
}

/// One SFT step: mean next-token cross-entropy over the response tokens, backward, optimizer
/// step at `lr`. Returns the updated model and the loss before the update (the model is
/// returned unchanged when the loss is not finite).
pub async fn sft_step(
    model: &PolicyLm,
    optim: &mut ModuleOptimizer,
    sequences: &[&[u32]],
    starts: &[usize],
    pad: u32,
    lr: f64,
) -> Result<(PolicyLm, f32), ExperimentError> {
    let (batch, mask) = response_mask(sequences, starts, pad);
    if batch.seq_len < 2 {
        return Err(ExperimentError::Config(
            "SFT sequences need a prompt or response token before EOS".into(),
        ));
    }
    let device = model.device();
    let tokens: f32 = mask.iter().sum::<f32>().max(1.0);
    let mask = Tensor::<2>::from_data(
        TensorData::new(mask, [batch.rows, batch.seq_len - 1]),
        &device,
    );
    let loss = (model.next_token_log_probs(&batch) * mask).sum().neg() / tokens;
    let value = read_floats(loss.clone().detach().reshape([1])).await?;
    let value = value.first().copied().unwrap_or(f32::NAN);
    if !value.is_finite() {
        return Ok((model.clone(), value));
    }
    let grads = GradientsParams::from_grads(loss.backward(), model);
    Ok((optim.step(lr, model.clone(), grads), value))
}

/// Sample a response for every prompt: tokens until EOS or `max_new` tokens. Returns each
/// response's token ids (ending with EOS when the policy stopped). Generation is cached (see
/// [`crate::model::kv_cache`]) unless the policy has dropout, where each token's pass draws its own
/// masks as the uncached path does.
pub async fn sample(
    model: &PolicyLm,
    prompts: &[Vec<u32>],
    max_new: usize,
    eos: u32,
    pad: u32,
    sampling: &Sampling,
    rng: &mut Rng,
) -> Result<Vec<Vec<u32>>, ExperimentError> {
    let cached = model.dropout() == 0.0;
    let drawn = generate(model, prompts, max_new, (eos, pad), sampling, rng, cached).await?;
    Ok(drawn.tokens)
}

/// What [`generate`] drew: each response's tokens and the policy's log-probability of each
/// (before any temperature or top-k the sampling applies).
#[derive(Debug)]
pub struct Generated {
    /// Each response's token ids (ending with EOS when the policy stopped).
    pub tokens: Vec<Vec<u32>>,
    /// log π of each token.
    pub log_probs: Vec<Vec<f32>>,
}

/// Draw a response per prompt, recomputing every prefix at each token (`cached` false: the
/// reference) or from a key/value cache (`cached` true). Under one seed and without dropout the
/// two draw the same tokens with log-probabilities equal within rounding (tested).
pub async fn generate(
    model: &PolicyLm,
    prompts: &[Vec<u32>],
    max_new: usize,
    (eos, pad): (u32, u32),
    sampling: &Sampling,
    rng: &mut Rng,
    cached: bool,
) -> Result<Generated, ExperimentError> {
    let mut tokens: Vec<Vec<u32>> = vec![Vec::new(); prompts.len()];
    let mut log_probs: Vec<Vec<f32>> = vec![Vec::new(); prompts.len()];
    let mut open: Vec<usize> = (0..prompts.len()).collect();
    if open.is_empty() || max_new == 0 {
        return Ok(Generated { tokens, log_probs });
    }
    let refs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
    let (mut logp, mut cache) = if cached {
        let (logp, cache) = model.start_generation(&pad_sequences(&refs, pad));
        (logp, Some(cache))
    } else {
        (model.last_log_probs(&pad_sequences(&refs, pad)), None)
    };
    for step in 0..max_new {
        let v = logp.dims()[1];
        let flat = read_floats(logp).await?;
        let (mut still, mut kept, mut fed) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in open.iter().enumerate() {
            let row: Vec<f64> = flat[k * v..(k + 1) * v]
                .iter()
                .map(|&x| f64::from(x))
                .collect();
            let token = sampling.sample(&row, rng);
            tokens[i].push(token as u32);
            log_probs[i].push(flat[k * v + token]);
            if token as u32 != eos {
                still.push(i);
                kept.push(k);
                fed.push(token as u32);
            }
        }
        open = still;
        crate::compute::yield_to_host().await;
        if open.is_empty() || step + 1 == max_new {
            break;
        }
        logp = match &mut cache {
            Some(cache) => {
                cache.retain(&kept);
                model
                    .continue_generation(cache, &fed)
                    .map_err(ExperimentError::Config)?
            }
            None => {
                let sequences: Vec<Vec<u32>> = open
                    .iter()
                    .map(|&i| prompts[i].iter().chain(&tokens[i]).copied().collect())
                    .collect();
                let refs: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
                model.last_log_probs(&pad_sequences(&refs, pad))
            }
        };
    }
    Ok(Generated { tokens, log_probs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_covers_response_tokens_and_eos_only() {
        // prompt [5, 6], response [7, 8], EOS 1; second row: prompt [5], response [9], EOS.
        let a: &[u32] = &[5, 6, 7, 8, 1];
        let b: &[u32] = &[5, 9, 1];
        let (batch, mask) = response_mask(&[a, b], &[2, 1], 0);
        assert_eq!(batch.seq_len, 5);
        // Next-token positions 0..4 predict ids 1..5: 6 (prompt), 7, 8, EOS.
        assert_eq!(&mask[..4], &[0.0, 1.0, 1.0, 1.0]);
        // Row b predicts 9, EOS, then padding.
        assert_eq!(&mask[4..], &[1.0, 1.0, 0.0, 0.0]);
    }
}
