//! A reward model as PPO and best-of-n read it (the proxy, or the text track's gold): responses
//! (actions) to prompts encoded in the model's own token space, scored in batches.
use burn::module::Module;

use super::space::TokenSpace;
use crate::data::encode::pad_sequences;
use crate::data::synthetic::World;
use crate::data::tokenizer::TextTokenizer;
use crate::experiment::error::ExperimentError;
use crate::experiment::rm::step::read_floats;
use crate::model::{RewardModel, RewardModelConfig};

/// A trained reward model and the token space it reads.
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

    /// Scores of responses (actions without EOS) to prompts, in order.
    pub async fn score(&self, items: &[(usize, Vec<usize>)]) -> Result<Vec<f32>, ExperimentError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(256) {
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
            out.extend(read_floats(self.scorer.forward(&batch).rewards).await?);
            crate::compute::yield_to_host().await;
        }
        Ok(out)
    }
}
