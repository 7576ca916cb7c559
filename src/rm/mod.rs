//! Reward-modelling methods of the paper, one file each.
pub mod denoise;
pub mod loss;
pub mod strength;
