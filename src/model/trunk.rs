//! The shared transformer trunk: token + learned position embeddings, pre-LN causal blocks and a
//! final LayerNorm, giving a hidden state at every position. Heads read it: the reward head at
//! the last real token ([`TransformerTrunk::forward_last`]), an LM head at every position (the
//! policy), a value head at every position (the critic).
use burn::{
    module::Module,
    nn::{
        Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig,
        transformer::{TransformerEncoder, TransformerEncoderConfig},
    },
    tensor::{Bool, Device, Int, Tensor, TensorData},
};

use super::heads::last_position;
use crate::data::encode::PaddedBatch;

/// Epsilon of every layer norm in the trunk (burn's default, set explicitly because the fused
/// forward in [`super::block`] needs it and burn's layer norms keep theirs private).
pub const LAYER_NORM_EPS: f64 = 1e-5;

/// Shape of a trunk. The vocabulary size comes from the tokenizer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrunkShape {
    /// Token ids `0..vocab_size`.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads per block (divides `d_model`).
    pub heads: usize,
    /// Hidden width of each feed-forward sublayer.
    pub ffn: usize,
    /// Longest sequence, in tokens (learned positions up to it).
    pub max_len: usize,
    /// Dropout in the embeddings and blocks.
    pub dropout: f64,
}

/// Pre-LN causal transformer trunk.
#[derive(Module, Debug)]
pub struct TransformerTrunk {
    token_embedding: Embedding,
    position_embedding: Embedding,
    embedding_dropout: Dropout,
    encoder: TransformerEncoder,
    final_norm: LayerNorm,
}

/// What the trunk gives for a right-padded batch.
pub struct TrunkOutput {
    /// Hidden state after the final LayerNorm, `[rows, seq, d_model]`. Attention is causal, so
    /// position `t` depends on tokens `0..=t` only and padding never reaches a real token.
    pub hidden: Tensor<3>,
    /// `[rows, seq]`: true at real tokens, false at padding.
    pub real: Tensor<2, Bool>,
}

impl TransformerTrunk {
    /// Build on `device` (seed the device first: see [`super::init::seeded`]).
    pub fn new(shape: &TrunkShape, device: &Device) -> Self {
        Self {
            token_embedding: EmbeddingConfig::new(shape.vocab_size, shape.d_model).init(device),
            position_embedding: EmbeddingConfig::new(shape.max_len, shape.d_model).init(device),
            embedding_dropout: DropoutConfig::new(shape.dropout).init(),
            encoder: TransformerEncoderConfig::new(
                shape.d_model,
                shape.ffn,
                shape.heads,
                shape.layers,
            )
            .with_dropout(shape.dropout)
            .with_norm_first(true)
            .with_layer_norm_eps(LAYER_NORM_EPS)
            .init(device),
            final_norm: LayerNormConfig::new(shape.d_model)
                .with_epsilon(LAYER_NORM_EPS)
                .init(device),
        }
    }

    /// The longest sequence it reads (its learned positions).
    pub fn max_len(&self) -> usize {
        self.position_embedding.weight.val().dims()[0]
    }

    /// The token embedding table `[vocab_size, d_model]` (an LM head can tie its weights to it).
    pub fn token_embedding(&self) -> Tensor<2> {
        self.token_embedding.weight.val()
    }

    /// Hidden states of a right-padded batch.
    pub fn forward(&self, batch: &PaddedBatch, device: &Device) -> TrunkOutput {
        let x =
            super::block::causal_encoder(&self.encoder, self.embed(batch, device), LAYER_NORM_EPS);
        let hidden = super::fused::layer_norm(&self.final_norm, x, LAYER_NORM_EPS);
        TrunkOutput {
            hidden,
            real: real_mask(batch, device),
        }
    }

