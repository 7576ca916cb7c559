//! M bag-of-words reward models stacked on a leading member axis and run as one model: every
//! weight gains a first dimension of size M, the matrix products become batched ones, and one
//! forward, backward and optimizer step trains all members at once. Each member sees its own
//! batch and its own dropout mask and is clipped by its own gradient norms, so it follows the
//! same path as the run it replaces (spec §2.1's ensemble, trained in a tenth of the ops).
use burn::{
    module::{Module, Param},
    optim::GradientsParams,
    tensor::{Device, Tensor, TensorData},
};

use super::RewardModel;
use super::bow::{bags, dropout_mask};
use super::fused::{self, BagLayout};
use crate::data::encode::PaddedBatch;

/// M bag-of-words reward models as one module.
#[derive(Module, Debug)]
pub struct BowStack {
    /// Unigram embeddings `[M, vocab, d]`.
    unigram: Param<Tensor<3>>,
    /// Hashed-bigram embeddings `[M, buckets, d]`.
    bigram: Option<Param<Tensor<3>>>,
    /// The tanh layer's weight `[M, 3d + 1, ffn]`.
    hidden: Param<Tensor<3>>,
    /// Its bias `[M, 1, ffn]`.
    hidden_bias: Option<Param<Tensor<3>>>,
    /// The bias-free reward head `[M, ffn, 1]`.
    head: Param<Tensor<3>>,
    buckets: usize,
    dropout: f64,
}

/// Stack one weight of every member on a new first axis, as a trainable parameter.
fn stacked<const D: usize, const D2: usize>(parts: Vec<Tensor<D>>) -> Param<Tensor<D2>> {
    Param::from_tensor(Tensor::stack::<D2>(parts, 0).detach())
}

/// `batch` with its rows padded (with id 0, weighted zero) to `seq` positions.
fn repadded(batch: &PaddedBatch, seq: usize) -> PaddedBatch {
    if batch.seq_len == seq {
        return batch.clone();
    }
    let mut ids = Vec::with_capacity(batch.rows * seq);
    for r in 0..batch.rows {
        ids.extend_from_slice(&batch.ids[r * batch.seq_len..(r + 1) * batch.seq_len]);
        ids.resize((r + 1) * seq, 0);
    }
    PaddedBatch {
        ids,
        seq_len: seq,
        ..batch.clone()
    }
}

impl BowStack {
    /// Stack bag-of-words reward models (same shape, built with `dropout`): `None` when any is
    /// not a bag of words or the list is empty.
    pub fn from_members(models: &[RewardModel], dropout: f64) -> Option<Self> {
        let mut parts = Vec::with_capacity(models.len());
        for model in models {
            let (body, head) = model.bow_and_head()?;
            parts.push((body.weights(), head));
        }
        if parts.is_empty() {
            return None;
        }
        let buckets = parts[0].0.bigram.as_ref().map_or(0, |b| b.dims()[0]);
        let take = |f: &dyn Fn(&(super::bow::BowWeights, Tensor<2>)) -> Option<Tensor<2>>| {
            parts.iter().map(f).collect::<Option<Vec<_>>>()
        };
        Some(Self {
            unigram: stacked(take(&|(w, _)| Some(w.unigram.clone()))?),
            bigram: take(&|(w, _)| w.bigram.clone()).map(stacked),
            hidden: stacked(take(&|(w, _)| Some(w.hidden.clone()))?),
            hidden_bias: take(&|(w, _)| w.hidden_bias.clone().map(|b| b.unsqueeze::<2>()))
                .map(stacked),
            head: stacked(take(&|(_, h)| Some(h.clone()))?),
            buckets,
            dropout,
        })
    }

    /// Number of members M.
    pub fn members(&self) -> usize {
        self.head.val().dims()[0]
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.head.lazy_device()
    }

    /// The dropout masks of one training step, `[M, rows, 3d + 1]`: member m's is the mask
    /// its own run would draw with seed `seeds[m]` ([`dropout_mask`]). `None` when dropout is
    /// off or the device records no gradients (scoring).
    pub fn dropout_masks(&self, seeds: &[u64], rows: usize) -> Option<Tensor<3>> {
        let device = self.device();
        if self.dropout <= 0.0 || !device.is_autodiff() {
            return None;
        }
        let cols = self.hidden.val().dims()[1];
        let mut masks = Vec::with_capacity(seeds.len() * rows * cols);
        for &seed in seeds {
            masks.extend(dropout_mask(seed, rows, cols, self.dropout));
        }
        let shape = [seeds.len(), rows, cols];
        Some(Tensor::from_data(TensorData::new(masks, shape), &device))
    }

