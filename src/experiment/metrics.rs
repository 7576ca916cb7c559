//! Pairwise accuracy against labels, against gold, and the "shorter response wins" baseline.
use crate::data::PreferencePair;

/// 1 if the sign of `predicted` agrees with `target` (both gaps in the chosen−rejected
/// orientation), 0 if not, 0.5 if either is a tie.
fn agreement(predicted: f32, target: f32) -> f64 {
    if predicted == 0.0 || target == 0.0 {
        0.5
    } else if (predicted > 0.0) == (target > 0.0) {
        1.0
    } else {
        0.0
    }
}

/// The gap a pair should have: the gold gap where the truth is known, else +1 (the label).
pub fn target_gap(pair: &PreferencePair, use_gold: bool) -> f32 {
    match (&pair.truth, use_gold) {
        (Some(t), true) => t.gold_gap(),
        _ => 1.0,
    }
}

/// Mean agreement of predicted gaps with each pair's target.
pub fn pairwise_accuracy(pairs: &[&PreferencePair], gaps: &[f32], use_gold: bool) -> f32 {
    if pairs.is_empty() {
        return f32::NAN;
    }
    let total: f64 = pairs
        .iter()
        .zip(gaps)
        .map(|(p, &g)| agreement(g, target_gap(p, use_gold)))
        .sum();
    (total / pairs.len() as f64) as f32
}

/// The "shorter response wins" baseline, in characters, against the same target.
pub fn shorter_wins_accuracy(pairs: &[&PreferencePair], use_gold: bool) -> f32 {
    let gaps: Vec<f32> = pairs
        .iter()
        .map(|p| {
            let (c, r) = (p.chosen.chars().count(), p.rejected.chars().count());
            (r as f32 - c as f32).signum() * f32::from(c != r)
        })
        .collect();
    pairwise_accuracy(pairs, &gaps, use_gold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::PairTruth;

    #[test]
    fn accuracy_counts_ties_as_half_and_uses_gold_when_asked() {
        let mut a = PreferencePair::new(0, "", "aa", "bbbb");
        let b = PreferencePair::new(1, "", "cccc", "dd");
        let c = PreferencePair::new(2, "", "e", "f");
        let pairs = [&a, &b, &c];
        assert_eq!(pairwise_accuracy(&pairs, &[1.0, -2.0, 0.0], false), 0.5);
        // Shorter wins: right on a, wrong on b, tie on c.
        assert_eq!(shorter_wins_accuracy(&pairs, false), 0.5);
        a.truth = Some(PairTruth {
            gold_chosen: -1.0,
            gold_rejected: 1.0,
            flipped: true,
        });
        assert_eq!(pairwise_accuracy(&[&a], &[1.0], true), 0.0);
        assert_eq!(pairwise_accuracy(&[&a], &[1.0], false), 1.0);
    }
}
