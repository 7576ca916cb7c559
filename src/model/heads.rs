//! Heads on the transformer trunk's hidden states `[rows, seq, d_model]`: the reward readout at
//! the last real token, next-token logits (the policy's LM head) and a value per token (the
//! critic).
use burn::{
    module::Module,
    nn::{Linear, LinearConfig},
    tensor::{Device, Tensor, TensorData},
};

use crate::data::encode::PaddedBatch;

/// Where a row of `len` real tokens is read out among `seq` positions: its last real token (the
/// EOS), or position 0 for an empty row.
pub fn last_position(len: usize, seq: usize) -> usize {
    len.clamp(1, seq) - 1
}

/// The hidden state at each row's last real token, `[rows, d_model]` (a one-hot selector over
/// the sequence, so the readout is differentiable and works on every backend).
pub fn last_token(hidden: Tensor<3>, batch: &PaddedBatch, device: &Device) -> Tensor<2> {
    let [rows, seq, d_model] = hidden.dims();
    let mut select = vec![0.0f32; rows * seq];
    for (b, &len) in batch.lengths.iter().enumerate().take(rows) {
        select[b * seq + last_position(len, seq)] = 1.0;
    }
    let select = Tensor::<3>::from_data(TensorData::new(select, [rows, seq, 1]), device);
    (hidden * select).sum_dim(1).reshape([rows, d_model])
}

/// Next-token logits at every position: untied (its own `[d_model, vocab]` weight) or tied to
/// the trunk's token embedding.
#[derive(Module, Debug)]
pub struct LmHead {
    /// `None` when tied to the token embedding.
    projection: Option<Linear>,
}

impl LmHead {
    /// An untied head (`tied = false`) or one that reuses the token embedding.
    pub fn new(d_model: usize, vocab_size: usize, tied: bool, device: &Device) -> Self {
        Self {
            projection: (!tied).then(|| {
                LinearConfig::new(d_model, vocab_size)
                    .with_bias(false)
                    .init(device)
            }),
        }
    }

    /// Logits `[rows, seq, vocab]`; `token_embedding` is the trunk's `[vocab, d_model]` table
    /// (used when tied).
    pub fn forward(&self, hidden: Tensor<3>, token_embedding: Tensor<2>) -> Tensor<3> {
        match &self.projection {
            Some(p) => p.forward(hidden),
            None => {
                let [rows, _, _] = hidden.dims();
                let table = token_embedding.transpose().unsqueeze::<3>();
                let [_, d_model, vocab] = table.dims();
                hidden.matmul(table.expand([rows, d_model, vocab]))
            }
        }
    }
}

/// A scalar value per position (the PPO critic), `[rows, seq]`.
#[derive(Module, Debug)]
pub struct ValueHead {
    projection: Linear,
}

impl ValueHead {
    /// A head with a bias (values are not centred the way rewards are).
    pub fn new(d_model: usize, device: &Device) -> Self {
        Self {
            projection: LinearConfig::new(d_model, 1).init(device),
        }
    }

    /// `value = scale · (w · h) + shift`: a reward head `w` (`[d_model, 1]`) read as a value
    /// head, mapped the way the reward is normalised before it enters PPO.
    pub fn from_reward_head(weight: Tensor<2>, scale: f32, shift: f32) -> Self {
        let device = weight.device();
        let bias = Tensor::<1>::from_data(TensorData::new(vec![shift], [1]), &device);
        Self {
            projection: Linear {
                weight: burn::module::Param::from_tensor((weight * scale).detach()),
                bias: Some(burn::module::Param::from_tensor(bias)),
            },
        }
    }

    /// A constant value `c` (weights 0; they learn from there).
    pub fn constant(d_model: usize, c: f32, device: &Device) -> Self {
        let weight = Tensor::<2>::zeros([d_model, 1], device);
        Self::from_reward_head(weight, 1.0, c)
    }

    /// Values `[rows, seq]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [rows, seq, _] = hidden.dims();
        self.projection.forward(hidden).reshape([rows, seq])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::encode::pad_sequences;
    use crate::model::init::seeded;
    use crate::model::trunk::{TransformerTrunk, TrunkShape};

    const SHAPE: TrunkShape = TrunkShape {
        vocab_size: 7,
        d_model: 8,
        layers: 2,
        heads: 2,
        ffn: 16,
        max_len: 6,
        dropout: 0.0,
    };

    fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn heads_read_the_trunk_per_position_and_causally() {
        let device = Device::flex();
        let trunk = seeded(1, &device, |d| TransformerTrunk::new(&SHAPE, d));
        let lm = seeded(2, &device, |d| {
            LmHead::new(SHAPE.d_model, SHAPE.vocab_size, false, d)
        });
        let value = seeded(3, &device, |d| ValueHead::new(SHAPE.d_model, d));
        // Two rows share their first three tokens; row 1 is shorter (padded).
        let batch = pad_sequences(&[&[2, 3, 4, 5, 1], &[2, 3, 4]], 0);
        let out = trunk.forward(&batch, &device);
        assert_eq!(out.hidden.dims(), [2, 5, SHAPE.d_model]);
        let real: Vec<bool> = out.real.into_data().try_to_vec::<bool>().unwrap();
        assert_eq!(
            real,
            [true, true, true, true, true, true, true, true, false, false]
        );
        let logits = lm.forward(out.hidden.clone(), trunk.token_embedding());
        assert_eq!(logits.dims(), [2, 5, SHAPE.vocab_size]);
        let values = value.forward(out.hidden.clone());
        assert_eq!(values.dims(), [2, 5]);
        // Causal: the first three positions see the same prefix in both rows.
        let l = floats(logits);
        let v = floats(values);
        let per_row = 5 * SHAPE.vocab_size;
        for i in 0..3 * SHAPE.vocab_size {
            assert!((l[i] - l[per_row + i]).abs() < 1e-5, "logit {i}");
        }
        for t in 0..3 {
            assert!((v[t] - v[5 + t]).abs() < 1e-5, "value {t}");
        }
        assert!((l[3 * SHAPE.vocab_size] - l[per_row + 3 * SHAPE.vocab_size]).abs() > 1e-6);
        // The last-token readout picks position len − 1 of each row.
        let pooled = floats(last_token(out.hidden.clone(), &batch, &device));
        let hidden = floats(out.hidden);
        let d = SHAPE.d_model;
        assert_eq!(&pooled[..d], &hidden[4 * d..5 * d]);
        assert_eq!(&pooled[d..], &hidden[(5 + 2) * d..(5 + 3) * d]);
    }

    #[test]
    fn a_tied_lm_head_is_the_embedding_transposed() {
        let device = Device::flex();
        let trunk = seeded(1, &device, |d| TransformerTrunk::new(&SHAPE, d));
        let tied = LmHead::new(SHAPE.d_model, SHAPE.vocab_size, true, &device);
        let batch = pad_sequences(&[&[2, 3, 1]], 0);
        let hidden = trunk.forward(&batch, &device).hidden;
        let logits = floats(tied.forward(hidden.clone(), trunk.token_embedding()));
        let h = floats(hidden);
        let e = floats(trunk.token_embedding());
        let d = SHAPE.d_model;
        // Logit of token k at position 1 = <h_1, e_k>.
        for k in 0..SHAPE.vocab_size {
            let dot: f32 = (0..d).map(|j| h[d + j] * e[k * d + j]).sum();
            assert!(
                (logits[SHAPE.vocab_size + k] - dot).abs() < 1e-4,
                "token {k}"
            );
        }
        assert_eq!(tied.num_params(), 0, "tied: no weights of its own");
    }
}
