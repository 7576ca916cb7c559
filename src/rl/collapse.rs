//! The collapse detector (spec §8.5, our operationalisation of Part I §5.2; thresholds are ours,
//! not the paper's). Step t is flagged when, over the last `window` steps, at least
//! `min_signals` of these hold:
//! (i) mean length or max-token frequency rose by more than `rise`, or more than `max_len_share`
//!     of the samples hit the length limit;
//! (ii) KL rose above `kl_factor` × its median over the window (before its last `edge` steps);
//! (iii) response perplexity or entropy dropped by more than `drop`;
//! (iv) reward skewness is above `skew`.
//! "Rose" and "dropped" compare the mean of the last `edge` steps with the mean of the first
//! `edge` steps of the window.
use serde::{Deserialize, Serialize};

/// The detector's thresholds (a config block).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CollapseConfig {
    /// Steps looked back.
    pub window: usize,
    /// Steps averaged at each end of the window.
    pub edge: usize,
    /// Signals needed to flag a step.
    pub min_signals: usize,
    /// (i) relative rise of length or max-token frequency.
    pub rise: f64,
    /// (i) share of samples at the length limit.
    pub max_len_share: f64,
    /// (ii) KL over its running median.
    pub kl_factor: f64,
    /// (iii) relative drop of perplexity or entropy.
    pub drop: f64,
    /// (iv) reward skewness.
    pub skew: f64,
}

impl Default for CollapseConfig {
    fn default() -> Self {
        Self {
            window: 50,
            edge: 5,
            min_signals: 2,
            rise: 0.5,
            max_len_share: 0.5,
            kl_factor: 3.0,
            drop: 0.3,
            skew: 2.0,
        }
    }
}

/// What the detector reads at every step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepSignals {
    /// Mean response length.
    pub length: f64,
    /// Share of the most frequent token.
    pub max_token_frequency: f64,
    /// Share of samples at the length limit.
    pub at_max_len: f64,
    /// KL to the reference.
    pub kl: f64,
    /// Response perplexity under the policy.
    pub perplexity: f64,
    /// Mean token entropy of the policy.
    pub entropy: f64,
    /// Skewness of the batch's rewards.
    pub reward_skewness: f64,
}

/// The detector: feed every step, get the signals that fired.
#[derive(Clone, Debug, Default)]
pub struct CollapseDetector {
    config: CollapseConfig,
    history: Vec<StepSignals>,
}

fn mean_of(steps: &[StepSignals], f: impl Fn(&StepSignals) -> f64) -> f64 {
    steps.iter().map(f).sum::<f64>() / steps.len().max(1) as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

impl CollapseDetector {
    /// A detector with these thresholds.
    pub fn new(config: CollapseConfig) -> Self {
        Self {
            config,
            history: Vec::new(),
        }
    }

    /// Add a step; returns the signals (1–4) that held, flagged when at least `min_signals`.
    pub fn push(&mut self, s: StepSignals) -> (bool, Vec<u8>) {
        self.history.push(s);
        let c = &self.config;
        let n = self.history.len();
        let edge = c.edge.max(1);
        if n < c.window.max(2 * edge) {
            return (false, Vec::new());
        }
        let window = &self.history[n - c.window.max(2 * edge)..];
        let (first, last) = (&window[..edge], &window[window.len() - edge..]);
        let rose = |f: &dyn Fn(&StepSignals) -> f64| {
            let a = mean_of(first, f);
            mean_of(last, f) > (1.0 + c.rise) * a.max(1e-9)
        };
        let dropped = |f: &dyn Fn(&StepSignals) -> f64| {
            let a = mean_of(first, f);
            a > 0.0 && mean_of(last, f) < (1.0 - c.drop) * a
        };
        let mut fired = Vec::new();
        if rose(&|s| s.length) || rose(&|s| s.max_token_frequency) || s.at_max_len > c.max_len_share
        {
            fired.push(1);
        }
        // The KL's median over the window before its last `edge` steps (not the whole run: KL
        // starts at 0 and grows, so a whole-run median would flag every healthy run early).
        let past_median = median(window[..window.len() - edge].iter().map(|s| s.kl).collect());
        if mean_of(last, |s| s.kl) > c.kl_factor * past_median.max(1e-3) {
            fired.push(2);
        }
        if dropped(&|s| s.perplexity) || dropped(&|s| s.entropy) {
            fired.push(3);
        }
        if s.reward_skewness > c.skew {
            fired.push(4);
        }
        (fired.len() >= c.min_signals, fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady() -> StepSignals {
        StepSignals {
            length: 8.0,
            max_token_frequency: 0.1,
            at_max_len: 0.0,
            kl: 0.5,
            perplexity: 10.0,
            entropy: 2.0,
            reward_skewness: 0.0,
        }
    }

    #[test]
    fn a_steady_run_is_never_flagged_and_a_collapse_is() {
        let mut d = CollapseDetector::new(CollapseConfig::default());
        for _ in 0..200 {
            assert_eq!(d.push(steady()), (false, vec![]));
        }
        // Length to the limit and entropy down: signals (i) and (iii).
        let mut flagged = false;
        for k in 0..50 {
            let f = k as f64 / 50.0;
            let (flag, fired) = d.push(StepSignals {
                length: 8.0 + 4.0 * f,
                at_max_len: f,
                entropy: 2.0 * (1.0 - 0.8 * f),
                ..steady()
            });
            if flag {
                assert!(fired.contains(&1) && fired.contains(&3), "{fired:?}");
                flagged = true;
            }
        }
        assert!(flagged);
        // One signal alone (a skewed reward batch) does not flag.
        let mut d = CollapseDetector::new(CollapseConfig::default());
        for _ in 0..60 {
            d.push(steady());
        }
        let (flag, fired) = d.push(StepSignals {
            reward_skewness: 3.0,
            ..steady()
        });
        assert!(!flag && fired == vec![4]);
    }
}
