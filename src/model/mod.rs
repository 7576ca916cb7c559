//! Neural networks: the reward model (later: policy LM, value head).
pub mod reward;

pub use reward::{RewardModel, RewardModelConfig};
