//! The bag-of-words body of the reward model: a fast, small alternative to the transformer for
//! ensembles on a laptop (spec §8.3 option (a), with a hidden layer).
//!
//! Features of a row: the response's token embeddings and hashed-bigram embeddings summed and
//! divided by √(response length), the prompt's token embeddings averaged (the context, e.g. the
//! topic of a synthetic prompt), their elementwise product (response–prompt fit), and
//! ln(1 + response length). A tanh layer maps them to the
//! pooled feature that the reward head reads. The EOS and padding are not counted.
use burn::{
    module::Module,
    nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig},
    tensor::{Device, Tensor, TensorData},
};

use super::fused::{self, BagLayout};
use crate::data::encode::PaddedBatch;

/// Shape of a bag of words. The vocabulary size comes from the tokenizer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BowShape {
    /// Token ids `0..vocab_size`.
    pub vocab_size: usize,
    /// Embedding width.
    pub d_model: usize,
    /// Width of the tanh layer (the pooled feature).
    pub ffn: usize,
    /// Hashed-bigram buckets (0 = unigrams only).
    pub bigram_buckets: usize,
    /// Dropout on the features.
    pub dropout: f64,
}

/// Bag-of-words feature extractor.
#[derive(Module, Debug)]
pub struct BowBody {
    unigram: Embedding,
    bigram: Option<Embedding>,
    bigram_buckets: usize,
    dropout: Dropout,
    hidden: Linear,
}

/// A bag of words' weights (see [`BowBody::weights`]).
pub(crate) struct BowWeights {
    pub(crate) unigram: Tensor<2>,
    pub(crate) bigram: Option<Tensor<2>>,
    pub(crate) hidden: Tensor<2>,
    pub(crate) hidden_bias: Option<Tensor<1>>,
}

/// Bucket of the bigram `(a, b)`: a fixed multiplicative hash, the same on every platform.
pub fn bigram_bucket(a: u32, b: u32, buckets: usize) -> usize {
    let h = (u64::from(a).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(b))
        .wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    ((h >> 17) % buckets.max(1) as u64) as usize
}

/// Host-side bag layout of a batch: ids and weights per position.
pub(crate) struct Bags {
    pub(crate) bigram_ids: Vec<u32>,
    pub(crate) response_weight: Vec<f32>,
    pub(crate) bigram_weight: Vec<f32>,
    pub(crate) prompt_weight: Vec<f32>,
    pub(crate) log_len: Vec<f32>,
}

pub(crate) fn bags(batch: &PaddedBatch, buckets: usize) -> Bags {
    let (rows, seq) = (batch.rows, batch.seq_len);
    let mut out = Bags {
        bigram_ids: vec![0; rows * seq],
        response_weight: vec![0.0; rows * seq],
        bigram_weight: vec![0.0; rows * seq],
        prompt_weight: vec![0.0; rows * seq],
        log_len: vec![0.0; rows],
    };
    for r in 0..rows {
        // Real tokens are 0..len-1; the last one is the EOS.
        let end = batch.lengths[r].min(seq).saturating_sub(1);
        let start = batch.starts.get(r).copied().unwrap_or(0).min(end);
        let n_response = end - start;
        let row = &batch.ids[r * seq..(r + 1) * seq];
        if n_response > 0 {
            let w = 1.0 / (n_response as f32).sqrt();
            for s in start..end {
                out.response_weight[r * seq + s] = w;
                if s > start && buckets > 0 {
                    out.bigram_ids[r * seq + s] = bigram_bucket(row[s - 1], row[s], buckets) as u32;
                    out.bigram_weight[r * seq + s] = w;
                }
            }
        }
        if start > 0 {
            let w = 1.0 / start as f32;
            for s in 0..start {
                out.prompt_weight[r * seq + s] = w;
            }
        }
        out.log_len[r] = (1.0 + n_response as f32).ln();
    }
    out
}

impl BowBody {
    /// Build on `device`: `d_model` is the embedding width and `ffn` the hidden width.
    pub fn new(shape: &BowShape, device: &Device) -> Self {
        let (config, vocab_size, d) = (shape, shape.vocab_size, shape.d_model);
        Self {
            unigram: EmbeddingConfig::new(vocab_size, d).init(device),
            bigram: (config.bigram_buckets > 0)
                .then(|| EmbeddingConfig::new(config.bigram_buckets, d).init(device)),
            bigram_buckets: config.bigram_buckets,
            dropout: DropoutConfig::new(config.dropout).init(),
            hidden: LinearConfig::new(3 * d + 1, config.ffn).init(device),
        }
    }

    /// The weights: unigram embeddings `[vocab, d]`, bigram embeddings `[buckets, d]`, the tanh
    /// layer's weight `[3d + 1, ffn]` and bias `[ffn]`.
    pub(crate) fn weights(&self) -> BowWeights {
        BowWeights {
            unigram: self.unigram.weight.val(),
            bigram: self.bigram.as_ref().map(|b| b.weight.val()),
            hidden: self.hidden.weight.val(),
            hidden_bias: self.hidden.bias.as_ref().map(|b| b.val()),
        }
    }

