//! MetaRM on a policy's samples (Part II §3.2, spec §5, §8.6): the config, what is sampled from
//! a policy (meta groups, held-out groups, gold-labelled pairs), how a reward model fares on them
//! (shifted accuracy, J, |Δr|), and `rlhf-lab metarm`'s runner and report — one round, a vanilla
//! and a MetaRM arm under one seed.
pub mod config;
pub mod measure;
pub mod report;
pub mod runner;
pub mod sample;

pub use config::{MetaRmConfig, MetaSampling};
pub use report::{ArmReport, MetaRmReport};
pub use runner::MetaRmRunner;
