//! How a reward model fares on a policy's samples: its accuracy on pairs labelled by gold (the
//! shifted accuracy), J on held-out groups, and the spread of its reward differences |Δr|.
use serde::{Deserialize, Serialize};

use super::sample::{GoldPair, Group};
use crate::experiment::error::ExperimentError;
use crate::experiment::ppo::proxy::Proxy;
use crate::rm::metarm::difference_loss_value;

/// Gold rewards closer than this count as a tie: such pairs have no right answer and are left
/// out of the shifted accuracy.
pub const GOLD_TIE: f32 = 1e-6;

/// One reward model measured on one policy's samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShiftMeasures {
    /// Share of gold-ordered pairs the reward model orders the same way (ties in gold left
    /// out; a tie in the reward model counts half).
    pub shifted_accuracy: f64,
    /// Pairs the accuracy counts (those not tied in gold).
    pub shifted_pairs: usize,
    /// Mean difference loss J over the held-out groups (spec §5.1; range [(k−1)/2k, (k−1)/k)).
    pub j: f64,
    /// Mean |r(a) − r(b)| over the pairs.
    pub mean_abs_dr: f64,
    /// |r(a) − r(b)| of every pair, in order (histograms are drawn from these).
    #[serde(skip)]
    pub abs_dr: Vec<f32>,
}

/// The reward model's scores of every response of `groups` and of `pairs`.
async fn scores(
    proxy: &Proxy,
    groups: &[Group],
    pairs: &[GoldPair],
) -> Result<(Vec<Vec<f32>>, Vec<(f32, f32)>), ExperimentError> {
    let mut items: Vec<(usize, Vec<usize>)> = groups
        .iter()
        .flat_map(|g| g.responses.iter().map(move |r| (g.prompt, r.clone())))
        .collect();
    let group_items = items.len();
    items.extend(
        pairs
            .iter()
            .flat_map(|p| [(p.prompt, p.a.clone()), (p.prompt, p.b.clone())]),
    );
    let all = proxy.score(&items).await?;
    let (group_scores, pair_scores) = all.split_at(group_items.min(all.len()));
    let mut at = 0;
    let per_group = groups
        .iter()
        .map(|g| {
            let s = group_scores[at..at + g.responses.len()].to_vec();
            at += g.responses.len();
            s
        })
        .collect();
    let per_pair = pair_scores.chunks(2).map(|c| (c[0], c[1])).collect();
    Ok((per_group, per_pair))
}

/// Measure `proxy` on held-out `groups` and gold-labelled `pairs`.
pub async fn measure(
    proxy: &Proxy,
    groups: &[Group],
    pairs: &[GoldPair],
) -> Result<ShiftMeasures, ExperimentError> {
    let (group_scores, pair_scores) = scores(proxy, groups, pairs).await?;
    let j = group_scores
        .iter()
        .map(|s| difference_loss_value(s))
        .sum::<f64>()
        / group_scores.len().max(1) as f64;
    let abs_dr: Vec<f32> = pair_scores.iter().map(|(a, b)| (a - b).abs()).collect();
    let mean_abs_dr =
        abs_dr.iter().map(|&x| f64::from(x)).sum::<f64>() / abs_dr.len().max(1) as f64;
    let (mut right, mut counted) = (0.0, 0usize);
    for (p, (ra, rb)) in pairs.iter().zip(&pair_scores) {
        let gold = p.gold_a - p.gold_b;
        if gold.abs() < GOLD_TIE {
            continue;
        }
        counted += 1;
        let model = ra - rb;
        right += if model == 0.0 {
            0.5
        } else if (model > 0.0) == (gold > 0.0) {
            1.0
        } else {
            0.0
        };
    }
    Ok(ShiftMeasures {
        shifted_accuracy: if counted == 0 {
            f64::NAN
        } else {
            right / counted as f64
        },
        shifted_pairs: counted,
        j,
        mean_abs_dr,
        abs_dr,
    })
}

/// A histogram of `values / scale` over [0, 1] in `bins` bins, as shares of the values (values
/// above `scale` fall in the last bin).
pub fn unit_histogram(values: &[f32], scale: f32, bins: usize) -> Vec<f64> {
    let mut counts = vec![0.0; bins.max(1)];
    if values.is_empty() {
        return counts;
    }
    let n = counts.len();
    for &v in values {
        let x = if scale > 0.0 { v / scale } else { 0.0 };
        let bin = ((x * n as f32) as usize).min(n - 1);
        counts[bin] += 1.0;
    }
    let total = values.len() as f64;
    counts.iter_mut().for_each(|c| *c /= total);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_histogram_bins_shares_and_clamps_to_the_last_bin() {
        let h = unit_histogram(&[0.0, 0.1, 0.49, 0.5, 1.0, 2.0], 1.0, 2);
        assert_eq!(h, vec![3.0 / 6.0, 3.0 / 6.0]);
        let h = unit_histogram(&[1.0, 3.0], 4.0, 4);
        assert_eq!(
            h,
            vec![0.0, 0.5, 0.0, 0.5],
            "1/4 = 0.25 opens the second bin"
        );
        assert_eq!(unit_histogram(&[], 1.0, 3), vec![0.0; 3]);
    }
}
