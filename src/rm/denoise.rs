//! Denoising targets from preference strength ([P2] §2.4–2.5): which pairs to flip, which to
//! label-smooth and what margin each gets, all from the ensemble mean μ of each pair.
//!
//! Orientation: μ is measured in the dataset's orientation (`r(chosen) − r(rejected)`). A
//! flipped pair swaps chosen and rejected, so its μ becomes −μ; margins are expressed in the
//! orientation of the label the loss sees (the recommended reading of Eq. 6, spec §3.1).
use serde::{Deserialize, Serialize};

/// How one pair enters the loss: its label possibly flipped, a margin inside the sigmoid and a
/// label-smoothing α (both in the orientation of the label after the flip).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairTarget {
    /// Swap chosen and rejected.
    pub flip: bool,
    /// Margin `m` in `−log σ(z − m)`.
    pub margin: f32,
    /// Label smoothing α.
    pub smoothing: f32,
}

/// Which pairs get their label flipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum FlipRule {
    /// No flips.
    #[default]
    None,
    /// The lowest `fraction` of pairs by μ (the paper's bottom 20 % / 10 %).
    Bottom {
        /// Fraction in (0, 1).
        fraction: f64,
    },
    /// Every pair with μ < 0.
    MuNegative,
}

/// Which pairs get label smoothing. `MuNegative` means μ < 0 as the ensemble measured it on the
/// dataset's label (the suspicious pairs), whether or not a flip rule also applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmoothScope {
    /// Only pairs with μ < 0 (the combined Soft + Margin method).
    #[default]
    MuNegative,
    /// Every pair (a regulariser for strong pairs, Fig 6).
    All,
}

/// A denoising recipe. The default changes nothing (plain Bradley–Terry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DenoiseSpec {
    /// Label flipping.
    pub flip: FlipRule,
    /// Label-smoothing α (0 = off).
    pub smoothing: f64,
    /// Where smoothing applies.
    pub smoothing_scope: SmoothScope,
    /// Adaptive margin scale λ: margin = λ·μ in the label's orientation (0 = off).
    pub margin_scale: f64,
    /// Use max(μ, 0) instead of the signed μ as the margin.
    pub margin_clamp: bool,
}

impl DenoiseSpec {
    /// Check the numbers.
    pub fn validate(&self) -> Result<(), String> {
        if let FlipRule::Bottom { fraction } = self.flip
            && !(fraction > 0.0 && fraction < 1.0)
        {
            return Err(format!("flip fraction = {fraction}: must be in (0, 1)"));
        }
        if !(0.0..=1.0).contains(&self.smoothing) {
            return Err(format!(
                "smoothing α = {}: must be in [0, 1]",
                self.smoothing
            ));
        }
        if !self.margin_scale.is_finite() {
            return Err(format!(
                "margin scale λ = {}: must be finite",
                self.margin_scale
            ));
        }
        Ok(())
    }

    /// True when the recipe needs μ (smoothing every pair does not).
    pub fn needs_strength(&self) -> bool {
        self.flip != FlipRule::None
            || (self.smoothing > 0.0 && self.smoothing_scope == SmoothScope::MuNegative)
            || self.margin_scale != 0.0
    }

    /// One target per entry of `mu`; `index[i]` is entry i's input index, for messages. A
    /// missing (non-finite) μ is an error that names the pair, never silently a zero margin.
    pub fn targets(&self, mu: &[f32], index: &[usize]) -> Result<Vec<PairTarget>, String> {
        self.validate()?;
        if let Some(i) = mu.iter().position(|m| !m.is_finite()) {
            return Err(format!(
                "pair {} has no valid preference strength (μ = {}); recompute strength for these pairs",
                index.get(i).copied().unwrap_or(i),
                mu[i]
            ));
        }
        let flips = flip_set(self.flip, mu);
        Ok(mu
            .iter()
            .zip(&flips)
            .map(|(&m, &flip)| {
                let oriented = if flip { -m } else { m };
                let smooth = match self.smoothing_scope {
                    SmoothScope::All => true,
                    SmoothScope::MuNegative => m < 0.0,
                };
                let base = if self.margin_clamp {
                    oriented.max(0.0)
                } else {
                    oriented
                };
                PairTarget {
                    flip,
                    margin: (self.margin_scale * f64::from(base)) as f32,
                    smoothing: if smooth { self.smoothing as f32 } else { 0.0 },
                }
            })
            .collect())
    }
}

