//! Per-step statistics of a batch of responses (spec §8.5): distinct-2, the most frequent
//! token's share, skewness, mean and standard deviation.

/// Distinct bigrams over all bigrams in the batch (1 when every bigram differs; 0 with none).
pub fn distinct_2(responses: &[Vec<usize>]) -> f64 {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0usize;
    for r in responses {
        for w in r.windows(2) {
            seen.insert((w[0], w[1]));
            total += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        seen.len() as f64 / total as f64
    }
}

/// Self-BLEU-2 without brevity penalty, a sameness score (the paper's diversity table uses
/// Self-BLEU; lower = more diverse): within each group of responses to one prompt, the share of a
/// response's bigrams that also occur in another response of its group, averaged over the
/// responses that have a bigram. 0 with no such response.
pub fn self_bleu_2(groups: &[Vec<Vec<usize>>]) -> f64 {
    let bigrams =
        |r: &Vec<usize>| -> Vec<(usize, usize)> { r.windows(2).map(|w| (w[0], w[1])).collect() };
    let (mut total, mut counted) = (0.0, 0usize);
    for group in groups {
        let sets: Vec<Vec<(usize, usize)>> = group.iter().map(bigrams).collect();
        for (i, own) in sets.iter().enumerate() {
            if own.is_empty() {
                continue;
            }
            let others: std::collections::HashSet<&(usize, usize)> = sets
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, s)| s)
                .collect();
            let shared = own.iter().filter(|b| others.contains(b)).count();
            total += shared as f64 / own.len() as f64;
            counted += 1;
        }
    }
    if counted == 0 {
        0.0
    } else {
        total / counted as f64
    }
}

/// Share of all response tokens taken by the single most frequent token.
pub fn max_token_frequency(responses: &[Vec<usize>]) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for &t in responses.iter().flatten() {
        *counts.entry(t).or_insert(0usize) += 1;
        total += 1;
    }
    counts
        .values()
        .max()
        .map_or(0.0, |&m| m as f64 / total as f64)
}

/// Mean and population standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Sample skewness `E[(x − μ)³] / σ³` (0 when σ = 0).
pub fn skewness(xs: &[f64]) -> f64 {
    let (mean, std) = mean_std(xs);
    if std < 1e-12 {
        return 0.0;
    }
    xs.iter().map(|x| ((x - mean) / std).powi(3)).sum::<f64>() / xs.len() as f64
}

/// Entropy (nats) of a distribution.
pub fn entropy(probs: &[f64]) -> f64 {
    probs
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| -p * p.ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_bleu_2_by_hand() {
        // Group 1: [1 2 3] has bigrams (1,2),(2,3); [1 2 4]: (1,2),(2,4); [5]: none.
        // (1,2) is shared: each of the first two scores 1/2. Group 2: [7 8] alone scores 0.
        let groups = vec![
            vec![vec![1, 2, 3], vec![1, 2, 4], vec![5]],
            vec![vec![7, 8]],
        ];
        assert!((self_bleu_2(&groups) - (0.5 + 0.5 + 0.0) / 3.0).abs() < 1e-12);
        // Identical responses are as same as it gets; no bigrams at all give 0.
        assert_eq!(self_bleu_2(&[vec![vec![1, 2], vec![1, 2]]]), 1.0);
        assert_eq!(self_bleu_2(&[vec![vec![1], vec![2]]]), 0.0);
    }

    #[test]
    fn batch_statistics_by_hand() {
        let r = vec![vec![1, 2, 1, 2], vec![3, 3]];
        // bigrams (1,2) (2,1) (1,2) (3,3): 3 distinct of 4.
        assert!((distinct_2(&r) - 0.75).abs() < 1e-12);
        // tokens 1,2,1,2,3,3: each 2 of 6.
        assert!((max_token_frequency(&r) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(distinct_2(&[vec![4]]), 0.0);
        assert_eq!(skewness(&[1.0, 1.0]), 0.0);
        // 0, 0, 0, 4: mean 1, std √3, skew = (3·(−1)³ + 3³)/4 / √3³ = 6/5.196.
        assert!((skewness(&[0.0, 0.0, 0.0, 4.0]) - 6.0 / 3f64.sqrt().powi(3)).abs() < 1e-9);
        assert!((entropy(&[0.5, 0.5]) - 2f64.ln()).abs() < 1e-12);
    }
}
