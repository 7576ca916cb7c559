//! How iterative RLHF judges its policies: win/tie/lose by gold with a tie band (the paper's
//! Tables 2 and 3 with gold as the judge), the spread of reward differences (variance and
//! quantiles), and gold at a matched KL on a PPO curve.
use crate::experiment::ppo::PpoStep;
use crate::experiment::ppo::curves::moving_average;

/// Shares of comparisons that `a` wins, ties and loses against `b` (paired by index): a tie when
/// the two differ by less than `band`.
pub fn win_tie_lose(a: &[f32], b: &[f32], band: f64) -> (f64, f64, f64) {
    let n = a.len().min(b.len());
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (mut win, mut tie) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b) {
        let d = f64::from(x - y);
        if d.abs() < band {
            tie += 1;
        } else if d > 0.0 {
            win += 1;
        }
    }
    let n = n as f64;
    (
        win as f64 / n,
        tie as f64 / n,
        (n - win as f64 - tie as f64) / n,
    )
}

/// Population variance and the 5, 25, 50, 75 and 95 % quantiles (linear interpolation).
pub fn spread(values: &[f32]) -> (f64, [f64; 5]) {
    if values.is_empty() {
        return (f64::NAN, [f64::NAN; 5]);
    }
    let mut v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let variance = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let q = |p: f64| {
        let at = p * (v.len() - 1) as f64;
        let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
    };
    (variance, [q(0.05), q(0.25), q(0.5), q(0.75), q(0.95)])
}

/// Gold (its `smooth`-step trailing average) where a PPO curve first reaches KL `kl`, or at its
/// end when it never does.
pub fn gold_at_kl(curve: &[PpoStep], kl: f64, smooth: usize) -> f64 {
    let gold: Vec<f64> = curve.iter().map(|s| s.gold).collect();
    let avg = moving_average(&gold, smooth.max(1));
    let at = curve
        .iter()
        .position(|s| s.kl >= kl)
        .unwrap_or(curve.len().saturating_sub(1));
    avg.get(at).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_tie_lose_by_hand() {
        let (w, t, l) = win_tie_lose(&[1.0, 2.0, 3.0, 0.0], &[0.0, 1.95, 4.0, 0.0], 0.1);
        assert_eq!((w, t, l), (0.25, 0.5, 0.25));
        assert!(win_tie_lose(&[], &[], 0.1).0.is_nan());
    }

    #[test]
    fn spread_by_hand() {
        let (var, q) = spread(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((var - 2.0).abs() < 1e-12);
        assert_eq!(q[2], 3.0);
        assert!((q[0] - 1.2).abs() < 1e-12 && (q[4] - 4.8).abs() < 1e-12);
    }

    #[test]
    fn gold_at_kl_reads_the_first_step_past_it() {
        let curve: Vec<PpoStep> = [(0.0, 1.0), (0.5, 2.0), (1.0, 3.0), (2.0, 4.0)]
            .iter()
            .map(|&(kl, gold)| PpoStep {
                kl,
                gold,
                ..Default::default()
            })
            .collect();
        assert_eq!(gold_at_kl(&curve, 0.9, 1), 3.0);
        assert_eq!(gold_at_kl(&curve, 5.0, 1), 4.0);
        assert_eq!(gold_at_kl(&curve, 0.9, 2), 2.5);
    }
}
