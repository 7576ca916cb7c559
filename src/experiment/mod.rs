//! Experiments: serde configs, step-wise runners, typed events and reports.
pub mod bench;
pub mod config;
pub mod error;
pub mod events;
pub mod metrics;
pub mod prepare;
pub mod report;
pub mod rm_runner;
pub mod rm_step;

pub use config::{DataConfig, DataSource, OptimizerConfig, RmTrainConfig};
pub use error::ExperimentError;
pub use events::Event;
pub use report::RmReport;
pub use rm_runner::RmRunner;
