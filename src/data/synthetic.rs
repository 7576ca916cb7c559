//! The synthetic preference world: prompts, a seeded reference distribution of responses, a
//! known gold reward, and Bradley–Terry labels with optional injected flips.
//!
//! Responses are sequences over a small vocabulary of real words, so the UI can show them as
//! text. The gold reward (spec §8.4, extended with prompts):
//! `g(x, y) = Σ_t value[y_t]` (each word's own worth)
//! `+ topic_bonus · #distinct on-topic words` (prompt-dependent; off-topic words are worth 0)
//! `− repetition · Σ_v max(c_v − 2, 0)²` (diminishing returns: a word stops paying when repeated)
//! `− length_cost · max(len − comfortable_len, 0)` (over-long answers are worse).
//! Pairs are labelled by sampling `P(a ≻ b) = σ((g(a) − g(b)) / T)`; a fraction ρ of labels is
//! then flipped on purpose, with the truth kept in [`PairTruth`].
use serde::{Deserialize, Serialize};

use super::pair::{PairTruth, PreferencePair};
use super::rng::Rng;

/// Words every response may use, with their gold worth.
pub const GENERAL_WORDS: [(&str, f32); 24] = [
    ("kind", 1.4),
    ("clear", 1.2),
    ("helpful", 1.3),
    ("safe", 1.0),
    ("fact", 0.9),
    ("thanks", 0.6),
    ("please", 0.5),
    ("sure", 0.4),
    ("sorry", 0.2),
    ("yes", 0.1),
    ("no", 0.0),
    ("maybe", -0.2),
    ("really", -0.3),
    ("very", -0.4),
    ("again", -0.5),
    ("guess", -0.8),
    ("vague", -1.0),
    ("wrong", -1.1),
    ("risky", -1.2),
    ("lazy", -1.3),
    ("rude", -1.6),
    ("insult", -1.8),
    ("lie", -1.7),
    ("spam", -1.5),
];

/// Prompt topics and their two on-topic words.
pub const TOPICS: [(&str, [&str; 2]); 6] = [
    ("weather", ["rain", "sunny"]),
    ("cooking", ["recipe", "salt"]),
    ("travel", ["train", "map"]),
    ("music", ["song", "piano"]),
    ("health", ["sleep", "water"]),
    ("money", ["budget", "savings"]),
];

/// The word that starts every prompt ("about weather").
pub const PROMPT_WORD: &str = "about";

/// Settings of the world and of the pairs drawn from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// Number of preference pairs to draw.
    pub pairs: usize,
    /// Fraction ρ of labels flipped on purpose after Bradley–Terry labelling.
    pub flip_rate: f64,
    /// Bradley–Terry temperature T: larger means noisier labels (more ambiguous pairs); 0 labels
    /// every pair by its gold reward (then only `flip_rate` adds noise).
    pub temperature: f64,
    /// Seed of the world's reference distribution and of the pairs.
    pub seed: u64,
    /// Shortest and longest response, in words (inclusive).
    pub min_len: usize,
    /// Longest response, in words (inclusive).
    pub max_len: usize,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            pairs: 8000,
            flip_rate: 0.0,
            temperature: 1.0,
            seed: 0,
            min_len: 4,
            max_len: 12,
        }
    }
}

/// The most pairs a synthetic world generates.
pub const MAX_SYNTHETIC_PAIRS: usize = 1_000_000;

impl SyntheticConfig {
    /// Check the settings, naming the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.pairs < 2 {
            return Err(format!(
                "synthetic pairs = {}: need at least 2 (try --pairs 2500)",
                self.pairs
            ));
        }
        if self.pairs > MAX_SYNTHETIC_PAIRS {
            return Err(format!(
                "synthetic pairs = {}: at most {MAX_SYNTHETIC_PAIRS} (the world is generated in \
                 memory); use fewer pairs",
                self.pairs
            ));
        }
        if !(0.0..=1.0).contains(&self.flip_rate) {
            return Err(format!(
                "synthetic flip_rate = {}: must be in [0, 1]",
                self.flip_rate
            ));
        }
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(format!(
                "synthetic temperature = {}: must be ≥ 0 (0: labels follow the gold reward)",
                self.temperature
            ));
        }
        if self.min_len == 0 || self.min_len > self.max_len {
            return Err(format!(
                "synthetic response lengths {}..={}: need 1 <= min_len <= max_len",
                self.min_len, self.max_len
            ));
        }
        Ok(())
    }
}

/// Gold-reward coefficients (fixed: they define the world).
const TOPIC_BONUS: f32 = 1.5;
const REPETITION: f32 = 0.5;
const LENGTH_COST: f32 = 0.3;
const COMFORTABLE_LEN: usize = 10;

