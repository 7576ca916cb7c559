//! The transformer body of the reward model: token + learned position embeddings, pre-LN causal
//! blocks and a final LayerNorm, read out at the last real token.
use burn::{
    module::Module,
    nn::{
        Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig,
        attention::generate_autoregressive_mask,
        transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput},
    },
    tensor::{Device, Int, Tensor, TensorData},
};

use super::reward::RewardModelConfig;
use crate::data::encode::PaddedBatch;

/// Pre-LN transformer feature extractor.
#[derive(Module, Debug)]
pub struct TransformerBody {
    token_embedding: Embedding,
    position_embedding: Embedding,
    embedding_dropout: Dropout,
    encoder: TransformerEncoder,
    final_norm: LayerNorm,
}

impl TransformerBody {
    /// Build on `device`.
    pub fn new(config: &RewardModelConfig, vocab_size: usize, device: &Device) -> Self {
        Self {
            token_embedding: EmbeddingConfig::new(vocab_size, config.d_model).init(device),
            position_embedding: EmbeddingConfig::new(config.max_len, config.d_model).init(device),
            embedding_dropout: DropoutConfig::new(config.dropout).init(),
            encoder: TransformerEncoderConfig::new(
                config.d_model,
                config.ffn,
                config.heads,
                config.layers,
            )
            .with_dropout(config.dropout)
            .with_norm_first(true)
            .init(device),
            final_norm: LayerNormConfig::new(config.d_model).init(device),
        }
    }

    /// Pooled feature `[rows, d_model]` of a right-padded batch. Attention is causal, so padding
    /// after the last real token never reaches it.
    pub fn forward(&self, batch: &PaddedBatch, device: &Device) -> Tensor<2> {
        let (rows, seq) = (batch.rows, batch.seq_len);
        let ids: Vec<i64> = batch.ids.iter().map(|&x| i64::from(x)).collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, seq]), device);
        let positions = Tensor::<1, Int>::arange(0..seq as i64, device)
            .reshape([1, seq])
            .repeat_dim(0, rows);
        let x = self.token_embedding.forward(ids) + self.position_embedding.forward(positions);
        let x = self.embedding_dropout.forward(x);
        let mask = generate_autoregressive_mask(rows, seq, device);
        let x = self
            .encoder
            .forward(TransformerEncoderInput::new(x).mask_attn(mask));
        let x = self.final_norm.forward(x);
        // Read out the last real token: a one-hot [rows, seq, 1] selector summed over seq.
        let mut select = vec![0.0f32; rows * seq];
        for (b, &len) in batch.lengths.iter().enumerate().take(rows) {
            let last = len.clamp(1, seq) - 1;
            select[b * seq + last] = 1.0;
        }
        let select = Tensor::<3>::from_data(TensorData::new(select, [rows, seq, 1]), device);
        let d_model = x.dims()[2];
        (x * select).sum_dim(1).reshape([rows, d_model])
    }
}
