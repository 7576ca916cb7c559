//! What an iterative RLHF run reports besides the lifecycle.
use serde::{Deserialize, Serialize};

use super::report::{FeaturePoint, HeadToHead, HistRow, RlhfReport, RoundRow, SpreadRow};
use crate::experiment::ppo::PpoStep;

/// Iterative RLHF events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rlhf", rename_all = "snake_case")]
pub enum RlhfEvent {
    /// The plan, once, before the first step.
    Setup {
        /// Rounds.
        rounds: usize,
        /// Arm names, in order.
        arms: Vec<String>,
        /// PPO iterations per round.
        ppo_steps: usize,
        /// What the reward models train on, in words.
        data: String,
    },
    /// What the run is doing now (a round's stage for an arm).
    Stage {
        /// 0 while the first reward model and SFT train, then 1-based.
        round: usize,
        /// The arm (empty before the arms start).
        arm: String,
        /// What happens, in words.
        what: String,
    },
    /// The first reward model is trained and the policy warmed up: the starting point of
    /// every arm.
    Start {
        /// The first reward model's held-out accuracy.
        rm0_accuracy: Option<f32>,
        /// SFT's mean gold reward.
        sft_gold: f64,
        /// Gold's tie band, in gold units.
        tie_band_gold: f64,
    },
    /// One training step of a round's MetaRM reward model.
    RmStep {
        /// Round.
        round: usize,
        /// 1-based step.
        step: usize,
        /// Its steps.
        steps: usize,
        /// Bradley–Terry loss at θ'.
        loss: f32,
        /// J of the step's meta groups.
        difference_loss: Option<f32>,
    },
    /// One PPO iteration of an arm.
    PpoStep {
        /// The arm.
        arm: String,
        /// The round.
        round: usize,
        /// The iteration's metrics (its step counts on across rounds).
        metrics: PpoStep,
    },
    /// An arm's round, finished and judged.
    Round(RoundRow),
    /// The first reward model's Δr spread at a checkpoint.
    Spread(SpreadRow),
    /// |Δr| histograms of a round.
    Histograms {
        /// The histograms.
        rows: Vec<HistRow>,
    },
    /// The feature map (at the end).
    Features {
        /// Every point.
        points: Vec<FeaturePoint>,
        /// The original pairs' hull.
        hull: Vec<[f64; 2]>,
    },
    /// The arms' last policies against each other.
    HeadToHead(HeadToHead),
    /// The run finished: its report.
    Done {
        /// The report.
        report: Box<RlhfReport>,
    },
}
