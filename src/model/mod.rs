//! Neural networks: the reward model (later: policy LM, value head).
pub mod bow;
pub mod reward;
pub mod transformer;

pub use reward::{Arch, RewardModel, RewardModelConfig};