/// The world: vocabulary, reference distribution and gold reward.
#[derive(Clone, Debug)]
pub struct World {
    /// Response words: general words then on-topic words, in a fixed order.
    response_words: Vec<&'static str>,
    /// Gold worth of each response word (0 for topical words; they earn the topic bonus).
    values: Vec<f32>,
    /// Reference (SFT-like) logits over response words, one row per topic.
    reference_logits: Vec<Vec<f64>>,
    min_len: usize,
    max_len: usize,
}

/// One prompt of the world: a topic index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// Index into [`TOPICS`].
    pub topic: usize,
}

impl Prompt {
    /// The prompt as text, e.g. "about weather".
    pub fn text(&self) -> String {
        format!("{PROMPT_WORD} {}", TOPICS[self.topic % TOPICS.len()].0)
    }
}

impl World {
    /// Build the world for a seed (the reference distribution depends on it; values do not).
    pub fn new(config: &SyntheticConfig) -> Self {
        let mut response_words: Vec<&'static str> = GENERAL_WORDS.iter().map(|(w, _)| *w).collect();
        let mut values: Vec<f32> = GENERAL_WORDS.iter().map(|(_, v)| *v).collect();
        for (_, words) in TOPICS {
            for w in words {
                response_words.push(w);
                values.push(0.0);
            }
        }
        let mut rng = Rng::derived(config.seed, "synthetic-reference");
        let base: Vec<f64> = (0..response_words.len())
            .map(|_| 0.5 * rng.normal())
            .collect();
        let reference_logits = (0..TOPICS.len())
            .map(|t| {
                let mut row = base.clone();
                for w in TOPICS[t].1 {
                    if let Some(i) = response_words.iter().position(|x| *x == w) {
                        row[i] += 0.5;
                    }
                }
                row
            })
            .collect();
        Self {
            response_words,
            values,
            reference_logits,
            min_len: config.min_len,
            max_len: config.max_len,
        }
    }

