//! Preference strength from an ensemble of reward models ([P2] §2.2, Eq. 4): per pair i and
//! model m the gap `d_im = r_m(chosen_i) − r_m(rejected_i)`, its mean μ_i and population std σ_i
//! (÷ M), and the views of them the paper draws: bands by μ, 20 groups sorted by μ, and how well
//! a low μ finds mislabeled pairs (AUROC, precision/recall of the bottom fraction).
//!
//! Pure numbers: `experiment::strength_runner` fills these from real reward models.

/// Per-pair strength statistics, in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct PreferenceStrength {
    /// Mean gap over the ensemble, per pair.
    pub mu: Vec<f32>,
    /// Population standard deviation of the gap over the ensemble (÷ M), per pair.
    pub sigma: Vec<f32>,
}

/// Why strength cannot be computed.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum StrengthError {
    /// Fewer than two models.
    #[error(
        "preference strength needs an ensemble of at least 2 reward models, got {0}; use --models 2 or more (the paper uses 10)"
    )]
    TooFewModels(usize),
    /// Models scored different numbers of pairs.
    #[error(
        "model {model} scored {got} pairs but model 0 scored {expected}; every model must score every pair"
    )]
    Ragged {
        /// The model that differs.
        model: usize,
        /// Its pair count.
        got: usize,
        /// Model 0's pair count.
        expected: usize,
    },
}

impl PreferenceStrength {
    /// From `gaps[m][i]`: model m's gap on pair i.
    pub fn from_gaps(gaps: &[Vec<f32>]) -> Result<Self, StrengthError> {
        let models = gaps.len();
        if models < 2 {
            return Err(StrengthError::TooFewModels(models));
        }
        let n = gaps[0].len();
        if let Some((model, g)) = gaps.iter().enumerate().find(|(_, g)| g.len() != n) {
            return Err(StrengthError::Ragged {
                model,
                got: g.len(),
                expected: n,
            });
        }
        let m = models as f64;
        let (mut mu, mut sigma) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            let mean = gaps.iter().map(|g| f64::from(g[i])).sum::<f64>() / m;
            let var = gaps
                .iter()
                .map(|g| (f64::from(g[i]) - mean).powi(2))
                .sum::<f64>()
                / m;
            mu.push(mean as f32);
            sigma.push(var.sqrt() as f32);
        }
        Ok(Self { mu, sigma })
    }

    /// Fraction of pairs with μ < 0 (likely mislabeled).
    pub fn frac_mu_negative(&self) -> f32 {
        let neg = self.mu.iter().filter(|&&m| m < 0.0).count();
        neg as f32 / self.mu.len().max(1) as f32
    }

    /// Band of each pair (0 = lowest μ) when the pairs are cut into `bands` equal-size bands by μ
    /// (ties broken by input order).
    pub fn bands(&self, bands: usize) -> Vec<usize> {
        let order = self.order_by_mu();
        let n = order.len().max(1);
        let mut band = vec![0; order.len()];
        for (rank, &i) in order.iter().enumerate() {
            band[i] = (rank * bands.max(1) / n).min(bands.max(1) - 1);
        }
        band
    }

    /// Mean μ and mean σ of `groups` equal groups sorted by μ ascending ([P2] Fig 2).
    pub fn groups(&self, groups: usize) -> Vec<(f32, f32)> {
        let band = self.bands(groups);
        let mut sums = vec![(0.0f64, 0.0f64, 0usize); groups.max(1)];
        for (i, &b) in band.iter().enumerate() {
            sums[b].0 += f64::from(self.mu[i]);
            sums[b].1 += f64::from(self.sigma[i]);
            sums[b].2 += 1;
        }
        sums.into_iter()
            .filter(|s| s.2 > 0)
            .map(|(m, s, c)| ((m / c as f64) as f32, (s / c as f64) as f32))
            .collect()
    }

    fn order_by_mu(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.mu.len()).collect();
        order.sort_by(|&a, &b| self.mu[a].total_cmp(&self.mu[b]).then(a.cmp(&b)));
        order
    }
}

/// Area under the ROC curve of `score` for finding the `positive` pairs (higher score = more
/// likely positive); ties count one half. NaN when one class is empty.
pub fn auroc(score: &[f32], positive: &[bool]) -> f32 {
    let mut idx: Vec<usize> = (0..score.len().min(positive.len())).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum, mut i) = (0.0f64, 0usize);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| positive[idx[k]]).count() as f64 * mid_rank;
        i = j + 1;
    }
    let pos = idx.iter().filter(|&&k| positive[k]).count() as f64;
    let neg = idx.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f32::NAN;
    }
    ((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)) as f32
}

