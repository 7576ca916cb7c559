//! Neural networks: the transformer trunk and its heads, the reward model (transformer or bag of
//! words), seeded initialisation, cached generation, and saving/loading.
pub mod block;
pub mod bow;
pub mod bow_stack;
pub mod counts;
pub mod fused;
pub mod heads;
pub mod init;
pub mod kv_cache;
pub mod policy;
pub mod reward;
pub mod saved;
pub mod trunk;

pub use reward::{Arch, RewardModel, RewardModelConfig};
