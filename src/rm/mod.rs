//! Reward-modelling methods of the paper, one file each.
pub mod contrastive;
pub mod denoise;
pub mod loss;
pub mod metarm;
pub mod probe;
pub mod strength;
