//! The token space a policy acts in and a reward model reads: prompt token ids, the token id of
//! each action (a world word, or any BPE token of the text track), EOS and PAD. Actions are
//! indices into `words`; the action `words.len()` is EOS.
use crate::data::encode::{encode_sequence, kept_prompt_len};
use crate::data::synthetic::{Prompt, World};
use crate::data::tokenizer::TextTokenizer;
use crate::experiment::error::ExperimentError;

/// Prompts, actions and special ids in one tokenizer's ids.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenSpace {
    /// Token ids of each prompt.
    pub prompts: Vec<Vec<u32>>,
    /// Token id of each action but EOS.
    pub words: Vec<u32>,
    /// Action of each token id (`None` for ids no action produces).
    actions: Vec<Option<usize>>,
    /// The EOS id.
    pub eos: u32,
    /// The PAD id.
    pub pad: u32,
    /// Ids of the tokenizer.
    pub vocab_size: usize,
    /// Most actions per response, EOS included.
    pub max_new: usize,
}

impl TokenSpace {
    /// A space over `words` (token ids) with the tokenizer's EOS and PAD.
    pub fn new(
        prompts: Vec<Vec<u32>>,
        words: Vec<u32>,
        tokenizer: &TextTokenizer,
        max_new: usize,
    ) -> Self {
        let mut actions = vec![None; tokenizer.vocab_size()];
        for (a, &w) in words.iter().enumerate() {
            if let Some(slot) = actions.get_mut(w as usize) {
                *slot = Some(a);
            }
        }
        Self {
            prompts,
            words,
            actions,
            eos: tokenizer.eos_id(),
            pad: tokenizer.pad_id(),
            vocab_size: tokenizer.vocab_size(),
            max_new,
        }
    }

    /// The synthetic world read through `tokenizer`: each word must be one token.
    pub fn world(world: &World, tokenizer: &TextTokenizer) -> Result<Self, ExperimentError> {
        let id = |text: &str| -> Result<Vec<u32>, ExperimentError> {
            tokenizer.encode(text).map_err(|e| {
                ExperimentError::Config(format!(
                    "the tokenizer cannot read the world's text '{text}' ({e}): use a model trained on the synthetic world"
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
                    "the tokenizer splits the world's word '{w}': use a model trained on the synthetic world"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(prompts, words, tokenizer, world.lengths().1 + 1))
    }

    /// Every token but PAD and EOS as an action (the text track's BPE vocabulary).
    pub fn all_tokens(prompts: Vec<Vec<u32>>, tokenizer: &TextTokenizer, max_new: usize) -> Self {
        let (pad, eos) = (tokenizer.pad_id(), tokenizer.eos_id());
        let words = (0..tokenizer.vocab_size() as u32)
            .filter(|&id| id != pad && id != eos)
            .collect();
        Self::new(prompts, words, tokenizer, max_new)
    }

    /// The EOS action.
    pub fn eos_action(&self) -> usize {
        self.words.len()
    }

    /// Which tokens a policy may emit: every action's id and EOS.
    pub fn allowed(&self) -> Vec<bool> {
        let mut allowed = vec![false; self.vocab_size];
        for &w in self.words.iter().chain(std::iter::once(&self.eos)) {
            if let Some(slot) = allowed.get_mut(w as usize) {
                *slot = true;
            }
        }
        allowed
    }

    /// Token id of an action (EOS for the EOS action).
    pub fn token(&self, action: usize) -> u32 {
        self.words.get(action).copied().unwrap_or(self.eos)
    }

    /// Action of a token id (EOS for ids outside the actions).
    pub fn action(&self, id: u32) -> usize {
        self.actions
            .get(id as usize)
            .copied()
            .flatten()
            .unwrap_or(self.words.len())
    }

    /// The prompt's ids followed by the actions' ids.
    pub fn sequence(&self, prompt: usize, actions: &[usize]) -> Vec<u32> {
        let mut s = self.prompts[prompt].clone();
        s.extend(actions.iter().map(|&a| self.token(a)));
        s
    }

    /// What a reward model of `max_len` reads for a response (words, no EOS): the sequence
    /// `encode_sequence` builds and where its response starts.
    pub fn scored(
        &self,
        prompt: usize,
        words: &[usize],
        max_len: usize,
    ) -> Result<(Vec<u32>, usize), ExperimentError> {
        let response: Vec<u32> = words.iter().map(|&w| self.token(w)).collect();
        let ids = &self.prompts[prompt];
        let seq = encode_sequence(ids, &response, self.eos, max_len)
            .map_err(|e| ExperimentError::Config(e.to_string()))?;
        Ok((seq, kept_prompt_len(ids.len(), response.len(), max_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_ids_round_trip_and_unknown_ids_are_eos() {
        let tok = TextTokenizer::word_level(&["a", "b", "c", "hi"]).unwrap();
        let ids = |t: &str| tok.encode(t).unwrap();
        let space = TokenSpace::new(vec![ids("hi")], vec![ids("b")[0], ids("c")[0]], &tok, 3);
        assert_eq!(space.eos_action(), 2);
        assert_eq!(space.action(ids("c")[0]), 1);
        assert_eq!(space.action(ids("a")[0]), 2);
        assert_eq!(space.token(2), tok.eos_id());
        assert_eq!(
            space.sequence(0, &[1, 0]),
            [ids("hi"), ids("c"), ids("b")].concat()
        );
        let allowed = space.allowed();
        assert_eq!(allowed.iter().filter(|&&x| x).count(), 3);
        assert!(allowed[tok.eos_id() as usize] && !allowed[ids("a")[0] as usize]);
        let (seq, start) = space.scored(0, &[0], 8).unwrap();
        assert_eq!(seq, [ids("hi"), ids("b"), vec![tok.eos_id()]].concat());
        assert_eq!(start, 1);
        let all = TokenSpace::all_tokens(vec![], &tok, 4);
        assert_eq!(all.words.len(), tok.vocab_size() - 2);
        assert_eq!(all.action(tok.pad_id()), all.eos_action());
    }
}
