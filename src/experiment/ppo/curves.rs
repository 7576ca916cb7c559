//! The per-iteration metrics of a PPO run (one row of `curves.csv` each), the CSV and the
//! moving average that peaks and final values are read from.
use serde::{Deserialize, Serialize};

/// The metrics of one PPO iteration, measured on its rollout batch (the policy before the
/// iteration's update); one row of `curves.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PpoStep {
    /// 0-based iteration (0 = the starting policy).
    pub step: usize,
    /// Mean proxy (reward-model) score.
    pub proxy: f64,
    /// Mean gold reward.
    pub gold: f64,
    /// Sequence-level KL(π ‖ π_ref): exact for the factorised policy, else the sampled k1 sum.
    pub kl: f64,
    /// √KL, the x-axis of over-optimisation (Gao et al.).
    pub sqrt_kl: f64,
    /// Sampled estimate of the sequence-level KL (mean over responses of Σ log π − log π_ref).
    pub kl_sampled: f64,
    /// k1 mean over response tokens (the "KL" of Part I's plots).
    pub kl_token: f64,
    /// Response perplexity under the policy.
    pub ppl: f64,
    /// Response perplexity under the reference policy.
    pub ppl_ref: f64,
    /// Mean response length (words).
    pub length: f64,
    /// Share of responses at the length limit.
    pub at_max_len: f64,
    /// Distinct bigrams over all bigrams.
    pub distinct_2: f64,
    /// Share of the most frequent word.
    pub max_token_frequency: f64,
    /// Mean entropy of the policy at the visited positions.
    pub entropy: f64,
    /// Skewness of the batch's proxy scores.
    pub reward_skewness: f64,
    /// Mean PPO policy loss over the update.
    pub policy_loss: f64,
    /// Mean value loss over the update.
    pub value_loss: f64,
    /// Share of tokens whose policy term was clipped.
    pub pg_clip_frac: f64,
    /// Share of tokens whose value term was clipped.
    pub vf_clip_frac: f64,
    /// Mean advantage (after whitening when on).
    pub advantage_mean: f64,
    /// Std of the advantages.
    pub advantage_std: f64,
    /// Mean return.
    pub return_mean: f64,
    /// Std of the returns.
    pub return_std: f64,
    /// Running mean of the proxy scores (reward normalisation).
    pub reward_running_mean: f64,
    /// Running std of the proxy scores.
    pub reward_running_std: f64,
    /// Seconds since the PPO stage started.
    pub wall_time_s: f64,
    /// The collapse detector flagged this step.
    pub collapse: bool,
}

/// Columns of `curves.csv`, in order (the field names of [`PpoStep`]).
pub const CURVE_COLUMNS: [&str; 28] = [
    "step",
    "proxy",
    "gold",
    "kl",
    "sqrt_kl",
    "kl_sampled",
    "kl_token",
    "ppl",
    "ppl_ref",
    "length",
    "at_max_len",
    "distinct_2",
    "max_token_frequency",
    "entropy",
    "reward_skewness",
    "policy_loss",
    "value_loss",
    "pg_clip_frac",
    "vf_clip_frac",
    "advantage_mean",
    "advantage_std",
    "return_mean",
    "return_std",
    "reward_running_mean",
    "reward_running_std",
    "wall_time_s",
    "collapse",
    "gold_smoothed",
];

/// Trailing moving average over `window` values.
pub fn moving_average(xs: &[f64], window: usize) -> Vec<f64> {
    let w = window.max(1);
    (0..xs.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(w);
            xs[from..=i].iter().sum::<f64>() / (i + 1 - from) as f64
        })
        .collect()
}

/// `curves.csv`: a header of [`CURVE_COLUMNS`] and one row per step.
pub fn curves_csv(curves: &[PpoStep], smooth: usize) -> String {
    let gold: Vec<f64> = curves.iter().map(|c| c.gold).collect();
    let smoothed = moving_average(&gold, smooth);
    let mut out = CURVE_COLUMNS.join(",");
    out.push('\n');
    for (c, g) in curves.iter().zip(smoothed) {
        let value = serde_json::to_value(c).unwrap_or_default();
        let row: Vec<String> = CURVE_COLUMNS
            .iter()
            .map(|k| match *k {
                "gold_smoothed" => g.to_string(),
                "collapse" => u8::from(c.collapse).to_string(),
                k => value.get(k).map_or(String::new(), |v| v.to_string()),
            })
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_and_the_csv_have_one_row_per_step() {
        assert_eq!(
            moving_average(&[1.0, 3.0, 5.0, 7.0], 2),
            vec![1.0, 2.0, 4.0, 6.0]
        );
        let rows = vec![
            PpoStep {
                step: 0,
                gold: 1.0,
                ..Default::default()
            },
            PpoStep {
                step: 1,
                gold: 3.0,
                collapse: true,
                ..Default::default()
            },
        ];
        let csv = curves_csv(&rows, 2);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].split(',').count(), CURVE_COLUMNS.len());
        let last: Vec<&str> = lines[2].split(',').collect();
        assert_eq!(last.len(), CURVE_COLUMNS.len());
        assert_eq!(last[0], "1");
        assert_eq!(last[CURVE_COLUMNS.len() - 2], "1", "collapse as 0/1");
        assert_eq!(
            last[CURVE_COLUMNS.len() - 1],
            "2",
            "gold smoothed over 2 steps"
        );
    }
}
