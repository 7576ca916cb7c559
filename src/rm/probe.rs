//! How well reward-model features separate chosen from rejected responses ([P2] Fig 11's
//! question): a logistic-regression probe trained on half of the held-out pairs and scored by
//! AUROC on the other half. Pure numbers on the host.
use super::strength::auroc;

/// AUROC of a linear probe "chosen vs rejected" on features (one row per response). Pairs
/// alternate between the probe's training and test halves (pair i goes to half i mod 2), so
/// the two responses of a pair stay together. `None` with fewer than 4 pairs.
pub fn linear_probe_auroc(chosen: &[Vec<f32>], rejected: &[Vec<f32>]) -> Option<f32> {
    let n = chosen.len().min(rejected.len());
    let d = chosen.first()?.len();
    if n < 4 || d == 0 {
        return None;
    }
    // Standardise with the training half's statistics.
    let train: Vec<usize> = (0..n).filter(|i| i % 2 == 0).collect();
    let test: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    let mut mean = vec![0.0f64; d];
    let mut var = vec![0.0f64; d];
    let rows = || train.iter().flat_map(|&i| [&chosen[i], &rejected[i]]);
    let m = (2 * train.len()) as f64;
    for r in rows() {
        for (k, &x) in r.iter().enumerate().take(d) {
            mean[k] += f64::from(x) / m;
        }
    }
    for r in rows() {
        for (k, &x) in r.iter().enumerate().take(d) {
            var[k] += (f64::from(x) - mean[k]).powi(2) / m;
        }
    }
    let z = |r: &[f32]| -> Vec<f64> {
        (0..d)
            .map(|k| {
                (f64::from(r.get(k).copied().unwrap_or(0.0)) - mean[k]) / var[k].sqrt().max(1e-6)
            })
            .collect()
    };
    let data: Vec<(Vec<f64>, f64)> = train
        .iter()
        .flat_map(|&i| [(z(&chosen[i]), 1.0), (z(&rejected[i]), 0.0)])
        .collect();
    // Full-batch gradient descent on the logistic loss with a little L2.
    let (mut w, mut b) = (vec![0.0f64; d], 0.0f64);
    for _ in 0..300 {
        let mut gw = vec![0.0f64; d];
        let mut gb = 0.0;
        for (x, y) in &data {
            let s: f64 = b + w.iter().zip(x).map(|(a, c)| a * c).sum::<f64>();
            let p = 1.0 / (1.0 + (-s).exp());
            let e = p - y;
            for k in 0..d {
                gw[k] += e * x[k];
            }
            gb += e;
        }
        let m = data.len() as f64;
        for k in 0..d {
            w[k] -= 0.5 * (gw[k] / m + 1e-3 * w[k]);
        }
        b -= 0.5 * gb / m;
    }
    let score = |r: &[f32]| -> f32 {
        let x = z(r);
        (b + w.iter().zip(&x).map(|(a, c)| a * c).sum::<f64>()) as f32
    };
    let (mut scores, mut positive) = (Vec::new(), Vec::new());
    for &i in &test {
        scores.push(score(&chosen[i]));
        positive.push(true);
        scores.push(score(&rejected[i]));
        positive.push(false);
    }
    Some(auroc(&scores, &positive)).filter(|a| a.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rng::Rng;

    #[test]
    fn probe_separates_shifted_clouds_and_not_identical_ones() {
        let mut rng = Rng::new(3);
        let mut cloud = |shift: f32| -> Vec<Vec<f32>> {
            (0..200)
                .map(|_| {
                    (0..4)
                        .map(|k| rng.normal() as f32 + if k == 0 { shift } else { 0.0 })
                        .collect()
                })
                .collect()
        };
        let (c, r) = (cloud(2.0), cloud(0.0));
        let separated = linear_probe_auroc(&c, &r).unwrap();
        assert!(separated > 0.9, "{separated}");
        let (c, r) = (cloud(0.0), cloud(0.0));
        let mixed = linear_probe_auroc(&c, &r).unwrap();
        assert!((mixed - 0.5).abs() < 0.1, "{mixed}");
        assert_eq!(linear_probe_auroc(&c[..3], &r[..3]), None);
    }
}