    /// Rewards `[M, rows]`: member m scores `batches[m]` (pass the same batch M times to score
    /// one batch with every member). All batches need the same number of rows; `masks` are
    /// [`Self::dropout_masks`] for training, `None` for scoring.
    pub fn forward(&self, batches: &[&PaddedBatch], masks: Option<Tensor<3>>) -> Tensor<2> {
        let device = self.device();
        let m = self.members();
        let d = self.unigram.val().dims()[2];
        let rows = batches.first().map_or(0, |b| b.rows);
        let seq = batches.iter().map(|b| b.seq_len).max().unwrap_or(0);
        let layout = |sums| BagLayout {
            members: m,
            rows,
            seq,
            ids: Vec::with_capacity(m * rows * seq),
            weights: vec![Vec::with_capacity(m * rows * seq); sums],
        };
        let mut pairs = self.bigram.as_ref().map(|_| layout(1));
        let (mut words, mut log_len) = (layout(2), Vec::new());
        for batch in batches {
            let batch = repadded(batch, seq);
            let bag = bags(&batch, self.buckets);
            words.ids.extend_from_slice(&batch.ids);
            words.weights[0].extend(bag.response_weight);
            words.weights[1].extend(bag.prompt_weight);
            if let Some(pairs) = &mut pairs {
                pairs.ids.extend(bag.bigram_ids);
                pairs.weights[0].extend(bag.bigram_weight);
            }
            log_len.extend(bag.log_len);
        }
        let words = fused::weighted_bags(self.unigram.val(), words);
        let mut response = words.clone().narrow(2, 0, d);
        if let (Some(bigram), Some(pairs)) = (&self.bigram, pairs) {
            response = response + fused::weighted_bags(bigram.val(), pairs);
        }
        let prompt = words.narrow(2, d, d);
        let log_len = Tensor::<3>::from_data(TensorData::new(log_len, [m, rows, 1]), &device);
        let both = response.clone() * prompt.clone();
        let mut x = Tensor::cat(vec![response, prompt, both, log_len], 2);
        if let Some(mask) = masks {
            x = x * mask;
        }
        let mut h = x.matmul(self.hidden.val());
        if let Some(bias) = &self.hidden_bias {
            h = h + bias.val();
        }
        fused::tanh(h).matmul(self.head.val()).reshape([m, rows])
    }

