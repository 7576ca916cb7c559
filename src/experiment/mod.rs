//! Experiments: serde configs, step-wise runners, typed events and reports. Shared pieces at
//! this level (data preparation, the runner interface, events, the job queue); one folder per
//! experiment kind, registered below (see [`kinds`]).
pub mod config;
pub mod denoise;
pub mod error;
pub mod events;
pub mod jobs;
pub mod kinds;
pub mod legacy;
pub mod link;
pub mod metarm;
pub mod metrics;
pub mod pca;
pub mod pipeline;
pub mod ppo;
pub mod prepare;
pub mod presets;
pub mod rlhf;
pub mod rm;
pub mod runner;
pub mod strength;

pub use config::{DataConfig, DataSource, KindConfig, OptimizerConfig, Run};
pub use denoise::{DenoiseConfig, DenoiseRunner, Method};
pub use error::ExperimentError;
pub use events::{Event, Phase};
pub use kinds::{ParsedConfig, RunConfig};
pub use rm::{RmEvent, RmReport, RmRunner, RmTrainConfig};
pub use runner::{AnyRunner, Artifacts, Progress, Runner, Span, Stride};
pub use strength::{StrengthConfig, StrengthEvent, StrengthRunner};

// The experiment kinds, in tab order: a new kind is its folder, declared above, and one line here.
kinds::register_kinds! {
    Rm(rm::RmTrainConfig),
    Strength(strength::StrengthConfig),
    Denoise(denoise::DenoiseConfig),
    Ppo(ppo::PpoConfig),
    Rlhf(rlhf::RlhfConfig),
}
