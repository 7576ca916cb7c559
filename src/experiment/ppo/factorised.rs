//! The factorised policy (spec §8.4's teaching toy on rlhf-lab's world): for every prompt and
//! every position, a categorical over the world's response words and EOS. It starts exactly at
//! the world's reference distribution (words from the reference, lengths uniform), so its KL to
//! the reference is exactly computable, and it learns from per-token gradients `dL/dlog π` by
//! hand (`∂ log π(a) / ∂θ = onehot(a) − π`), in microseconds per step — also in the browser.
use crate::data::rng::Rng;
use crate::data::synthetic::World;
use crate::rl::sampling::{Sampling, log_softmax};

/// Logits over `words + 1` actions (the last is EOS) at each (prompt, position).
#[derive(Clone, Debug, PartialEq)]
pub struct Factorised {
    prompts: usize,
    positions: usize,
    actions: usize,
    min_len: usize,
    /// Row-major `[prompt][position][action]`.
    pub logits: Vec<f64>,
}

impl Factorised {
    /// The world's reference distribution: word logits `log p_ref(w) + log(1 − h_t)` and EOS
    /// `log h_t` with the stopping hazard `h_t = 1 / (max − t + 1)` from the minimum length on, so
    /// lengths are uniform on `min..=max` as the world draws them.
    pub fn reference(world: &World) -> Self {
        let (min_len, max_len) = world.lengths();
        let words = world.response_words().len();
        let prompts = world.prompts();
        let actions = words + 1;
        let mut logits = Vec::with_capacity(prompts * max_len * actions);
        for p in 0..prompts {
            let probs = world.reference_probs(crate::data::synthetic::Prompt { topic: p });
            for t in 0..max_len {
                let stop = if t >= min_len {
                    1.0 / (max_len - t + 1) as f64
                } else {
                    0.0
                };
                logits.extend(probs.iter().map(|q| q.ln() + (1.0 - stop).ln()));
                logits.push(if stop > 0.0 {
                    stop.ln()
                } else {
                    f64::NEG_INFINITY
                });
            }
        }
        Self {
            prompts,
            positions: max_len,
            actions,
            min_len,
            logits,
        }
    }

    /// The EOS action.
    pub fn eos(&self) -> usize {
        self.actions - 1
    }

    /// Number of logits.
    pub fn len(&self) -> usize {
        self.logits.len()
    }

    /// True when there are no logits.
    pub fn is_empty(&self) -> bool {
        self.logits.is_empty()
    }

    /// Number of (prompt, position) states.
    pub fn states(&self) -> usize {
        self.prompts * self.positions
    }

    /// Index of state (prompt, position).
    pub fn state(&self, prompt: usize, t: usize) -> usize {
        prompt * self.positions + t
    }

    fn row(&self, prompt: usize, t: usize) -> &[f64] {
        let at = self.state(prompt, t) * self.actions;
        &self.logits[at..at + self.actions]
    }

    /// Log-probabilities of every action at (prompt, position); EOS is −∞ before the minimum
    /// length.
    pub fn log_probs(&self, prompt: usize, t: usize) -> Vec<f64> {
        log_softmax(self.row(prompt, t))
    }

    /// Every state's log-probabilities, by state ([`Self::state`]): computed once where the
    /// logits do not change meanwhile (a rollout batch, a minibatch), the same numbers as
    /// [`Self::log_probs`] state by state.
    pub fn log_prob_table(&self) -> Vec<Vec<f64>> {
        (0..self.states())
            .map(|s| log_softmax(&self.logits[s * self.actions..(s + 1) * self.actions]))
            .collect()
    }

    /// Every state's distribution tokens are drawn from under `sampling`, by state.
    pub fn draw_table(&self, sampling: &Sampling) -> Vec<Vec<f64>> {
        (0..self.states())
            .map(|s| sampling.probs(&self.logits[s * self.actions..(s + 1) * self.actions]))
            .collect()
    }

