//! What an iterative RLHF run reports: one row per arm and round (`rounds.csv`), the head-to-head
//! of the arms' last policies, and the distribution shift drawn (`shift_spread.csv`,
//! `abs_dr_hist.csv`, `features_pca.csv`).
use serde::{Deserialize, Serialize};

use super::config::RlhfConfig;
use crate::experiment::config::Run;

/// One arm's round: its reward model measured, and its policy after PPO judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundRow {
    /// 1-based round.
    pub round: usize,
    /// `metarm` or `vanilla`.
    pub arm: String,
    /// Mean gold reward of the round's policy π_r.
    pub gold: f64,
    /// Mean score of π_r's responses by the round's reward model.
    pub proxy: f64,
    /// KL(π_r ‖ SFT) at the round's end (exact for the factorised policy, else sampled).
    pub kl: f64,
    /// The round's reward model: held-out accuracy on the original pairs.
    pub original_accuracy: Option<f32>,
    /// The round's reward model: accuracy on pairs of π_{r−1}'s responses labelled by gold
    /// (the distribution it was asked to keep apart).
    pub shifted_accuracy: f64,
    /// The round's reward model: J on held-out groups of π_{r−1}'s responses.
    pub j: f64,
    /// The round's reward model: mean |Δr| on those pairs.
    pub mean_abs_dr: f64,
    /// Share of prompts where π_r's response beats SFT's by gold (beyond the tie band).
    pub win: f64,
    /// Share of ties (gold within the tie band).
    pub tie: f64,
    /// Share of losses.
    pub lose: f64,
    /// Distinct bigrams over all bigrams of π_r's responses.
    pub distinct_2: f64,
    /// Self-BLEU-2 of π_r's responses to the same prompt (lower = more diverse).
    pub self_bleu_2: f64,
    /// The smaller of the arms' KL at this round's end (arms compared there).
    pub matched_kl: f64,
    /// Gold at `matched_kl` on this arm's PPO curve (its moving average).
    pub gold_at_matched_kl: f64,
    /// PPO iterations of this arm so far.
    pub ppo_steps: usize,
}

/// The columns of `rounds.csv`, in order.
pub const ROUND_COLUMNS: [&str; 17] = [
    "round",
    "arm",
    "gold",
    "proxy",
    "kl",
    "original_accuracy",
    "shifted_accuracy",
    "j",
    "mean_abs_dr",
    "win",
    "tie",
    "lose",
    "distinct_2",
    "self_bleu_2",
    "matched_kl",
    "gold_at_matched_kl",
    "ppo_steps",
];

/// One prompt-draw comparison of two policies by gold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeadToHead {
    /// The first policy (`metarm` at the last round).
    pub policy: String,
    /// Its opponent.
    pub opponent: String,
    /// Share of prompts where `policy`'s response is better by gold.
    pub win: f64,
    /// Share of ties.
    pub tie: f64,
    /// Share of losses.
    pub lose: f64,
}

/// The reward-difference spread of the first reward model over one checkpoint's samples
/// (two responses per prompt draw).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpreadRow {
    /// The arm whose policy was sampled.
    pub arm: String,
    /// The round the checkpoint is in (0: SFT).
    pub round: usize,
    /// PPO iterations of that arm at the checkpoint.
    pub step: usize,
    /// Variance of Δr = r_0(s_1) − r_0(s_2).
    pub variance: f64,
    /// Quantiles of Δr: 5 %, 25 %, 50 %, 75 %, 95 %.
    pub quantiles: [f64; 5],
    /// Every Δr (for violins).
    pub values: Vec<f32>,
}

/// |Δr| of one reward model on one policy's samples, over [0, 1] (the reward model's |Δr|
/// divided by its largest over all its rows).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistRow {
    /// The round (0: SFT's samples).
    pub round: usize,
    /// `rm0_pi0`, `rm0_pi_r` or `metarm_rm_r_pi_r`.
    pub source: String,
    /// Shares per bin, over [0, 1] in equal bins.
    pub shares: Vec<f64>,
}

/// One response's place in the feature map.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeaturePoint {
    /// `chosen`, `rejected` (the original pairs), `pi_0`, or `pi_r` of an arm.
    pub source: String,
    /// The arm (empty for the pairs and SFT).
    pub arm: String,
    /// The round (0 for the pairs and SFT).
    pub round: usize,
    /// First principal component.
    pub x: f64,
    /// Second principal component.
    pub y: f64,
}

/// One PPO iteration of an arm, as `curves.csv` holds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The arm.
    pub arm: String,
    /// The round.
    pub round: usize,
    /// The arm's PPO iteration (counted on across rounds).
    pub step: usize,
    /// KL to the round's reference.
    pub kl: f64,
    /// Mean gold of the batch.
    pub gold: f64,
    /// Mean score of the batch by the round's reward model.
    pub proxy: f64,
}

