//! Denoising methods compared ([P2] §2.4–2.5): config, the comparison runner, events, report.
pub mod config;
pub mod event;
pub mod report;
pub mod runner;

pub use config::{DenoiseConfig, Method, TrainSubset};
pub use event::DenoiseEvent;
pub use report::{DenoiseReport, MethodRun, MethodSummary, runs_csv};
pub use runner::DenoiseRunner;