    /// Draw a response: actions ending with EOS, or `positions` words (then the stop is forced),
    /// from the distributions of a [`Self::draw_table`].
    pub fn sample(&self, prompt: usize, draws: &[Vec<f64>], rng: &mut Rng) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.positions + 1);
        for t in 0..self.positions {
            let a = rng.categorical(&draws[self.state(prompt, t)]);
            out.push(a);
            if a == self.eos() {
                break;
            }
        }
        out
    }

    /// Log-probability of each action of a response, read from a [`Self::log_prob_table`].
    pub fn action_log_probs(
        &self,
        prompt: usize,
        actions: &[usize],
        table: &[Vec<f64>],
    ) -> Vec<f32> {
        actions
            .iter()
            .enumerate()
            .map(|(t, &a)| table[self.state(prompt, t)][a] as f32)
            .collect()
    }

    /// Add `coef · ∂ log π(a | prompt, t) / ∂θ` to `grad` (θ-shaped), given the state's
    /// log-probabilities `lp`.
    pub fn add_log_prob_grad(
        &self,
        grad: &mut [f64],
        prompt: usize,
        t: usize,
        a: usize,
        coef: f64,
        lp: &[f64],
    ) {
        let at = self.state(prompt, t) * self.actions;
        for (j, l) in lp.iter().enumerate() {
            let onehot = if j == a { 1.0 } else { 0.0 };
            grad[at + j] += coef * (onehot - l.exp());
        }
    }

    /// Entropy (nats) at (prompt, position).
    pub fn entropy(&self, prompt: usize, t: usize) -> f64 {
        entropy_of(&self.log_probs(prompt, t))
    }

    /// Add `coef · ∂H(prompt, t) / ∂θ` to `grad`: `∂H/∂θ_j = −π_j (log π_j + H)`, given the
    /// state's log-probabilities `lp`.
    pub fn add_entropy_grad(
        &self,
        grad: &mut [f64],
        prompt: usize,
        t: usize,
        coef: f64,
        lp: &[f64],
    ) {
        let h = entropy_of(lp);
        let at = self.state(prompt, t) * self.actions;
        for (j, l) in lp.iter().enumerate() {
            if l.is_finite() {
                grad[at + j] += coef * (-l.exp() * (l + h));
            }
        }
    }

    /// Exact sequence-level KL(π ‖ reference), averaged over prompts: per prompt,
    /// `Σ_t P(reach t) · KL(π_t ‖ ref_t)`, where a response reaches position t when it has not
    /// stopped before.
    pub fn exact_kl(&self, reference: &Self) -> f64 {
        let mut total = 0.0;
        for p in 0..self.prompts {
            let mut reach = 1.0;
            for t in 0..self.positions {
                let (lp, lq) = (self.log_probs(p, t), reference.log_probs(p, t));
                let kl: f64 = lp
                    .iter()
                    .zip(&lq)
                    .filter(|(a, _)| a.is_finite())
                    .map(|(a, b)| a.exp() * (a - b))
                    .sum();
                total += reach * kl;
                reach *= 1.0 - lp[self.eos()].exp();
            }
        }
        total / self.prompts as f64
    }

    /// The shortest response the policy may end (EOS is masked before it).
    pub fn min_len(&self) -> usize {
        self.min_len
    }
}

/// Entropy (nats) of a distribution given by its log-probabilities.
pub fn entropy_of(lp: &[f64]) -> f64 {
    lp.iter()
        .filter(|l| l.is_finite())
        .map(|l| -l.exp() * l)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::SyntheticConfig;

    fn world() -> World {
        World::new(&SyntheticConfig::default())
    }

    #[test]
    fn the_reference_policy_draws_the_worlds_words_and_uniform_lengths() {
        let w = world();
        let f = Factorised::reference(&w);
        assert_eq!(f.exact_kl(&f), 0.0);
        let (min, max) = w.lengths();
        let mut rng = Rng::new(3);
        let mut by_len = vec![0usize; max + 1];
        let n = 12_000;
        for _ in 0..n {
            let a = f.sample(2, &f.draw_table(&Sampling::default()), &mut rng);
            let words = a.iter().filter(|&&x| x != f.eos()).count();
            assert!(words >= min && words <= max);
            by_len[words] += 1;
        }
        let expect = n as f64 / (max - min + 1) as f64;
        for (len, &count) in by_len.iter().enumerate().skip(min) {
            assert!(
                (count as f64 - expect).abs() < 5.0 * expect.sqrt(),
                "length {len}: {count}"
            );
        }
        // Word probabilities at any position are the world's reference.
        let lp = f.log_probs(2, 0);
        let r = w.reference_probs(crate::data::synthetic::Prompt { topic: 2 });
        for (l, q) in lp.iter().zip(&r) {
            assert!((l.exp() - q).abs() < 1e-12);
        }
        assert_eq!(
            lp[f.eos()],
            f64::NEG_INFINITY,
            "no EOS before the minimum length"
        );
    }

    #[test]
    fn gradients_match_finite_differences_and_kl_grows_when_moving_away() {
        let w = world();
        let reference = Factorised::reference(&w);
        let mut f = reference.clone();
        let (p, t, a) = (1, 5, 3);
        let mut grad = vec![0.0; f.len()];
        f.add_log_prob_grad(&mut grad, p, t, a, 1.0, &f.log_probs(p, t));
        let mut h_grad = vec![0.0; f.len()];
        f.add_entropy_grad(&mut h_grad, p, t, 1.0, &f.log_probs(p, t));
        let at = f.state(p, t) * f.actions;
        for j in [0, a, f.eos()] {
            let h = 1e-6;
            let mut g = f.clone();
            g.logits[at + j] += h;
            let num = (g.log_probs(p, t)[a] - f.log_probs(p, t)[a]) / h;
            assert!((num - grad[at + j]).abs() < 1e-4, "log π, logit {j}");
            let num = (g.entropy(p, t) - f.entropy(p, t)) / h;
            assert!((num - h_grad[at + j]).abs() < 1e-4, "entropy, logit {j}");
        }
        f.logits[at + a] += 2.0;
        assert!(f.exact_kl(&reference) > 0.0);
    }
}