    /// The hidden state at each row's last real token, `[rows, d_model]`: the same as
    /// [`Self::forward`] read by [`super::heads::last_token`], but the last block computes only
    /// what that token needs (its keys and values everywhere; its query, feed-forward and
    /// residual at the read token), since its outputs at other positions would feed nothing.
    pub fn forward_last(&self, batch: &PaddedBatch, device: &Device) -> Tensor<2> {
        let seq = batch.seq_len;
        let at: Vec<usize> = (0..batch.rows)
            .map(|r| {
                batch
                    .lengths
                    .get(r)
                    .map_or(0, |&len| last_position(len, seq))
            })
            .collect();
        let x = self.embed(batch, device);
        let x = super::block::causal_encoder_at(&self.encoder, x, LAYER_NORM_EPS, &at);
        super::fused::layer_norm(&self.final_norm, x, LAYER_NORM_EPS)
    }

    /// The encoder and the final layer norm (for the cached decode in [`super::kv_cache`]).
    pub(super) fn parts(&self) -> (&TransformerEncoder, &LayerNorm) {
        (&self.encoder, &self.final_norm)
    }

    /// The dropout probability of the embeddings (the blocks use the same).
    pub fn dropout(&self) -> f64 {
        self.embedding_dropout.prob
    }

    /// One token per row at its own position, embedded (with the embedding dropout):
    /// `[rows, 1, d_model]`.
    pub(super) fn embed_at(&self, ids: &[u32], positions: &[usize], device: &Device) -> Tensor<3> {
        let rows = ids.len();
        let ids: Vec<i64> = ids.iter().map(|&x| i64::from(x)).collect();
        let at: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, 1]), device);
        let at = Tensor::<2, Int>::from_data(TensorData::new(at, [rows, 1]), device);
        let x = self.token_embedding.forward(ids) + self.position_embedding.forward(at);
        self.embedding_dropout.forward(x)
    }

    /// Token plus position embeddings, after the embedding dropout, `[rows, seq, d_model]`.
    pub(super) fn embed(&self, batch: &PaddedBatch, device: &Device) -> Tensor<3> {
        let (rows, seq) = (batch.rows, batch.seq_len);
        let ids: Vec<i64> = batch.ids.iter().map(|&x| i64::from(x)).collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, seq]), device);
        let positions = Tensor::<1, Int>::arange(0..seq as i64, device)
            .reshape([1, seq])
            .repeat_dim(0, rows);
        let x = self.token_embedding.forward(ids) + self.position_embedding.forward(positions);
        self.embedding_dropout.forward(x)
    }
}

/// `[rows, seq]`: true where a row has a real token.
pub fn real_mask(batch: &PaddedBatch, device: &Device) -> Tensor<2, Bool> {
    let (rows, seq) = (batch.rows, batch.seq_len);
    let mut real = vec![false; rows * seq];
    for (r, &len) in batch.lengths.iter().enumerate().take(rows) {
        for s in 0..len.min(seq) {
            real[r * seq + s] = true;
        }
    }
    Tensor::<2, Bool>::from_data(TensorData::new(real, [rows, seq]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_token_read_equals_the_whole_trunk_read_at_each_rows_last_real_token() {
        let device = Device::flex();
        let shape = TrunkShape {
            vocab_size: 50,
            d_model: 16,
            layers: 2,
            heads: 2,
            ffn: 32,
            max_len: 8,
            dropout: 0.0,
        };
        let trunk = TransformerTrunk::new(&shape, &device);
        // Rows of 8, 3 and 5 real tokens, padded with id 0.
        let lengths = vec![8, 3, 5];
        let ids = (0..24u32)
            .map(|i| {
                if i % 8 < lengths[i as usize / 8] as u32 {
                    1 + (i * 7) % 49
                } else {
                    0
                }
            })
            .collect();
        let batch = PaddedBatch {
            ids,
            lengths,
            rows: 3,
            seq_len: 8,
            starts: vec![0; 3],
        };
        let whole =
            super::super::heads::last_token(trunk.forward(&batch, &device).hidden, &batch, &device);
        let last = trunk.forward_last(&batch, &device);
        assert_eq!(last.dims(), [3, 16]);
        let (a, b) = (
            last.into_data().try_to_vec::<f32>().unwrap(),
            whole.into_data().try_to_vec::<f32>().unwrap(),
        );
        assert_eq!(a.len(), 48);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "largest difference {worst}");
    }
}
