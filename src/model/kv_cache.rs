//! Generation with a key/value cache. Sampling a response token by token through the whole trunk
//! recomputes every earlier position at every token; here the prompts run once (the *prefill*,
//! the same forward as [`TransformerTrunk::forward`], keeping each layer's keys and values), and
//! each new token then runs alone (the *decode*): its own query, key and value per layer, its key
//! and value appended to the cache, attention over the cached columns.
//!
//! Rows are right-padded prompts of different lengths. A row's cache holds its prompt in columns
//! `0..len`, padding after it up to the longest prompt, then one column per token decoded; the
//! padding columns are masked out of attention (as burn masks: −10⁴ before the softmax, a weight of
//! exactly 0), so a row attends to exactly the tokens the uncached path would show it. Each token
//! is embedded at its own position in its row (`len + tokens so far`), not at its column.
use burn::tensor::{Bool, Int, Tensor, TensorData, activation};

use super::block::layer_around;
use super::fused;
use super::heads::last_token;
use super::trunk::{LAYER_NORM_EPS, TransformerTrunk};
use crate::data::encode::PaddedBatch;

/// Each layer's keys and values for the rows being generated, and where each row stands.
pub struct KvCache {
    /// Per layer, `[rows, heads, columns, d_head]`.
    keys: Vec<Tensor<4>>,
    /// Per layer, `[rows, heads, columns, d_head]`.
    values: Vec<Tensor<4>>,
    /// `[rows × columns]`: true where a column holds one of the row's tokens (not padding).
    real: Vec<bool>,
    /// Columns held.
    columns: usize,
    /// Each row's next position (its tokens so far).
    positions: Vec<usize>,
}

impl KvCache {
    /// Rows held.
    pub fn rows(&self) -> usize {
        self.positions.len()
    }

    /// Each row's tokens so far (prompt and response): the next token's position.
    pub fn positions(&self) -> &[usize] {
        &self.positions
    }

    /// Keep only the rows `keep` (indices into the rows held, in the order given): rows that
    /// have finished drop out and cost nothing further.
    pub fn retain(&mut self, keep: &[usize]) {
        if keep.iter().copied().eq(0..self.rows()) {
            return;
        }
        let Some(device) = self.keys.first().map(Tensor::device) else {
            self.positions = keep.iter().map(|&r| self.positions[r]).collect();
            return;
        };
        let ids: Vec<i64> = keep.iter().map(|&r| r as i64).collect();
        let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [keep.len()]), &device);
        for t in self.keys.iter_mut().chain(self.values.iter_mut()) {
            *t = t.clone().select(0, ids.clone());
        }
        let c = self.columns;
        self.real = keep
            .iter()
            .flat_map(|&r| self.real[r * c..(r + 1) * c].iter().copied())
            .collect();
        self.positions = keep.iter().map(|&r| self.positions[r]).collect();
    }

    /// `[rows, heads, 1, columns]`: true at the columns a query must not see (padding).
    fn hidden_columns(&self, heads: usize, device: &burn::tensor::Device) -> Tensor<4, Bool> {
        let c = self.columns;
        let mask: Vec<bool> = self
            .real
            .chunks(c)
            .flat_map(|row| (0..heads).flat_map(move |_| row.iter().map(|&r| !r)))
            .collect();
        Tensor::<4, Bool>::from_data(TensorData::new(mask, [self.rows(), heads, 1, c]), device)
    }
}

