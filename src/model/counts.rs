//! Count features, the proxy reward model of spec §8.4: read by the bias-free linear head, they
//! make a Bradley–Terry logistic model on `[counts, counts², prompt-word × response-word counts,
//! length]`. Nothing here is learned; the head is the whole model. Fitted on reference samples,
//! where a word rarely appears more than twice, its counts² weights extrapolate badly — the
//! weakness a policy finds (over-optimisation).
use burn::{
    module::Module,
    tensor::{Device, Tensor, TensorData},
};

use super::bow::bigram_bucket;
use crate::data::encode::PaddedBatch;

/// The count-feature extractor (no parameters).
#[derive(Module, Debug)]
pub struct CountsBody {
    vocab_size: usize,
    buckets: usize,
}

impl CountsBody {
    /// Features for token ids `0..vocab_size`, with `buckets` hashed (prompt word, response
    /// word) pairs.
    pub fn new(vocab_size: usize, buckets: usize) -> Self {
        Self {
            vocab_size,
            buckets: buckets.max(1),
        }
    }

    /// Width of the feature: counts, squared counts, the pair buckets and the length.
    pub fn width(vocab_size: usize, buckets: usize) -> usize {
        2 * vocab_size + buckets.max(1) + 1
    }

    /// Host-side features of a batch, row-major `[rows, width]`.
    pub fn features(&self, batch: &PaddedBatch) -> Vec<f32> {
        let (v, width) = (self.vocab_size, Self::width(self.vocab_size, self.buckets));
        let mut out = vec![0.0f32; batch.rows * width];
        for r in 0..batch.rows {
            let row = &batch.ids[r * batch.seq_len..(r + 1) * batch.seq_len];
            // The last real token is the EOS; the response starts after the prompt.
            let end = batch.lengths[r].min(batch.seq_len).saturating_sub(1);
            let start = batch.starts.get(r).copied().unwrap_or(0).min(end);
            let f = &mut out[r * width..(r + 1) * width];
            let mut counts = vec![0.0f32; v];
            for &id in &row[start..end] {
                if let Some(c) = counts.get_mut(id as usize) {
                    *c += 1.0;
                }
            }
            for (i, &c) in counts.iter().enumerate() {
                f[i] = c;
                f[v + i] = c * c;
            }
            let prompt = &row[..start];
            let share = 1.0 / prompt.len().max(1) as f32;
            for &u in prompt {
                for (i, &c) in counts.iter().enumerate() {
                    if c > 0.0 {
                        f[2 * v + bigram_bucket(u, i as u32, self.buckets)] += c * share;
                    }
                }
            }
            f[width - 1] = (end - start) as f32;
        }
        out
    }

    /// Features `[rows, width]` on `device`.
    pub fn forward(&self, batch: &PaddedBatch, device: &Device) -> Tensor<2> {
        let width = Self::width(self.vocab_size, self.buckets);
        Tensor::from_data(
            TensorData::new(self.features(batch), [batch.rows, width]),
            device,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_squares_pairs_and_length_by_hand() {
        // Prompt [5, 6], response [7, 7, 2], EOS 1.
        let batch = PaddedBatch {
            ids: vec![5, 6, 7, 7, 2, 1],
            lengths: vec![6],
            rows: 1,
            seq_len: 6,
            starts: vec![2],
        };
        let body = CountsBody::new(8, 16);
        let f = body.features(&batch);
        assert_eq!(f.len(), CountsBody::width(8, 16));
        assert_eq!(
            (f[7], f[2], f[5], f[1]),
            (2.0, 1.0, 0.0, 0.0),
            "EOS and prompt not counted"
        );
        assert_eq!((f[8 + 7], f[8 + 2]), (4.0, 1.0));
        assert_eq!(f[f.len() - 1], 3.0);
        let pairs: f32 = f[16..32].iter().sum();
        assert!(
            (pairs - 3.0).abs() < 1e-6,
            "each response word once per prompt word, halved"
        );
        assert!(f[16 + bigram_bucket(5, 7, 16)] >= 1.0);
    }
}
