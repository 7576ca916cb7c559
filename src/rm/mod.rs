//! Reward-modelling methods of the paper, one file each.
pub mod loss;
pub mod strength;
