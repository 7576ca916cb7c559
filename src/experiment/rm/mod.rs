//! Reward-model training: config, the step-wise runner and its optimizer step, events, report,
//! scoring with a saved model, and the RM benchmark.
pub mod bench;
pub mod config;
pub mod event;
pub mod fused_adamw;
pub mod order;
pub mod report;
pub mod runner;
pub mod score;
pub mod step;

pub use config::RmTrainConfig;
pub use event::RmEvent;
pub use report::RmReport;
pub use runner::{RmRunner, TrainPlan};
