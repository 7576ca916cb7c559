//! What a PPO run reports besides the lifecycle.
use serde::{Deserialize, Serialize};

use super::curves::PpoStep;
use super::report::PpoReport;

/// A generated response as the sample viewer shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleView {
    /// The prompt.
    pub prompt: String,
    /// The response.
    pub response: String,
    /// Its proxy score.
    pub proxy: f32,
    /// Its gold reward.
    pub gold: f32,
}

/// One token of a response, with what PPO made of it (why the reward sits on the last token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    /// The word (or `<eos>`).
    pub token: String,
    /// The KL penalty `−β (log π − log π_ref)` on it.
    pub kl_penalty: f32,
    /// Its reward: the penalty, plus the (normalised) score on the last token.
    pub reward: f32,
    /// Its advantage.
    pub advantage: f32,
}

/// PPO events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ppo", rename_all = "snake_case")]
pub enum PpoEvent {
    /// The reward models are trained; PPO (or the transformer's SFT) starts.
    Setup {
        /// The world.
        data: String,
        /// The proxy's held-out accuracy against the gold reward.
        proxy_validation_accuracy: Option<f32>,
        /// The gold reward model's held-out accuracy on the pairs' labels (text track).
        #[serde(default)]
        gold_validation_accuracy: Option<f32>,
        /// How the critic started, in words.
        #[serde(default)]
        critic_init: String,
        /// PPO iterations planned.
        steps: usize,
        /// Responses per iteration.
        rollouts: usize,
    },
    /// One SFT step of the transformer policy on the world's reference responses.
    Sft {
        /// 1-based step.
        step: usize,
        /// Steps planned.
        steps: usize,
        /// Mean next-token cross-entropy on the response tokens.
        loss: f32,
    },
    /// One PPO iteration.
    Step(PpoStep),
    /// Best-of-n on the proxy from the reference policy, once the proxy is trained.
    BestOfN {
        /// One point per n.
        points: Vec<super::bon::BonPoint>,
    },
    /// The batch's proxy and gold rewards at a checkpoint (every tenth of the run, and at
    /// step 0 — the reference policy): the distribution shift.
    Checkpoint {
        /// Iteration.
        step: usize,
        /// Proxy scores of the batch.
        proxy: Vec<f32>,
        /// Gold rewards of the batch.
        gold: Vec<f32>,
    },
    /// A few responses of this iteration, and one of them token by token.
    Samples {
        /// Iteration.
        step: usize,
        /// Responses.
        samples: Vec<SampleView>,
        /// The first response's tokens.
        tokens: Vec<TokenView>,
    },
    /// The collapse detector fired.
    Collapse {
        /// Iteration.
        step: usize,
        /// Which of its four signals held (spec §8.5 numbering).
        signals: Vec<u8>,
    },
    /// The run's report.
    Done {
        /// The report.
        report: Box<PpoReport>,
    },
}
