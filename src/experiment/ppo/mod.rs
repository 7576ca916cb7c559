//! PPO against a proxy reward model, measured against the world's gold reward: the factorised
//! policy, PPO-max's switches and presets, events, report and curves.
pub mod adam;
pub mod bench;
pub mod bon;
pub mod config;
pub mod curves;
pub mod env;
pub mod event;
pub mod factorised;
pub mod lm;
pub mod lm_agent;
pub mod proxy;
pub mod report;
pub mod rollout;
pub mod runner;
pub mod space;

pub use config::PpoConfig;
pub use curves::PpoStep;
pub use event::PpoEvent;
pub use report::PpoReport;
pub use runner::PpoRunner;
