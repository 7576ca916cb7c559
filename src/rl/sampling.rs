//! Token sampling with temperature, top-k and top-p (nucleus), from logits.
use serde::{Deserialize, Serialize};

use crate::data::rng::Rng;

/// How tokens are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sampling {
    /// Softmax temperature (> 0; 1 samples the policy itself).
    pub temperature: f64,
    /// Keep only the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose mass reaches p (1 = all).
    pub top_p: f64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
        }
    }
}

impl Sampling {
    /// Check the settings.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "sampling temperature = {}: must be > 0",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!(
                "sampling top_p = {}: must be in (0, 1]",
                self.top_p
            ));
        }
        Ok(())
    }

    /// The distribution tokens are actually drawn from: softmax(logits / T), cut to the top k
    /// and to the nucleus of mass p, renormalised. Masked logits (−∞) get 0.
    pub fn probs(&self, logits: &[f64]) -> Vec<f64> {
        let t = self.temperature.max(1e-6);
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut p: Vec<f64> = logits.iter().map(|&l| ((l - max) / t).exp()).collect();
        let total: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= total);
        let mut order: Vec<usize> = (0..p.len()).collect();
        // A total order (ties by index), so the unstable sort gives the stable one's order.
        order.sort_unstable_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        let mut keep = vec![false; p.len()];
        let mut mass = 0.0;
        for (rank, &i) in order.iter().enumerate() {
            if (self.top_k > 0 && rank >= self.top_k) || p[i] == 0.0 {
                break;
            }
            keep[i] = true;
            mass += p[i];
            if mass >= self.top_p - 1e-12 {
                break;
            }
        }
        for (x, k) in p.iter_mut().zip(&keep) {
            if !k {
                *x = 0.0;
            }
        }
        let kept: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= kept);
        p
    }

    /// Draw one token.
    pub fn sample(&self, logits: &[f64], rng: &mut Rng) -> usize {
        rng.categorical(&self.probs(logits))
    }
}

/// `log softmax(logits)`.
pub fn log_softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + logits.iter().map(|&l| (l - max).exp()).sum::<f64>().ln();
    logits.iter().map(|&l| l - lse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_top_k_and_top_p_shape_the_draws() {
        let logits = [2.0f64, 1.0, 0.0, -1.0];
        let plain = Sampling::default().probs(&logits);
        let soft: Vec<f64> = log_softmax(&logits).iter().map(|l| l.exp()).collect();
        for (a, b) in plain.iter().zip(&soft) {
            assert!((a - b).abs() < 1e-12);
        }
        let top2 = Sampling {
            top_k: 2,
            ..Default::default()
        }
        .probs(&logits);
        assert!(top2[2] == 0.0 && top2[3] == 0.0);
        assert!((top2[0] - soft[0] / (soft[0] + soft[1])).abs() < 1e-12);
        // soft ≈ [0.644, 0.237, 0.087, 0.032]: p = 0.85 keeps the first two, p = 0.5 the first.
        let nucleus = Sampling {
            top_p: 0.85,
            ..Default::default()
        }
        .probs(&logits);
        assert!(nucleus[1] > 0.0 && nucleus[2] == 0.0);
        let nucleus = Sampling {
            top_p: 0.5,
            ..Default::default()
        }
        .probs(&logits);
        assert_eq!(nucleus, vec![1.0, 0.0, 0.0, 0.0]);
        let cold = Sampling {
            temperature: 0.5,
            ..Default::default()
        }
        .probs(&logits);
        assert!(cold[0] > plain[0]);
        // Draws follow the distribution: 20,000 draws with a fixed generator land within 4 SE.
        let s = Sampling {
            temperature: 0.8,
            top_k: 3,
            ..Default::default()
        };
        let p = s.probs(&logits);
        let mut rng = Rng::new(7);
        let n = 20_000;
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[s.sample(&logits, &mut rng)] += 1;
        }
        assert_eq!(counts[3], 0, "outside the top k");
        for i in 0..3 {
            let f = counts[i] as f64 / n as f64;
            let se = (p[i] * (1.0 - p[i]) / n as f64).sqrt();
            assert!((f - p[i]).abs() < 4.0 * se, "token {i}: {f} vs {}", p[i]);
        }
    }
}