    /// Every word the world can print (prompt and response words), for a word-level tokenizer.
    pub fn vocabulary(&self) -> Vec<&'static str> {
        let mut v = vec![PROMPT_WORD];
        v.extend(TOPICS.iter().map(|(t, _)| *t));
        v.extend(self.response_words.iter().copied());
        v
    }

    /// Shortest and longest response, in words.
    pub fn lengths(&self) -> (usize, usize) {
        (self.min_len, self.max_len)
    }

    /// Number of prompts (topics).
    pub fn prompts(&self) -> usize {
        TOPICS.len()
    }

    /// Response words, indexed by response token id.
    pub fn response_words(&self) -> &[&'static str] {
        &self.response_words
    }

    /// Reference probabilities of each response word for a prompt (softmax of the logits).
    pub fn reference_probs(&self, prompt: Prompt) -> Vec<f64> {
        let row = &self.reference_logits[prompt.topic % TOPICS.len()];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = row.iter().map(|l| (l - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|x| x / s).collect()
    }

    /// Draw a prompt uniformly.
    pub fn sample_prompt(&self, rng: &mut Rng) -> Prompt {
        Prompt {
            topic: rng.below(TOPICS.len()),
        }
    }

    /// Draw a response (response-word ids) from the reference distribution.
    pub fn sample_response(&self, prompt: Prompt, rng: &mut Rng) -> Vec<usize> {
        let probs = self.reference_probs(prompt);
        let len = self.min_len + rng.below(self.max_len - self.min_len + 1);
        (0..len).map(|_| rng.categorical(&probs)).collect()
    }

    /// The gold reward of a response (response-word ids) to a prompt.
    pub fn gold_reward(&self, prompt: Prompt, response: &[usize]) -> f32 {
        let mut counts = vec![0usize; self.response_words.len()];
        for &w in response {
            if let Some(c) = counts.get_mut(w) {
                *c += 1;
            }
        }
        let on_topic = TOPICS[prompt.topic % TOPICS.len()].1;
        let mut g = 0.0f32;
        for (w, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            g += self.values[w] * c as f32;
            if w >= GENERAL_WORDS.len() && on_topic.contains(&self.response_words[w]) {
                g += TOPIC_BONUS;
            }
            let extra = c.saturating_sub(2) as f32;
            g -= REPETITION * extra * extra;
        }
        g - LENGTH_COST * response.len().saturating_sub(COMFORTABLE_LEN) as f32
    }

    /// A response as text.
    pub fn render(&self, response: &[usize]) -> String {
        response
            .iter()
            .filter_map(|&w| self.response_words.get(w).copied())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Draw `config.pairs` labelled pairs. Deterministic in `config.seed`.
pub fn generate_pairs(config: &SyntheticConfig) -> Result<(World, Vec<PreferencePair>), String> {
    config.validate()?;
    let world = World::new(config);
    let mut rng = Rng::derived(config.seed, "synthetic-pairs");
    let mut pairs = Vec::with_capacity(config.pairs);
    for index in 0..config.pairs {
        let prompt = world.sample_prompt(&mut rng);
        let a = world.sample_response(prompt, &mut rng);
        let b = world.sample_response(prompt, &mut rng);
        let (ga, gb) = (world.gold_reward(prompt, &a), world.gold_reward(prompt, &b));
        let p_a = if config.temperature > 0.0 {
            1.0 / (1.0 + (-(f64::from(ga - gb)) / config.temperature).exp())
        } else {
            f64::from(u8::from(ga > gb)) + if ga == gb { 0.5 } else { 0.0 }
        };
        let a_preferred = rng.bernoulli(p_a);
        let flipped = rng.bernoulli(config.flip_rate);
        let ((c, gc), (r, gr)) = if a_preferred != flipped {
            ((a, ga), (b, gb))
        } else {
            ((b, gb), (a, ga))
        };
        let mut pair =
            PreferencePair::new(index, prompt.text(), world.render(&c), world.render(&r));
        pair.truth = Some(PairTruth {
            gold_chosen: gc,
            gold_rejected: gr,
            flipped,
        });
        pairs.push(pair);
    }
    Ok((world, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(world: &World, words: &str) -> Vec<usize> {
        words
            .split_whitespace()
            .map(|w| world.response_words().iter().position(|x| *x == w).unwrap())
            .collect()
    }

    #[test]
    fn gold_reward_hand_computed() {
        let w = World::new(&SyntheticConfig::default());
        let weather = Prompt { topic: 0 };
        // kind(1.4) + clear(1.2) + rain (on topic, +1.5 once)
        assert!((w.gold_reward(weather, &ids(&w, "kind clear rain")) - 4.1).abs() < 1e-5);
        // rain twice: bonus once (diminishing returns); recipe is off topic: worth 0
        assert!((w.gold_reward(weather, &ids(&w, "rain rain recipe")) - 1.5).abs() < 1e-5);
        // the same words answer a cooking prompt: recipe earns the bonus, rain nothing
        let cooking = Prompt { topic: 1 };
        assert!((w.gold_reward(cooking, &ids(&w, "rain rain recipe")) - 1.5).abs() < 1e-5);
        assert!((w.gold_reward(cooking, &ids(&w, "rain rain")) - 0.0).abs() < 1e-5);
        // kind x4: 5.6 - 0.5 * (2^2) = 3.6 (diminishing returns)
        assert!((w.gold_reward(weather, &ids(&w, "kind kind kind kind")) - 3.6).abs() < 1e-5);
        // 12 words of "no" (0): repetition 0.5*10^2 = 50, length 0.3*2
        let long = vec![ids(&w, "no")[0]; 12];
        assert!((w.gold_reward(weather, &long) + 50.6).abs() < 1e-4);
    }

    #[test]
    fn pairs_are_seeded_labelled_and_flipped_at_rate() {
        let cfg = SyntheticConfig {
            pairs: 4000,
            flip_rate: 0.25,
            ..Default::default()
        };
        let (_, a) = generate_pairs(&cfg).unwrap();
        let (_, b) = generate_pairs(&cfg).unwrap();
        assert_eq!(a, b);
        let flipped = a.iter().filter(|p| p.truth.unwrap().flipped).count() as f64 / 4000.0;
        assert!((flipped - 0.25).abs() < 0.03, "{flipped}");
        // Unflipped labels agree with gold far more often than flipped ones.
        let agree = |f: bool| {
            let s: Vec<_> = a.iter().filter(|p| p.truth.unwrap().flipped == f).collect();
            s.iter()
                .filter(|p| p.truth.unwrap().label_is_gold_correct())
                .count() as f64
                / s.len() as f64
        };
        assert!(
            agree(false) > 0.75 && agree(true) < 0.25,
            "{} {}",
            agree(false),
            agree(true)
        );
        assert_eq!(a[3].index, 3);
        assert!(a[0].prompt.starts_with("about "));
    }

    #[test]
    fn invalid_settings_are_named() {
        let bad = SyntheticConfig {
            flip_rate: 1.5,
            ..Default::default()
        };
        assert!(generate_pairs(&bad).unwrap_err().contains("flip_rate"));
        let bad = SyntheticConfig {
            pairs: 1,
            ..Default::default()
        };
        assert!(generate_pairs(&bad).unwrap_err().contains("pairs"));
    }
}