/// Precision and recall of flagging the lowest-μ `fraction` of pairs as `positive` (mislabeled).
pub fn precision_recall_bottom(mu: &[f32], positive: &[bool], fraction: f64) -> (f32, f32) {
    let n = mu.len().min(positive.len());
    let k = ((n as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| mu[a].total_cmp(&mu[b]).then(a.cmp(&b)));
    let hits = order[..k].iter().filter(|&&i| positive[i]).count() as f32;
    let total = (0..n).filter(|&i| positive[i]).count() as f32;
    let precision = if k == 0 { f32::NAN } else { hits / k as f32 };
    let recall = if total == 0.0 { f32::NAN } else { hits / total };
    (precision, recall)
}

/// Precision–recall curve of "low μ ⇒ positive": `(recall, precision)` after taking the `k`
/// lowest-μ pairs, for k = 1..n (every `step`-th k, and the last).
pub fn pr_curve(mu: &[f32], positive: &[bool], step: usize) -> Vec<(f32, f32)> {
    let n = mu.len().min(positive.len());
    let total = (0..n).filter(|&i| positive[i]).count();
    if total == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| mu[a].total_cmp(&mu[b]).then(a.cmp(&b)));
    let mut hits = 0usize;
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        hits += usize::from(positive[i]);
        if (k + 1) % step.max(1) == 0 || k + 1 == n {
            out.push((hits as f32 / total as f32, hits as f32 / (k + 1) as f32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_curve_walks_up_from_the_lowest_mu() {
        // Sorted by μ: pairs 1 (pos), 3 (neg), 0 (pos), 2 (neg).
        let mu = [0.5, -1.0, 2.0, 0.0];
        let pos = [true, true, false, false];
        let c = pr_curve(&mu, &pos, 1);
        assert_eq!(
            c,
            vec![(0.5, 1.0), (0.5, 0.5), (1.0, 2.0 / 3.0), (1.0, 0.5)]
        );
        assert!(pr_curve(&mu, &[false; 4], 1).is_empty());
    }

    #[test]
    fn mean_and_population_std_match_hand_computed_values() {
        // Pair 0: gaps 1, 3 → μ 2, σ 1 (÷M, not ÷(M−1)). Pair 1: −2, −2 → μ −2, σ 0.
        let s = PreferenceStrength::from_gaps(&[vec![1.0, -2.0], vec![3.0, -2.0]]).unwrap();
        assert_eq!(s.mu, vec![2.0, -2.0]);
        assert_eq!(s.sigma, vec![1.0, 0.0]);
        assert_eq!(s.frac_mu_negative(), 0.5);
    }

    #[test]
    fn ensembles_need_two_models_and_equal_lengths() {
        assert_eq!(
            PreferenceStrength::from_gaps(&[vec![1.0]]),
            Err(StrengthError::TooFewModels(1))
        );
        let err = PreferenceStrength::from_gaps(&[vec![1.0, 2.0], vec![1.0]]).unwrap_err();
        assert_eq!(
            err,
            StrengthError::Ragged {
                model: 1,
                got: 1,
                expected: 2
            }
        );
        assert!(
            err.to_string()
                .contains("every model must score every pair")
        );
    }

    #[test]
    fn bands_and_groups_follow_mu_order() {
        let mu: Vec<f32> = vec![5.0, -1.0, 3.0, 0.0, 2.0, 4.0, -3.0, 1.0, -2.0, 6.0];
        let s = PreferenceStrength {
            sigma: mu.iter().map(|m| m.abs()).collect(),
            mu,
        };
        // Sorted: -3 -2 -1 0 1 2 3 4 5 6 → five bands of two.
        assert_eq!(s.bands(5), vec![4, 1, 3, 1, 2, 3, 0, 2, 0, 4]);
        let g = s.groups(5);
        assert_eq!(g[0], (-2.5, 2.5));
        assert_eq!(g[4], (5.5, 5.5));
        assert!(
            g.windows(2).all(|w| w[0].0 <= w[1].0),
            "group means ascend: {g:?}"
        );
    }

    #[test]
    fn auroc_and_bottom_precision_on_hand_made_cases() {
        // Positives have the lowest scores → as a "higher is positive" score, −μ ranks perfectly.
        let mu = [-2.0f32, -1.0, 0.5, 1.0, 2.0];
        let flipped = [true, true, false, false, false];
        let neg_mu: Vec<f32> = mu.iter().map(|m| -m).collect();
        assert_eq!(auroc(&neg_mu, &flipped), 1.0);
        assert_eq!(auroc(&mu, &flipped), 0.0);
        assert_eq!(auroc(&[1.0; 4], &[true, false, true, false]), 0.5);
        assert!(auroc(&[1.0, 2.0], &[true, true]).is_nan());
        assert_eq!(precision_recall_bottom(&mu, &flipped, 0.4), (1.0, 1.0));
        assert_eq!(precision_recall_bottom(&mu, &flipped, 0.2), (1.0, 0.5));
        let (p, r) = precision_recall_bottom(&mu, &flipped, 0.6);
        assert!((p - 2.0 / 3.0).abs() < 1e-6 && r == 1.0);
    }
}