    /// Pooled feature `[rows, ffn]`. `draws`: the seed of this pass's dropout mask
    /// ([`dropout_mask`]) in training; `None` (or a device without gradients) for no dropout.
    pub fn forward(&self, batch: &PaddedBatch, device: &Device, draws: Option<u64>) -> Tensor<2> {
        let (rows, seq) = (batch.rows, batch.seq_len);
        let b = bags(batch, self.bigram_buckets);
        let layout = |ids, weights| BagLayout {
            members: 1,
            rows,
            seq,
            ids,
            weights,
        };
        let table = |e: &Embedding| e.weight.val().unsqueeze::<3>();
        let d = self.unigram.weight.val().dims()[1];
        let words = layout(batch.ids.clone(), vec![b.response_weight, b.prompt_weight]);
        let words = fused::weighted_bags(table(&self.unigram), words).reshape([rows, 2 * d]);
        let mut response = words.clone().narrow(1, 0, d);
        if let Some(bigram) = &self.bigram {
            let pairs = layout(b.bigram_ids, vec![b.bigram_weight]);
            response = response + fused::weighted_bags(table(bigram), pairs).reshape([rows, d]);
        }
        let prompt = words.narrow(1, d, d);
        let log_len = Tensor::<2>::from_data(TensorData::new(b.log_len, [rows, 1]), device);
        // The product lets one tanh layer see which response words suit this prompt.
        let both = response.clone() * prompt.clone();
        let mut x = Tensor::cat(vec![response, prompt, both, log_len], 1);
        let p = self.dropout.prob;
        if let (Some(seed), true) = (draws, p > 0.0 && device.is_autodiff()) {
            let cols = x.dims()[1];
            let mask = dropout_mask(seed, rows, cols, p);
            x = x * Tensor::<2>::from_data(TensorData::new(mask, [rows, cols]), device);
        }
        fused::tanh(self.hidden.forward(x))
    }
}

/// Inverted-dropout mask of a `[rows, cols]` feature, row-major: each entry 1/(1 − p) with
/// probability 1 − p, else 0, drawn from `seed` with the project's own generator. burn's
/// Bernoulli sampler (a ChaCha stream, one float per entry) was a fifth of a strength run's time;
/// this is one 32-bit draw per entry, and the same mask natively and in the browser.
pub fn dropout_mask(seed: u64, rows: usize, cols: usize, p: f64) -> Vec<f32> {
    let keep = 1.0 - p;
    let scale = (1.0 / keep) as f32;
    // Keep an entry when its 32 random bits fall below keep · 2³².
    let threshold = (keep * 4_294_967_296.0).min(4_294_967_295.0) as u64;
    let mut rng = crate::data::rng::Rng::derived(seed, "bow-dropout");
    let n = rows * cols;
    let mut mask = Vec::with_capacity(n);
    while mask.len() < n {
        let bits = rng.next_u64();
        for half in [bits & 0xFFFF_FFFF, bits >> 32] {
            if mask.len() < n {
                mask.push(if half < threshold { scale } else { 0.0 });
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bags_weight_the_response_and_average_the_prompt() {
        // Row 0: prompt [5, 6], response [7, 8, 9], EOS 1, padding.
        // Row 1: no prompt, response [4], EOS.
        let batch = PaddedBatch {
            ids: vec![5, 6, 7, 8, 9, 1, 4, 1, 0, 0, 0, 0],
            lengths: vec![6, 2],
            rows: 2,
            seq_len: 6,
            starts: vec![2, 0],
        };
        let b = bags(&batch, 16);
        let w = 1.0 / 3f32.sqrt();
        assert_eq!(&b.response_weight[..6], &[0.0, 0.0, w, w, w, 0.0]);
        assert_eq!(&b.prompt_weight[..6], &[0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
        // Bigrams (7,8) and (8,9) only: none across the prompt boundary or into the EOS.
        assert_eq!(&b.bigram_weight[..6], &[0.0, 0.0, 0.0, w, w, 0.0]);
        assert_eq!(b.bigram_ids[3], bigram_bucket(7, 8, 16) as u32);
        assert_eq!(&b.response_weight[6..], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(b.prompt_weight[6..].iter().all(|&x| x == 0.0));
        assert!((b.log_len[0] - 4f32.ln()).abs() < 1e-6);
        assert!((b.log_len[1] - 2f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn dropout_masks_keep_one_minus_p_scaled_and_follow_the_seed() {
        let mask = dropout_mask(3, 100, 101, 0.25);
        assert_eq!(mask.len(), 10_100);
        let scale = 1.0 / 0.75f32;
        assert!(mask.iter().all(|&m| m == 0.0 || m == scale));
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f64 / 10_100.0;
        // Binomial(10 100, 0.75): the standard deviation of the fraction is 0.0043.
        assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
        assert_eq!(mask, dropout_mask(3, 100, 101, 0.25));
        assert_ne!(mask, dropout_mask(4, 100, 101, 0.25));
        // Odd sizes use half of the last draw; p = 0 keeps everything at scale 1.
        assert_eq!(dropout_mask(9, 1, 3, 0.0), vec![1.0; 3]);
    }

    #[test]
    fn bigram_buckets_are_in_range_and_order_sensitive() {
        for a in 0..50 {
            for c in 0..50 {
                assert!(bigram_bucket(a, c, 97) < 97);
            }
        }
        let differ =
            (0..50).filter(|&a| bigram_bucket(a, a + 1, 4096) != bigram_bucket(a + 1, a, 4096));
        assert!(differ.count() > 45);
    }
}