/// The report of an iterative RLHF run (`DIR/report.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RlhfReport {
    /// The config that ran.
    pub config: Run<RlhfConfig>,
    /// One row per arm and round, in order.
    pub rounds: Vec<RoundRow>,
    /// The arms' last policies against each other by gold (the paper's Table 3 analogue).
    pub head_to_head: Option<HeadToHead>,
    /// The first reward model's held-out accuracy.
    pub rm0_accuracy: Option<f32>,
    /// Gold's tie band in gold units (`eval.tie_band` standard deviations of SFT's gold).
    pub tie_band_gold: f64,
    /// SFT's mean gold reward (round 0).
    pub sft_gold: f64,
    /// The spread of the first reward model's Δr at checkpoints.
    pub spread: Vec<SpreadRow>,
    /// |Δr| histograms.
    pub abs_dr_hist: Vec<HistRow>,
    /// The feature map.
    pub features: Vec<FeaturePoint>,
    /// The original pairs' convex hull in the feature map, in order.
    pub hull: Vec<[f64; 2]>,
    /// Every PPO iteration of every arm (`curves.csv`).
    pub curves: Vec<CurvePoint>,
    /// Seconds of work.
    pub wall_time_s: f64,
    /// Seconds per round (both arms), in order.
    pub round_seconds: Vec<f64>,
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

impl RlhfReport {
    /// `rounds.csv`.
    pub fn rounds_csv(&self) -> String {
        let mut out = ROUND_COLUMNS.join(",") + "\n";
        for r in &self.rounds {
            let cells = [
                r.round.to_string(),
                r.arm.clone(),
                number(r.gold),
                number(r.proxy),
                number(r.kl),
                r.original_accuracy
                    .map_or(String::new(), |a| number(f64::from(a))),
                number(r.shifted_accuracy),
                number(r.j),
                number(r.mean_abs_dr),
                number(r.win),
                number(r.tie),
                number(r.lose),
                number(r.distinct_2),
                number(r.self_bleu_2),
                number(r.matched_kl),
                number(r.gold_at_matched_kl),
                r.ppo_steps.to_string(),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// `shift_spread.csv`: one row per checkpoint.
    pub fn spread_csv(&self) -> String {
        let mut out = String::from("arm,round,step,pairs,variance,q05,q25,median,q75,q95\n");
        for s in &self.spread {
            let q = s.quantiles.map(number);
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                s.arm,
                s.round,
                s.step,
                s.values.len(),
                number(s.variance),
                q.join(",")
            ));
        }
        out
    }

    /// `abs_dr_hist.csv`: one row per histogram bin.
    pub fn hist_csv(&self) -> String {
        let mut out = String::from("round,source,bin_low,bin_high,share\n");
        for h in &self.abs_dr_hist {
            let n = h.shares.len().max(1) as f64;
            for (i, s) in h.shares.iter().enumerate() {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    h.round,
                    h.source,
                    i as f64 / n,
                    (i + 1) as f64 / n,
                    number(*s)
                ));
            }
        }
        out
    }

    /// `features_pca.csv`: every point, then the original data's hull (source `hull`, in order).
    pub fn features_csv(&self) -> String {
        let mut out = String::from("source,arm,round,x,y\n");
        for p in &self.features {
            out.push_str(&format!(
                "{},{},{},{},{}\n",
                p.source,
                p.arm,
                p.round,
                number(p.x),
                number(p.y)
            ));
        }
        for [x, y] in &self.hull {
            out.push_str(&format!("hull,,0,{},{}\n", number(*x), number(*y)));
        }
        out
    }

    /// `curves.csv`: one row per PPO iteration of each arm.
    pub fn curves_csv(&self) -> String {
        let mut out = String::from("arm,round,step,kl,gold,proxy\n");
        for c in &self.curves {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                c.arm,
                c.round,
                c.step,
                number(c.kl),
                number(c.gold),
                number(c.proxy)
            ));
        }
        out
    }

    /// One line of `key=value` results: the last round of each arm.
    pub fn summary(&self) -> String {
        let last = self.rounds.iter().map(|r| r.round).max().unwrap_or(0);
        self.rounds
            .iter()
            .filter(|r| r.round == last)
            .map(|r| {
                format!(
                    "{}: round={} gold={:.3} kl={:.3} win/tie/lose={:.2}/{:.2}/{:.2}",
                    r.arm, r.round, r.gold, r.kl, r.win, r.tie, r.lose
                )
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}