/// Which entries of `mu` a rule flips.
pub fn flip_set(rule: FlipRule, mu: &[f32]) -> Vec<bool> {
    match rule {
        FlipRule::None => vec![false; mu.len()],
        FlipRule::MuNegative => mu.iter().map(|&m| m < 0.0).collect(),
        FlipRule::Bottom { fraction } => {
            let k = ((mu.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
            let mut order: Vec<usize> = (0..mu.len()).collect();
            order.sort_by(|&a, &b| mu[a].total_cmp(&mu[b]).then(a.cmp(&b)));
            let mut out = vec![false; mu.len()];
            for &i in order.iter().take(k) {
                out[i] = true;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_recipe_is_plain_bradley_terry() {
        let t = DenoiseSpec::default().targets(&[1.0, -2.0], &[]).unwrap();
        assert!(t.iter().all(|t| *t == PairTarget::default()));
        assert!(!DenoiseSpec::default().needs_strength());
    }

    #[test]
    fn flip_swaps_and_negates_mu_for_the_margin() {
        let spec = DenoiseSpec {
            flip: FlipRule::MuNegative,
            margin_scale: 0.5,
            ..Default::default()
        };
        let t = spec.targets(&[2.0, -3.0, 0.5], &[]).unwrap();
        assert_eq!(
            t.iter().map(|t| t.flip).collect::<Vec<_>>(),
            [false, true, false]
        );
        // The flipped pair's margin is λ·(−μ) = 0.5·3 = 1.5: μ in the new orientation.
        assert_eq!(
            t.iter().map(|t| t.margin).collect::<Vec<_>>(),
            [1.0, 1.5, 0.25]
        );
    }

    #[test]
    fn bottom_fraction_flips_the_lowest_mu() {
        let mu = [0.3, -1.0, 2.0, 0.1, -0.2, 1.0, 0.0, 5.0, 4.0, 3.0];
        let f = flip_set(FlipRule::Bottom { fraction: 0.2 }, &mu);
        assert_eq!(f.iter().filter(|&&x| x).count(), 2);
        assert!(f[1] && f[4]);
    }

    #[test]
    fn smoothing_scope_and_clamped_margin() {
        let spec = DenoiseSpec {
            smoothing: 0.1,
            smoothing_scope: SmoothScope::MuNegative,
            margin_scale: 1.0,
            margin_clamp: true,
            ..Default::default()
        };
        let t = spec.targets(&[2.0, -3.0], &[]).unwrap();
        assert_eq!((t[0].smoothing, t[1].smoothing), (0.0, 0.1));
        assert_eq!((t[0].margin, t[1].margin), (2.0, 0.0));
        let all = DenoiseSpec {
            smoothing_scope: SmoothScope::All,
            margin_clamp: false,
            ..spec
        };
        let t = all.targets(&[2.0, -3.0], &[]).unwrap();
        assert_eq!((t[0].smoothing, t[1].smoothing), (0.1, 0.1));
        assert_eq!(t[1].margin, -3.0);
    }

    #[test]
    fn missing_or_invalid_strength_is_an_error() {
        let spec = DenoiseSpec {
            margin_scale: 1.0,
            ..Default::default()
        };
        let err = spec.targets(&[1.0, f32::NAN], &[10, 17]).unwrap_err();
        assert!(err.contains("pair 17"), "the input index is named: {err}");
        let bad = DenoiseSpec {
            smoothing: 1.5,
            ..Default::default()
        };
        assert!(bad.targets(&[1.0], &[]).unwrap_err().contains("smoothing"));
        let bad = DenoiseSpec {
            flip: FlipRule::Bottom { fraction: 0.0 },
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("fraction"));
    }
}
