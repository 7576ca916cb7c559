//! Where PPO acts: the synthetic world (word actions, a known gold reward) or HH-RLHF text (BPE
//! token actions, prompts and SFT responses from the pairs, gold = a larger reward model).
use super::proxy::Proxy;
use super::space::TokenSpace;
use crate::data::rng::Rng;
use crate::data::split::train_validation_split;
use crate::data::synthetic::{Prompt, World};
use crate::data::tokenizer::TextTokenizer;
use crate::experiment::error::ExperimentError;
use crate::experiment::prepare::PreparedData;
use crate::experiment::rm::RmRunner;

/// The text track: prompts and reference (chosen) responses of the pairs, in BPE tokens.
#[derive(Clone)]
pub struct TextEnv {
    /// Prompts and the policy's actions (every BPE token but PAD and EOS).
    pub space: TokenSpace,
    /// The last human turn of each prompt (for the sample viewer).
    prompt_text: Vec<String>,
    /// (prompt, actions) of the chosen responses SFT learns from.
    pub references: Vec<(usize, Vec<usize>)>,
    tokenizer: TextTokenizer,
    /// The gold reward model, once trained.
    pub gold: Option<Proxy>,
    /// Prompt tokens the policy sees (the last ones).
    prompt_tokens: usize,
}

/// The last human turn of an HH prompt, without the speaker tags.
pub fn last_turn(prompt: &str) -> String {
    let tail = prompt.rsplit("Human:").next().unwrap_or(prompt);
    tail.trim_end()
        .trim_end_matches("Assistant:")
        .trim()
        .to_string()
}

impl TextEnv {
    /// Prompts (their last `prompt_tokens` tokens) of the training pairs and the chosen
    /// responses that fit in `response_tokens` tokens (EOS included); responses that do not
    /// fit are cut there when fewer than 64 fit.
    pub fn new(
        data: &PreparedData,
        prompt_tokens: usize,
        response_tokens: usize,
    ) -> Result<Self, ExperimentError> {
        let tokenizer = data.tokenizer.clone();
        let encode = |text: &str, i: usize| {
            tokenizer.encode(text).map_err(|e| {
                ExperimentError::Config(format!("pair {i}: the tokenizer cannot read it: {e}"))
            })
        };
        let mut prompts = Vec::new();
        let mut prompt_text = Vec::new();
        let mut responses = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for &i in &data.split.train {
            let pair = &data.pairs[i];
            let ids = encode(&pair.prompt, i)?;
            if ids.is_empty() {
                continue;
            }
            let kept = ids[ids.len().saturating_sub(prompt_tokens)..].to_vec();
            let p = *seen.entry(pair.prompt.clone()).or_insert_with(|| {
                prompts.push(kept);
                prompt_text.push(last_turn(&pair.prompt));
                prompts.len() - 1
            });
            responses.push((p, encode(&pair.chosen, i)?));
        }
        if prompts.is_empty() {
            return Err(ExperimentError::Config(
                "no training pair has a prompt: the text track needs prompts to answer".into(),
            ));
        }
        let space = TokenSpace::all_tokens(prompts, &tokenizer, response_tokens);
        let room = response_tokens.saturating_sub(1);
        let fits = responses
            .iter()
            .filter(|(_, r)| !r.is_empty() && r.len() <= room)
            .count();
        let references = responses
            .into_iter()
            .filter(|(_, r)| !r.is_empty() && (fits < 64 || r.len() <= room))
            .map(|(p, r)| (p, r.iter().take(room).map(|&id| space.action(id)).collect()))
            .collect::<Vec<_>>();
        if references.is_empty() {
            return Err(ExperimentError::Config(
                "no training pair has a non-empty chosen response: SFT needs responses to learn from"
                    .into(),
            ));
        }
        Ok(Self {
            space,
            prompt_text,
            references,
            tokenizer,
            gold: None,
            prompt_tokens,
        })
    }

    /// Add a prompt (HH-shaped text) the policy may be asked: its last `prompt_tokens` tokens
    /// become a new prompt of the space (an index past the training prompts). Copies of the
    /// space elsewhere (the reward models', the policy's) must be refreshed from this one.
    pub fn add_prompt(&mut self, prompt: &str) -> Result<usize, ExperimentError> {
        let ids = self.tokenizer.encode(prompt).map_err(|e| {
            ExperimentError::Config(format!("the tokenizer cannot read the prompt: {e}"))
        })?;
        if ids.is_empty() {
            return Err(ExperimentError::Config(
                "a prompt has no tokens: the policy needs one to condition on".into(),
            ));
        }
        let kept = ids[ids.len().saturating_sub(self.prompt_tokens)..].to_vec();
        self.space.prompts.push(kept);
        self.prompt_text.push(last_turn(prompt));
        Ok(self.space.prompts.len() - 1)
    }
}

