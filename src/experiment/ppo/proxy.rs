//! The proxy reward model as PPO and best-of-n read it: the world's prompts and responses
//! (word ids) encoded the way the reward model was trained, scored in batches.
use crate::data::encode::{encode_sequence, kept_prompt_len, pad_sequences};
use crate::data::synthetic::{Prompt, World};
use crate::data::tokenizer::TextTokenizer;
use crate::experiment::error::ExperimentError;
use crate::experiment::rm::step::read_floats;
use crate::model::RewardModel;

/// A trained reward model and the token ids of the world's prompts and words.
pub struct Proxy {
    model: RewardModel,
    prompts: Vec<Vec<u32>>,
    words: Vec<u32>,
    eos: u32,
    pad: u32,
    max_len: usize,
}

impl Proxy {
    /// Read `world`'s text with `tokenizer` (the one the model trained with).
    pub fn new(
        model: RewardModel,
        tokenizer: &TextTokenizer,
        world: &World,
        max_len: usize,
    ) -> Result<Self, ExperimentError> {
        let id = |text: &str| -> Result<Vec<u32>, ExperimentError> {
            tokenizer.encode(text).map_err(|e| {
                ExperimentError::Config(format!(
                    "the reward model's tokenizer cannot read the world's text '{text}' ({e}): use a model trained on the synthetic world"
                ))
            })
        };
        let prompts = (0..world.prompts())
            .map(|topic| id(&Prompt { topic }.text()))
            .collect::<Result<Vec<_>, _>>()?;
        let words = world
            .response_words()
            .iter()
            .map(|w| match id(w)?.as_slice() {
                [one] => Ok(*one),
                _ => Err(ExperimentError::Config(format!(
                    "the reward model's tokenizer splits the world's word '{w}': use a model trained on the synthetic world"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            model,
            prompts,
            words,
            eos: tokenizer.eos_id(),
            pad: tokenizer.pad_id(),
            max_len,
        })
    }

    /// Scores of responses (word ids) to prompts, in order.
    pub async fn score(&self, items: &[(usize, Vec<usize>)]) -> Result<Vec<f32>, ExperimentError> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(256) {
            let mut seqs = Vec::with_capacity(chunk.len());
            let mut starts = Vec::with_capacity(chunk.len());
            for (p, words) in chunk {
                let response: Vec<u32> = words.iter().map(|&w| self.words[w]).collect();
                let prompt = &self.prompts[*p];
                let ids = encode_sequence(prompt, &response, self.eos, self.max_len)
                    .map_err(|e| ExperimentError::Config(e.to_string()))?;
                starts.push(kept_prompt_len(prompt.len(), response.len(), self.max_len));
                seqs.push(ids);
            }
            let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
            let mut batch = pad_sequences(&refs, self.pad);
            batch.starts = starts;
            out.extend(read_floats(self.model.forward(&batch).rewards).await?);
            crate::compute::yield_to_host().await;
        }
        Ok(out)
    }
}
