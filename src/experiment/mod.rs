//! Experiments: serde configs, step-wise runners, typed events and reports.
pub mod any_runner;
pub mod bench;
pub mod config;
pub mod denoise_runner;
pub mod error;
pub mod events;
pub mod jobs;
pub mod metrics;
pub mod prepare;
pub mod report;
pub mod rm_runner;
pub mod rm_step;
pub mod strength_io;
pub mod strength_runner;

pub use any_runner::{AnyRunner, ExperimentConfig};
pub use config::{DataConfig, DataSource, OptimizerConfig, RmTrainConfig};
pub use denoise_runner::{DenoiseConfig, DenoiseRunner, Method};
pub use error::ExperimentError;
pub use events::Event;
pub use report::RmReport;
pub use rm_runner::RmRunner;
pub use strength_runner::{StrengthConfig, StrengthRunner};
