//! Best-of-n on the proxy (spec §8.4, OO-6): draw n reference responses, keep the proxy's
//! favourite; its KL to the reference is `log n − (n − 1)/n`. Drawn against the same √KL axis as
//! the PPO curve.
use serde::{Deserialize, Serialize};

use super::proxy::Proxy;
use crate::data::rng::Rng;
use crate::data::synthetic::{Prompt, World};
use crate::experiment::error::ExperimentError;
use crate::rl::bon::{best_of, kl_best_of_n};

/// One point of the best-of-n curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BonPoint {
    /// n.
    pub n: usize,
    /// `log n − (n − 1)/n`.
    pub kl: f64,
    /// √KL.
    pub sqrt_kl: f64,
    /// Mean proxy score of the picks.
    pub proxy: f64,
    /// Mean gold reward of the picks.
    pub gold: f64,
}

/// The curve for every n in `ns`: `trials` draws of max(ns) reference responses (prompts in
/// turn), each split into groups of n whose proxy favourites are averaged.
pub async fn best_of_n(
    world: &World,
    proxy: &Proxy,
    ns: &[usize],
    trials: usize,
    seed: u64,
) -> Result<Vec<BonPoint>, ExperimentError> {
    let max_n = ns.iter().copied().max().unwrap_or(1).max(1);
    let mut rng = Rng::derived(seed, "best-of-n");
    let mut sums = vec![(0.0f64, 0.0f64, 0usize); ns.len()];
    for trial in 0..trials {
        let p = trial % world.prompts();
        let items: Vec<(usize, Vec<usize>)> = (0..max_n)
            .map(|_| (p, world.sample_response(Prompt { topic: p }, &mut rng)))
            .collect();
        let scores = proxy.score(&items).await?;
        let gold: Vec<f32> = items
            .iter()
            .map(|(p, w)| world.gold_reward(Prompt { topic: *p }, w))
            .collect();
        for (k, &n) in ns.iter().enumerate() {
            for start in (0..max_n - n.max(1) + 1).step_by(n.max(1)) {
                let group = &scores[start..start + n.max(1)];
                if let Some(i) = best_of(group) {
                    sums[k].0 += f64::from(group[i]);
                    sums[k].1 += f64::from(gold[start + i]);
                    sums[k].2 += 1;
                }
            }
        }
    }
    Ok(ns
        .iter()
        .zip(sums)
        .map(|(&n, (proxy, gold, count))| {
            let c = count.max(1) as f64;
            let kl = kl_best_of_n(n);
            BonPoint {
                n,
                kl,
                sqrt_kl: kl.sqrt(),
                proxy: proxy / c,
                gold: gold / c,
            }
        })
        .collect())
}

/// `bon.csv`: `n,kl,proxy,gold`.
pub fn bon_csv(points: &[BonPoint]) -> String {
    let mut out = String::from("n,kl,proxy,gold\n");
    for p in points {
        out.push_str(&format!("{},{},{},{}\n", p.n, p.kl, p.proxy, p.gold));
    }
    out
}

/// Powers of two from 1 to `max` (inclusive when `max` is one).
pub fn powers_of_two(max: usize) -> Vec<usize> {
    std::iter::successors(Some(1usize), |&n| (n * 2 <= max).then_some(n * 2)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_and_csv() {
        assert_eq!(powers_of_two(1024).len(), 11);
        assert_eq!(powers_of_two(1), vec![1]);
        let csv = bon_csv(&[BonPoint {
            n: 2,
            kl: kl_best_of_n(2),
            sqrt_kl: kl_best_of_n(2).sqrt(),
            proxy: 1.0,
            gold: 0.5,
        }]);
        assert!(csv.starts_with("n,kl,proxy,gold\n2,"));
    }
}