/// At most `n` pairs of `data` (a seeded draw) with labels re-drawn from `gold`: chosen stays
/// chosen with probability σ(r_gold(chosen) − r_gold(rejected)) (Bradley–Terry sampling, as
/// Gao et al. label their proxies' data); 20 % of them are held out.
pub async fn relabelled(
    data: &PreparedData,
    gold: &RmRunner,
    n: usize,
    seed: u64,
) -> Result<PreparedData, ExperimentError> {
    let mut rng = Rng::derived(seed, "proxy-pairs");
    let mut order: Vec<usize> = (0..data.encoded.len()).collect();
    rng.shuffle(&mut order);
    order.truncate(n.min(order.len()));
    order.sort_unstable();
    let diffs = gold.score_gaps(&order).await?;
    let mut pairs = Vec::with_capacity(order.len());
    let mut encoded = Vec::with_capacity(order.len());
    for (&i, &d) in order.iter().zip(&diffs) {
        let keep = rng.uniform() < 1.0 / (1.0 + (-f64::from(d)).exp());
        let (mut pair, mut enc) = (data.pairs[i].clone(), data.encoded[i].clone());
        if !keep {
            std::mem::swap(&mut pair.chosen, &mut pair.rejected);
            enc = enc.swapped();
        }
        pairs.push(pair);
        encoded.push(enc);
    }
    Ok(PreparedData {
        label: format!(
            "{} pairs of {} relabelled by the gold reward model",
            pairs.len(),
            data.label
        ),
        split: train_validation_split(pairs.len(), 0.2, seed),
        pairs,
        encoded,
        tokenizer: data.tokenizer.clone(),
        skipped_lines: 0,
        dropped_ties: 0,
        margins: None,
        strength: None,
        mislabeled: None,
        truth_source: None,
    })
}

/// The environment of a PPO run.
#[derive(Clone)]
pub enum Env {
    /// The synthetic world.
    World(World),
    /// HH-RLHF text.
    Text(Box<TextEnv>),
}

impl Env {
    /// Number of prompts.
    pub fn prompts(&self) -> usize {
        match self {
            Env::World(w) => w.prompts(),
            Env::Text(t) => t.space.prompts.len(),
        }
    }

    /// Shortest and longest response, in actions before EOS.
    pub fn lengths(&self) -> (usize, usize) {
        match self {
            Env::World(w) => w.lengths(),
            Env::Text(t) => (1, t.space.max_new.saturating_sub(1)),
        }
    }

    /// The EOS action.
    pub fn eos_action(&self) -> usize {
        match self {
            Env::World(w) => w.response_words().len(),
            Env::Text(t) => t.space.eos_action(),
        }
    }

    /// A reference response: a fresh sample of the world's reference distribution, or a chosen
    /// response of the pairs.
    pub fn reference(&self, rng: &mut Rng) -> (usize, Vec<usize>) {
        match self {
            Env::World(w) => {
                let p = w.sample_prompt(rng);
                (p.topic, w.sample_response(p, rng))
            }
            Env::Text(t) => t.references[rng.below(t.references.len())].clone(),
        }
    }

    /// Reference responses to `prompt` (world) or any reference responses (text), `n` of them.
    pub fn references_for(
        &self,
        prompt: usize,
        n: usize,
        rng: &mut Rng,
    ) -> Vec<(usize, Vec<usize>)> {
        match self {
            Env::World(w) => (0..n)
                .map(|_| (prompt, w.sample_response(Prompt { topic: prompt }, rng)))
                .collect(),
            Env::Text(_) => (0..n).map(|_| self.reference(rng)).collect(),
        }
    }

    /// Gold rewards of responses (actions without EOS).
    pub async fn gold(&self, items: &[(usize, Vec<usize>)]) -> Result<Vec<f32>, ExperimentError> {
        match self {
            Env::World(w) => Ok(items
                .iter()
                .map(|(p, words)| w.gold_reward(Prompt { topic: *p }, words))
                .collect()),
            Env::Text(t) => match &t.gold {
                Some(g) => g.score(items).await,
                None => Err(ExperimentError::Config(
                    "the gold reward model is not trained yet".into(),
                )),
            },
        }
    }

    /// A prompt as text.
    pub fn prompt_text(&self, prompt: usize) -> String {
        match self {
            Env::World(_) => Prompt { topic: prompt }.text(),
            Env::Text(t) => t.prompt_text.get(prompt).cloned().unwrap_or_default(),
        }
    }

    /// A response (actions without EOS) as text.
    pub fn render(&self, words: &[usize]) -> String {
        match self {
            Env::World(w) => w.render(words),
            Env::Text(t) => {
                let ids: Vec<u32> = words.iter().map(|&a| t.space.token(a)).collect();
                t.tokenizer
                    .decode(&ids)
                    .unwrap_or_else(|e| format!("(cannot decode: {e})"))
            }
        }
    }

    /// One action as text (`<eos>` for EOS).
    pub fn token_text(&self, action: usize) -> String {
        if action == self.eos_action() {
            return "<eos>".into();
        }
        match self {
            Env::World(w) => w
                .response_words()
                .get(action)
                .map_or("<eos>".to_string(), |s| (*s).to_string()),
            Env::Text(_) => self.render(&[action]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_human_turn_is_the_prompt_shown() {
        assert_eq!(
            last_turn("\n\nHuman: hi\n\nAssistant: yo\n\nHuman: what now?\n\nAssistant:"),
            "what now?"
        );
        assert_eq!(last_turn("plain"), "plain");
    }
}