impl TransformerTrunk {
    /// The prompts' forward pass, keeping every layer's keys and values: the hidden state after
    /// the final layer norm at each row's last real token, `[rows, d_model]` (equal to
    /// [`Self::forward`] read there: the same operations), and the cache to decode from.
    pub fn prefill(
        &self,
        batch: &PaddedBatch,
        device: &burn::tensor::Device,
    ) -> (Tensor<2>, KvCache) {
        let (encoder, final_norm) = self.parts();
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        let mut x = self.embed(batch, device);
        for layer in &encoder.layers {
            let mha = &layer.mha;
            let attend = |normed: Tensor<3>| {
                let project = |linear: &burn::nn::Linear| fused::linear(linear, normed.clone());
                let (k, v) = (project(&mha.key), project(&mha.value));
                keys.push(fused::split_heads(k.clone().detach(), mha.n_heads));
                values.push(fused::split_heads(v.clone().detach(), mha.n_heads));
                let context = fused::causal_attention(
                    project(&mha.query),
                    k,
                    v,
                    mha.n_heads,
                    1.0 / (mha.d_k as f32).sqrt(),
                    &mha.dropout,
                );
                fused::linear(&mha.output, context)
            };
            x = layer_around(layer, x, LAYER_NORM_EPS, attend, |x| x);
        }
        let hidden = fused::layer_norm(final_norm, x, LAYER_NORM_EPS);
        let (rows, columns) = (batch.rows, batch.seq_len);
        let real = (0..rows * columns)
            .map(|i| i % columns < batch.lengths.get(i / columns).copied().unwrap_or(0))
            .collect();
        let cache = KvCache {
            keys,
            values,
            real,
            columns,
            positions: batch.lengths.iter().take(rows).copied().collect(),
        };
        (last_token(hidden, batch, device), cache)
    }

    /// One new token per row held (`tokens[r]`, at the row's next position): its hidden state
    /// after the final layer norm, `[rows, d_model]`; its keys and values join the cache.
    /// Errors when a row would pass the trunk's longest sequence.
    pub fn decode(
        &self,
        cache: &mut KvCache,
        tokens: &[u32],
        device: &burn::tensor::Device,
    ) -> Result<Tensor<2>, String> {
        let rows = cache.rows();
        if tokens.len() != rows {
            return Err(format!("{} tokens for {rows} cached rows", tokens.len()));
        }
        if let Some(&p) = cache.positions.iter().max()
            && p >= self.max_len()
        {
            return Err(format!(
                "a sequence reached position {p}, past the model's max_len = {}: raise max_len or \
                 shorten the prompts or the response limit",
                self.max_len()
            ));
        }
        let (encoder, final_norm) = self.parts();
        let c = cache.columns;
        cache.real = cache
            .real
            .chunks(c.max(1))
            .take(rows)
            .flat_map(|row| row.iter().copied().chain([true]))
            .collect();
        cache.columns += 1;
        let mut x = self.embed_at(tokens, &cache.positions, device);
        // One mask for every layer (the encoder's layers share their head count).
        let heads = encoder.layers.first().map_or(1, |layer| layer.mha.n_heads);
        let hidden = cache.hidden_columns(heads, device);
        for (l, layer) in encoder.layers.iter().enumerate() {
            let mha = &layer.mha;
            let (keys, values) = (&mut cache.keys[l], &mut cache.values[l]);
            let attend = |normed: Tensor<3>| {
                let project = |linear: &burn::nn::Linear| {
                    fused::split_heads(fused::linear(linear, normed.clone()), mha.n_heads)
                };
                let q = project(&mha.query);
                *keys = Tensor::cat(vec![keys.clone(), project(&mha.key).detach()], 2);
                *values = Tensor::cat(vec![values.clone(), project(&mha.value).detach()], 2);
                let scores = q
                    .matmul(keys.clone().transpose())
                    .mul_scalar(1.0 / (mha.d_k as f32).sqrt())
                    .mask_fill(hidden.clone(), -1.0e4);
                let weights = mha.dropout.forward(activation::softmax(scores, 3));
                let context =
                    weights
                        .matmul(values.clone())
                        .reshape([rows, 1, mha.d_k * mha.n_heads]);
                fused::linear(&mha.output, context)
            };
            x = layer_around(layer, x, LAYER_NORM_EPS, attend, |x| x);
        }
        for p in &mut cache.positions {
            *p += 1;
        }
        let [_, _, d] = x.dims();
        Ok(fused::layer_norm(final_norm, x, LAYER_NORM_EPS).reshape([rows, d]))
    }
}
