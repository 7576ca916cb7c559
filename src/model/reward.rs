//! The reward model: a small pre-LN transformer with a scalar head read from the last real token.
use burn::{
    module::Module,
    nn::{
        Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
        LinearConfig,
        attention::generate_autoregressive_mask,
        transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput},
    },
    tensor::{Device, Int, Tensor, TensorData},
};
use serde::{Deserialize, Serialize};

/// Shape of the reward model. The vocabulary size comes from the tokenizer at build time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RewardModelConfig {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Number of transformer blocks.
    pub layers: usize,
    /// Attention heads per block (must divide `d_model`).
    pub heads: usize,
    /// Hidden width of the feed-forward sublayer (GELU).
    pub ffn: usize,
    /// Longest sequence (prompt + response + EOS), in tokens; learned positions up to it.
    pub max_len: usize,
    /// Dropout probability in embeddings and blocks (also the contrastive "views" later).
    pub dropout: f64,
}

impl Default for RewardModelConfig {
    fn default() -> Self {
        Self {
            d_model: 64,
            layers: 2,
            heads: 4,
            ffn: 256,
            max_len: 128,
            dropout: 0.1,
        }
    }
}

impl RewardModelConfig {
    /// Check the shape, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("d_model", self.d_model),
            ("layers", self.layers),
            ("heads", self.heads),
            ("ffn", self.ffn),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(format!("model.{name} = 0: must be at least 1"));
            }
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(format!(
                "model.heads = {} does not divide model.d_model = {}: pick heads from the divisors of d_model",
                self.heads, self.d_model
            ));
        }
        if self.max_len < 2 {
            return Err(format!(
                "model.max_len = {}: must be at least 2 (one token + EOS)",
                self.max_len
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "model.dropout = {}: must be in [0, 1)",
                self.dropout
            ));
        }
        Ok(())
    }

    /// Build the model on `device` (seed the device first for reproducible weights).
    pub fn init(&self, vocab_size: usize, device: &Device) -> RewardModel {
        RewardModel {
            token_embedding: EmbeddingConfig::new(vocab_size, self.d_model).init(device),
            position_embedding: EmbeddingConfig::new(self.max_len, self.d_model).init(device),
            embedding_dropout: DropoutConfig::new(self.dropout).init(),
            encoder: TransformerEncoderConfig::new(self.d_model, self.ffn, self.heads, self.layers)
                .with_dropout(self.dropout)
                .with_norm_first(true)
                .init(device),
            final_norm: LayerNormConfig::new(self.d_model).init(device),
            head: LinearConfig::new(self.d_model, 1)
                .with_bias(false)
                .init(device),
        }
    }
}

/// Pre-LN transformer reward model: token + learned position embeddings, causal blocks, a final
/// LayerNorm, and a bias-free linear head on the last real token's feature.
#[derive(Module, Debug)]
pub struct RewardModel {
    token_embedding: Embedding,
    position_embedding: Embedding,
    embedding_dropout: Dropout,
    encoder: TransformerEncoder,
    final_norm: LayerNorm,
    head: Linear,
}

/// What one forward pass gives.
pub struct RewardOutput {
    /// Scalar reward per sequence, `[batch]`.
    pub rewards: Tensor<1>,
    /// Pooled feature per sequence (the reward head's input), `[batch, d_model]`.
    pub features: Tensor<2>,
}

impl RewardModel {
    /// Score a right-padded batch.
    ///
    /// `ids`: `[batch, seq]` token ids, right-padded; `lengths[b]`: real length of row b (≥ 1).
    /// Attention is causal, so padding after the last real token never reaches it.
    pub fn forward(&self, ids: Tensor<2, Int>, lengths: &[usize]) -> RewardOutput {
        let [batch, seq] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device)
            .reshape([1, seq])
            .repeat_dim(0, batch);
        let x = self.token_embedding.forward(ids) + self.position_embedding.forward(positions);
        let x = self.embedding_dropout.forward(x);
        let mask = generate_autoregressive_mask(batch, seq, &device);
        let x = self
            .encoder
            .forward(TransformerEncoderInput::new(x).mask_attn(mask));
        let x = self.final_norm.forward(x);
        // Read out the last real token: a one-hot [batch, seq, 1] selector summed over seq.
        let mut select = vec![0.0f32; batch * seq];
        for (b, &len) in lengths.iter().enumerate().take(batch) {
            let last = len.clamp(1, seq) - 1;
            select[b * seq + last] = 1.0;
        }
        let select = Tensor::<3>::from_data(TensorData::new(select, [batch, seq, 1]), &device);
        let d_model = x.dims()[2];
        let features = (x * select).sum_dim(1).reshape([batch, d_model]);
        let rewards = self.head.forward(features.clone()).reshape([batch]);
        RewardOutput { rewards, features }
    }
}