    /// Clip every member's gradient of every weight to an L2 norm of at most `max_norm`, each
    /// on its own (what a run's optimizer does per parameter tensor), before the update.
    pub fn clip_member_grads(&self, grads: &mut GradientsParams, max_norm: f32) {
        let mut ids = vec![self.unigram.id, self.hidden.id, self.head.id];
        ids.extend(self.bigram.as_ref().map(|p| p.id));
        ids.extend(self.hidden_bias.as_ref().map(|p| p.id));
        for id in ids {
            let Some(grad) = grads.remove::<3>(id) else {
                continue;
            };
            let norm = grad.clone().square().sum_dim(2).sum_dim(1).sqrt();
            let coef = (norm + f32::MIN_POSITIVE).recip().mul_scalar(max_norm);
            grads.register(id, grad * coef.clamp_max(1.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::encode::{EncodedPair, pad_pairs};
    use crate::model::RewardModelConfig;

    fn members(device: &Device) -> Vec<RewardModel> {
        let config = RewardModelConfig {
            d_model: 8,
            ffn: 6,
            bigram_buckets: 16,
            dropout: 0.2,
            ..RewardModelConfig::bow()
        };
        (0..3)
            .map(|seed| config.init_seeded(40, 0, seed, device))
            .collect()
    }

    /// Three different batches of two pairs, with prompts and different lengths.
    fn batches() -> Vec<PaddedBatch> {
        let pair = |c: Vec<u32>, r: Vec<u32>, cs, rs| EncodedPair {
            chosen_start: cs,
            rejected_start: rs,
            ..EncodedPair::without_prompt(0, c, r)
        };
        let sets = [
            vec![
                pair(vec![5, 6, 7, 8, 1], vec![5, 9, 1], 1, 1),
                pair(vec![10, 11, 1], vec![12, 13, 14, 1], 0, 0),
            ],
            vec![
                pair(vec![3, 4, 1], vec![3, 20, 21, 22, 23, 24, 1], 1, 1),
                pair(vec![30, 1], vec![31, 1], 0, 0),
            ],
            vec![
                pair(vec![2, 2, 2, 1], vec![2, 39, 1], 2, 1),
                pair(vec![17, 18, 19, 1], vec![16, 1], 0, 0),
            ],
        ];
        sets.iter()
            .map(|s| pad_pairs(&s.iter().collect::<Vec<_>>(), 0))
            .collect()
    }

    fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{what}: {x} vs {y}");
        }
    }

    #[test]
    fn a_stack_scores_each_batch_as_its_member_does() {
        let device = Device::flex();
        let models = members(&device);
        let stack = BowStack::from_members(&models, 0.2).unwrap();
        assert_eq!(stack.members(), 3);
        let batches = batches();
        let refs: Vec<&PaddedBatch> = batches.iter().collect();
        let rows = batches[0].rows;
        // No gradients: no dropout, as in scoring.
        assert!(stack.dropout_masks(&[1, 2, 3], rows).is_none());
        let stacked = floats(stack.forward(&refs, None));
        for (m, (model, batch)) in models.iter().zip(&batches).enumerate() {
            let own = floats(model.forward(batch).rewards);
            assert_close(&stacked[m * rows..(m + 1) * rows], &own, "member {m}");
        }
    }

    #[test]
    fn training_passes_draw_each_members_own_dropout_mask() {
        let device = Device::flex().autodiff();
        let models = members(&device);
        let stack = BowStack::from_members(&models, 0.2).unwrap();
        let batches = batches();
        let refs: Vec<&PaddedBatch> = batches.iter().collect();
        let rows = batches[0].rows;
        let seeds = [11, 12, 13];
        let masks = stack.dropout_masks(&seeds, rows).unwrap();
        assert_eq!(masks.dims(), [3, rows, 3 * 8 + 1]);
        let stacked = floats(stack.forward(&refs, Some(masks)));
        let plain = floats(stack.forward(&refs, None));
        assert_ne!(stacked, plain, "dropout changes the rewards");
        for (m, model) in models.iter().enumerate() {
            let own = floats(model.forward_train(&batches[m], seeds[m]).rewards);
            assert_close(&stacked[m * rows..(m + 1) * rows], &own, "member {m}");
        }
    }

    #[test]
    fn gradients_are_clipped_member_by_member() {
        let device = Device::flex();
        let stack = BowStack::from_members(&members(&device)[..2], 0.0).unwrap();
        let [m, rows, cols] = stack.head.val().dims();
        assert_eq!((m, rows, cols), (2, 6, 1));
        // Member 0's head gradient has norm 5 (3, 4, 0 …), member 1's norm 0.5.
        let mut g = vec![0.0f32; 12];
        (g[0], g[1], g[6]) = (3.0, 4.0, 0.5);
        let mut grads = GradientsParams::new();
        let head = Tensor::<3>::from_data(TensorData::new(g, [2, 6, 1]), &device);
        grads.register(stack.head.id, head);
        stack.clip_member_grads(&mut grads, 1.0);
        let clipped = floats(grads.get::<3>(stack.head.id).unwrap());
        assert_close(&clipped[..2], &[0.6, 0.8], "member 0 scaled to norm 1");
        assert_close(
            &clipped[6..7],
            &[0.5],
            "member 1 below the bound is unchanged",
        );
        assert!(clipped[2..6].iter().chain(&clipped[7..]).all(|&x| x == 0.0));
    }

    #[test]
    fn only_bags_of_words_stack() {
        let device = Device::flex();
        let transformer = RewardModelConfig::default().init_seeded(40, 0, 1, &device);
        assert!(BowStack::from_members(&[transformer], 0.1).is_none());
        assert!(BowStack::from_members(&[], 0.1).is_none());
    }
}
