//! A reward model as PPO and best-of-n read it (the proxy, or the text track's gold): responses
//! (actions) to prompts encoded in the model's own token space, scored in batches.
use burn::module::Module;

use super::space::TokenSpace;
use crate::data::encode::{PaddedBatch, pad_sequences};
use crate::data::synthetic::World;
use crate::data::tokenizer::TextTokenizer;
use crate::experiment::error::ExperimentError;
use crate::experiment::rm::step::read_floats;
use crate::model::{RewardModel, RewardModelConfig};

/// A trained reward model and the token space it reads.
#[derive(Clone)]
pub struct Proxy {
    /// The model as trained (the critic can start from its trunk).
    model: RewardModel,
    /// The same weights for scoring: dropout off, no autodiff graph.
    scorer: RewardModel,
    config: RewardModelConfig,
    space: TokenSpace,
}

impl Proxy {
    /// Read `world`'s text with `tokenizer` (the one the model trained with).
    pub fn new(
        model: RewardModel,
        tokenizer: &TextTokenizer,
        world: &World,
        config: &RewardModelConfig,
    ) -> Result<Self, ExperimentError> {
        let space = TokenSpace::world(world, tokenizer)
            .map_err(|e| ExperimentError::Config(format!("the reward model's tokenizer: {e}")))?;
        Ok(Self::in_space(model, space, config))
    }

    /// A model that reads `space`'s ids (trained with the same tokenizer).
    pub fn in_space(model: RewardModel, space: TokenSpace, config: &RewardModelConfig) -> Self {
        let plain = model.device().without_autodiff();
        Self {
            scorer: model.valid().to_device(&plain),
            model,
            config: config.clone(),
            space,
        }
    }

    /// The model as trained.
    pub fn model(&self) -> &RewardModel {
        &self.model
    }

    /// The model's shape.
    pub fn config(&self) -> &RewardModelConfig {
        &self.config
    }

    /// The token space it reads.
    pub fn space(&self) -> &TokenSpace {
        &self.space
    }

    /// Read `space` from now on (the same tokenizer's ids, with more prompts).
    pub fn set_space(&mut self, space: TokenSpace) {
        self.space = space;
    }

    /// Pooled features (the reward head's input) of responses (actions without EOS) to
    /// prompts, in order.
    pub async fn features(
        &self,
        items: &[(usize, Vec<usize>)],
    ) -> Result<Vec<Vec<f32>>, ExperimentError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(256) {
            let batch = self.batch(chunk)?;
            let features = self.scorer.forward(&batch).features;
            let d = features.dims()[1].max(1);
            let flat = read_floats(features).await?;
            out.extend(flat.chunks(d).map(<[f32]>::to_vec));
            crate::compute::yield_to_host().await;
        }
        Ok(out)
    }

    /// The padded batch of responses to prompts, as the model reads them.
    fn batch(&self, chunk: &[(usize, Vec<usize>)]) -> Result<PaddedBatch, ExperimentError> {
        let mut seqs = Vec::with_capacity(chunk.len());
        let mut starts = Vec::with_capacity(chunk.len());
        for (p, words) in chunk {
            let (ids, start) = self.space.scored(*p, words, self.config.max_len)?;
            starts.push(start);
            seqs.push(ids);
        }
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let mut batch = pad_sequences(&refs, self.space.pad);
        batch.starts = starts;
        Ok(batch)
    }

    /// Scores of responses (actions without EOS) to prompts, in order.
    pub async fn score(&self, items: &[(usize, Vec<usize>)]) -> Result<Vec<f32>, ExperimentError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(256) {
            let batch = self.batch(chunk)?;
            out.extend(read_floats(self.scorer.forward(&batch).rewards).await?);
            crate::compute::yield_to_host().await;
        }
        Ok(out)
    }
}
